// w2s logits MODEL --prompt TEXT --top K — the K largest logits of the last prompt position, as JSON:
//   {"model": ..., "n_prompt_tokens": n, "prompt_tokens": [...], "vocab": V,
//    "top": [{"id": i, "piece": "...", "logit": x, "prob": p}, ...]}      (most likely first; prob = softmax)
//   --chat / --system S  apply the chat template as `w2s generate` does;  --threads N
// Pieces are the tokens' bytes; bytes that are not valid UTF-8 (a part of a character) print as U+FFFD.
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <w2s/core/parallel.hpp>
#include <w2s/model/model.hpp>
#include <w2s/model/sampling.hpp>

#include "command.hpp"
#include <w2s/text/prompt_format.hpp>

namespace cmd_logits {  // named, not anonymous: the tool is a unity build

struct LogitsArgs {
    std::string model, prompt, system, tmpl = "auto";
    bool chat = false;
    int top = 10, threads = 0;
};

int run_logits(const LogitsArgs& a) {
    namespace wm = w2s::model;
    w2s::ThreadPool pool(a.threads);
    return pool.run([&] {
        const auto model = wm::LlamaModel::load(a.model);
        const auto& tok = model.tokenizer();
        if (!a.chat && !a.system.empty()) throw w2s::invalid_argument("--system needs --chat");
        const auto ids = a.chat ? w2s::text::prompt_ids(model, {a.tmpl, a.system}, a.prompt) : w2s::text::raw_prompt_ids(model, a.prompt);

        auto session = model.new_session();
        w2s::MatrixRM logits;  // [1 x vocab]: only the last position is needed
        model.prefill_last_logits(session, ids, {}, &logits);
        const std::span<const float> row(logits.row(0).data(), static_cast<std::size_t>(logits.cols()));

        // The sorted head of the full softmax (T = 1, no top-p): ids, logits and probabilities.
        const auto cand = wm::candidates(row, {.temperature = 1.0f, .top_k = a.top});
        double z = 0.0;  // softmax normaliser over the whole vocabulary
        const float mx = row[static_cast<std::size_t>(wm::argmax(row))];
        for (float x : row) z += std::exp(static_cast<double>(x) - mx);

        nlohmann::json out;
        out["model"] = a.model;
        out["n_prompt_tokens"] = ids.size();
        out["prompt_tokens"] = ids;
        out["vocab"] = model.vocab_size();
        out["top"] = nlohmann::json::array();
        for (const auto& c : cand) {
            const float logit = row[static_cast<std::size_t>(c.id)];
            out["top"].push_back({{"id", c.id},
                                  {"piece", tok.token_to_piece(c.id)},
                                  {"logit", logit},
                                  {"prob", std::exp(static_cast<double>(logit) - mx) / z}});
        }
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        return 0;
    });
}

const w2s::cli::Registrar reg{"logits", "Print the top-K logits of the last prompt position as JSON", [](CLI::App& app) {
    auto a = std::make_shared<LogitsArgs>();
    app.add_option("model", a->model, "GGUF file")->required()->check(CLI::ExistingFile);
    app.add_option("--prompt", a->prompt, "prompt text")->required();
    app.add_flag("--chat", a->chat, "wrap the prompt as the user message with the chat template (generation prompt added)");
    app.add_option("--template", a->tmpl, "with --chat: auto (the model's chat template), plain (base models), chatml, llama2, llama3, gemma");
    app.add_option("--system", a->system, "system message (with --chat)");
    app.add_option("--top", a->top, "how many of the largest logits")->check(CLI::PositiveNumber)->capture_default_str();
    app.add_option("--threads", a->threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
    return w2s::cli::Runner([a] { return run_logits(*a); });
}};

}  // namespace cmd_logits
