// w2s/steer/tokenized.hpp — an A/B item as token ids for one backend (protocol section 3).
//
// The prompt is the chat template's rendering of (system, user) up to and including the assistant header
// WITH the template's own trailing newline (for ChatML: "<|im_start|>assistant\n"); w2s uses this form
// everywhere (the protocol allows it and asks the project to say so). The prompt and each response are
// tokenized separately and the ids concatenated, so the answer letter of "(A)" is its own token: the
// second-to-last token of the response.
//
//   sequence k = prompt ++ response[k]          (k = 0 matching, 1 not matching)
//   index:  0 .. P-1 | P .. P+R_k-1
//   last_prompt() = P - 1                       (the first steered position: it predicts "(")
//   letter_index(k) = P + R_k - 2               (the answer-letter token, where activations are read)
//   the logit of response[k][j] is read at row P - 1 + j of the sequence
//
// Free-text contrast pairs (ItemKind::free_text) have whole replies as responses (R_k >= 1); their
// activations are read at the reply's last token or averaged over its tokens (ReadAt), and their propensity
// is a log-probability difference (Scoring), since raw logits of different rows are not comparable.
//
// Answer orders (Orders): an A/B item is two TokenizedItems with the same `item` index, order 0 as given and
// order 1 its mirror (steer::mirror: choices and letters exchanged). Each has a `weight`: mirrored, 1/2 each, so
// the vectors use both orders' pairs (the answer letter cancels exactly) and the item's propensity and
// steerability are the mean over its orders; as given, 1 and 0: vectors and figures come from the order as
// given (the single-order protocol), and the mirror is measured only for the letter diagnostic.
// Free-text items have one order.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/fingerprint.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/dataset.hpp"
#include "w2s/text/prompt_format.hpp"

namespace w2s::steer {

using model::token_id;

/// Contract: render_prompt(system, user) returns the prompt text up to and including the assistant
/// header (with the template's own newline), ready to be tokenized with special tokens recognised.
template <class T>
concept PromptTemplate = requires(const T& t, const std::string& s) {
    { t.render_prompt(s, s) } -> std::convertible_to<std::string>;
};

/// How an item's propensity m scores its two responses (protocol section 6 for A/B items).
///  logits        Σ_j raw logit of response token j (the protocol's A/B metric)
///  logprob_sum   Σ_j log P(response token j | everything before it)  (free-text default)
///  logprob_mean  the same divided by the response's length R_k
enum class Scoring { logits, logprob_sum, logprob_mean };
/// Where contrastive activations are read in each completion.
///  letter  the answer-letter token, R_k - 2 (A/B items)
///  last    the reply's last token, R_k - 1
///  mean    the mean over the reply's tokens
enum class ReadAt { letter, last, mean };
/// mirrored: vectors and figures from both answer orders (the default); as_given: from the order as given (the
/// single-order protocol), the mirror order measured for the letter diagnostic only.
enum class Orders { as_given, mirrored };

std::string_view scoring_name(Scoring s);
std::string_view read_at_name(ReadAt r);
std::string_view orders_name(Orders o);
/// Inverses of the names above ("logits", "logprob-sum", "logprob-mean"; "letter", "last", "mean";
/// "as-given", "mirrored"); invalid_argument otherwise.
Scoring parse_scoring(std::string_view s);
ReadAt parse_read_at(std::string_view s);
Orders parse_orders(std::string_view s);

/// How items become token ids.
struct TokenizeOptions {
    Orders orders = Orders::mirrored;              ///< A/B items: mirrored (both orders) or as given
    Scoring free_text_scoring = Scoring::logprob_sum;
    ReadAt free_text_read = ReadAt::last;          ///< chosen by measurement (docs/results/README.md)
    /// Special-token texts (e.g. "<|im_start|>") inside the data's prompts, system prompts and replies become
    /// control ids; off, they are plain text and only the chat template's own markers are special
    /// (text/prompt_format.hpp).
    bool parse_special = false;
};

struct TokenizedItem {
    std::vector<token_id> prompt;                   ///< [P] chat-formatted prompt ids, P >= 1
    std::array<std::vector<token_id>, 2> response;  ///< [0] matching, [1] not matching; each [R_k] (A/B: R_k >= 2)
    std::size_t item = 0;                           ///< index of the item in the list it was made from
    std::size_t order = 0;                          ///< 0 as given, 1 the mirror order
    double weight = 1.0;                            ///< share in the item's figures and vectors (0: diagnostic only)
    Scoring scoring = Scoring::logits;              ///< how m scores the responses
    ReadAt read = ReadAt::letter;                   ///< where activations are read

    /// First and one-past-last position (in prompt ++ response[k]) whose residuals make the activation of
    /// completion k (averaged when more than one).
    [[nodiscard]] std::pair<std::size_t, std::size_t> read_range(int k) const noexcept {
        const std::size_t P = prompt.size(), R = response[static_cast<std::size_t>(k)].size();
        switch (read) {
            case ReadAt::letter: return {P + R - 2, P + R - 1};
            case ReadAt::last: return {P + R - 1, P + R};
            case ReadAt::mean: return {P, P + R};
        }
        return {P + R - 1, P + R};
    }

    [[nodiscard]] std::size_t last_prompt() const noexcept { return prompt.size() - 1; }
    /// Index of the answer-letter token in prompt ++ response[k].
    [[nodiscard]] std::size_t letter_index(int k) const noexcept {
        return prompt.size() + response[static_cast<std::size_t>(k)].size() - 2;
    }
    /// prompt ++ response[k].
    [[nodiscard]] std::vector<token_id> sequence(int k) const {
        std::vector<token_id> s = prompt;
        const auto& r = response[static_cast<std::size_t>(k)];
        s.insert(s.end(), r.begin(), r.end());
        return s;
    }
};

/// Feeds what decides an item's measurement into `f`: its index, order, weight, scoring, read position and the
/// token ids of its prompt and both responses. Equal token ids give equal fingerprints, so another split,
/// subset, seed, prompt template or data file shows as another fingerprint.
inline void add_to(Fingerprint& f, const TokenizedItem& it) {
    f.add(static_cast<std::uint64_t>(it.item)).add(static_cast<std::uint64_t>(it.order)).add(it.weight);
    f.add(static_cast<std::int32_t>(it.scoring)).add(static_cast<std::int32_t>(it.read));
    f.add(std::span<const token_id>(it.prompt));
    for (const auto& r : it.response) f.add(std::span<const token_id>(r));
}
/// The fingerprint of items taken together in order (one item's answer orders, or a whole train list).
[[nodiscard]] inline std::uint64_t fingerprint_of(std::span<const TokenizedItem> items) {
    Fingerprint f;
    f.add(static_cast<std::uint64_t>(items.size()));
    for (const auto& it : items) add_to(f, it);
    return f.value();
}

/// Tokenizes one item under a prompt variant. Throws data_error (naming the item's file and line) when a
/// response has fewer than 2 tokens or the prompt is empty.
template <model::TokenizerLike Tok, PromptTemplate Tmpl>
TokenizedItem tokenize_item(const Tok& tok, const Tmpl& tmpl, const Item& item, Variant variant,
                            const PersonaPrompts* personas = nullptr, std::size_t index = 0, const TokenizeOptions& opts = {},
                            std::size_t order = 0) {
    const Turns turns = make_turns(item, variant, personas);
    TokenizedItem t;
    t.item = index;
    t.order = order;
    t.prompt = text::encode_prompt(tok, tmpl, turns.system, turns.user, opts.parse_special);
    t.response[0] = text::encode_text(tok, item.matching, opts.parse_special);
    t.response[1] = text::encode_text(tok, item.not_matching, opts.parse_special);
    const std::string where = item.source + ":" + std::to_string(item.line);
    if (t.prompt.empty()) throw data_error(where + ": the prompt tokenized to nothing");
    if (item.kind == ItemKind::free_text) {
        t.scoring = opts.free_text_scoring;
        t.read = opts.free_text_read;
        for (int k = 0; k < 2; ++k)
            if (t.response[static_cast<std::size_t>(k)].empty())
                throw data_error(where + ": the " + (k == 0 ? "positive" : "negative") + " reply tokenized to nothing");
        if (t.response[0] == t.response[1]) throw data_error(where + ": the two replies tokenize to the same ids");
        return t;
    }
    for (int k = 0; k < 2; ++k)
        if (t.response[static_cast<std::size_t>(k)].size() < 2)
            throw data_error(where + ": response '" + (k == 0 ? item.matching : item.not_matching) + "' tokenized to " +
                             std::to_string(t.response[static_cast<std::size_t>(k)].size()) +
                             " token(s); the answer letter must be the second-to-last of at least 2");
    return t;
}

/// Every item under `variant`; an A/B item gives two TokenizedItems (order 0, then order 1, same `item`
/// index; weights 1/2 and 1/2 when mirrored, 1 and 0 as given), a free-text pair one.
template <model::TokenizerLike Tok, PromptTemplate Tmpl>
std::vector<TokenizedItem> tokenize_items(const Tok& tok, const Tmpl& tmpl, std::span<const Item> items, Variant variant,
                                          const PersonaPrompts* personas = nullptr, const TokenizeOptions& opts = {}) {
    std::vector<TokenizedItem> out;
    out.reserve(items.size() * 2);
    for (std::size_t i = 0; i < items.size(); ++i) {
        out.push_back(tokenize_item(tok, tmpl, items[i], variant, personas, i, opts, 0));
        if (items[i].kind != ItemKind::ab) continue;
        out.push_back(tokenize_item(tok, tmpl, mirror(items[i]), variant, personas, i, opts, 1));
        const bool both = opts.orders == Orders::mirrored;
        out[out.size() - 2].weight = both ? 0.5 : 1.0;
        out.back().weight = both ? 0.5 : 0.0;
    }
    return out;
}

/// [first, last) ranges of `items` that belong to one item (its answer orders are adjacent).
inline std::vector<std::pair<std::size_t, std::size_t>> item_groups(std::span<const TokenizedItem> items) {
    std::vector<std::pair<std::size_t, std::size_t>> g;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i == 0 || items[i].item != items[i - 1].item) g.push_back({i, i + 1});
        else g.back().second = i + 1;
    }
    return g;
}

/// Number of distinct items (not orders) in a list of tokenized items.
inline std::size_t count_items(std::span<const TokenizedItem> items) { return item_groups(items).size(); }

inline std::string_view scoring_name(Scoring s) {
    switch (s) {
        case Scoring::logits: return "logits";
        case Scoring::logprob_sum: return "logprob-sum";
        case Scoring::logprob_mean: return "logprob-mean";
    }
    return "?";
}
inline std::string_view read_at_name(ReadAt r) {
    switch (r) {
        case ReadAt::letter: return "letter";
        case ReadAt::last: return "last";
        case ReadAt::mean: return "mean";
    }
    return "?";
}
inline std::string_view orders_name(Orders o) { return o == Orders::mirrored ? "mirrored" : "as-given"; }
inline Scoring parse_scoring(std::string_view s) {
    for (Scoring v : {Scoring::logits, Scoring::logprob_sum, Scoring::logprob_mean})
        if (scoring_name(v) == s) return v;
    throw invalid_argument("scoring '" + std::string(s) + "': expected logits, logprob-sum or logprob-mean");
}
inline ReadAt parse_read_at(std::string_view s) {
    for (ReadAt v : {ReadAt::letter, ReadAt::last, ReadAt::mean})
        if (read_at_name(v) == s) return v;
    throw invalid_argument("activation position '" + std::string(s) + "': expected letter, last or mean");
}
inline Orders parse_orders(std::string_view s) {
    if (s == "mirrored") return Orders::mirrored;
    if (s == "as-given") return Orders::as_given;
    throw invalid_argument("orders '" + std::string(s) + "': expected mirrored or as-given");
}

}  // namespace w2s::steer
