// w2s/steer/measure.hpp — the direct steerability measurement and the fixed-layer sweep (protocol 5-7).
//
// This is the simple, reference measurement that the fast shared-prefix sweep (w2s/sweep) is checked
// against. Per item: the prompt minus its last token is prefilled once (no position before the last
// prompt token is ever steered, so this prefix is the same for every (l, λ)); then for every requested
// (layer l, multiplier λ ≠ 0) and both responses k, the tail [last prompt token ++ response k] runs from
// block 0 with λ·v_l added at the output of block l to all its rows (= every position from the last prompt
// token on). λ = 0 is layer-independent and run once. Tails go to the backend in batches of `max_tails`.
// With use_tails = false every (l, λ, k) is instead a copy of the prefix session plus a prefill of the
// tail: slower, but uses nothing but prefill (a cross-check of forward_tails).
//
//   auto r = measure_steerability(model, items, vectors, {.layers = {5, 10, 15}}, pool);
//   r.propensity   [items x layers x multipliers]   m(x, l, λ)
//   r.steerability [items x layers]                 s(x, l)
//   r.per_layer    [layers]                         mean s, fraction steerable
//   r.best_layer   the fixed layer: argmax over layers of mean s (the lowest such layer on ties)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/progress.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/activations.hpp"
#include "w2s/steer/apply.hpp"
#include "w2s/steer/letter.hpp"
#include "w2s/steer/propensity.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"

namespace w2s::steer {

struct MeasureOptions {
    std::vector<int> layers;  ///< layers to measure (empty = every layer present in the vector set)
    std::vector<double> multipliers{kMultipliers.begin(), kMultipliers.end()};  ///< λ values, at least 2 distinct
    std::size_t max_tails = 32;  ///< tails per forward_tails call (each tail is 1 + R tokens)
    bool use_tails = true;       ///< false: prefill-only reference path (see the file comment)
};

struct SteerabilityResult {
    std::vector<int> layers;                ///< [L]
    std::vector<double> multipliers;        ///< [M]
    xt::xtensor<double, 3> propensity;      ///< [items x L x M]
    xt::xtensor<double, 2> steerability;    ///< [items x L]
    std::vector<DatasetFigures> per_layer;  ///< [L]
    int best_layer = -1;                    ///< layer (a value of `layers`) with the highest mean s
    /// [items x 2 x L]: each order's own s when every item was measured in two answer orders (else empty);
    /// steerability is their weighted sum (TokenizedItem::weight).
    xt::xtensor<double, 3> order_steerability;
    LetterDiagnostic letter;  ///< from order_steerability (empty when one order was measured)
};

/// m(item, l, λ) for every requested layer and multiplier: [layers x multipliers].
template <class B>
xt::xtensor<double, 2> measure_item(const B& backend, const TokenizedItem& item, const VectorSet& vectors,
                                    std::span<const int> layers, std::span<const double> multipliers,
                                    std::size_t max_tails = 32, bool use_tails = true);

/// The direct measurement over items (parallel across items in `pool`), with steerabilities, per-layer
/// figures and the best layer. Tokenized items with the same `item` index (its answer orders, adjacent) make
/// one row: its propensity is their weighted sum (TokenizedItem::weight). Progress: stage "steerability", items done / total; called under a lock
/// (from worker threads), so the callback need not be thread-safe.
template <class B>
SteerabilityResult measure_steerability(const B& backend, std::span<const TokenizedItem> items, const VectorSet& vectors,
                                        const MeasureOptions& opts, ThreadPool& pool, const ProgressFn& progress = {});

/// Fills steerability, per_layer and best_layer from propensity, layers and multipliers.
void summarize(SteerabilityResult& r);

// ---- implementation ------------------------------------------------------------------------------

inline void summarize(SteerabilityResult& r) {
    r.steerability = steerability(r.propensity, r.multipliers);
    const std::size_t n = r.steerability.shape(0), L = r.steerability.shape(1);
    r.per_layer.assign(L, {});
    std::vector<double> col(n);
    r.best_layer = -1;
    double best = 0;
    for (std::size_t l = 0; l < L; ++l) {
        for (std::size_t i = 0; i < n; ++i) col[i] = r.steerability(i, l);
        r.per_layer[l] = dataset_figures(col);
        if (r.best_layer < 0 || r.per_layer[l].mean > best) {
            best = r.per_layer[l].mean;
            r.best_layer = r.layers[l];
        }
    }
}

template <class B>
xt::xtensor<double, 2> measure_item(const B& backend, const TokenizedItem& item, const VectorSet& vectors,
                                    std::span<const int> layers, std::span<const double> multipliers,
                                    std::size_t max_tails, bool use_tails) {
    static_assert(model::check_backend<B>());
    const std::size_t L = layers.size(), M = multipliers.size();
    if (vectors.hidden() != backend.hidden_size())
        throw shape_error("measure_item: vectors of width " + std::to_string(vectors.hidden()) + ", the model's hidden size is " +
                          std::to_string(backend.hidden_size()));
    for (int l : layers) {
        if (l < 0 || l >= backend.n_layers())
            throw invalid_argument("measure_item: layer " + std::to_string(l) + " out of range 0.." +
                                   std::to_string(backend.n_layers() - 1));
        (void)vectors.at(l);  // throws when absent
    }
    // Shared prefix: every prompt token but the last.
    const std::size_t P = item.prompt.size();
    auto prefix = backend.new_session();
    if (P > 1) backend.prefill(prefix, std::span<const token_id>(item.prompt.data(), P - 1), model::Hook{}, nullptr);
    std::array<std::vector<token_id>, 2> tail_tokens;
    for (std::size_t k = 0; k < 2; ++k) {
        tail_tokens[k].push_back(item.prompt.back());
        tail_tokens[k].insert(tail_tokens[k].end(), item.response[k].begin(), item.response[k].end());
    }
    // Jobs: (layer slot, multiplier slot); λ = 0 once, with layer slot -1 (filled into every layer).
    struct Job {
        int li;
        std::size_t mi;
    };
    std::vector<Job> jobs;
    for (std::size_t mi = 0; mi < M; ++mi)
        if (multipliers[mi] == 0.0) jobs.push_back({-1, mi});
    for (std::size_t li = 0; li < L; ++li)
        for (std::size_t mi = 0; mi < M; ++mi)
            if (multipliers[mi] != 0.0) jobs.push_back({static_cast<int>(li), mi});

    xt::xtensor<double, 2> m = xt::zeros<double>({L, M});
    auto hook_for = [&](const Job& j) {
        if (j.li < 0) return SteeringHook{};
        return SteeringHook(vectors, layers[static_cast<std::size_t>(j.li)], static_cast<float>(multipliers[j.mi]),
                            Positions::from(P - 1));
    };
    auto store = [&](const Job& j, double value) {
        if (j.li >= 0) {
            m(static_cast<std::size_t>(j.li), j.mi) = value;
        } else {
            for (std::size_t li = 0; li < L; ++li) m(li, j.mi) = value;
        }
    };
    if (use_tails) {
        const std::size_t jobs_per_call = std::max<std::size_t>(1, max_tails / 2);
        MatrixRM logits;
        std::vector<model::Tail> tails;
        std::vector<SteeringHook> hooks;
        for (std::size_t j0 = 0; j0 < jobs.size(); j0 += jobs_per_call) {
            const std::size_t nj = std::min(jobs_per_call, jobs.size() - j0);
            tails.clear();
            hooks.clear();
            for (std::size_t j = 0; j < nj; ++j) {
                hooks.push_back(hook_for(jobs[j0 + j]));
                for (std::size_t k = 0; k < 2; ++k) tails.push_back({tail_tokens[k], {}, -1});
            }
            const model::Hook hook = [&](const model::BlockOutput& o) {
                if (o.seq < tails.size()) hooks[o.seq / 2](o);
            };
            backend.forward_tails(prefix, std::span<const model::Tail>(tails), 0, hook, &logits);
            const ConstMatrixView lv(logits.data(), static_cast<std::size_t>(logits.rows()), static_cast<std::size_t>(logits.cols()));
            std::size_t row = 0;
            for (std::size_t j = 0; j < nj; ++j) {
                const std::size_t r0 = row, r1 = row + tail_tokens[0].size();
                row = r1 + tail_tokens[1].size();
                store(jobs[j0 + j], propensity(lv, r0, item.response[0], lv, r1, item.response[1], item.scoring));
            }
        }
    } else {
        MatrixRM logits[2];
        for (const Job& j : jobs) {
            const SteeringHook h = hook_for(j);
            const model::Hook hook = [&](const model::BlockOutput& o) { h(o); };
            for (std::size_t k = 0; k < 2; ++k) {
                auto s = prefix;  // copying a session forks it
                backend.prefill(s, std::span<const token_id>(tail_tokens[k]), hook, &logits[k]);
            }
            const ConstMatrixView a(logits[0].data(), static_cast<std::size_t>(logits[0].rows()), static_cast<std::size_t>(logits[0].cols()));
            const ConstMatrixView b(logits[1].data(), static_cast<std::size_t>(logits[1].rows()), static_cast<std::size_t>(logits[1].cols()));
            store(j, propensity(a, 0, item.response[0], b, 0, item.response[1], item.scoring));
        }
    }
    return m;
}

template <class B>
SteerabilityResult measure_steerability(const B& backend, std::span<const TokenizedItem> items, const VectorSet& vectors,
                                        const MeasureOptions& opts, ThreadPool& pool, const ProgressFn& progress) {
    static_assert(model::check_backend<B>());
    if (items.empty()) throw invalid_argument("measure_steerability: no items");
    SteerabilityResult r;
    r.layers = opts.layers.empty() ? vectors.layers() : opts.layers;
    if (r.layers.empty()) throw invalid_argument("measure_steerability: the vector set has no layers");
    r.multipliers = opts.multipliers;
    const std::size_t L = r.layers.size(), M = r.multipliers.size(), V = items.size();
    // row_of[v]: the output row of view v (an item's answer orders are adjacent).
    const auto groups = item_groups(items);
    const std::size_t n = groups.size();
    std::vector<std::size_t> row_of(V);
    bool two_orders = true;
    for (std::size_t g = 0; g < n; ++g) {
        two_orders = two_orders && groups[g].second - groups[g].first == 2;
        for (std::size_t v = groups[g].first; v < groups[g].second; ++v) row_of[v] = g;
    }
    xt::xtensor<double, 3> per_view = xt::zeros<double>({V, L, M});
    std::mutex mu;
    std::size_t done = 0;
    report(progress, "steerability", 0, V);
    pool.run([&] {
        parallel_for(0, V, 1, [&](std::size_t v) {
            const auto m = measure_item(backend, items[v], vectors, r.layers, r.multipliers, opts.max_tails, opts.use_tails);
            for (std::size_t l = 0; l < L; ++l)
                for (std::size_t k = 0; k < M; ++k) per_view(v, l, k) = m(l, k);
            std::lock_guard lock(mu);
            report(progress, "steerability", ++done, V);
        });
    });
    r.propensity = xt::zeros<double>({n, L, M});
    for (std::size_t v = 0; v < V; ++v)
        for (std::size_t l = 0; l < L; ++l)
            for (std::size_t k = 0; k < M; ++k)
                r.propensity(row_of[v], l, k) += items[v].weight * per_view(v, l, k);
    if (two_orders && n > 0) {
        const auto s = steerability(per_view, r.multipliers);
        r.order_steerability = xt::zeros<double>({n, std::size_t{2}, L});
        for (std::size_t v = 0; v < V; ++v)
            for (std::size_t l = 0; l < L; ++l) r.order_steerability(row_of[v], items[v].order == 0 ? 0 : 1, l) = s(v, l);
        Eigen::MatrixXd g(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(L)), mi(g.rows(), g.cols());
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t l = 0; l < L; ++l) {
                g(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(l)) = r.order_steerability(i, 0, l);
                mi(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(l)) = r.order_steerability(i, 1, l);
            }
        r.letter = letter_diagnostic(g, mi);
    }
    summarize(r);
    return r;
}

}  // namespace w2s::steer
