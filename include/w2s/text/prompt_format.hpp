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
//
// Special-token text inside a message (parse_special). The template's own markers (<|im_start|>, [INST], <bos>,
// ...) are always encoded as their control ids. A message's content, the system prompt included, is plain text
// by default: a user message or a data file's prompt containing "<|im_start|>" or "<|im_end|>" gets the ordinary
// text tokens of those characters and cannot open or close a turn (llama.cpp's server and transformers'
// apply_chat_template parse them, which lets text forge turns). PromptFormat::parse_special = true (and
// steer::TokenizeOptions::parse_special for data files) parses them in the content too, as those do. The text
// is still encoded as one string (encode_parts), so the ids of content without special-token text are the same
// either way.
#pragma once

#include <span>
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
    bool parse_special = false; ///< special-token texts inside the system and user messages become control ids (see the top)
};

/// The ids of `text` (a message's content or a reply, no chat markup, no BOS): special-token texts in it become
/// their control ids only when `parse_special`. A tokenizer with only encode(text) (model::TokenizerLike) knows
/// no special tokens and encodes the text as it is.
template <class Tok>
std::vector<token_id> encode_text(const Tok& tok, std::string_view text, bool parse_special) {
    if constexpr (requires { tok.encode(text, false, parse_special); }) return tok.encode(text, /*add_special=*/false, parse_special);
    else return tok.encode(text);
}

/// The ids of chat `parts` (ChatTemplate::render_parts): the markup's special-token texts always become control
/// ids, the content's only when `parse_special`; the parts are encoded as one text (BOS comes from the markup).
template <class Tok>
std::vector<token_id> encode_chat(const Tok& tok, std::span<const ChatPart> parts, bool parse_special) {
    std::vector<TextPart> tp;
    tp.reserve(parts.size());
    for (const auto& p : parts) tp.push_back({p.text, parse_special || !p.content});
    return tok.encode_parts(tp, /*add_special=*/false);
}

/// The ids of `tmpl.render_prompt(system, user)` with special-token texts parsed in the template's markup and,
/// when `parse_special`, in the messages. Tmpl: render_prompt (steer::PromptTemplate); with render_prompt_parts
/// and a tokenizer with encode_parts (ChatTemplate, Tokenizer) the messages are kept apart from the markup,
/// otherwise the rendered text is encoded as it is.
template <class Tok, class Tmpl>
std::vector<token_id> encode_prompt(const Tok& tok, const Tmpl& tmpl, std::string_view system, std::string_view user, bool parse_special) {
    if constexpr (requires { tmpl.render_prompt_parts(system, user); tok.encode_parts(std::span<const TextPart>{}, false); }) {
        if (!parse_special) {
            const std::vector<ChatPart> parts = tmpl.render_prompt_parts(system, user);
            return encode_chat(tok, std::span<const ChatPart>(parts), false);
        }
    }
    return encode_text(tok, tmpl.render_prompt(std::string(system), std::string(user)), true);
}

/// The ids of `user` rendered as the user turn (with `f.system`) up to and including the generation prompt.
/// BOS comes from the template's text, so the ids are encoded without adding specials; special-token texts in
/// the messages are plain text unless f.parse_special. Throws invalid_argument for an empty message, a format
/// the model cannot use ("auto" without a template) or ids that come out empty.
template <class M>
std::vector<token_id> prompt_ids(const M& model, const PromptFormat& f, std::string_view user) {
    if (user.empty()) throw invalid_argument("prompt_ids: empty user message");
    const ChatTemplate t = select_template(model, f.tmpl);
    auto ids = encode_prompt(model.tokenizer(), t, f.system, user, f.parse_special);
    if (ids.empty()) throw invalid_argument("prompt_ids: the prompt encodes to no tokens");
    return ids;
}

/// The ids of `text` as it is, no chat markup, BOS added as the tokenizer's metadata says. The text is the whole
/// prompt the caller wrote, so special-token texts in it are parsed (as a raw completion prompt is in llama.cpp).
template <class M>
std::vector<token_id> raw_prompt_ids(const M& model, std::string_view text) {
    auto ids = model.tokenizer().encode(text, /*add_special=*/true);
    if (ids.empty()) throw invalid_argument("raw_prompt_ids: the prompt encodes to no tokens");
    return ids;
}

}  // namespace w2s::text
