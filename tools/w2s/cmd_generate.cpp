// w2s generate MODEL --prompt TEXT — generate text with the reference backend, streaming it to stdout.
//   --chat                 wrap the prompt as the user message with the model's chat template (+ --system S)
//   --max-tokens N         at most N new tokens (default 256); generation also stops at the model's
//                          end-of-generation tokens (e.g. <|im_end|>)
//   --temperature T        0 (default) = greedy; > 0 samples, with --top-k K, --top-p P and --seed S
//   --threads N            worker threads (default: all cores)
//   --steer VEC.gguf       add a llama.cpp control vector (direction.N added to the output of block N) times
//     --alpha A            A (default 1) — at block --layer L only, or at every layer in the file without --layer
//   --stats                print prompt / generation speed and the stop reason to stderr
//   --q8-decode            int8 activations for the generated tokens' weight products (LoadOptions::Activations::q8:
//                          faster, within matmul_q8's error; the prompt stays exact)
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/model/generate.hpp>
#include <w2s/model/model.hpp>
#include <w2s/adaptive_steerer.hpp>
#include <w2s/steer/apply.hpp>
#include <w2s/steer/control_vector.hpp>
#include <w2s/text/prompt_format.hpp>

#include "command.hpp"

namespace cmd_generate {  // named, not anonymous: the tool is a unity build

struct GenerateArgs {
    std::string model, prompt, system, tmpl = "auto", steer, bundle;
    bool chat = false, stats = false, q8_decode = false;
    int max_tokens = 256, top_k = 0, threads = 0, layer = -1;
    float temperature = 0.0f, top_p = 1.0f, alpha = 1.0f;
    std::uint64_t seed = 0;
};

int run_generate(const GenerateArgs& a) {
    namespace wm = w2s::model;
    w2s::ThreadPool pool(a.threads);
    return pool.run([&] {
        w2s::steer::check_multiplier(a.alpha, "--alpha");  // before anything is loaded or run
        wm::llama::LoadOptions lo;
        if (a.q8_decode) lo.activations = wm::llama::LoadOptions::Activations::q8;
        const auto model = wm::LlamaModel::load(a.model, lo);
        if (!a.chat && !a.system.empty()) throw w2s::invalid_argument("--system needs --chat");
        if (!a.steer.empty() && !a.bundle.empty()) throw w2s::invalid_argument("--steer and --bundle exclude each other");
        if (!a.bundle.empty() && (a.chat || !a.system.empty() || a.tmpl != "auto" || a.layer >= 0))
            throw w2s::invalid_argument("--bundle formats the prompt as its router was trained (no --chat/--system/--template) and picks the layer (no --layer)");
        if (a.steer.empty() && a.layer >= 0) throw w2s::invalid_argument("--layer needs --steer");

        std::vector<wm::token_id> ids;
        w2s::steer::VectorSet vectors;
        wm::Hook hook;
        if (!a.bundle.empty()) {
            // W2S: the bundle's router picks the layer for this prompt (in the bundle's prompt format); steer there
            // from the last prompt token on.
            int layer = -1;
            w2s::with_bundle(model, a.bundle, [&](const auto& s) {
                ids = s.prompt_ids(a.prompt);
                vectors = s.vectors();
                layer = s.choose_layer(std::span<const wm::token_id>(ids));
            });
            std::cerr << "w2s: the W2S router chose layer " << layer << " for this prompt (alpha " << a.alpha << ")\n";
            hook = w2s::steer::SteeringHook(vectors, layer, a.alpha, w2s::steer::Positions::from(ids.size() - 1));
        } else {
            ids = a.chat ? w2s::text::prompt_ids(model, {a.tmpl, a.system}, a.prompt) : w2s::text::raw_prompt_ids(model, a.prompt);
            if (!a.steer.empty()) {
                // A control vector's directions, scaled by alpha, added at every position.
                vectors = w2s::steer::load_control_vector(a.steer, model.n_layers());
                if (vectors.hidden() != model.hidden_size())
                    throw w2s::shape_error(a.steer + ": vectors have " + std::to_string(vectors.hidden()) +
                                           " values, the model's hidden size is " + std::to_string(model.hidden_size()));
                hook = w2s::steer::control_vector_hook(vectors, a.alpha, a.layer);
            }
        }

        wm::GenerateOptions opt;
        opt.max_tokens = a.max_tokens;
        opt.sampling = {.temperature = a.temperature, .top_k = a.top_k, .top_p = a.top_p, .seed = a.seed};
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        auto t_first = t0;
        bool first = true;
        const auto res = wm::generate(model, ids, opt, hook, [&](wm::token_id, std::string_view piece) {
            if (first) {
                t_first = clock::now();
                first = false;
            }
            std::cout << piece << std::flush;
            return true;
        });
        const auto t1 = clock::now();
        std::cout << '\n';
        if (a.stats) {
            const double pp_s = std::chrono::duration<double>(t_first - t0).count();
            const double tg_s = std::chrono::duration<double>(t1 - t_first).count();
            std::cerr << "[" << ids.size() << " prompt tokens in " << pp_s << " s (incl. first token); "
                      << res.tokens.size() << " tokens, "
                      << (res.tokens.size() > 1 && tg_s > 0 ? static_cast<double>(res.tokens.size() - 1) / tg_s : 0.0)
                      << " tokens/s; stopped: " << wm::to_string(res.reason) << "; threads " << pool.threads() << "]\n";
        }
        return 0;
    });
}

const w2s::cli::Registrar reg{"generate", "Generate text from a prompt (optionally steered by a control vector), streamed to stdout",
                              [](CLI::App& app) {
    auto a = std::make_shared<GenerateArgs>();
    app.add_option("model", a->model, "GGUF file")->required()->check(CLI::ExistingFile);
    app.add_option("--prompt", a->prompt, "prompt text")->required();
    app.add_flag("--chat", a->chat, "wrap the prompt as the user message with the chat template (generation prompt added)");
    app.add_option("--template", a->tmpl, "with --chat: auto (the model's chat template), plain (base models), chatml, llama2, llama3, gemma");
    app.add_option("--system", a->system, "system message (with --chat)");
    app.add_option("--max-tokens", a->max_tokens, "most tokens to generate")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--seed", a->seed, "seed of the sampler")->capture_default_str();
    app.add_option("--temperature", a->temperature, "0 = greedy; > 0 samples")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--top-k", a->top_k, "keep the k most likely tokens (0 = off)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--top-p", a->top_p, "nucleus: keep the most likely tokens up to this mass")->check(CLI::Range(0.0, 1.0))->capture_default_str();
    app.add_option("--threads", a->threads, "worker threads (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--steer", a->steer, "control-vector GGUF (llama.cpp format: direction.N added after block N)")->check(CLI::ExistingFile);
    app.add_option("--bundle", a->bundle, "W2S bundle (w2s fit): its router picks the layer per prompt; the prompt is formatted as the bundle says")->check(CLI::ExistingDirectory);
    app.add_option("--layer", a->layer, "steer at this block only (default: every direction in the file)");
    app.add_option("--alpha", a->alpha, "multiplier of the steering vector")->capture_default_str();
    app.add_flag("--stats", a->stats, "print speed and stop reason to stderr");
    app.add_flag("--q8-decode", a->q8_decode, "int8 activations for the generated tokens (faster; the prompt stays exact)");
    return w2s::cli::Runner([a] { return run_generate(*a); });
}};

}  // namespace cmd_generate
