// The CLI's prompt handling shared by generate and logits: --chat renders TEXT (and --system) with the model's
// chat template; otherwise TEXT is encoded as it is, with BOS as the metadata says.
#pragma once

#include <string>
#include <vector>

#include <w2s/core/error.hpp>
#include <w2s/model/backend.hpp>

namespace w2s::cli {

template <class Model>
std::vector<model::token_id> prompt_ids(const Model& m, const std::string& prompt, const std::string& system, bool chat) {
    std::vector<model::token_id> ids;
    if (chat) {
        ids = m.tokenizer().encode(m.chat_template().render_prompt(system, prompt), /*add_special=*/false);
    } else {
        if (!system.empty()) throw invalid_argument("--system needs --chat");
        ids = m.tokenizer().encode(prompt, /*add_special=*/true);
    }
    if (ids.empty()) throw invalid_argument("--prompt: the prompt encodes to no tokens");
    return ids;
}

}  // namespace w2s::cli
