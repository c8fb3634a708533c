// w2s/text/pretokenizer.hpp — pre-tokenizer split patterns as data, and the PCRE2 splitter that applies them.
//
// A byte-level BPE vocabulary was learned on text cut into "words" by a regular expression; the same cut
// must be made before BPE or the ids differ. Which expression a GGUF wants is named by
// `tokenizer.ggml.pre`. The table below maps that name to a list of patterns, applied in order: each
// pattern splits every piece left by the previous one into its matches and the gaps between them
// (the "isolated" split of HF tokenizers). Names not in the table use the GPT-2 pattern, as the reference
// (transformers loading a GGUF) does.
//
// Patterns are PCRE2 syntax compiled with UTF + UCP, so \p{L}, \p{N}, \s follow Unicode properties;
// no character tables are written by hand.
//
//   w2s::text::PreTokenizer pre(w2s::text::pre_tokenizer_patterns("qwen2"));
//   pre.split("Hello world", [](std::size_t b, std::size_t e) { /* piece [b, e) */ });
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <pcre2.h>

#include "w2s/core/error.hpp"

namespace w2s::text {

/// One row of the table: a `tokenizer.ggml.pre` name and the split patterns it stands for.
struct PreTokenizerRule {
    std::string_view name;
    std::vector<std::string_view> patterns;  ///< applied in order, each an "isolated" split
    std::string_view note;                   ///< where the row comes from
};

namespace patterns {
/// GPT-2 (HF ByteLevel(use_regex=True)); the default for names not in the table.
inline constexpr std::string_view gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view llama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view qwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view qwen35 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view tekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
inline constexpr std::string_view gpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
/// Each numeric character on its own (HF Digits(individual_digits=True)).
inline constexpr std::string_view single_digit = R"(\p{N})";
}  // namespace patterns

/// The table: `tokenizer.ggml.pre` name -> patterns. It follows the reference the golden tests use
/// (transformers 5.x building a tokenizer from a GGUF). Note on "smollm": SmolLM2's own tokenizer.json
/// (and llama.cpp) split digits one by one before the GPT-2 pattern; transformers, loading the GGUF, uses
/// the GPT-2 pattern alone. The two differ only where a run of 2+ blanks is followed by a digit ("a  1").
/// The table follows the reference; the row "smollm-digits" is the tokenizer.json form, selectable with
/// TokenizerOptions::pre_override.
inline const std::vector<PreTokenizerRule>& pre_tokenizer_table() {
    using namespace patterns;
    static const std::vector<PreTokenizerRule> table = {
        {"gpt2", {gpt2}, "GPT-2 ByteLevel; also every name not listed"},
        {"smollm", {gpt2}, "transformers from GGUF: the GPT-2 pattern"},
        {"smollm-digits", {single_digit, gpt2}, "SmolLM tokenizer.json / llama.cpp: digits split first"},
        {"llama3", {llama3}, ""}, {"llama-v3", {llama3}, ""}, {"llama-bpe", {llama3}, ""},
        {"falcon3", {llama3}, ""}, {"falcon-h1", {llama3}, ""}, {"pixtral", {llama3}, ""},
        {"midm-2.0", {llama3}, ""}, {"lfm2", {llama3}, ""}, {"dbrx", {llama3}, ""}, {"smaug-bpe", {llama3}, ""},
        {"qwen2", {qwen2}, ""}, {"deepseek-r1-qwen", {qwen2}, ""}, {"megrez", {qwen2}, ""},
        {"qwen35", {qwen35}, ""},
        {"tekken", {tekken}, ""},
        {"gpt-4o", {gpt4o}, ""}, {"llama4", {gpt4o}, ""},
    };
    return table;
}

/// The patterns for `pre` (the GPT-2 row when `pre` is not in the table).
inline const PreTokenizerRule& pre_tokenizer_rule(std::string_view pre) {
    const auto& t = pre_tokenizer_table();
    for (const auto& r : t)
        if (r.name == pre) return r;
    return t.front();
}

namespace detail {

/// Per-thread PCRE2 match state (match data for the whole match, a JIT stack that can grow to 64 MiB so
/// long whitespace runs cannot exhaust it). Patterns need no capture groups.
struct MatchState {
    pcre2_match_data* md = nullptr;
    pcre2_match_context* mc = nullptr;
    pcre2_jit_stack* js = nullptr;
    MatchState() {
        md = pcre2_match_data_create(1, nullptr);
        mc = pcre2_match_context_create(nullptr);
        js = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
        if (mc && js) pcre2_jit_stack_assign(mc, nullptr, js);
    }
    ~MatchState() {
        if (md) pcre2_match_data_free(md);
        if (mc) pcre2_match_context_free(mc);
        if (js) pcre2_jit_stack_free(js);
    }
    MatchState(const MatchState&) = delete;
    MatchState& operator=(const MatchState&) = delete;
    static MatchState& get() {
        thread_local MatchState s;
        if (!s.md || !s.mc) throw std::bad_alloc();
        return s;
    }
};

}  // namespace detail

/// A compiled PCRE2 pattern (UTF + UCP, JIT when available). Immutable, shareable across threads.
class Regex {
public:
    explicit Regex(std::string_view pattern) : pattern_(pattern) {
        int err = 0;
        PCRE2_SIZE off = 0;
        pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                      PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
        if (!c) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(err, buf, sizeof buf);
            throw invalid_argument("pre-tokenizer pattern '" + pattern_ + "': PCRE2 error at offset " +
                                   std::to_string(off) + ": " + reinterpret_cast<const char*>(buf));
        }
        code_.reset(c, pcre2_code_free);
        jit_ = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
    }
    [[nodiscard]] const std::string& pattern() const noexcept { return pattern_; }

    /// Calls f(begin, end) (offsets into `s`) for every non-overlapping match in s[0, s.size()), left to
    /// right; the subject ends at s.size(), so lookaheads see its end. `s` must be valid UTF-8.
    template <class F>
    void for_each_match(std::string_view s, F&& f) const {
        auto& st = detail::MatchState::get();
        const auto* subj = reinterpret_cast<PCRE2_SPTR>(s.data());
        PCRE2_SIZE pos = 0;
        while (pos < s.size()) {
            int rc = jit_ ? pcre2_jit_match(code_.get(), subj, s.size(), pos, 0, st.md, st.mc)
                          : pcre2_match(code_.get(), subj, s.size(), pos, PCRE2_NO_UTF_CHECK, st.md, st.mc);
            if (rc == PCRE2_ERROR_NOMATCH) return;
            if (rc < 0) {
                PCRE2_UCHAR buf[256];
                pcre2_get_error_message(rc, buf, sizeof buf);
                throw invalid_argument("pre-tokenizer pattern '" + pattern_ + "': matching at offset " +
                                       std::to_string(pos) + " failed: " + reinterpret_cast<const char*>(buf));
            }
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
            PCRE2_SIZE b = ov[0], e = ov[1];
            if (e == b) {  // empty match: never a piece; step over one character
                pos = b + 1;
                while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
                continue;
            }
            f(static_cast<std::size_t>(b), static_cast<std::size_t>(e));
            pos = e;
        }
    }

private:
    std::string pattern_;
    std::shared_ptr<pcre2_code> code_;
    bool jit_ = false;
};

/// A sequence of isolated splits. Immutable after construction; split() is thread-safe.
class PreTokenizer {
public:
    PreTokenizer() = default;
    explicit PreTokenizer(std::span<const std::string_view> pats) {
        for (auto p : pats) regexes_.emplace_back(p);
    }
    explicit PreTokenizer(const PreTokenizerRule& rule) : PreTokenizer(std::span<const std::string_view>(rule.patterns)) {}

    /// Calls f(begin, end) for every piece of `s` (offsets into s), in order; the pieces tile s exactly.
    /// With no patterns the whole of s is one piece. `s` must be valid UTF-8.
    template <class F>
    void split(std::string_view s, F&& f) const {
        if (s.empty()) return;
        split_level(s, 0, 0, f);
    }
    [[nodiscard]] std::size_t size() const noexcept { return regexes_.size(); }

private:
    template <class F>
    void split_level(std::string_view s, std::size_t base, std::size_t level, F& f) const {
        if (level == regexes_.size()) {
            f(base, base + s.size());
            return;
        }
        std::size_t last = 0;
        regexes_[level].for_each_match(s, [&](std::size_t b, std::size_t e) {
            if (b > last) split_level(s.substr(last, b - last), base + last, level + 1, f);
            split_level(s.substr(b, e - b), base + b, level + 1, f);
            last = e;
        });
        if (last < s.size()) split_level(s.substr(last), base + last, level + 1, f);
    }

    std::vector<Regex> regexes_;
};

}  // namespace w2s::text
