// w2s/eval/metrics.hpp — layer policies scored on a test sweep (PROTOCOL section 7), and the statistics the
// reports show.
//
// Shapes: S [n x L] double, S(i, l) = s(x_i, l), the steerability of test item i at layer l (0-based block
// index). A layer choice is one layer per item: Layers [n], each in [0, L).
//   fixed layer   argmax_l mean_i S_train(i, l) — chosen on TRAIN (ties -> lowest layer)
//   oracle        argmax_l S(i, l) per test item (an upper bound; needs the answer)
//   random        a uniformly random layer per item, from a seeded portable RNG (a floor)
//   routed        whatever a router predicted
// score(S, layers): mean steerability = mean_i S(i, layers_i); fraction steerable = share of items with
// S(i, layers_i) > 0. gap_closed(m, fixed, oracle) = (m - fixed) / (oracle - fixed), NaN when
// |oracle - fixed| < 1e-12 (nothing to close).
// Quantiles use linear interpolation between order statistics (numpy's default, "type 7"): the q-quantile of
// sorted v[0..n-1] is v[floor(h)] + (h - floor(h)) (v[floor(h)+1] - v[floor(h)]), h = q (n - 1).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/route/router.hpp"

namespace w2s::eval {

using route::Layers;
using route::ProfilesRef;

/// A layer policy's figures on a test split.
struct PolicyScore {
    double mean_steerability = 0.0;   // mean_i S(i, layer_i)
    double fraction_steerable = 0.0;  // share of items with S(i, layer_i) > 0
    std::size_t n = 0;                // items
};

/// Scores a layer choice `layers` [n] on S [n x L].
[[nodiscard]] inline PolicyScore score(const ProfilesRef& S, const Layers& layers) {
    if (layers.size() != S.rows())
        throw shape_error("eval::score: " + std::to_string(layers.size()) + " layers for " + std::to_string(S.rows()) +
                          " items; expected one per item");
    PolicyScore r;
    r.n = static_cast<std::size_t>(S.rows());
    if (r.n == 0) return r;
    r.mean_steerability = route::mean_chosen(S, layers);  // also range-checks the layers
    std::size_t pos = 0;
    for (Eigen::Index i = 0; i < S.rows(); ++i) pos += S(i, layers(i)) > 0.0 ? 1 : 0;
    r.fraction_steerable = static_cast<double>(pos) / static_cast<double>(r.n);
    return r;
}

/// The fixed layer: argmax_l of the column means of S_train [n x L] (ties -> lowest layer).
[[nodiscard]] inline int fixed_layer(const ProfilesRef& S_train) {
    if (S_train.rows() < 1 || S_train.cols() < 1)
        throw shape_error("eval::fixed_layer: train steerability is " + std::to_string(S_train.rows()) + "x" +
                          std::to_string(S_train.cols()) + "; expected at least one item and one layer");
    const Eigen::VectorXd m = S_train.colwise().mean().transpose();
    return route::detail::argmax(m);
}

/// [n] copies of `layer`.
[[nodiscard]] inline Layers constant_layers(Eigen::Index n, int layer) { return Layers::Constant(n, layer); }

/// Per-item best layers of S [n x L] (ties -> lowest): the oracle.
[[nodiscard]] inline Layers oracle_layers(const ProfilesRef& S) { return route::best_layers(S); }

/// [n] uniform random layers in [0, L), reproducible for a seed on every platform.
[[nodiscard]] inline Layers random_layers(Eigen::Index n, int L, std::uint64_t seed) {
    if (L < 1) throw invalid_argument("eval::random_layers: L = " + std::to_string(L) + "; expected >= 1");
    route::Rng rng(seed);
    Layers y(n);
    for (Eigen::Index i = 0; i < n; ++i) y(i) = static_cast<int>(rng.below(static_cast<std::uint64_t>(L)));
    return y;
}

/// (method - fixed) / (oracle - fixed); NaN when the oracle does not beat the fixed layer by > 1e-12.
[[nodiscard]] inline double gap_closed(double method, double fixed, double oracle) {
    const double den = oracle - fixed;
    if (!(std::abs(den) > 1e-12)) return std::numeric_limits<double>::quiet_NaN();
    return (method - fixed) / den;
}

/// How the per-item best layers are distributed around the fixed layer.
struct BestLayerStats {
    int fixed_layer = -1;
    std::vector<std::size_t> histogram;  // [L] items whose best layer is l
    double mean_abs_distance = 0.0;      // mean_i |best_i - fixed|
    double share_at_fixed = 0.0;         // share of items with best_i == fixed
};

[[nodiscard]] inline BestLayerStats best_layer_stats(const ProfilesRef& S, int fixed) {
    if (fixed < 0 || fixed >= S.cols())
        throw invalid_argument("eval::best_layer_stats: fixed layer " + std::to_string(fixed) + " outside [0, " +
                               std::to_string(S.cols()) + ")");
    BestLayerStats b;
    b.fixed_layer = fixed;
    b.histogram.assign(static_cast<std::size_t>(S.cols()), 0);
    const Layers best = oracle_layers(S);
    std::size_t at = 0;
    double dist = 0.0;
    for (Eigen::Index i = 0; i < best.size(); ++i) {
        ++b.histogram[static_cast<std::size_t>(best(i))];
        dist += std::abs(best(i) - fixed);
        at += best(i) == fixed ? 1 : 0;
    }
    if (best.size() > 0) {
        b.mean_abs_distance = dist / static_cast<double>(best.size());
        b.share_at_fixed = static_cast<double>(at) / static_cast<double>(best.size());
    }
    return b;
}

/// Linear-interpolation quantile (type 7) of `sorted` (ascending, non-empty), q in [0, 1].
[[nodiscard]] inline double quantile_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double h = q * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// Steerability against layer, with its spread over items. Every vector is [L].
struct LayerSpread {
    std::vector<double> mean, stddev;          // stddev: population (divide by n)
    std::vector<double> q25, median, q75;      // quartiles over items
    std::vector<double> fraction_steerable;    // share of items with S(i, l) > 0
};

[[nodiscard]] inline LayerSpread layer_spread(const ProfilesRef& S) {
    LayerSpread r;
    const auto L = static_cast<std::size_t>(S.cols());
    for (auto* v : {&r.mean, &r.stddev, &r.q25, &r.median, &r.q75, &r.fraction_steerable})
        v->assign(L, std::numeric_limits<double>::quiet_NaN());
    if (S.rows() == 0) return r;
    const double n = static_cast<double>(S.rows());
    std::vector<double> col(static_cast<std::size_t>(S.rows()));
    for (Eigen::Index l = 0; l < S.cols(); ++l) {
        const auto k = static_cast<std::size_t>(l);
        for (Eigen::Index i = 0; i < S.rows(); ++i) col[static_cast<std::size_t>(i)] = S(i, l);
        const double m = S.col(l).mean();
        r.mean[k] = m;
        r.stddev[k] = std::sqrt((S.col(l).array() - m).square().sum() / n);
        r.fraction_steerable[k] = static_cast<double>((S.col(l).array() > 0.0).count()) / n;
        std::sort(col.begin(), col.end());
        r.q25[k] = quantile_sorted(col, 0.25);
        r.median[k] = quantile_sorted(col, 0.5);
        r.q75[k] = quantile_sorted(col, 0.75);
    }
    return r;
}

}  // namespace w2s::eval
