// w2s steerability MODEL --vectors VEC.gguf --data FILE [--layers all|a-b|l,l,..] [--variant V] [--split train|test|all]
//                        [--max-items N] [--multipliers x,y,..] [--personas FILE] [--threads N] --out REPORT.json
// The direct fixed-layer sweep (PROTOCOL.md sections 5-7): propensity m(x, l, λ) of every item at every layer
// and multiplier, steerability s(x, l) = least-squares slope, mean steerability and fraction steerable per
// layer, the best layer. Writes REPORT.json, REPORT.csv (per layer), REPORT_items.csv (per item and layer)
// and REPORT.svg (steerability against layer). This is the simple reference measurement; `w2s sweep` is the
// fast shared-prefix one.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <w2s/core/durable.hpp>
#include <w2s/model/model.hpp>
#include <w2s/steer/control_vector.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/measure.hpp>
#include <w2s/steer/report.hpp>
#include <w2s/steer/tokenized.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "progress_bar.hpp"

namespace cmd_steerability {  // named, not anonymous: the tool is a unity build

struct Args {
    w2s::cli::DataArgs data;
    std::string model, vectors, layers = "all", multipliers, out;
    int threads = 0;
};

// Whole or not at all (a temporary name, fsync, rename): a killed run never leaves a truncated CSV or SVG.
void write_text(const std::string& path, const std::string& text) { w2s::durable::write_file(path, text); }

const w2s::cli::Registrar reg{"steerability", "Direct fixed-layer steerability sweep: report (JSON, CSV, SVG)", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    app.add_option("--vectors", a->vectors, "steering vectors (llama.cpp control-vector GGUF)")->required()->check(CLI::ExistingFile);
    a->data.add(app);
    app.add_option("--layers", a->layers, "layers: all (= those in the vector file), a-b, or a comma list");
    app.add_option("--multipliers", a->multipliers, "comma list of multipliers (default the protocol's seven)");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--out", a->out, "report JSON to write (CSV and SVG beside it)")->required();
    return w2s::cli::Runner([a] {
        const auto model = w2s::model::LlamaModel::load(a->model);
        const auto vectors = w2s::steer::load_control_vector(a->vectors, model.n_layers());
        const auto spec = a->data.spec();
        const auto d = w2s::steer::load_tokenized(model, spec);
        const auto& items = d.items;
        const auto variant = spec.variant;
        w2s::steer::MeasureOptions opt;
        if (a->layers != "all") opt.layers = w2s::cli::parse_layers(a->layers, model.n_layers());
        if (!a->multipliers.empty()) opt.multipliers = w2s::cli::parse_doubles(a->multipliers);
        w2s::ThreadPool pool(a->threads);
        w2s::cli::ProgressBar bar;
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = w2s::steer::measure_steerability(model, d.tokenized, vectors, opt, pool, bar.callback());
        bar.finish();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        const std::string behaviour = items.front().behaviour;
        w2s::steer::ReportMeta meta = {{"model", a->model},   {"vectors", a->vectors}, {"estimator", vectors.estimator},
                                       {"data", a->data.data},     {"behaviour", behaviour}, {"variant", std::string(w2s::steer::variant_name(variant))},
                                       {"split", a->data.split},   {"split_seed", w2s::steer::kSplitSeed}, {"max_items", a->data.max_items},
                                       {"steered_positions", "from the last prompt token on"}, {"seconds", secs}};
        const std::filesystem::path out(a->out);
        auto beside = [&](const std::string& suffix) {
            auto p = out;
            p.replace_extension();
            return p.string() + suffix;
        };
        write_text(a->out, w2s::steer::report_json(r, meta, items).dump(1) + "\n");
        write_text(beside(".csv"), w2s::steer::report_csv(r));
        write_text(beside("_items.csv"), w2s::steer::items_csv(r, items));
        write_text(beside(".svg"), w2s::steer::plot_svg(r, behaviour + " (" + std::string(w2s::steer::variant_name(variant)) + ", " +
                                                              a->data.split + ", " + std::to_string(items.size()) + " items)"));
        std::printf("%-6s %18s %18s", "layer", "mean steerability", "fraction steerable");
        if (r.letter.present()) std::printf(" %12s %12s %14s", "orders corr", "letter part", "behaviour part");
        std::printf("\n");
        for (std::size_t l = 0; l < r.layers.size(); ++l) {
            std::printf("%-6d %18.4f %18.3f", r.layers[l], r.per_layer[l].mean, r.per_layer[l].fraction_steerable);
            if (r.letter.present())
                std::printf(" %12.2f %12.4f %14.4f", r.letter.correlation[l], r.letter.letter_part[l], r.letter.behaviour_part[l]);
            std::printf("\n");
        }
        if (r.letter.dominated) std::cout << "warning: " << r.letter.warning << '\n';
        std::cout << "best layer: " << r.best_layer << "; " << items.size() << " items x " << r.layers.size() << " layers in " << secs
                  << " s (" << static_cast<double>(items.size()) / secs << " items/s) -> " << a->out << ", " << beside(".csv")
                  << ", " << beside("_items.csv") << ", " << beside(".svg") << '\n';
        return 0;
    });
}};

}  // namespace cmd_steerability
