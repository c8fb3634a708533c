// w2s/steer/letter.hpp — the letter diagnostic: how much of an A/B item's single-order steerability flips with
// the answer letter, from the slopes of its two orders (as given and mirrored, steer::mirror).
#pragma once

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"

namespace w2s::steer {

/// How much of the single-order steerability flips with the answer letter (A/B items measured in both orders).
/// Per swept layer over the test items, with s_g / s_m the slopes of the order as given / mirrored (each
/// measured with the run's vectors: both orders' when mirrored, the given order's in the single-order protocol):
///   correlation     corr(s_g, s_m) over items (near -1: the slope follows the letter, not the behaviour)
///   letter_part     mean |s_g - s_m| / 2  (what flips with the letter)
///   behaviour_part  mean |s_g + s_m| / 2  (what both orders share: the behaviour's own steerability)
/// `dominated` when the letter part exceeds the behaviour part averaged over the layers; `warning` says so in
/// words.
struct LetterDiagnostic {
    std::vector<double> correlation, letter_part, behaviour_part;  ///< [L] each; empty: one order measured
    double mean_correlation = std::numeric_limits<double>::quiet_NaN();
    double mean_letter_part = 0.0, mean_behaviour_part = 0.0;
    bool dominated = false;
    std::string warning;
    [[nodiscard]] bool present() const noexcept { return !letter_part.empty(); }
};

/// The diagnostic from the two orders' slopes S_given, S_mirror [n_test x L].
[[nodiscard]] inline LetterDiagnostic letter_diagnostic(const Eigen::MatrixXd& S_given, const Eigen::MatrixXd& S_mirror) {
    if (S_given.rows() != S_mirror.rows() || S_given.cols() != S_mirror.cols())
        throw shape_error("letter_diagnostic: the two orders' slope matrices differ in shape");
    LetterDiagnostic d;
    const Eigen::Index n = S_given.rows(), L = S_given.cols();
    if (n == 0 || L == 0) return d;
    double corr_sum = 0.0;
    int corr_n = 0;
    for (Eigen::Index l = 0; l < L; ++l) {
        const Eigen::VectorXd g = S_given.col(l), m = S_mirror.col(l);
        d.letter_part.push_back(((g - m).cwiseAbs() / 2.0).mean());
        d.behaviour_part.push_back(((g + m).cwiseAbs() / 2.0).mean());
        const Eigen::VectorXd gc = g.array() - g.mean(), mc = m.array() - m.mean();
        const double den = std::sqrt(gc.squaredNorm() * mc.squaredNorm());
        const double c = den > 0 ? gc.dot(mc) / den : std::numeric_limits<double>::quiet_NaN();
        d.correlation.push_back(c);
        if (std::isfinite(c)) {
            corr_sum += c;
            ++corr_n;
        }
        d.mean_letter_part += d.letter_part.back() / static_cast<double>(L);
        d.mean_behaviour_part += d.behaviour_part.back() / static_cast<double>(L);
    }
    if (corr_n) d.mean_correlation = corr_sum / corr_n;
    d.dominated = d.mean_letter_part > d.mean_behaviour_part;
    if (d.dominated) {
        char buf[320];
        std::snprintf(buf, sizeof buf,
                      "the answer letter dominates: the part of the single-order slopes that flips with the letter "
                      "(%.3g) exceeds the part both orders share (%.3g); correlation between the orders %.2f. "
                      "Single-order figures here measure the letter layout, not the behaviour.",
                      d.mean_letter_part, d.mean_behaviour_part, d.mean_correlation);
        d.warning = buf;
    }
    return d;
}

}  // namespace w2s::steer
