// w2s run MODEL --data FILE [--data FILE ...] --out DIR [--variants BASE|all|BASE,SYS.POS,...] [--max-items N]
//        [--max-train N] [--max-test N] [--orders mirrored|as-given] [--template auto|plain|...]
//        [--score logprob-sum|logprob-mean] [--position last|mean] [--layers L]
//        [--routers linear,mlp,knn,profile] [--embedding-blocks a,b] [--no-projection] [--estimator mean|pca|probe] [--threads N]
// The protocol per behaviour (w2s::eval::run_behaviour does all of it: split, vectors, sweeps, routers,
// evaluation, letter diagnostic); products in DIR/<behaviour>/ (resumed when re-run), DIR/report.{json,md} with
// DIR/figures/, and the averaged table on stdout.
#include <filesystem>
#include <iostream>

#include <w2s/eval/protocol.hpp>
#include <w2s/model/model.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "eval_table.hpp"
#include "progress_bar.hpp"

namespace cmd_run {  // named, not anonymous: the tool is a unity build

struct Args {
    std::string model, out, variants = "BASE", routers = "linear,mlp,knn,profile", embedding_blocks, layers;
    w2s::cli::PromptArgs prompt;
    w2s::eval::ProtocolOptions opt;
    std::vector<std::string> data;
    std::size_t max_items = 0;
    int threads = 0;
};

const w2s::cli::Registrar reg{"run", "The whole protocol for one or more behaviours: vectors, sweeps, routers, report", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("model", a->model, "GGUF model")->required()->check(CLI::ExistingFile);
    app.add_option("--data", a->data, "one file per behaviour: A/B items (CAA JSON, MWE JSONL) or free-text pairs (JSONL)")
        ->required()->check(CLI::ExistingFile);
    app.add_option("--out", a->out, "output folder")->required();
    app.add_option("--variants", a->variants, "test variants: BASE, all, or a comma list (vectors and routers always fit on BASE)");
    app.add_option("--personas", a->opt.personas, "persona_prompts.json (default: found beside the data)");
    app.add_option("--max-items", a->max_items, "at most N items per split (seeded subset)");
    app.add_option("--max-train", a->opt.max_train, "at most N train items (overrides --max-items for train)");
    app.add_option("--max-test", a->opt.max_test, "at most N test items (overrides --max-items for test)");
    a->prompt.add(app);
    app.add_option("--layers", a->layers, "swept layers: all (1..L-1), a-b or a comma list");
    app.add_option("--routers", a->routers, "comma list of routers, or none");
    app.add_option("--embedding-blocks", a->embedding_blocks, "blocks whose residuals embed prompts (default L/3, L/2, 2L/3)");
    app.add_flag("!--no-projection", a->opt.projection,
                 "leave out the projection embeddings proj-last/proj-mean (the residual at each swept layer projected onto its vector)");
    app.add_option("--estimator", a->opt.estimator, "mean (CAA), pca or probe");
    app.add_option("--threads", a->threads, "threads (0 = all cores)");
    app.add_option("--seed", a->opt.pipeline.seed, "seed of the routers and the random policy");
    app.add_option("--train-sizes", a->opt.pipeline.train_sizes,
                   "train-size study: also fit the fixed layer and routers on the first N train items (several allowed)")
        ->delimiter(',');
    return w2s::cli::Runner([a] {
        namespace fs = std::filesystem;
        auto& opt = a->opt;
        if (!opt.max_train) opt.max_train = a->max_items;
        if (!opt.max_test) opt.max_test = a->max_items;
        const auto model = w2s::model::LlamaModel::load(a->model);
        const int L = model.n_layers();
        const auto tmpl = w2s::text::select_template(model, a->prompt.tmpl);
        opt.variants.clear();
        if (a->variants == "all") opt.variants.assign(std::begin(w2s::steer::kAllVariants), std::end(w2s::steer::kAllVariants));
        else for (const auto& v : w2s::cli::split_list(a->variants)) opt.variants.push_back(w2s::steer::parse_variant(v));
        if (!a->embedding_blocks.empty()) opt.embedding_blocks = w2s::cli::parse_layers(a->embedding_blocks, L);
        if (!a->layers.empty() && a->layers != "all") opt.layers = w2s::cli::parse_layers(a->layers, L);
        opt.tokenize = a->prompt.options();
        opt.pipeline.routers = a->routers == "none" ? std::vector<std::string>{} : w2s::cli::split_list(a->routers);
        opt.model_name = a->model;
        w2s::ThreadPool pool(a->threads);
        w2s::eval::Report report;
        report.title = "w2s run";
        report.meta = w2s::eval::protocol_meta(opt);
        report.meta["model"] = a->model;
        report.meta["data"] = a->data;
        report.meta["template"] = std::string(w2s::text::chat_family_name(tmpl.family()));
        report.meta["threads"] = pool.threads();
        const auto t0 = std::chrono::steady_clock::now();
        for (const auto& data : a->data) {
            const std::string beh = w2s::steer::behaviour_name(data);
            w2s::cli::ProgressBar bar;
            std::cerr << beh << "\n";
            report.behaviours.push_back(w2s::eval::run_behaviour(model, tmpl, data, fs::path(a->out) / beh, opt, pool, bar.callback()));
            bar.finish();
        }
        report.meta["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        w2s::eval::write_report(report, a->out);
        w2s::cli::print_average_table(std::cout, report);
        std::cout << "\nreport: " << (fs::path(a->out) / "report.md").string() << "\n";
        return 0;
    });
}};

}  // namespace cmd_run
