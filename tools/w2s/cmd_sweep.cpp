// w2s sweep MODEL --vectors VEC.gguf --data FILE [--variant V] [--split train|test|all] [--layers all|a-b|l,l,..]
//                 [--multipliers x,y,..] [--max-items N] [--threads N] --out SWEEP
// The per-input layer sweep (w2s/sweep/engine.hpp): s(x, l) for every item and layer, written as it goes, so
// an interrupted run resumes where it stopped when started again with the same arguments.
#include <iostream>

#include <w2s/model/model.hpp>
#include <w2s/steer/control_vector.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/tokenized.hpp>
#include <w2s/sweep/engine.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "progress_bar.hpp"

namespace cmd_sweep {  // named, not anonymous: the tool is a unity build

struct Args {
    w2s::cli::DataArgs data;
    std::string model, vectors, layers = "all", multipliers, out;
    int threads = 0;
};

const w2s::cli::Registrar reg{"sweep", "Per-input layer sweep: steerability of every item at every layer", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    app.add_option("--vectors", a->vectors, "steering vectors (llama.cpp control-vector GGUF)")->required()->check(CLI::ExistingFile);
    a->data.add(app);
    app.add_option("--layers", a->layers, "layers to sweep: all (every layer the vector file has), a-b, or a comma list");
    app.add_option("--multipliers", a->multipliers, "comma list of multipliers (default the protocol's seven)");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--out", a->out, "sweep file to write (resumed when it exists)")->required();
    return w2s::cli::Runner([a] {
        const auto model = w2s::model::LlamaModel::load(a->model);
        const auto vectors = w2s::steer::load_control_vector(a->vectors, model.n_layers());
        const auto d = w2s::steer::load_tokenized(model, a->data.spec());
        w2s::sweep::SweepOptions opt;
        if (a->layers != "all") opt.layers = w2s::cli::parse_layers(a->layers, model.n_layers());  // all = every layer with a vector
        if (!a->multipliers.empty()) opt.multipliers = w2s::cli::parse_doubles(a->multipliers);
        opt = w2s::sweep::resolve_options(model, vectors, opt);
        auto header = w2s::sweep::make_header(model, opt, a->model, a->data.data, a->data.variant, a->vectors);
        header.settings = {{"split", a->data.split}, {"max_items", a->data.max_items}, {"split_seed", w2s::steer::kSplitSeed},
                           {"estimator", vectors.estimator}};
        w2s::ThreadPool pool(a->threads);
        w2s::cli::ProgressBar bar;
        const auto t0 = std::chrono::steady_clock::now();
        const auto data = w2s::sweep::run_sweep(model, d.tokenized, vectors, opt, header, a->out, pool, bar.callback());
        bar.finish();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // Mean steerability per layer, and the best one.
        std::vector<double> mean(opt.layers.size(), 0.0);
        for (const auto& r : data.items)
            for (std::size_t l = 0; l < mean.size(); ++l) mean[l] += r.slope[l] / static_cast<double>(data.items.size());
        const auto best = static_cast<std::size_t>(std::max_element(mean.begin(), mean.end()) - mean.begin());
        std::cout << "sweep: " << data.items.size() << " items x " << opt.layers.size() << " layers x " << opt.multipliers.size()
                  << " multipliers in " << secs << " s -> " << a->out << "\n"
                  << "best fixed layer on these items: " << opt.layers[best] << " (mean steerability " << mean[best] << ")\n";
        return 0;
    });
}};

}  // namespace cmd_sweep
