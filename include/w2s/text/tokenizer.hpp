// w2s/text/tokenizer.hpp — tokenizers built from a GGUF file's metadata, exact against the reference.
//
// Two families, chosen by `tokenizer.ggml.model`:
//   gpt2  — byte-level BPE (SmolLM2, Qwen2, Llama 3, GPT-2): text is cut into words by the pre-tokenizer
//           patterns named by `tokenizer.ggml.pre` (a table, see pretokenizer.hpp), each word's bytes are
//           merged by the ranks of `tokenizer.ggml.merges`.
//   llama — SentencePiece-style BPE with scores and byte fallback (Llama 2, Mistral, Gemma): spaces become
//           U+2581, a U+2581 is prepended to the start of the text when `tokenizer.ggml.add_space_prefix`
//           (default true) says so, pairs merge in the order of the merged piece's score (or the file's
//           merges when it has them), a character with no piece becomes its <0xXX> byte tokens.
//           Gemma files (architecture gemma*) follow transformers' Gemma rules: whitespace-only pieces are
//           respelled with U+2581, merge order is vocabulary order, no prefix.
// The reference is transformers 5.x / tokenizers loading the same GGUF (AutoTokenizer.from_pretrained(dir,
// gguf_file=...)); tests/reference/make_tokenizer_golden.py makes the golden ids the tests compare with.
//
// Special and added tokens (token_type CONTROL or USER_DEFINED) are matched whole in the raw text, leftmost
// then longest first, before any pre-tokenization, when parse_special is true. encode(text) parses them (the
// low-level default, as llama.cpp's and transformers' tokenizers do, so rendered chat markup works); text that
// comes from data or a user is encoded with parse_special = false, or through encode_parts() when it sits
// inside a chat template whose own markers must stay special (text/prompt_format.hpp does this). BOS/EOS are added by
// encode(..., add_special = true) as `tokenizer.ggml.add_bos_token` / `add_eos_token` say (for `llama`
// files add_bos defaults to true, as in llama.cpp and transformers).
//
// Threading: a Tokenizer is immutable apart from its word cache, which is internally synchronised, so one
// Tokenizer may be used from many threads at once. Copies share their state.
//
//   w2s::gguf::File f(path);
//   auto tok = w2s::text::Tokenizer::from_gguf(f);
//   std::vector<w2s::text::token_id> ids = tok.encode("Hello world");   // {19556, 905} for SmolLM2
//   std::string back = tok.decode(ids);                                   // "Hello world"
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/text/detail/bpe.hpp"
#include "w2s/text/detail/utf8.hpp"
#include "w2s/text/pretokenizer.hpp"

namespace w2s::text {

using token_id = std::int32_t;

/// GGUF token types (`tokenizer.ggml.token_type`).
enum class TokenType : std::int32_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

enum class TokenizerKind { byte_level_bpe, sentencepiece_bpe };

/// One piece of a text given to Tokenizer::encode_parts: its bytes and whether special-token texts inside it
/// become their ids (a chat template's markup) or stay plain text (a message's content).
struct TextPart {
    std::string_view text;
    bool parse_special = true;
};

struct TokenizerOptions {
    /// Use this `tokenizer.ggml.pre` row instead of the file's (byte-level only), e.g. "smollm-digits".
    std::string pre_override;
    /// Most words the BPE cache keeps (byte-level only).
    std::size_t cache_capacity = std::size_t{1} << 18;
};

class Tokenizer {
public:
    /// Builds the tokenizer a GGUF describes. Throws unsupported_error for other `tokenizer.ggml.model`
    /// values, format_error for missing/inconsistent metadata (naming the key, the value, the expectation).
    static Tokenizer from_gguf(const gguf::File& f, const TokenizerOptions& opt = {});

    /// Token ids of `text`. add_special: prepend BOS / append EOS as the metadata says. parse_special:
    /// CONTROL / USER_DEFINED token texts inside `text` become their ids (otherwise they are plain text).
    /// `text` must be valid UTF-8 (invalid_argument naming the byte offset otherwise).
    [[nodiscard]] std::vector<token_id> encode(std::string_view text, bool add_special = false, bool parse_special = true) const {
        std::vector<token_id> out;
        out.reserve(text.size() / 3 + 4);
        encode_into(text, out, add_special, parse_special);
        return out;
    }
    /// As encode(), appending to `out` (no other allocation once the cache is warm).
    void encode_into(std::string_view text, std::vector<token_id>& out, bool add_special = false, bool parse_special = true) const;
    /// Token ids of the concatenation of `parts`, encoded as one text: pre-tokenization and merges run across
    /// the parts' boundaries exactly as encode() of the joined text would, but a CONTROL / USER_DEFINED token
    /// text becomes its id only where it lies wholly inside one part whose parse_special is true. With every
    /// part parsed this equals encode(joined, add_special, true); with none, encode(joined, add_special, false).
    /// The joined text must be valid UTF-8 (invalid_argument otherwise).
    [[nodiscard]] std::vector<token_id> encode_parts(std::span<const TextPart> parts, bool add_special = false) const;

    /// The text of `ids`: the bytes each token stands for, concatenated. For byte-level BPE,
    /// decode(encode(s)) == s for every valid UTF-8 s. For SentencePiece with a space prefix, one leading
    /// space is removed (the prefix encode added), as the reference does. skip_special drops CONTROL and
    /// UNKNOWN tokens. Throws invalid_argument for an id outside [0, vocab_size()).
    [[nodiscard]] std::string decode(std::span<const token_id> ids, bool skip_special = false) const;

    /// The bytes one token stands for (SentencePiece: U+2581 shown as a space, <0xXX> as its byte).
    [[nodiscard]] std::string token_to_piece(token_id id) const { return std::string(piece(id)); }
    /// The token whose token_to_piece() is exactly `piece` (lowest id when several), if any.
    [[nodiscard]] std::optional<token_id> find_token(std::string_view piece) const;
    /// The token spelled `spelling` in the GGUF vocabulary (e.g. "Ġhello", "▁hello"), if any.
    [[nodiscard]] std::optional<token_id> find_spelling(std::string_view spelling) const;
    /// The GGUF spelling of a token.
    [[nodiscard]] const std::string& spelling(token_id id) const { return s_->spelling[check(id)]; }

    [[nodiscard]] token_id bos_id() const noexcept { return s_->bos; }
    [[nodiscard]] token_id eos_id() const noexcept { return s_->eos; }
    [[nodiscard]] token_id unk_id() const noexcept { return s_->unk; }
    /// End of generation: EOS, EOT/EOM ids from the metadata, and control tokens such as <|im_end|>,
    /// <|eot_id|>, <end_of_turn>, <|endoftext|>.
    [[nodiscard]] bool is_eog(token_id id) const noexcept {
        return id >= 0 && static_cast<std::size_t>(id) < s_->eog.size() && s_->eog[static_cast<std::size_t>(id)];
    }
    [[nodiscard]] std::size_t vocab_size() const noexcept { return s_->spelling.size(); }
    [[nodiscard]] TokenType token_type(token_id id) const { return s_->type[check(id)]; }
    [[nodiscard]] TokenizerKind kind() const noexcept { return s_->kind; }
    [[nodiscard]] bool adds_bos() const noexcept { return s_->add_bos; }
    [[nodiscard]] bool adds_eos() const noexcept { return s_->add_eos; }
    /// The pre-tokenizer row in use (byte-level) or "" (SentencePiece).
    [[nodiscard]] const std::string& pre_name() const noexcept { return s_->pre_name; }

private:
    struct Added {
        std::string text;
        token_id id;
    };
    struct State {
        TokenizerKind kind = TokenizerKind::byte_level_bpe;
        std::vector<std::string> spelling;  // [n_vocab] as in the GGUF
        std::vector<std::string> bytes;     // [n_vocab] the bytes each token stands for
        std::vector<TokenType> type;        // [n_vocab]
        std::vector<bool> eog;              // [n_vocab]
        // Key space of the BPE vocabulary: raw bytes (byte-level) or the (respelled) piece (SentencePiece).
        std::unordered_map<std::string, token_id> by_key;
        std::unordered_map<std::string, token_id> by_bytes;     // decoded bytes -> lowest id
        std::unordered_map<std::string, token_id> by_spelling;  // GGUF spelling -> lowest id
        detail::MergeTable merges;
        std::array<token_id, 256> byte_id{};  // byte -> its single-byte token (byte-level) / <0xXX> (SPM), -1 if none
        std::vector<Added> added;             // sorted by length, longest first
        std::array<bool, 256> added_first{};  // first bytes of added token texts
        PreTokenizer pre;
        std::string pre_name;
        token_id bos = -1, eos = -1, unk = -1;
        bool add_bos = false, add_eos = false, add_space_prefix = false;
        mutable detail::WordCache cache;
        explicit State(std::size_t cap) : cache(cap) {}
    };

    explicit Tokenizer(std::shared_ptr<const State> s) : s_(std::move(s)) {}
    std::size_t check(token_id id) const {
        if (id < 0 || static_cast<std::size_t>(id) >= s_->spelling.size())
            throw invalid_argument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                   std::to_string(s_->spelling.size()) + ")");
        return static_cast<std::size_t>(id);
    }
    std::string_view piece(token_id id) const { return s_->bytes[check(id)]; }

    /// [begin, end) byte ranges of a text where special-token texts are matched, sorted, not overlapping.
    using Ranges = std::span<const std::pair<std::size_t, std::size_t>>;
    template <class F>
    void split_added(std::string_view text, Ranges parse, F&& f) const;
    void encode_ranges(std::string_view text, Ranges parse, std::vector<token_id>& out, bool add_special) const;
    void encode_word_bytelevel(std::string_view word, std::vector<token_id>& out) const;
    void encode_segment_spm(std::string_view seg, bool at_start, std::vector<token_id>& out) const;

    static void build_byte_level(State& s, const gguf::File& f, const TokenizerOptions& opt);
    static void build_sentencepiece(State& s, const gguf::File& f, bool gemma);

    std::shared_ptr<const State> s_;
};

}  // namespace w2s::text

#include "w2s/text/detail/tokenizer_impl.hpp"
