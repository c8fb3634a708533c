// w2s evaluate --train SWEEP [--train SWEEP ...] --test SWEEP [--test SWEEP ...] [--routers linear,mlp,knn,profile|none]
//              [--embeddings L15-last,L20-mean] [--seed S] --out REPORT_DIR
// The evaluation of PROTOCOL section 7 on sweep files: fixed layer (chosen on train), per-item oracle, random,
// and W2S with each router and embedding, per behaviour and test variant. Test sweeps are matched to the train
// sweep of the same dataset (the data path recorded in the sweep header).
#include <filesystem>
#include <iostream>

#include <w2s/eval/w2s_pipeline.hpp>

#include "cli_util.hpp"
#include "command.hpp"
#include "eval_table.hpp"

namespace cmd_evaluate {  // named, not anonymous: the tool is a unity build

struct Args {
    std::vector<std::string> train, test;
    std::string routers = "linear,mlp,knn,profile", embeddings, out;
    std::uint64_t seed = 1;
};

const w2s::cli::Registrar reg{"evaluate", "Fixed layer vs oracle vs random vs W2S routers on sweep files", [](CLI::App& app) {
    auto a = std::make_shared<Args>();
    app.add_option("--train", a->train, "train sweep(s), one per behaviour")->required()->check(CLI::ExistingFile);
    app.add_option("--test", a->test, "test sweep(s): any variant, matched to the train sweep of the same data")->required()->check(CLI::ExistingFile);
    app.add_option("--routers", a->routers, "comma list of routers, or none");
    app.add_option("--embeddings", a->embeddings, "comma list of L<BLOCK>-<POOLING> (e.g. L15-last); default every stored block x {last, mean}");
    app.add_option("--seed", a->seed, "seed of the routers and the random policy");
    app.add_option("--out", a->out, "report folder (report.json, report.md, figures/)")->required();
    return w2s::cli::Runner([a] {
        w2s::eval::PipelineOptions opt;
        opt.seed = a->seed;
        opt.routers = a->routers == "none" ? std::vector<std::string>{} : w2s::cli::split_list(a->routers);
        for (const auto& e : w2s::cli::split_list(a->embeddings)) opt.embeddings.push_back(w2s::eval::parse_embedding_choice(e));
        const auto report = w2s::eval::evaluate_sweep_files(a->train, a->test, opt);
        w2s::eval::write_report(report, a->out);
        w2s::cli::print_average_table(std::cout, report);
        std::cout << "report written to " << a->out << "/report.md\n";
        return 0;
    });
}};

}  // namespace cmd_evaluate
