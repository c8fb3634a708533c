// w2s serve MODEL --bundles DIR — an OpenAI-compatible HTTP server; every request may be steered by its own bundles,
// at a layer it fixes or the bundle's router picks ("auto"), and the running requests share one batched forward pass
// per step (w2s/serve/: Scheduler, BundleRegistry, HttpServer; this file only parses options and calls them).
//   --host H (127.0.0.1)  --port N (8080; 0 = any free port, printed)  --parallel N (sequences per batch, 8)
//   --ctx N (positions per sequence; default: the model's context, at most 4096)  --threads N (0 = all cores)
//   --queue N (requests waiting for a slot, 64; beyond: 503)  --prefill-chunk N (prompt tokens per step, 128)
//   --model-id NAME (the model's name in responses; default: the file name without .gguf)
//   --max-body BYTES (1 MiB)
// Ctrl-C (SIGINT) or SIGTERM stops it: requests in flight end as cancelled.
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <pthread.h>
#include <string>

#include <w2s/model/model.hpp>
#include <w2s/serve/http_server.hpp>

#include "command.hpp"

namespace cmd_serve {  // named, not anonymous: the tool is a unity build

struct ServeArgs {
    std::string model, bundles, host = "127.0.0.1", model_id;
    int port = 8080, parallel = 8, threads = 0, queue = 64, prefill_chunk = 128;
    std::size_t ctx = 0, max_body = 1 << 20;
    bool q8_decode = false;
};

int run_serve(const ServeArgs& a) {
    namespace ws = w2s::serve;
    using Model = w2s::model::LlamaModel;
    // SIGINT/SIGTERM are blocked in every thread (the server's threads inherit the mask) and taken by sigwait below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    w2s::model::llama::LoadOptions lo;
    if (a.q8_decode) lo.activations = w2s::model::llama::LoadOptions::Activations::q8;
    const auto model = Model::load(a.model, lo);
    ws::Scheduler<Model> sched(model, {.parallel = a.parallel, .ctx = a.ctx, .max_queue = static_cast<std::size_t>(a.queue),
                                       .prefill_chunk = static_cast<std::size_t>(a.prefill_chunk), .threads = a.threads});
    ws::BundleRegistry<Model> bundles(model, a.bundles);
    const std::size_t n = bundles.load_all();
    ws::ServerOptions so;
    so.model_id = a.model_id.empty() ? std::filesystem::path(a.model).stem().string() : a.model_id;
    so.max_body_bytes = a.max_body;
    ws::HttpServer<Model> http(sched, bundles, so);
    const int port = http.bind(a.host, a.port);
    std::string names;
    for (const auto& b : bundles.list()) names += (names.empty() ? "" : ", ") + b->name();
    std::cerr << "w2s serve: " << so.model_id << " on http://" << a.host << ":" << port << " (" << a.parallel << " sequences per batch, context "
              << sched.ctx() << ", " << n << " bundle(s)" << (names.empty() ? "" : ": " + names) << ")\n"
              << "w2s serve: listening on port " << port << std::endl;
    http.start();
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "w2s serve: stopping (signal " << sig << ")\n";
    sched.stop();  // requests in flight end as cancelled, so their connections close
    http.stop();
    return 0;
}

const w2s::cli::Registrar reg{"serve", "OpenAI-compatible HTTP server with per-request steering (bundles, layer auto or fixed), batched",
                              [](CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    app.add_option("model", a->model, "GGUF file")->required()->check(CLI::ExistingFile);
    app.add_option("--bundles", a->bundles, "folder whose subfolders are W2S bundles (w2s fit), loaded at start; "
                                            "POST/DELETE /v1/steering/bundles load and unload them by folder name")
        ->check(CLI::ExistingDirectory);
    app.add_option("--host", a->host, "address to listen on")->capture_default_str();
    app.add_option("--port", a->port, "port (0: any free port, printed)")->check(CLI::Range(0, 65535))->capture_default_str();
    app.add_option("--parallel", a->parallel, "sequences decoded together at most")->check(CLI::Range(1, 256))->capture_default_str();
    app.add_option("--ctx", a->ctx, "positions per sequence, prompt + max_tokens (0: the model's context, at most 4096)")->capture_default_str();
    app.add_option("--threads", a->threads, "worker threads of the forward passes (0 = all cores)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--queue", a->queue, "requests waiting for a slot at most (beyond: 503)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app.add_option("--prefill-chunk", a->prefill_chunk, "prompt tokens per step at most (all prefilling requests together)")
        ->check(CLI::Range(16, 1 << 20))->capture_default_str();
    app.add_option("--model-id", a->model_id, "the model's name in /v1/models and responses (default: the file name)");
    app.add_option("--max-body", a->max_body, "largest request body in bytes (beyond: 413)")->capture_default_str();
    app.add_flag("--q8-decode", a->q8_decode, "int8 activations for the decode steps' weight products (faster; prompts stay exact)");
    return w2s::cli::Runner([a] { return run_serve(*a); });
}};

}  // namespace cmd_serve
