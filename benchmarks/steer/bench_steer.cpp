// bench_steer — items/s of steering-vector extraction and of the direct per-layer steerability measurement
// (w2s/steer/measure.hpp), at 1 and 2 threads (w2s::ThreadPool).
//
//   bench_steer MODEL DATA [--items N] [--measure-items K] [--layers a-b]
// Extraction: N train items (BASE), MeanDifference over layers 1..L-1 (and PCA, for its extra cost).
// Measurement: K train items x the chosen layers x the protocol's seven multipliers.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <w2s/model/model.hpp>
#include <w2s/steer/steer.hpp>

namespace {
using clk = std::chrono::steady_clock;
double since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_steer MODEL DATA [--items N] [--measure-items K] [--layers a-b]\n");
        return 2;
    }
    std::size_t n_items = 32, n_measure = 4;
    int lo = 1, hi = -1;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--items")) n_items = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--measure-items")) n_measure = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--layers")) std::sscanf(argv[i + 1], "%d-%d", &lo, &hi);
    }
    try {
        const auto model = w2s::model::LlamaModel::load(argv[1]);
        auto split = w2s::steer::split_items(w2s::steer::load_items(argv[2]));
        auto& train = split.train;
        if (train.size() > n_items) train.resize(n_items);
        const auto tok = w2s::steer::tokenize_items(model.tokenizer(), model.chat_template(), train, w2s::steer::Variant::base);
        if (hi < 0) hi = model.n_layers() - 1;
        std::vector<int> layers;
        for (int l = lo; l <= hi; ++l) layers.push_back(l);
        std::size_t tokens = 0;
        for (const auto& t : tok) tokens += t.prompt.size() + t.response[0].size() + t.response[1].size();
        std::printf("model %s: %d layers, hidden %d; data %s: %zu train items (mean %.1f tokens per item incl. both responses)\n",
                    argv[1], model.n_layers(), model.hidden_size(), argv[2], tok.size(),
                    static_cast<double>(tokens) / static_cast<double>(tok.size()));
        std::printf("%-44s %8s %12s %10s\n", "what", "threads", "seconds", "items/s");
        w2s::steer::VectorSet vectors;
        for (int threads : {1, 2}) {
            w2s::ThreadPool pool(threads);
            auto t0 = clk::now();
            auto r = w2s::steer::extract_vectors(model, tok, w2s::steer::MeanDifference{}, {.layers = layers, .batch = 16}, pool);
            double s = since(t0);
            std::printf("%-44s %8d %12.3f %10.2f\n", "extract: mean difference, all layers", threads, s, static_cast<double>(tok.size()) / s);
            vectors = std::move(r.vectors);
            t0 = clk::now();
            (void)w2s::steer::extract_vectors(model, tok, w2s::steer::PCA{}, {.layers = layers, .batch = 16}, pool);
            s = since(t0);
            std::printf("%-44s %8d %12.3f %10.2f\n", "extract: PCA, all layers", threads, s, static_cast<double>(tok.size()) / s);
        }
        const std::span<const w2s::steer::TokenizedItem> few(tok.data(), std::min(n_measure, tok.size()));
        for (int threads : {1, 2}) {
            w2s::ThreadPool pool(threads);
            w2s::steer::MeasureOptions opt;
            opt.layers = layers;
            const auto t0 = clk::now();
            const auto r = w2s::steer::measure_steerability(model, few, vectors, opt, pool);
            const double s = since(t0);
            char what[64];
            std::snprintf(what, sizeof what, "measure: %zu layers x 7 multipliers", layers.size());
            std::printf("%-44s %8d %12.3f %10.3f   (best layer %d)\n", what, threads, s, static_cast<double>(few.size()) / s, r.best_layer);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_steer: %s\n", e.what());
        return 1;
    }
    return 0;
}
