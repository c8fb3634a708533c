// bench_sweep — the cost of the per-input layer sweep on SmolLM2-135M-Instruct and a development behaviour,
// side by side with the naive loop, in one run.
//
//   bench_sweep MODEL DATA.jsonl [--items N] [--naive-items K] [--reps R]
// Prints, per thread count (1 and 2):
//   forward     one unsteered forward pass of an item (prompt + matching response, all logits);
//   evaluation  one unsteered evaluation of its propensity the direct way (prompt + each response: two passes),
//               the unit that the naive loop repeats 7·L times ("naive is 210" in issue 6's accounting);
//   sweep       the shared-prefix sweep of the item (all layers x the seven multipliers), one item at a time,
//               and its items/s also as `w2s sweep` runs it (run_sweep: items spread over the threads);
//   naive       every (l, λ, response) a full forward pass from scratch with a steering hook (2·7·L passes);
// with their ratios. forward, evaluation and sweep are the fastest of --reps rounds (default 3).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <w2s/model/model.hpp>
#include <w2s/steer/apply.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/tokenized.hpp>
#include <w2s/sweep/engine.hpp>

namespace {

using clk = std::chrono::steady_clock;
double since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

/// The naive sweep of one item: 2·M·L full passes from an empty session.
template <class B>
double naive_item(const B& model, const w2s::steer::TokenizedItem& item, const w2s::steer::VectorSet& vs,
                  const w2s::sweep::SweepOptions& opt) {
    double acc = 0;
    w2s::MatrixRM logits;
    for (int l : opt.layers)
        for (double lambda : opt.multipliers) {
            const w2s::steer::SteeringHook h(vs, l, static_cast<float>(lambda), w2s::steer::Positions::from(item.last_prompt()));
            double m[2];
            for (int k = 0; k < 2; ++k) {
                auto s = model.new_session();
                const auto seq = item.sequence(k);
                model.prefill(s, seq, [&](const w2s::model::BlockOutput& o) { h(o); }, &logits);
                const w2s::ConstMatrixView lv(logits.data(), static_cast<std::size_t>(logits.rows()), static_cast<std::size_t>(logits.cols()));
                m[k] = w2s::steer::response_logit_sum(lv, item.last_prompt(), item.response[static_cast<std::size_t>(k)]);
            }
            acc += m[0] - m[1];
        }
    return acc;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_sweep MODEL DATA.jsonl [--items N] [--naive-items K] [--reps R]\n");
        return 2;
    }
    std::size_t n_items = 8, n_naive = 1;
    int reps = 3;
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--items") n_items = std::strtoul(argv[i + 1], nullptr, 10);
        if (a == "--naive-items") n_naive = std::strtoul(argv[i + 1], nullptr, 10);
        if (a == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
    }
    try {
        const auto model = w2s::model::LlamaModel::load(argv[1]);
        auto split = w2s::steer::split_items(w2s::steer::load_items(argv[2]));
        if (split.train.size() > n_items) split.train.resize(n_items);
        const auto items = w2s::steer::tokenize_items(model.tokenizer(), model.chat_template(), split.train, w2s::steer::Variant::base);
        // Random unit-scale vectors: the cost does not depend on the vectors' values.
        w2s::steer::VectorSet vs(model.n_layers(), model.hidden_size());
        std::vector<float> v(static_cast<std::size_t>(model.hidden_size()));
        for (int l = 0; l < model.n_layers(); ++l) {
            for (std::size_t c = 0; c < v.size(); ++c) v[c] = static_cast<float>(((c * 2654435761u + static_cast<std::size_t>(l)) % 1000) / 1000.0 - 0.5);
            vs.set(l, v);
        }
        const auto opt = w2s::sweep::resolve_options(model, vs, {});
        std::size_t tokens = 0;
        for (const auto& it : items) tokens += it.prompt.size() + it.response[0].size();
        std::printf("model %s, %zu items (mean %.1f tokens), %zu layers x %zu multipliers\n\n", argv[1], items.size(),
                    static_cast<double>(tokens) / static_cast<double>(items.size()), opt.layers.size(), opt.multipliers.size());
        std::printf("| threads | forward (s/item) | evaluation (s/item) | sweep (s/item) | sweep / forward | sweep / evaluation | naive (s/item) | naive / evaluation | sweep items/s | sweep items/s, items in parallel | naive items/s | naive / sweep |\n");
        std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int threads : {1, 2}) {
            w2s::ThreadPool pool(threads);
            double t_fwd = 0, t_eval = 0, t_sweep = 0, t_naive = 0, t_run = 0;
            // forward, evaluation and sweep: the fastest of `reps` timed rounds over the items (the least
            // disturbed by the machine's other work), per item.
            pool.run([&] {
                w2s::MatrixRM logits;
                auto fastest = [&](auto&& body) {
                    double best = 1e300;
                    for (int r = 0; r < reps; ++r) {
                        const auto t0 = clk::now();
                        for (const auto& it : items) body(it);
                        best = std::min(best, since(t0) / static_cast<double>(items.size()));
                    }
                    return best;
                };
                t_fwd = fastest([&](const w2s::steer::TokenizedItem& it) {
                    auto s = model.new_session();
                    model.prefill(s, it.sequence(0), {}, &logits);
                });
                t_eval = fastest([&](const w2s::steer::TokenizedItem& it) {
                    for (int k = 0; k < 2; ++k) {
                        auto s = model.new_session();
                        model.prefill(s, it.sequence(k), {}, &logits);
                    }
                });
                t_sweep = fastest([&](const w2s::steer::TokenizedItem& it) { (void)w2s::sweep::sweep_item(model, it, vs, opt); });
            });
            {
                // run_sweep: the items spread over the pool's threads (as `w2s sweep` runs them), written to a
                // scratch sweep file that is removed afterwards.
                const auto path =
                    (std::filesystem::temp_directory_path() / ("bench_sweep_" + std::to_string(threads) + ".w2ssweep")).string();
                std::filesystem::remove(path);
                const auto t0 = clk::now();
                const auto header = w2s::sweep::make_header(model, opt, argv[1], argv[2], "BASE", "");
                (void)w2s::sweep::run_sweep(model, items, vs, opt, header, path, pool);
                t_run = since(t0) / static_cast<double>(items.size());
                std::filesystem::remove(path);
            }
            pool.run([&] {
                const auto t0 = clk::now();
                const std::size_t nn = std::min(n_naive, items.size());
                for (std::size_t i = 0; i < nn; ++i) (void)naive_item(model, items[i], vs, opt);
                t_naive = since(t0) / static_cast<double>(nn);
            });
            std::printf("| %d | %.4f | %.4f | %.4f | %.2f | %.2f | %.3f | %.1f | %.3f | %.3f | %.4f | %.1f |\n", threads, t_fwd, t_eval,
                        t_sweep, t_sweep / t_fwd, t_sweep / t_eval, t_naive, t_naive / t_eval, 1.0 / t_sweep, 1.0 / t_run, 1.0 / t_naive,
                        t_naive / t_sweep);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_sweep: %s\n", e.what());
        return 1;
    }
    return 0;
}
