// examples/adaptive_steering — the README's library example, compiled: W2S on a free-text behaviour.
//
//   adaptive_steering MODEL.gguf [DATA.jsonl] [--max-train N]
//
// Fits the steerer on the train split of DATA (default examples/data/freetext/sentiment.jsonl; at most N train
// items, default 24, so that it runs in a minute or two on 2 cores), saves the bundle, loads it back whatever its
// router, and answers two prompts with the layer W2S picks for each.
#include <cstdio>
#include <span>
#include <string>

#include <w2s/w2s.hpp>

int main(int argc, char** argv) try {
    if (argc < 2) {
        std::fprintf(stderr, "usage: adaptive_steering MODEL.gguf [DATA.jsonl] [--max-train N]\n");
        return 2;
    }
    std::string data = "examples/data/freetext/sentiment.jsonl";
    std::size_t max_train = 24;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--max-train" && i + 1 < argc) max_train = std::stoul(argv[++i]);
        else data = a;
    }
    auto model = w2s::model::LlamaModel::load(argv[1]);
    // Free-text contrast pairs {prompt, positive, negative}; A/B items load the same way and are measured in both
    // answer orders (as given and mirrored), so that the answer letter cancels.
    auto split = w2s::steer::split_items(w2s::steer::load_items(data));
    if (split.train.size() > max_train) split.train.resize(max_train);
    w2s::ThreadPool pool(2);
    return pool.run([&] {
        // Vectors at every third layer, the per-item sweep, a router: all from the train split. The steerer owns the
        // prompt format and formats training prompts, new prompts and its bundle's prompts the same way.
        w2s::AdaptiveOptions opt;
        for (int l = 3; l < model.n_layers(); l += 3) opt.layers.push_back(l);
        w2s::AdaptiveSteerer<w2s::model::LlamaModel> steerer(model, {}, opt);
        const auto fit = steerer.fit(std::span<const w2s::steer::Item>(split.train), pool);
        std::printf("fit on %zu items: best fixed layer %d, router %s\n", fit.n_items, fit.fixed_layer,
                    std::string(w2s::to_string(fit.router_status)).c_str());
        steerer.save("build/adaptive_steering.bundle");

        w2s::model::GenerateOptions go;
        go.max_tokens = 32;
        w2s::with_bundle(model, "build/adaptive_steering.bundle", [&](const auto& s) {
            for (const char* prompt : {"How was your weekend?", "What did you think of the film?"}) {
                const auto out = s.generate(prompt, /*alpha=*/2.0f, go);
                std::printf("%s\n  [layer %d] %s\n", prompt, out.layer, out.result.text.c_str());
            }
        });
        return 0;
    });
} catch (const std::exception& e) {
    std::fprintf(stderr, "adaptive_steering: %s\n", e.what());
    return 1;
}
