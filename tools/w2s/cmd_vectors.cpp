// w2s vectors MODEL --data FILE [--variant BASE] --estimator mean|pca|probe [--split train|all] [--max-items N]
//                   [--layers all|a-b|l,l,..] [--personas FILE] [--threads N] [--batch N] --out VEC.gguf
// Fits steering vectors (one per layer) from contrastive A/B items and writes them as a llama.cpp control
// vector. Layers default to 1..n_layers-1: direction.N is added to the output of block N, and llama.cpp has
// no slot for block 0, so asking for layer 0 is refused. The estimator is chosen here, at the CLI's edge.
#include <chrono>
#include <iostream>

#include <w2s/model/model.hpp>
#include <w2s/steer/activations.hpp>
#include <w2s/steer/control_vector.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/estimators.hpp>
#include <w2s/steer/tokenized.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "progress_bar.hpp"

namespace cmd_vectors {  // named, not anonymous: the tool is a unity build

struct Args {
    w2s::cli::DataArgs data;
    std::string model, estimator = "mean", layers, out;
    std::size_t batch = 16;
    int threads = 0;
};

const w2s::cli::Registrar reg{"vectors", "Fit steering vectors from A/B items; write a llama.cpp control vector", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    a->data.add(app);
    app.add_option("--estimator", a->estimator, "mean (CAA), pca or probe")->check(CLI::IsMember({"mean", "pca", "probe"}));
    app.add_option("--layers", a->layers, "layers to fit: all (= 1..n-1), a-b, or a comma list (block 0 is refused)");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--batch", a->batch, "items per batch");
    app.add_option("--out", a->out, "control-vector GGUF to write")->required();
    return w2s::cli::Runner([a] {
        const auto model = w2s::model::LlamaModel::load(a->model);
        const auto spec = a->data.spec();
        const auto d = w2s::steer::load_tokenized(model, spec);
        w2s::steer::ExtractOptions opt;
        opt.batch = a->batch;
        if (!a->layers.empty() && a->layers != "all") {
            opt.layers = w2s::cli::parse_layers(a->layers, model.n_layers());
            for (int l : opt.layers)
                if (l == 0)
                    throw w2s::invalid_argument("--layers '" + a->layers +
                                                "': block 0 cannot be written to a control vector (direction.N is added to the "
                                                "output of block N, N >= 1)");
        }
        w2s::ThreadPool pool(a->threads);
        w2s::cli::ProgressBar bar;
        const auto t0 = std::chrono::steady_clock::now();
        auto r = w2s::steer::for_estimator(a->estimator, [&]<class E>(std::type_identity<E>) {
            return w2s::steer::extract_vectors(model, d.tokenized, E{}, opt, pool, bar.callback());
        });
        bar.finish();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.vectors.model_hint = model.file().get_string("general.architecture", "llama");
        w2s::steer::save_control_vector(r.vectors, a->out);
        for (std::size_t i = 0; i < r.layers.size(); ++i)
            if (r.fits[i].status != w2s::steer::FitStatus::success)
                std::cerr << "warning: layer " << r.layers[i] << ": " << w2s::to_string(r.fits[i].status) << ": "
                          << r.fits[i].message << '\n';
        std::cout << "vectors: " << a->estimator << " from " << r.n_items << " " << a->data.split << " items ("
                  << w2s::steer::variant_name(spec.variant) << "), layers " << r.layers.front() << ".." << r.layers.back() << " in "
                  << secs << " s (" << static_cast<double>(r.n_items) / secs << " items/s) -> " << a->out << '\n';
        return 0;
    });
}};

}  // namespace cmd_vectors
