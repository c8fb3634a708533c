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
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/dataset.hpp"

namespace w2s::steer {

using model::token_id;

/// Contract: render_prompt(system, user) returns the prompt text up to and including the assistant
/// header (with the template's own newline), ready to be tokenized with special tokens recognised.
template <class T>
concept PromptTemplate = requires(const T& t, const std::string& s) {
    { t.render_prompt(s, s) } -> std::convertible_to<std::string>;
};

struct TokenizedItem {
    std::vector<token_id> prompt;                   ///< [P] chat-formatted prompt ids, P >= 1
    std::array<std::vector<token_id>, 2> response;  ///< [0] matching, [1] not matching; each [R_k], R_k >= 2
    std::size_t item = 0;                           ///< index of the item in the list it was made from

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

/// Tokenizes one item under a prompt variant. Throws data_error (naming the item's file and line) when a
/// response has fewer than 2 tokens or the prompt is empty.
template <model::TokenizerLike Tok, PromptTemplate Tmpl>
TokenizedItem tokenize_item(const Tok& tok, const Tmpl& tmpl, const Item& item, Variant variant,
                            const PersonaPrompts* personas = nullptr, std::size_t index = 0) {
    const Turns turns = make_turns(item, variant, personas);
    TokenizedItem t;
    t.item = index;
    t.prompt = tok.encode(tmpl.render_prompt(turns.system, turns.user));
    t.response[0] = tok.encode(item.matching);
    t.response[1] = tok.encode(item.not_matching);
    const std::string where = item.source + ":" + std::to_string(item.line);
    if (t.prompt.empty()) throw data_error(where + ": the prompt tokenized to nothing");
    for (int k = 0; k < 2; ++k)
        if (t.response[static_cast<std::size_t>(k)].size() < 2)
            throw data_error(where + ": response '" + (k == 0 ? item.matching : item.not_matching) + "' tokenized to " +
                             std::to_string(t.response[static_cast<std::size_t>(k)].size()) +
                             " token(s); the answer letter must be the second-to-last of at least 2");
    return t;
}

template <model::TokenizerLike Tok, PromptTemplate Tmpl>
std::vector<TokenizedItem> tokenize_items(const Tok& tok, const Tmpl& tmpl, std::span<const Item> items, Variant variant,
                                          const PersonaPrompts* personas = nullptr) {
    std::vector<TokenizedItem> out;
    out.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) out.push_back(tokenize_item(tok, tmpl, items[i], variant, personas, i));
    return out;
}

}  // namespace w2s::steer
