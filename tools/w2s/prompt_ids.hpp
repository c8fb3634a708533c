// The CLI's prompt handling shared by generate and logits: --chat renders TEXT (and --system) with the model's
// chat template (or the format --template names: plain for a base model); otherwise TEXT is encoded as it is, with BOS as the metadata says.
#pragma once

#include <string>
#include <vector>

#include <w2s/core/error.hpp>
#include <w2s/model/backend.hpp>
#include <w2s/text/chat_template.hpp>

namespace w2s::cli {

template <class Model>
std::vector<model::token_id> prompt_ids(const Model& m, const std::string& prompt, const std::string& system, bool chat,
                                        const std::string& tmpl = "auto") {
    std::vector<model::token_id> ids;
    if (chat) {
        ids = m.tokenizer().encode(text::select_template(m, tmpl).render_prompt(system, prompt), /*add_special=*/false);
    } else {
        if (!system.empty()) throw invalid_argument("--system needs --chat");
        ids = m.tokenizer().encode(prompt, /*add_special=*/true);
    }
    if (ids.empty()) throw invalid_argument("--prompt: the prompt encodes to no tokens");
    return ids;
}

}  // namespace w2s::cli
