// bench_sweep — the cost of the per-input layer sweep on SmolLM2-135M-Instruct and a development behaviour,
// side by side with the naive loop, in one run.
//
//   bench_sweep MODEL DATA.jsonl [--items N] [--naive-items K]
// Prints: one unsteered forward pass of an item (prompt + matching response, all logits); one unsteered
// evaluation of its propensity the direct way (prompt + each response, two passes: the unit that the naive loop
// repeats 7·L times, "naive is 210" in issue 6's accounting); the shared-prefix
// sweep of that item (all layers x the seven multipliers), the naive sweep (every (l, λ, response) a full
// forward pass from scratch with a steering hook: 2·7·L passes), their ratios, and items/s at 1 and 2
// threads for both methods.
#include <chrono>
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
        std::fprintf(stderr, "usage: bench_sweep MODEL DATA.jsonl [--items N] [--naive-items K]\n");
        return 2;
    }
    std::size_t n_items = 8, n_naive = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--items") n_items = std::strtoul(argv[i + 1], nullptr, 10);
        if (a == "--naive-items") n_naive = std::strtoul(argv[i + 1], nullptr, 10);
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
        std::printf("| threads | forward (s/item) | evaluation (s/item) | sweep (s/item) | sweep / forward | sweep / evaluation | naive (s/item) | naive / evaluation | sweep items/s | naive items/s | naive / sweep |\n");
        std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int threads : {1, 2}) {
            w2s::ThreadPool pool(threads);
            double t_fwd = 0, t_eval = 0, t_sweep = 0, t_naive = 0;
            pool.run([&] {
                w2s::MatrixRM logits;
                auto t0 = clk::now();
                for (const auto& it : items) {
                    auto s = model.new_session();
                    model.prefill(s, it.sequence(0), {}, &logits);
                }
                t_fwd = since(t0) / static_cast<double>(items.size());
                t0 = clk::now();
                for (const auto& it : items)
                    for (int k = 0; k < 2; ++k) {
                        auto s = model.new_session();
                        model.prefill(s, it.sequence(k), {}, &logits);
                    }
                t_eval = since(t0) / static_cast<double>(items.size());
                t0 = clk::now();
                for (const auto& it : items) (void)w2s::sweep::sweep_item(model, it, vs, opt);
                t_sweep = since(t0) / static_cast<double>(items.size());
                t0 = clk::now();
                const std::size_t nn = std::min(n_naive, items.size());
                for (std::size_t i = 0; i < nn; ++i) (void)naive_item(model, items[i], vs, opt);
                t_naive = since(t0) / static_cast<double>(nn);
            });
            std::printf("| %d | %.4f | %.4f | %.4f | %.2f | %.2f | %.3f | %.1f | %.3f | %.4f | %.1f |\n", threads, t_fwd, t_eval, t_sweep,
                        t_sweep / t_fwd, t_sweep / t_eval, t_naive, t_naive / t_eval, 1.0 / t_sweep, 1.0 / t_naive, t_naive / t_sweep);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_sweep: %s\n", e.what());
        return 1;
    }
    return 0;
}
