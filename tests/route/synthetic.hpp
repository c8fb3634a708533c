// Synthetic routing data where the best layer depends on the embedding (shared by the route tests and benchmark).
#pragma once

#include <cmath>
#include <cstdint>

#include <w2s/route/router.hpp>

namespace w2s::test {

struct RouteData {
    w2s::route::Features X;  // [n x d]
    Eigen::MatrixXd S;       // [n x L]
};

/// K clusters in R^d (centres N(0, spread^2), items = centre + N(0, 1)); cluster c peaks at layer
/// peak(c) = (c + 1) * L / (K + 1); S(i, l) = 0.2 + exp(-(l - peak)^2 / 8) - 0.02 * |l - L/2| + noise * N(0, 1).
/// The cluster of an item is drawn with probabilities ~ (K - c) so that the fixed layer is one peak, not a blend.
inline RouteData make_route_data(int n, int d, int L, int K, std::uint64_t seed, double spread = 2.0,
                                 double noise = 0.05) {
    w2s::route::Rng rng(seed);
    Eigen::MatrixXd centres(K, d);
    for (int c = 0; c < K; ++c)
        for (int j = 0; j < d; ++j) centres(c, j) = spread * rng.normal();
    RouteData r{w2s::route::Features(n, d), Eigen::MatrixXd(n, L)};
    const int wsum = K * (K + 1) / 2;
    for (int i = 0; i < n; ++i) {
        int u = static_cast<int>(rng.below(static_cast<std::uint64_t>(wsum))), c = 0;
        while (u >= K - c) u -= K - c, ++c;
        for (int j = 0; j < d; ++j) r.X(i, j) = static_cast<float>(centres(c, j) + rng.normal());
        const double peak = static_cast<double>((c + 1) * L) / (K + 1);
        for (int l = 0; l < L; ++l)
            r.S(i, l) = 0.2 + std::exp(-(l - peak) * (l - peak) / 8.0) - 0.02 * std::abs(l - L / 2.0) +
                        noise * rng.normal();
    }
    return r;
}

}  // namespace w2s::test
