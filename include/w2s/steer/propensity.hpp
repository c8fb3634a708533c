// w2s/steer/propensity.hpp — propensity and steerability (protocol section 6), the pure arithmetic.
//
//   m(x, l, λ) = score(response_match) − score(response_nonmatch), each response appended to the same prompt,
//     with steering (l, λ); the logit of response token j is read at sequence row P − 1 + j (the row that
//     predicts it). score = Σ_j raw logit (Scoring::logits, the protocol's A/B metric), Σ_j log-softmax
//     (logprob_sum, free-text pairs) or that sum / R (logprob_mean).
//   An item measured in several answer orders has m = the mean of its orders' m (and so s = the mean slope).
//   s(x, l)   = least-squares slope of m against λ over the multipliers kMultipliers.
//   steerable when s > 0. Dataset figures: mean of s, fraction steerable.
// These pieces are shared by the direct measurement (measure.hpp) and the fast sweep (w2s/sweep).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xsimd/xsimd.hpp>
#include <xtensor/xtensor.hpp>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/tokenized.hpp"

namespace w2s::steer {

/// The protocol's multipliers λ.
inline constexpr std::array<double, 7> kMultipliers = {-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5};

/// Σ_j logits(row0 + j, response[j]) for j in [0, R): rows of `logits` ([rows x vocab]) from row0 predict the
/// response's tokens. Summed in double. Throws shape_error when rows or token ids are out of range.
inline double response_logit_sum(ConstMatrixView logits, std::size_t row0, std::span<const model::token_id> response) {
    if (row0 + response.size() > logits.rows)
        throw shape_error("response_logit_sum: rows " + std::to_string(row0) + ".." + std::to_string(row0 + response.size()) +
                          " needed, the logits have " + std::to_string(logits.rows));
    double s = 0.0;
    for (std::size_t j = 0; j < response.size(); ++j) {
        const auto id = response[j];
        if (id < 0 || static_cast<std::size_t>(id) >= logits.cols)
            throw shape_error("response_logit_sum: token id " + std::to_string(id) + " outside the vocabulary of " +
                              std::to_string(logits.cols));
        s += static_cast<double>(logits.row(row0 + j)[static_cast<std::size_t>(id)]);
    }
    return s;
}

/// log Σ_v exp(row[v]), the slow reference: double precision throughout.
inline double log_sum_exp_ref(std::span<const float> row) {
    float mx = row.empty() ? 0.0f : row[0];
    for (float v : row) mx = v > mx ? v : mx;
    double s = 0.0;
    for (float v : row) s += std::exp(static_cast<double>(v) - static_cast<double>(mx));
    return static_cast<double>(mx) + std::log(s);
}

/// log Σ_v exp(row[v]): xsimd's vectorised exp in float, partial sums per lane in float over blocks of 1024
/// values, added in double (a vocabulary row of 49,152 logits per call in the free-text sweep). Within 1e-5 of
/// log_sum_exp_ref (tests/steer).
inline double log_sum_exp(std::span<const float> row) {
    using batch = xsimd::batch<float>;
    constexpr std::size_t W = batch::size;
    const std::size_t n = row.size(), nv = n - n % W;
    batch bm(row.empty() ? 0.0f : row[0]);
    for (std::size_t i = 0; i < nv; i += W) bm = xsimd::max(bm, batch::load_unaligned(row.data() + i));
    alignas(64) float lanes[W];
    bm.store_aligned(lanes);
    float mx = row.empty() ? 0.0f : *std::max_element(lanes, lanes + W);
    for (std::size_t i = nv; i < n; ++i) mx = row[i] > mx ? row[i] : mx;
    const batch m(mx);
    double s = 0.0;
    for (std::size_t b0 = 0; b0 < nv; b0 += 1024) {
        batch acc(0.0f);
        const std::size_t b1 = std::min(nv, b0 + 1024);
        for (std::size_t i = b0; i < b1; i += W) acc += xsimd::exp(batch::load_unaligned(row.data() + i) - m);
        s += static_cast<double>(xsimd::hadd(acc));
    }
    for (std::size_t i = nv; i < n; ++i) s += std::exp(static_cast<double>(row[i]) - static_cast<double>(mx));
    return static_cast<double>(mx) + std::log(s);
}

/// The score of one response under `scoring` (see the file comment), from full logits rows row0.. .
inline double response_score(ConstMatrixView logits, std::size_t row0, std::span<const model::token_id> response, Scoring scoring) {
    const double sum = response_logit_sum(logits, row0, response);
    if (scoring == Scoring::logits) return sum;
    double norm = 0.0;
    for (std::size_t j = 0; j < response.size(); ++j) norm += log_sum_exp({logits.row(row0 + j), logits.cols});
    const double lp = sum - norm;
    return scoring == Scoring::logprob_mean ? lp / static_cast<double>(response.size()) : lp;
}

/// m = score(match) − score(nonmatch), each with its own logits block.
inline double propensity(ConstMatrixView logits_match, std::size_t row0_match, std::span<const model::token_id> match,
                         ConstMatrixView logits_nonmatch, std::size_t row0_nonmatch, std::span<const model::token_id> nonmatch,
                         Scoring scoring) {
    return response_score(logits_match, row0_match, match, scoring) - response_score(logits_nonmatch, row0_nonmatch, nonmatch, scoring);
}

/// The protocol's A/B propensity: raw logits (Scoring::logits).
inline double propensity(ConstMatrixView logits_match, std::size_t row0_match, std::span<const model::token_id> match,
                         ConstMatrixView logits_nonmatch, std::size_t row0_nonmatch,
                         std::span<const model::token_id> nonmatch) {
    return propensity(logits_match, row0_match, match, logits_nonmatch, row0_nonmatch, nonmatch, Scoring::logits);
}

/// Least-squares slope of y against x (same length >= 2, x not all equal): Σ(x−x̄)(y−ȳ) / Σ(x−x̄)².
inline double slope(std::span<const double> x, std::span<const double> y) {
    if (x.size() != y.size() || x.size() < 2)
        throw invalid_argument("slope: x and y need the same length >= 2, got " + std::to_string(x.size()) + " and " +
                               std::to_string(y.size()));
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= static_cast<double>(x.size());
    my /= static_cast<double>(y.size());
    double sxy = 0, sxx = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    if (!(sxx > 0)) throw invalid_argument("slope: all x values are equal");
    return sxy / sxx;
}

/// Steerability of every (item, layer) from propensities [items x layers x multipliers]: [items x layers].
inline xt::xtensor<double, 2> steerability(const xt::xtensor<double, 3>& propensity, std::span<const double> multipliers) {
    const std::size_t n = propensity.shape(0), L = propensity.shape(1), M = propensity.shape(2);
    if (M != multipliers.size())
        throw shape_error("steerability: " + std::to_string(M) + " multipliers in the propensity array, " +
                          std::to_string(multipliers.size()) + " given");
    xt::xtensor<double, 2> s = xt::zeros<double>({n, L});
    std::vector<double> y(M);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t l = 0; l < L; ++l) {
            for (std::size_t m = 0; m < M; ++m) y[m] = propensity(i, l, m);
            s(i, l) = slope(multipliers, y);
        }
    return s;
}

/// Dataset figures of one layer's column of steerabilities.
struct DatasetFigures {
    double mean = 0.0;               ///< mean of s
    double fraction_steerable = 0.0; ///< fraction of items with s > 0
};

inline DatasetFigures dataset_figures(std::span<const double> s) {
    DatasetFigures f;
    if (s.empty()) return f;
    std::size_t pos = 0;
    for (double v : s) {
        f.mean += v;
        pos += v > 0 ? 1 : 0;
    }
    f.mean /= static_cast<double>(s.size());
    f.fraction_steerable = static_cast<double>(pos) / static_cast<double>(s.size());
    return f;
}

}  // namespace w2s::steer
