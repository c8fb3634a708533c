// w2s/text/prompt_format.hpp — a user message to prompt ids, one way for every caller.
//
//   w2s::text::PromptFormat f{"auto", "You are a helpful, honest and concise assistant."};
//   auto ids = w2s::text::prompt_ids(model, f, "Is this a good idea?");     // chat-formatted, generation prompt
//   auto raw = w2s::text::raw_prompt_ids(model, "Once upon a time");        // no markup, BOS as the file says
//
// A PromptFormat names the chat format (select_template: "auto" = the model's own template, "plain" for base
// models, or a family name) and the system prompt. The steerer (AdaptiveSteerer) owns one and uses it for the
// prompts it fits on, routes and generates from, and stores it in its bundle, so that a prompt is routed in the
// format the router was trained on. M: tokenizer(), has_chat_template(), chat_template() (LlamaModel, the CUDA model).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/text/chat_template.hpp"
#include "w2s/text/tokenizer.hpp"

namespace w2s::text {

struct PromptFormat {
    std::string tmpl = "auto";  ///< select_template's choice: auto | plain | chatml | llama2 | llama3 | gemma
    std::string system;         ///< the system message ("" = none: a template's own default system prompt applies)
};

/// The ids of `user` rendered as the user turn (with `f.system`) up to and including the generation prompt.
/// BOS comes from the template's text, so the ids are encoded without adding specials. Throws invalid_argument
/// for an empty message, a format the model cannot use ("auto" without a template) or ids that come out empty.
template <class M>
std::vector<token_id> prompt_ids(const M& model, const PromptFormat& f, std::string_view user) {
    if (user.empty()) throw invalid_argument("prompt_ids: empty user message");
    const ChatTemplate t = select_template(model, f.tmpl);
    auto ids = model.tokenizer().encode(t.render_prompt(f.system, user), /*add_special=*/false);
    if (ids.empty()) throw invalid_argument("prompt_ids: the prompt encodes to no tokens");
    return ids;
}

/// The ids of `text` as it is, no chat markup, BOS added as the tokenizer's metadata says.
template <class M>
std::vector<token_id> raw_prompt_ids(const M& model, std::string_view text) {
    auto ids = model.tokenizer().encode(text, /*add_special=*/true);
    if (ids.empty()) throw invalid_argument("raw_prompt_ids: the prompt encodes to no tokens");
    return ids;
}

}  // namespace w2s::text
