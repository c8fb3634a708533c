// A user's benchmark, built against the installed package: the harness (w2s/bench/harness.hpp) on the user's own
// backend (the toy transformer of examples/custom_backend, a complete Backend written outside the library) and on
// the reference backend LlamaModel (the GGUF given as argv[1]), side by side with ratios, plus a router's cost.
// Exits non-zero when a report lacks a part it must have. Figures are not judged here: benchmarks print, tests check.
#include <w2s/bench/harness.hpp>
#include <w2s/model/model.hpp>
#include <w2s/route/linear.hpp>

#include <iostream>

#include "toy_backend.hpp"  // examples/custom_backend

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: bench_consumer MODEL.gguf\n";
        return 2;
    }
    try {
        w2s::bench::Options o;
        o.prompt_tokens = 16;
        o.prefill_lengths = {4, 32};
        o.gen_tokens = 4;
        o.reps = 2;
        o.hook_reps = 10;
        o.hook_pos = 8;
        o.router_items = 40;

        const w2s::examples::ToyTransformer toy({.n_layers = 6, .hidden = 64, .n_heads = 4, .ffn = 128, .seed = 7});
        auto rt = w2s::bench::run(toy, o);
        rt.routers.push_back(w2s::bench::time_router<w2s::route::LinearRouter>(rt, o));

        const auto m = w2s::model::LlamaModel::load(argv[1]);
        auto rm = w2s::bench::run(m, o);
        rm.routers.push_back(w2s::bench::time_router<w2s::route::LinearRouter>(rm, o));

        std::cout << "## toy backend\n\n" << w2s::bench::markdown(rt) << "\n## LlamaModel\n\n" << w2s::bench::markdown(rm)
                  << "\n## side by side\n\n" << w2s::bench::markdown(rt, rm, "toy", "llama") << '\n';
        for (const auto* r : {&rt, &rm})
            if (!r->has_sweep || r->prefill_lengths.size() != 2 || r->routers.size() != 1 || r->decode.seconds.size() != 2) {
                std::cerr << "bench_consumer: a report lacks a part\n";
                return 1;
            }
        std::cout << "bench consumer ok\n";
        return 0;
    } catch (const w2s::error& e) {
        std::cerr << "bench_consumer: " << e.what() << '\n';
        return 1;
    }
}
