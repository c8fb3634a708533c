// bench_route — fit time and predict_one time per router at SmolLM2 scale: d = 576 (hidden size), L = 30 layers,
// n = 500 training prompts, on synthetic data where the best layer depends on the embedding
// (tests/route/synthetic.hpp). predict_one should cost < 1% of one SmolLM2-135M forward pass (a few ms), i.e.
// well under ~20 us. Single-threaded fits unless --threads N (used by the cross-validated fits, --cv).
//
//   bench_route [--n 500] [--d 576] [--layers 30] [--calls 5000] [--cv] [--threads 1]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/eval/metrics.hpp>
#include <w2s/route/route.hpp>

#include "synthetic.hpp"

namespace wr = w2s::route;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    int n = 500, d = 576, L = 30, calls = 5000, threads = 1;
    bool cv = false;
};

template <class R>
void run(const char* name, R r, const Options& o, const w2s::test::RouteData& tr, const w2s::test::RouteData& te,
         w2s::ThreadPool& pool) {
    const auto t0 = Clock::now();
    const wr::FitStatus st = pool.run([&] { return r.fit(tr.X, tr.S, 1); });
    const double fit_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();

    // predict_one: median over batches of 100 calls, cycling through the test rows.
    std::vector<Eigen::VectorXf> rows;
    for (Eigen::Index i = 0; i < te.X.rows(); ++i) rows.push_back(te.X.row(i).transpose());
    std::vector<double> per_call;
    long sink = 0;  // consumed below, so the calls cannot be optimised away
    for (int b = 0; b < o.calls / 100; ++b) {
        const auto t1 = Clock::now();
        for (int c = 0; c < 100; ++c) {
            const auto& x = rows[static_cast<std::size_t>(b * 100 + c) % rows.size()];
            sink += r.predict_one({x.data(), static_cast<std::size_t>(x.size())});
        }
        per_call.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t1).count() / 100.0);
    }
    std::sort(per_call.begin(), per_call.end());
    const double med = per_call[per_call.size() / 2];
    if (sink < 0) std::printf("impossible\n");

    const int fixed = w2s::eval::fixed_layer(tr.S);
    const double s_fixed = te.S.col(fixed).mean();
    const double s_oracle = wr::mean_chosen(te.S, wr::best_layers(te.S));
    const double s_routed = wr::mean_chosen(te.S, r.predict(te.X));
    std::printf("| %-12s | %10.1f | %9.2f | %-15s | %6.2f |\n", name, fit_ms, med,
                std::string(wr::to_string(st)).c_str(), w2s::eval::gap_closed(s_routed, s_fixed, s_oracle));
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        auto val = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
        if (!std::strcmp(argv[i], "--n")) o.n = val();
        else if (!std::strcmp(argv[i], "--d")) o.d = val();
        else if (!std::strcmp(argv[i], "--layers")) o.L = val();
        else if (!std::strcmp(argv[i], "--calls")) o.calls = std::max(100, val());
        else if (!std::strcmp(argv[i], "--threads")) o.threads = val();
        else if (!std::strcmp(argv[i], "--cv")) o.cv = true;
        else {
            std::fprintf(stderr, "usage: bench_route [--n N] [--d D] [--layers L] [--calls C] [--cv] [--threads T]\n");
            return 2;
        }
    }
    // 8 clusters; the test split is drawn from the same clusters (one draw, cut in two).
    const auto all = w2s::test::make_route_data(o.n + 500, o.d, o.L, 8, 2024, 0.35, 0.1);
    const w2s::test::RouteData tr{all.X.topRows(o.n), all.S.topRows(o.n)};
    const w2s::test::RouteData te{all.X.bottomRows(500), all.S.bottomRows(500)};
    w2s::ThreadPool pool(o.threads);
    std::printf("bench_route: n = %d, d = %d, L = %d, predict_one median over %d calls, %d thread(s)\n\n", o.n, o.d,
                o.L, o.calls, o.threads);
    std::printf("| router       |  fit (ms)  | pred (us) | status          | gap closed (test) |\n");
    std::printf("| ---          |       ---: |      ---: | ---             |              ---: |\n");
    run("linear", wr::LinearRouter{}, o, tr, te, pool);
    run("mlp", wr::MlpRouter{}, o, tr, te, pool);
    run("knn", wr::KnnRouter{}, o, tr, te, pool);
    run("profile", wr::ProfileRouter{}, o, tr, te, pool);
    if (o.cv) {
        run("linear-cv", wr::LinearCV{}, o, tr, te, pool);
        run("mlp-cv", wr::MlpCV{}, o, tr, te, pool);
        run("knn-cv", wr::KnnCV{}, o, tr, te, pool);
        run("profile-cv", wr::ProfileCV{}, o, tr, te, pool);
    }
    return 0;
}
