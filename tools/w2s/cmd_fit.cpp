// w2s fit MODEL --data FILE --router linear|mlp|knn|profile [--estimator mean|pca|probe] [--variant V]
//           [--layers ...] [--embedding-block K] [--pooling last|mean] [--max-items N] [--threads N] --out BUNDLE
// Fits W2S on the train split of FILE: vectors at every candidate layer, the per-item sweep, the router; saves
// the bundle (vectors.gguf + router.bin + bundle.json).
#include <iostream>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/model/model.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "progress_bar.hpp"

namespace cmd_fit {  // named, not anonymous: the tool is a unity build

struct Args {
    w2s::cli::DataArgs data;
    std::string model, router = "profile", estimator = "mean", layers = "", pooling = "last", out;
    int embedding_block = -1, threads = 0;
};

const w2s::cli::Registrar reg{"fit", "Fit W2S (vectors, sweep, router) on a dataset's train split and save a bundle", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    a->data.add(app, /*with_split=*/false);  // fit always reads the train part
    app.add_option("--router", a->router, "linear, mlp, knn or profile");
    app.add_option("--estimator", a->estimator, "mean (CAA), pca or probe");
    app.add_option("--layers", a->layers, "candidate layers: a-b or a comma list (default 1..L-1)");
    app.add_option("--embedding-block", a->embedding_block, "block whose residual embeds the prompt (default L/2)");
    app.add_option("--pooling", a->pooling, "last (last prompt token) or mean (over the prompt)");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--out", a->out, "bundle folder")->required();
    return w2s::cli::Runner([a] {
        const auto model = w2s::model::LlamaModel::load(a->model);
        const auto spec = a->data.spec();
        const auto items = w2s::steer::load_part(spec.path, "train", spec.max_items);
        const auto personas = w2s::steer::personas_for(spec.variant, spec.path, spec.personas);
        w2s::AdaptiveOptions ao;
        if (!a->layers.empty()) ao.layers = w2s::cli::parse_layers(a->layers, model.n_layers());
        ao.embedding_block = a->embedding_block;
        ao.pooling = w2s::route::parse_pooling(a->pooling);
        ao.format.tmpl = spec.tmpl;
        ao.format.parse_special = spec.tokenize.parse_special;  // prompts are routed as the train prompts were encoded
        ao.model_name = a->model;
        ao.data_name = spec.path;
        ao.variant_name = a->data.variant;
        const w2s::ItemFitOptions fo{spec.tokenize, spec.variant, personas ? &*personas : nullptr};
        w2s::ThreadPool pool(a->threads);
        w2s::cli::ProgressBar bar;
        return w2s::route::for_router(a->router, [&]<class R>(std::type_identity<R>) {
            return w2s::steer::for_estimator(a->estimator, [&]<class E>(std::type_identity<E>) {
                w2s::AdaptiveSteerer<w2s::model::LlamaModel, R> s(model, R{}, ao);
                const auto summary = s.fit(std::span<const w2s::steer::Item>(items), pool, bar.callback(), E{}, fo);
                bar.finish();
                s.save(a->out);
                std::cout << "fit: " << summary.n_items << " train items, " << summary.layers.size() << " candidate layers, vectors "
                          << a->estimator << ", router " << a->router << " (" << w2s::to_string(summary.router_status)
                          << "), best fixed layer " << summary.fixed_layer << " (mean steerability " << summary.fixed_mean << ")\n"
                          << "bundle written to " << a->out << "\n";
                return 0;
            });
        });
    });
}};

}  // namespace cmd_fit
