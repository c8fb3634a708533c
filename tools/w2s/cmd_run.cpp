// w2s run MODEL --data FILE [--data FILE ...] --out DIR [--variants BASE|all|BASE,SYS.POS,...] [--max-items N]
//        [--max-train N] [--max-test N]
//        [--routers linear,mlp,knn,profile] [--embedding-blocks a,b] [--estimator mean|pca|probe] [--threads N]
// Everything of the protocol, per behaviour: the seeded split; vectors from the train items (BASE prompts);
// the sweep of the train items and of the test items under every requested variant; routers fitted on train;
// the evaluation (fixed vs oracle vs random vs W2S, in distribution and BASE->variant out of distribution).
// Writes DIR/<behaviour>/{vectors.gguf, train_BASE.w2ssweep, test_<V>.w2ssweep} (sweeps resume when re-run)
// and DIR/report.{json,md} with DIR/figures/, and prints the averaged table.
#include <filesystem>
#include <iostream>

#include <w2s/eval/w2s_pipeline.hpp>
#include <w2s/model/model.hpp>
#include <w2s/steer/activations.hpp>
#include <w2s/steer/control_vector.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/estimators.hpp>
#include <w2s/sweep/engine.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "eval_table.hpp"
#include "progress_bar.hpp"

namespace cmd_run {  // named, not anonymous: the tool is a unity build

struct Args {
    std::string model, out, variants = "BASE", routers = "linear,mlp,knn,profile", embedding_blocks, estimator = "mean", personas;
    std::vector<std::string> data;
    std::size_t max_items = 0, max_train = 0, max_test = 0;
    int threads = 0;
    std::uint64_t seed = 1;
};

const w2s::cli::Registrar reg{"run", "The whole protocol for one or more behaviours: vectors, sweeps, routers, report", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    app.add_option("--data", a->data, "A/B items (CAA JSON or MWE JSONL), one file per behaviour")->required()->check(CLI::ExistingFile);
    app.add_option("--out", a->out, "output folder")->required();
    app.add_option("--variants", a->variants, "test variants: BASE, all, or a comma list (vectors and routers always fit on BASE)");
    app.add_option("--personas", a->personas, "persona_prompts.json (default: found beside the data)");
    app.add_option("--max-items", a->max_items, "at most N items per split (seeded subset)");
    app.add_option("--max-train", a->max_train, "at most N train items (overrides --max-items for train)");
    app.add_option("--max-test", a->max_test, "at most N test items (overrides --max-items for test)");
    app.add_option("--routers", a->routers, "comma list of routers, or none");
    app.add_option("--embedding-blocks", a->embedding_blocks, "blocks whose residuals embed prompts (default L/3, L/2, 2L/3)");
    app.add_option("--estimator", a->estimator, "mean (CAA), pca or probe");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--seed", a->seed, "seed of the routers and the random policy");
    return w2s::cli::Runner([a] {
        namespace fs = std::filesystem;
        if (!a->max_train) a->max_train = a->max_items;
        if (!a->max_test) a->max_test = a->max_items;
        const auto model = w2s::model::LlamaModel::load(a->model);
        const int L = model.n_layers();
        std::vector<w2s::steer::Variant> variants;
        if (a->variants == "all") variants.assign(std::begin(w2s::steer::kAllVariants), std::end(w2s::steer::kAllVariants));
        else for (const auto& v : w2s::cli::split_list(a->variants)) variants.push_back(w2s::steer::parse_variant(v));
        std::vector<int> emb_blocks;
        if (a->embedding_blocks.empty()) emb_blocks = {L / 3, L / 2, 2 * L / 3};
        else emb_blocks = w2s::cli::parse_layers(a->embedding_blocks, L);
        w2s::eval::PipelineOptions popt;
        popt.seed = a->seed;
        popt.routers = a->routers == "none" ? std::vector<std::string>{} : w2s::cli::split_list(a->routers);
        w2s::ThreadPool pool(a->threads);
        w2s::eval::Report report;
        report.title = "w2s run";
        report.meta = {{"model", a->model}, {"data", a->data}, {"variants", a->variants}, {"max_train", a->max_train},
                       {"max_test", a->max_test}, {"estimator", a->estimator}, {"split_seed", w2s::steer::kSplitSeed}, {"seed", a->seed},
                       {"threads", pool.threads()}, {"embedding_blocks", emb_blocks}};
        const auto t0 = std::chrono::steady_clock::now();
        for (const auto& data : a->data) {
            const std::string beh = w2s::steer::behaviour_name(data);
            const fs::path dir = fs::path(a->out) / beh;
            fs::create_directories(dir);
            auto split = w2s::steer::split_items(w2s::steer::load_items(data));
            if (a->max_train && split.train.size() > a->max_train) split.train.resize(a->max_train);
            if (a->max_test && split.test.size() > a->max_test) split.test.resize(a->max_test);
            std::cerr << beh << ": " << split.train.size() << " train, " << split.test.size() << " test items\n";
            const auto& tokz = model.tokenizer();
            const auto& tmpl = model.chat_template();
            const auto train = w2s::steer::tokenize_items(tokz, tmpl, split.train, w2s::steer::Variant::base);
            w2s::cli::ProgressBar bar;
            // Vectors on train (BASE).
            w2s::steer::VectorSet vectors;
            const std::string vec_path = (dir / "vectors.gguf").string();
            if (fs::exists(vec_path)) {
                vectors = w2s::steer::load_control_vector(vec_path, L);
            } else {
                w2s::steer::ExtractOptions eo;
                w2s::steer::ExtractionResult ext;
                if (a->estimator == "mean") ext = w2s::steer::extract_vectors(model, train, w2s::steer::MeanDifference{}, eo, pool, bar.callback());
                else if (a->estimator == "pca") ext = w2s::steer::extract_vectors(model, train, w2s::steer::PCA{}, eo, pool, bar.callback());
                else if (a->estimator == "probe") ext = w2s::steer::extract_vectors(model, train, w2s::steer::LogisticProbe{}, eo, pool, bar.callback());
                else throw w2s::invalid_argument("--estimator '" + a->estimator + "': expected mean, pca or probe");
                vectors = std::move(ext.vectors);
                w2s::steer::save_control_vector(vectors, vec_path);
            }
            w2s::sweep::SweepOptions so;
            so.embedding_layers = emb_blocks;
            so = w2s::sweep::resolve_options(model, vectors, so);
            auto sweep_of = [&](const std::vector<w2s::steer::TokenizedItem>& items, const std::string& split_name, w2s::steer::Variant v) {
                const std::string vname(w2s::steer::variant_name(v));
                auto h = w2s::sweep::make_header(model, so, a->model, data, vname, vec_path);
                h.settings = {{"split", split_name},
                              {"max_items", split_name == "train" ? a->max_train : a->max_test},
                              {"split_seed", w2s::steer::kSplitSeed}};
                return w2s::sweep::run_sweep(model, items, vectors, so, h, (dir / (split_name + "_" + vname + ".w2ssweep")).string(), pool,
                                             bar.callback());
            };
            const auto train_sweep = sweep_of(train, "train", w2s::steer::Variant::base);
            std::vector<w2s::sweep::SweepData> tests;
            for (auto v : variants) {
                const auto personas = w2s::cli::personas_for(v, a->personas, data);
                const auto test = w2s::steer::tokenize_items(tokz, tmpl, split.test, v, personas ? &*personas : nullptr);
                tests.push_back(sweep_of(test, "test", v));
            }
            bar.finish();
            report.behaviours.push_back(w2s::eval::evaluate_behaviour(beh, train_sweep, tests, popt));
        }
        report.meta["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        w2s::eval::write_report(report, a->out);
        w2s::cli::print_average_table(std::cout, report);
        std::cout << "\nreport: " << (fs::path(a->out) / "report.md").string() << "\n";
        return 0;
    });
}};

}  // namespace cmd_run
