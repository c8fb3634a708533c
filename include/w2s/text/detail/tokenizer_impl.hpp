// w2s/text/detail/tokenizer_impl.hpp — the definitions behind w2s/text/tokenizer.hpp.
#pragma once

#include <algorithm>
#include <cstdio>
#include <functional>

#include "w2s/text/tokenizer.hpp"

namespace w2s::text {

namespace detail {

inline bool is_ascii_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/// "<0xXX>" with upper-case hex digits, the spelling of SentencePiece byte tokens.
inline std::string byte_token_spelling(unsigned b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b & 0xFFu);
    return buf;
}

/// Replaces every U+2581 in `s` by a space.
inline std::string metaspace_to_space(std::string_view s) {
    static constexpr std::string_view kMeta = "\xE2\x96\x81";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s.compare(i, 3, kMeta) == 0) {
            out += ' ';
            i += 3;
        } else {
            out += s[i++];
        }
    }
    return out;
}

/// A byte trie over a set of keys, for finding every key that is a prefix of a text in one pass over the
/// text (O(text length), no copies). Nodes live in one open-addressing table keyed by (node, byte); a node
/// that ends a key holds that key's id. Memory: O(sum of the key lengths).
class PieceTrie {
public:
    PieceTrie() {
        keys_.assign(1024, kEmpty);
        child_.assign(1024, 0);
        mask_ = 1023;
        id_.assign(1, -1);  // the root
    }
    /// Adds `key` (its bytes in order, or reversed) with `id`; a later insert of the same key replaces the id.
    void insert(std::string_view key, std::int32_t id, bool reversed = false) {
        std::uint32_t node = 0;
        for (std::size_t i = 0; i < key.size(); ++i) {
            const auto c = static_cast<unsigned char>(reversed ? key[key.size() - 1 - i] : key[i]);
            std::size_t slot = find(node, c);
            if (keys_[slot] == kEmpty) {
                if (id_.size() >= std::size_t{UINT32_MAX}) throw format_error("tokenizer: the vocabulary's pieces need more than 2^32 trie nodes");
                if ((id_.size() + 1) * 2 > keys_.size()) {  // keep the table at most half full
                    grow();
                    slot = find(node, c);
                }
                keys_[slot] = pack(node, c);
                child_[slot] = static_cast<std::uint32_t>(id_.size());
                id_.push_back(-1);
            }
            node = child_[slot];
        }
        id_[node] = id;
    }
    /// Calls f(n, id) for every key equal to the first n bytes of `text` (reversed: the last n bytes), n
    /// increasing.
    template <class F>
    void prefixes(std::string_view text, bool reversed, F&& f) const {
        std::uint32_t node = 0;
        if (id_[0] >= 0) f(std::size_t{0}, id_[0]);
        for (std::size_t i = 0; i < text.size(); ++i) {
            const auto c = static_cast<unsigned char>(reversed ? text[text.size() - 1 - i] : text[i]);
            const std::size_t slot = find(node, c);
            if (keys_[slot] == kEmpty) return;
            node = child_[slot];
            if (id_[node] >= 0) f(i + 1, id_[node]);
        }
    }

private:
    static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
    static std::uint64_t pack(std::uint32_t node, unsigned char c) noexcept { return (std::uint64_t{node} << 8) | c; }
    std::size_t find(std::uint32_t node, unsigned char c) const noexcept {
        const std::uint64_t k = pack(node, c);
        std::uint64_t h = k * 0x9E3779B97F4A7C15ULL;
        std::size_t i = static_cast<std::size_t>(h ^ (h >> 29)) & mask_;
        while (keys_[i] != kEmpty && keys_[i] != k) i = (i + 1) & mask_;
        return i;
    }
    void grow() {
        std::vector<std::uint64_t> ok = std::move(keys_);
        std::vector<std::uint32_t> oc = std::move(child_);
        keys_.assign(ok.size() * 2, kEmpty);
        child_.assign(ok.size() * 2, 0);
        mask_ = keys_.size() - 1;
        for (std::size_t i = 0; i < ok.size(); ++i) {
            if (ok[i] == kEmpty) continue;
            const std::size_t slot = find(static_cast<std::uint32_t>(ok[i] >> 8), static_cast<unsigned char>(ok[i] & 0xFFu));
            keys_[slot] = ok[i];
            child_[slot] = oc[i];
        }
    }
    std::vector<std::uint64_t> keys_;   // [capacity] (parent node << 8 | byte), or kEmpty
    std::vector<std::uint32_t> child_;  // [capacity] the child node of that slot
    std::vector<std::int32_t> id_;      // [nodes] the id of the key ending at the node, or -1
    std::size_t mask_ = 0;
};

}  // namespace detail

inline Tokenizer Tokenizer::from_gguf(const gguf::File& f, const TokenizerOptions& opt) {
    const std::string& file = f.path();
    auto st = std::make_shared<State>(opt.cache_capacity);
    State& s = *st;
    const std::string model = f.get_string("tokenizer.ggml.model");
    s.spelling = f.get_strings("tokenizer.ggml.tokens");
    const std::size_t n = s.spelling.size();
    if (n == 0 || n > static_cast<std::size_t>(INT32_MAX))
        throw format_error(file + ": metadata key 'tokenizer.ggml.tokens': " + std::to_string(n) +
                           " tokens, expected between 1 and 2^31-1");
    s.type.assign(n, TokenType::normal);
    if (f.has("tokenizer.ggml.token_type")) {
        auto t = f.get_ints("tokenizer.ggml.token_type");
        if (t.size() != n)
            throw format_error(file + ": metadata key 'tokenizer.ggml.token_type': " + std::to_string(t.size()) +
                               " entries, expected one per token (" + std::to_string(n) + ")");
        for (std::size_t i = 0; i < n; ++i) {
            if (t[i] < 0 || t[i] > 6)
                throw format_error(file + ": metadata key 'tokenizer.ggml.token_type': entry " + std::to_string(i) +
                                   " is " + std::to_string(t[i]) + ", expected 0..6");
            s.type[i] = static_cast<TokenType>(t[i]);
        }
    }
    auto id_key = [&](const char* key) -> token_id {
        if (!f.has(key)) return -1;
        std::int64_t v = f.get_int(key);
        if (v < 0 || static_cast<std::size_t>(v) >= n)
            throw format_error(file + ": metadata key '" + key + "': token id " + std::to_string(v) +
                               " is outside the vocabulary [0, " + std::to_string(n) + ")");
        return static_cast<token_id>(v);
    };
    s.bos = id_key("tokenizer.ggml.bos_token_id");
    s.eos = id_key("tokenizer.ggml.eos_token_id");
    s.unk = id_key("tokenizer.ggml.unknown_token_id");
    const token_id pad = id_key("tokenizer.ggml.padding_token_id");
    s.byte_id.fill(-1);

    const bool spm = model == "llama";
    if (model == "gpt2") {
        s.kind = TokenizerKind::byte_level_bpe;
        s.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", false);
        s.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false);
        build_byte_level(s, f, opt);
    } else if (spm) {
        s.kind = TokenizerKind::sentencepiece_bpe;
        s.add_bos = f.get_bool("tokenizer.ggml.add_bos_token", true);
        s.add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false);
        const std::string arch = f.get_string("general.architecture", "");
        build_sentencepiece(s, f, arch.rfind("gemma", 0) == 0);
    } else {
        throw unsupported_error(file + ": tokenizer.ggml.model is '" + model +
                                "'; supported: 'gpt2' (byte-level BPE) and 'llama' (SentencePiece BPE)");
    }
    if (s.add_bos && s.bos < 0) throw format_error(file + ": tokenizer.ggml.add_bos_token is true but there is no bos_token_id");
    if (s.add_eos && s.eos < 0) throw format_error(file + ": tokenizer.ggml.add_eos_token is true but there is no eos_token_id");

    // Lookup tables on the decoded text and on the spelling (lowest id wins).
    for (std::size_t i = 0; i < n; ++i) {
        s.by_bytes.try_emplace(s.bytes[i], static_cast<token_id>(i));
        s.by_spelling.try_emplace(s.spelling[i], static_cast<token_id>(i));
    }

    // Added tokens, matched whole: CONTROL and USER_DEFINED (and, for SentencePiece, the named specials,
    // which the reference registers as special tokens). As in the reference, a token is only added when
    // its spelling is a key of the BPE vocabulary: byte-level, a token spelled outside the byte alphabet
    // is skipped (a CONTROL one is a llama.cpp mislabel; a USER_DEFINED one was respelled); Gemma's
    // whitespace pieces, respelled with U+2581, are not added either.
    std::vector<bool> is_added(n, false);
    std::string tmp;
    for (std::size_t i = 0; i < n; ++i) {
        const TokenType t = s.type[i];
        if (t != TokenType::control && t != TokenType::user_defined) continue;
        if (!spm && !detail::byte_level_unspell(s.spelling[i], tmp)) continue;
        if (spm && t == TokenType::user_defined && s.by_key.find(s.spelling[i]) == s.by_key.end()) continue;
        is_added[i] = true;
    }
    if (spm)
        for (token_id id : {s.bos, s.eos, s.unk, pad})
            if (id >= 0) is_added[static_cast<std::size_t>(id)] = true;
    std::unordered_map<std::string, token_id> added_ids;  // text -> id (the last one, as a dict would)
    for (std::size_t i = 0; i < n; ++i)
        if (is_added[i] && !s.spelling[i].empty()) added_ids[s.spelling[i]] = static_cast<token_id>(i);
    for (auto& [text, id] : added_ids) s.added.push_back({text, id});
    std::sort(s.added.begin(), s.added.end(), [](const Added& a, const Added& b) {
        return a.text.size() != b.text.size() ? a.text.size() > b.text.size() : a.text < b.text;
    });
    s.added_first.fill(false);
    for (const auto& a : s.added) s.added_first[static_cast<unsigned char>(a.text[0])] = true;

    // End of generation.
    s.eog.assign(n, false);
    for (token_id id : {s.eos, id_key("tokenizer.ggml.eot_token_id"), id_key("tokenizer.ggml.eom_token_id")})
        if (id >= 0) s.eog[static_cast<std::size_t>(id)] = true;
    static const std::array<std::string_view, 9> kEogTexts = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                                              "<|eom_id|>", "<|end_of_text|>", "<EOT>", "</s>"};
    for (std::size_t i = 0; i < n; ++i)
        if (s.type[i] == TokenType::control &&
            std::find(kEogTexts.begin(), kEogTexts.end(), s.spelling[i]) != kEogTexts.end())
            s.eog[i] = true;
    return Tokenizer(std::move(st));
}

inline void Tokenizer::build_byte_level(State& s, const gguf::File& f, const TokenizerOptions& opt) {
    const std::size_t n = s.spelling.size();
    s.bytes.resize(n);
    std::string tmp;
    for (std::size_t i = 0; i < n; ++i) {
        // Spelled in the byte alphabet: the bytes it spells. Otherwise (added tokens such as "<think>" or
        // text with spaces) the token's own UTF-8, which is what the reference respells it to.
        s.bytes[i] = detail::byte_level_unspell(s.spelling[i], tmp) ? tmp : s.spelling[i];
        s.by_key[s.bytes[i]] = static_cast<token_id>(i);  // a later duplicate wins, as in a dict
    }
    for (unsigned b = 0; b < 256; ++b) {
        auto it = s.by_key.find(std::string(1, static_cast<char>(b)));
        s.byte_id[b] = it == s.by_key.end() ? -1 : it->second;
    }
    const std::string key = "tokenizer.ggml.merges";
    const auto merges = f.get_strings(key);
    s.merges.reserve(merges.size());
    std::string a, b;
    for (std::size_t r = 0; r < merges.size(); ++r) {
        const std::string& m = merges[r];
        const auto sp = m.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 == m.size())
            throw format_error(f.path() + ": metadata key '" + key + "': entry " + std::to_string(r) + " is '" + m +
                               "', expected two pieces separated by one space");
        if (!detail::byte_level_unspell(std::string_view(m).substr(0, sp), a) ||
            !detail::byte_level_unspell(std::string_view(m).substr(sp + 1), b))
            continue;
        auto ia = s.by_key.find(a), ib = s.by_key.find(b), ir = s.by_key.find(a + b);
        if (ia == s.by_key.end() || ib == s.by_key.end() || ir == s.by_key.end()) continue;
        s.merges.set(ia->second, ib->second, {static_cast<std::int32_t>(r), ir->second});
    }
    std::string pre = opt.pre_override.empty() ? f.get_string("tokenizer.ggml.pre", "default") : opt.pre_override;
    const PreTokenizerRule& rule = pre_tokenizer_rule(pre);
    if (!opt.pre_override.empty() && rule.name != opt.pre_override)
        throw invalid_argument("TokenizerOptions::pre_override '" + opt.pre_override +
                               "' is not a row of the pre-tokenizer table (see w2s/text/pretokenizer.hpp)");
    s.pre = PreTokenizer(rule);
    s.pre_name = std::string(rule.name);
}

inline void Tokenizer::build_sentencepiece(State& s, const gguf::File& f, bool gemma) {
    const std::size_t n = s.spelling.size();
    // The key of each piece in the BPE vocabulary. Gemma files store whitespace-only pieces with real
    // spaces; the reference respells them with U+2581, the character the text's spaces become.
    std::vector<std::string> keys(s.spelling);
    if (gemma) {
        for (auto& k : keys) {
            if (k.empty() || k.find(' ') == std::string::npos) continue;
            if (!std::all_of(k.begin(), k.end(), detail::is_ascii_space)) continue;
            std::string r;
            for (std::size_t i = 0; i < k.size(); ++i) r += "\xE2\x96\x81";
            k = r;
        }
    }
    s.add_space_prefix = gemma ? false : f.get_bool("tokenizer.ggml.add_space_prefix", true);
    s.bytes.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        s.by_key[keys[i]] = static_cast<token_id>(i);
        const std::string& sp = s.spelling[i];
        if (s.type[i] == TokenType::byte && sp.size() == 6 && sp.rfind("<0x", 0) == 0 && sp[5] == '>') {
            // exactly two hex digits: "<0xZZ>" or "<0x1Z>" is a damaged vocabulary, not byte 0x01
            auto hex = [](char c) {
                return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            };
            const int hi = hex(sp[3]), lo = hex(sp[4]);
            if (hi < 0 || lo < 0)
                throw format_error(f.path() + ": metadata key 'tokenizer.ggml.tokens': byte token " + std::to_string(i) +
                                   " is spelled '" + sp + "'; expected <0xHH> with two hex digits");
            s.bytes[i] = std::string(1, static_cast<char>(hi * 16 + lo));
        } else {
            s.bytes[i] = detail::metaspace_to_space(keys[i]);
        }
    }
    for (unsigned b = 0; b < 256; ++b) {
        auto it = s.by_key.find(detail::byte_token_spelling(b));
        s.byte_id[b] = it == s.by_key.end() ? -1 : it->second;
    }

    if (f.has("tokenizer.ggml.merges")) {
        const auto merges = f.get_strings("tokenizer.ggml.merges");
        s.merges.reserve(merges.size());
        for (std::size_t r = 0; r < merges.size(); ++r) {
            const std::string& m = merges[r];
            const auto sp = m.find(' ');
            if (sp == std::string::npos) continue;
            auto ia = s.by_key.find(m.substr(0, sp)), ib = s.by_key.find(m.substr(sp + 1));
            auto ir = s.by_key.find(m.substr(0, sp) + m.substr(sp + 1));
            if (ia == s.by_key.end() || ib == s.by_key.end() || ir == s.by_key.end()) continue;
            s.merges.set(ia->second, ib->second, {static_cast<std::int32_t>(r), ir->second});
        }
        return;
    }
    // No merges in the file: derive them as the reference does. Every split of a piece into two pieces
    // of the vocabulary is a merge; merges are ordered by the merged piece's score, best first (Gemma:
    // by its position in the vocabulary), then by longer left, then longer right part, ties kept in
    // vocabulary order and, within one piece, by the ids of the parts.
    std::vector<double> score(n, 0.0);
    if (gemma) {
        for (std::size_t i = 0; i < n; ++i) score[i] = -static_cast<double>(i);
    } else {
        auto sc = f.get_numbers("tokenizer.ggml.scores");
        if (sc.size() != n)
            throw format_error(f.path() + ": metadata key 'tokenizer.ggml.scores': " + std::to_string(sc.size()) +
                               " entries, expected one per token (" + std::to_string(n) + ")");
        score = std::move(sc);
    }
    struct M {
        token_id l, r, merged;
        double score;
        std::uint32_t len_l, len_r;
    };
    // The parts of a split are found with two tries, one of the pieces and one of the reversed pieces: the
    // pieces that begin a piece and the pieces that end it come from one walk each, so a piece of L bytes
    // costs O(L) (it used to copy and hash both halves of every split: O(L^2), a hang for a 1 MiB piece).
    detail::PieceTrie fwd, bwd;
    for (const auto& [k, id] : s.by_key) {
        fwd.insert(k, id);
        bwd.insert(k, id, /*reversed=*/true);
    }
    std::vector<M> all;
    std::unordered_map<std::string_view, bool> seen;
    seen.reserve(n);
    std::vector<M> local;
    std::vector<token_id> left_id, right_id;  // [L + 1] the piece k[0, pos) / k[pos, L), or -1
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& k = keys[i];
        if (!seen.emplace(k, true).second) continue;  // dict order: first occurrence, last value
        const token_id merged = s.by_key.at(k);
        const double sc = score[static_cast<std::size_t>(merged)];
        local.clear();
        const std::size_t L = k.size();
        left_id.assign(L + 1, -1);
        right_id.assign(L + 1, -1);
        bool any = false;
        fwd.prefixes(k, false, [&](std::size_t len, token_id id) {
            left_id[len] = id;
            any = any || (len > 0 && len < L);
        });
        if (any) bwd.prefixes(k, true, [&](std::size_t len, token_id id) { right_id[L - len] = id; });
        std::size_t pos = 0, nchar = 0;
        const std::size_t total_chars = any ? detail::utf8_count(k) : 0;
        while (any) {
            pos += detail::utf8_len(static_cast<unsigned char>(k[pos]));
            ++nchar;
            if (pos >= L) break;
            if (left_id[pos] < 0 || right_id[pos] < 0) continue;
            local.push_back({left_id[pos], right_id[pos], merged, sc, static_cast<std::uint32_t>(nchar),
                             static_cast<std::uint32_t>(total_chars - nchar)});
        }
        std::stable_sort(local.begin(), local.end(), [](const M& a, const M& b) { return a.l != b.l ? a.l < b.l : a.r < b.r; });
        all.insert(all.end(), local.begin(), local.end());
    }
    std::stable_sort(all.begin(), all.end(), [](const M& a, const M& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.len_l != b.len_l) return a.len_l > b.len_l;
        return a.len_r > b.len_r;
    });
    s.merges.reserve(all.size());
    for (std::size_t r = 0; r < all.size(); ++r) s.merges.set(all[r].l, all[r].r, {static_cast<std::int32_t>(r), all[r].merged});
}

template <class F>
void Tokenizer::split_added(std::string_view text, Ranges parse, F&& f) const {
    const State& s = *s_;
    if (parse.empty() || s.added.empty()) {
        if (!text.empty()) f(text, token_id{-1}, std::size_t{0});
        return;
    }
    std::size_t seg = 0, i = 0, r = 0;
    const std::size_t n = text.size();
    while (i < n) {
        while (r < parse.size() && parse[r].second <= i) ++r;  // the first range that ends after i
        if (r == parse.size()) break;
        if (i < parse[r].first) {
            i = parse[r].first;
            continue;
        }
        if (s.added_first[static_cast<unsigned char>(text[i])]) {
            const Added* hit = nullptr;
            for (const auto& a : s.added)  // longest first; a match must lie inside the range
                if (a.text[0] == text[i] && a.text.size() <= parse[r].second - i && text.compare(i, a.text.size(), a.text) == 0) {
                    hit = &a;
                    break;
                }
            if (hit) {
                if (i > seg) f(text.substr(seg, i - seg), token_id{-1}, seg);
                f(std::string_view(hit->text), hit->id, i);
                i += hit->text.size();
                seg = i;
                continue;
            }
        }
        ++i;
    }
    if (seg < n) f(text.substr(seg), token_id{-1}, seg);
}

inline void Tokenizer::encode_word_bytelevel(std::string_view word, std::vector<token_id>& out) const {
    const State& s = *s_;
    // The initial symbol of one byte: its token, else the unknown token, else the text is refused (never id -1).
    auto symbol = [&s](char c) {
        const token_id id = s.byte_id[static_cast<unsigned char>(c)];
        if (id >= 0) return id;
        if (s.unk < 0) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
            throw data_error(std::string("tokenizer: byte ") + hex + " has no token and the vocabulary has no unknown token "
                             "(tokenizer.ggml.unknown_token_id)");
        }
        return s.unk;
    };
    if (word.size() == 1) {
        out.push_back(symbol(word[0]));
        return;
    }
    if (s.cache.lookup(word, out)) return;
    thread_local std::vector<token_id> syms;
    syms.clear();
    for (char c : word) syms.push_back(symbol(c));
    detail::bpe_merge(syms, s.merges);
    out.insert(out.end(), syms.begin(), syms.end());
    s.cache.insert(word, syms);
}

inline void Tokenizer::encode_segment_spm(std::string_view seg, bool at_start, std::vector<token_id>& out) const {
    const State& s = *s_;
    static constexpr std::string_view kMeta = "\xE2\x96\x81";
    thread_local std::string norm;
    norm.clear();
    if (s.add_space_prefix && at_start && seg[0] != ' ' && seg.substr(0, 3) != kMeta) norm += kMeta;
    for (char c : seg) {
        if (c == ' ') norm += kMeta;
        else norm += c;
    }
    thread_local std::vector<token_id> syms;
    thread_local std::string ch;
    syms.clear();
    bool last_unk = false;
    for (std::size_t i = 0; i < norm.size();) {
        const std::size_t len = std::min(detail::utf8_len(static_cast<unsigned char>(norm[i])), norm.size() - i);
        ch.assign(norm, i, len);
        i += len;
        auto it = s.by_key.find(ch);
        if (it != s.by_key.end()) {
            syms.push_back(it->second);
            last_unk = false;
            continue;
        }
        bool all = true;
        for (char c : ch) all = all && s.byte_id[static_cast<unsigned char>(c)] >= 0;
        if (all) {
            for (char c : ch) syms.push_back(s.byte_id[static_cast<unsigned char>(c)]);
            last_unk = false;
            continue;
        }
        if (s.unk < 0)
            throw data_error("tokenizer: character '" + ch + "' has no piece, no byte tokens and the vocabulary has no unknown token");
        if (!last_unk) syms.push_back(s.unk);  // consecutive unknown characters fuse into one
        last_unk = true;
    }
    detail::bpe_merge(syms, s.merges);
    out.insert(out.end(), syms.begin(), syms.end());
}

inline void Tokenizer::encode_into(std::string_view text, std::vector<token_id>& out, bool add_special, bool parse_special) const {
    const std::pair<std::size_t, std::size_t> all{0, text.size()};
    encode_ranges(text, parse_special ? Ranges(&all, 1) : Ranges(), out, add_special);
}

inline std::vector<token_id> Tokenizer::encode_parts(std::span<const TextPart> parts, bool add_special) const {
    std::string joined;
    std::vector<std::pair<std::size_t, std::size_t>> parse;
    for (const auto& p : parts) {
        if (p.parse_special && !p.text.empty()) {
            if (!parse.empty() && parse.back().second == joined.size()) parse.back().second += p.text.size();
            else parse.emplace_back(joined.size(), joined.size() + p.text.size());
        }
        joined += p.text;
    }
    std::vector<token_id> out;
    out.reserve(joined.size() / 3 + 4);
    encode_ranges(joined, parse, out, add_special);
    return out;
}

inline void Tokenizer::encode_ranges(std::string_view text, Ranges parse, std::vector<token_id>& out, bool add_special) const {
    const State& s = *s_;
    if (std::size_t bad = detail::utf8_first_invalid(text); bad != text.size())
        throw invalid_argument("tokenizer: text is not valid UTF-8 at byte offset " + std::to_string(bad) + " of " +
                               std::to_string(text.size()));
    if (add_special && s.add_bos) out.push_back(s.bos);
    if (s.kind == TokenizerKind::byte_level_bpe) {
        split_added(text, parse, [&](std::string_view seg, token_id special, std::size_t) {
            if (special >= 0) {
                out.push_back(special);
                return;
            }
            s.pre.split(seg, [&](std::size_t b, std::size_t e) { encode_word_bytelevel(seg.substr(b, e - b), out); });
        });
    } else {
        split_added(text, parse, [&](std::string_view seg, token_id special, std::size_t off) {
            if (special >= 0) out.push_back(special);
            else encode_segment_spm(seg, off == 0, out);
        });
    }
    if (add_special && s.add_eos) out.push_back(s.eos);
}

inline std::string Tokenizer::decode(std::span<const token_id> ids, bool skip_special) const {
    const State& s = *s_;
    std::string out;
    for (token_id id : ids) {
        const std::size_t i = check(id);
        if (skip_special && (s.type[i] == TokenType::control || s.type[i] == TokenType::unknown)) continue;
        out += s.bytes[i];
    }
    if (s.kind == TokenizerKind::sentencepiece_bpe && s.add_space_prefix && !out.empty() && out[0] == ' ') out.erase(0, 1);
    return out;
}

inline std::optional<token_id> Tokenizer::find_token(std::string_view piece) const {
    auto it = s_->by_bytes.find(std::string(piece));
    if (it == s_->by_bytes.end()) return std::nullopt;
    return it->second;
}

inline std::optional<token_id> Tokenizer::find_spelling(std::string_view spelling) const {
    auto it = s_->by_spelling.find(std::string(spelling));
    if (it == s_->by_spelling.end()) return std::nullopt;
    return it->second;
}

}  // namespace w2s::text
