// w2s/steer/reply.hpp — the reply diagnostic: does a free-text item's best layer follow its prompt, which a router
// sees, or its reply wording, which it never sees at inference? The free-text twin of the letter diagnostic.
//
// Input: one cell per (prompt, reply pair) measured, its slopes over the swept layers, and two labels: the prompt
// it belongs to and its reply template (pairs that share wording across prompts share a template; by default the
// pair's position in the record's "pairs"). From the cells' best layers (column of the largest slope, the first on
// ties):
//   share_prompt / share_replies   the best layer's variance explained by the prompt / by the template (eta squared:
//                                  between-group sum of squares over the total), each with its chance level: the
//                                  mean and 95th percentile of the same share with the labels permuted over cells
//                                  (a fixed seed; for balanced data the mean is close to (groups - 1) / (cells - 1));
//   fixed                          every cell steered at one layer (the column of the largest mean slope, or the
//                                  caller's);
//   oracle                         every cell at its own best layer;
//   from_prompt                    every cell at the layer best for its prompt's other pairs (cross-fitted: the cell
//                                  itself never votes) -- what the prompt alone can say;
//   from_replies                   every cell at the layer best for the same template under the other prompts -- what
//                                  the reply wording alone can say.
// `reply_driven` when the template share is above its permutation 95th percentile and the replies pick better than
// both the prompt's other pairs and the fixed layer; `prompt_driven` when the prompt share is above its 95th
// percentile and the prompt's other pairs pick better than the fixed layer. `warning` says a reply-driven result in
// words, for the first lines of a report.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"

namespace w2s::steer {

struct ReplyDiagnostic {
    std::size_t cells = 0, prompts = 0, templates = 0;
    double share_prompt = std::numeric_limits<double>::quiet_NaN();
    double share_replies = std::numeric_limits<double>::quiet_NaN();
    double chance_prompt = std::numeric_limits<double>::quiet_NaN(), chance_prompt_q95 = std::numeric_limits<double>::quiet_NaN();
    double chance_replies = std::numeric_limits<double>::quiet_NaN(), chance_replies_q95 = std::numeric_limits<double>::quiet_NaN();
    int fixed_column = -1;
    double fixed = std::numeric_limits<double>::quiet_NaN(), oracle = std::numeric_limits<double>::quiet_NaN();
    double from_prompt = std::numeric_limits<double>::quiet_NaN();   ///< over cells whose prompt has other pairs
    double from_replies = std::numeric_limits<double>::quiet_NaN();  ///< over cells whose template has other prompts
    std::size_t from_prompt_cells = 0, from_replies_cells = 0;
    bool reply_driven = false, prompt_driven = false;
    std::string warning;
    /// Measured only when some prompt has two or more pairs (otherwise nothing separates prompt from replies).
    [[nodiscard]] bool present() const noexcept { return from_prompt_cells > 0; }
};

struct ReplyDiagnosticOptions {
    int fixed_column = -1;             ///< the fixed layer's column (-1: the column of the largest mean slope)
    std::size_t permutations = 500;    ///< label permutations for the chance levels
    std::uint64_t seed = 20240607;     ///< their seed
};

namespace detail {

/// Eta squared of x grouped by g (g: dense ids 0..k-1); NaN when x does not vary.
inline double eta_squared(const std::vector<double>& x, const std::vector<int>& g, int k) {
    const double n = static_cast<double>(x.size());
    double mean = 0.0;
    for (double v : x) mean += v / n;
    std::vector<double> sum(static_cast<std::size_t>(k), 0.0), cnt(static_cast<std::size_t>(k), 0.0);
    double total = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        sum[static_cast<std::size_t>(g[i])] += x[i];
        cnt[static_cast<std::size_t>(g[i])] += 1.0;
        total += (x[i] - mean) * (x[i] - mean);
    }
    if (!(total > 0.0)) return std::numeric_limits<double>::quiet_NaN();
    double between = 0.0;
    for (std::size_t j = 0; j < sum.size(); ++j)
        if (cnt[j] > 0) between += cnt[j] * (sum[j] / cnt[j] - mean) * (sum[j] / cnt[j] - mean);
    return between / total;
}

/// Labels as dense ids 0..k-1 (in order of first appearance); returns k.
inline int densify(const std::vector<int>& labels, std::vector<int>& out) {
    std::map<int, int> id;
    out.resize(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) out[i] = id.try_emplace(labels[i], static_cast<int>(id.size())).first->second;
    return static_cast<int>(id.size());
}

/// Mean and 95th percentile of eta_squared(x, permuted g) over `reps` Fisher-Yates permutations (written here, so
/// that every standard library gives the same figures).
inline std::pair<double, double> permuted_eta(const std::vector<double>& x, std::vector<int> g, int k, std::size_t reps, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<double> v;
    v.reserve(reps);
    for (std::size_t r = 0; r < reps; ++r) {
        for (std::size_t i = g.size(); i > 1; --i) {
            const std::size_t j = static_cast<std::size_t>(rng() % i);
            std::swap(g[i - 1], g[j]);
        }
        const double e = eta_squared(x, g, k);
        if (std::isfinite(e)) v.push_back(e);
    }
    if (v.empty()) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    std::sort(v.begin(), v.end());
    double mean = 0.0;
    for (double e : v) mean += e / static_cast<double>(v.size());
    const std::size_t q = std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(v.size()))) - 1);
    return {mean, v[q]};
}

inline Eigen::Index argmax_row(const Eigen::VectorXd& v) {
    Eigen::Index best = 0;
    for (Eigen::Index l = 1; l < v.size(); ++l)
        if (v(l) > v(best)) best = l;
    return best;
}

}  // namespace detail

/// The diagnostic from the cells' slopes S [cells x L], each cell's prompt and reply-template labels [cells].
[[nodiscard]] inline ReplyDiagnostic reply_diagnostic(const Eigen::MatrixXd& S, const std::vector<int>& prompt,
                                                      const std::vector<int>& reply, const ReplyDiagnosticOptions& o = {}) {
    const auto n = static_cast<std::size_t>(S.rows());
    if (prompt.size() != n || reply.size() != n)
        throw shape_error("reply_diagnostic: " + std::to_string(n) + " cells but " + std::to_string(prompt.size()) + " prompt and " +
                          std::to_string(reply.size()) + " reply labels");
    if (!S.allFinite()) throw numeric_error("reply_diagnostic: a slope is not finite");
    if (o.fixed_column >= S.cols()) throw shape_error("reply_diagnostic: fixed column " + std::to_string(o.fixed_column) + " of " + std::to_string(S.cols()));
    ReplyDiagnostic d;
    d.cells = n;
    if (n == 0 || S.cols() == 0) return d;
    std::vector<int> gp, gr;
    const int kp = detail::densify(prompt, gp), kr = detail::densify(reply, gr);
    d.prompts = static_cast<std::size_t>(kp);
    d.templates = static_cast<std::size_t>(kr);

    std::vector<double> best(n);
    double oracle = 0.0;
    for (std::size_t c = 0; c < n; ++c) {
        const Eigen::VectorXd row = S.row(static_cast<Eigen::Index>(c)).transpose();
        const Eigen::Index b = detail::argmax_row(row);
        best[c] = static_cast<double>(b);
        oracle += row(b) / static_cast<double>(n);
    }
    d.oracle = oracle;
    const Eigen::VectorXd colmean = S.colwise().mean().transpose();
    d.fixed_column = o.fixed_column >= 0 ? o.fixed_column : static_cast<int>(detail::argmax_row(colmean));
    d.fixed = colmean(d.fixed_column);

    // cross-fitted choices: the layer best for the other cells of the same group (the cell itself excluded)
    auto cross = [&](const std::vector<int>& same, const std::vector<int>* differ, std::size_t& used) {
        double sum = 0.0;
        used = 0;
        for (std::size_t c = 0; c < n; ++c) {
            Eigen::VectorXd acc = Eigen::VectorXd::Zero(S.cols());
            std::size_t m = 0;
            for (std::size_t e = 0; e < n; ++e) {
                if (e == c || same[e] != same[c]) continue;
                if (differ && (*differ)[e] == (*differ)[c]) continue;
                acc += S.row(static_cast<Eigen::Index>(e)).transpose();
                ++m;
            }
            if (m == 0) continue;
            sum += S(static_cast<Eigen::Index>(c), detail::argmax_row(acc));
            ++used;
        }
        return used ? sum / static_cast<double>(used) : std::numeric_limits<double>::quiet_NaN();
    };
    d.from_prompt = cross(gp, nullptr, d.from_prompt_cells);
    d.from_replies = cross(gr, &gp, d.from_replies_cells);

    d.share_prompt = detail::eta_squared(best, gp, kp);
    d.share_replies = detail::eta_squared(best, gr, kr);
    std::tie(d.chance_prompt, d.chance_prompt_q95) = detail::permuted_eta(best, gp, kp, o.permutations, o.seed);
    std::tie(d.chance_replies, d.chance_replies_q95) = detail::permuted_eta(best, gr, kr, o.permutations, o.seed + 1);

    const auto above = [](double share, double q95) { return std::isfinite(share) && std::isfinite(q95) && share > q95; };
    d.reply_driven = d.present() && d.from_replies_cells > 0 && above(d.share_replies, d.chance_replies_q95) &&
                     d.from_replies > d.from_prompt && d.from_replies > d.fixed;
    d.prompt_driven = d.present() && above(d.share_prompt, d.chance_prompt_q95) && d.from_prompt > d.fixed;
    if (d.reply_driven) {
        char buf[480];
        std::snprintf(buf, sizeof buf,
                      "the best layer follows the replies, not the prompt: the reply template explains %.2f of its variance "
                      "(chance %.2f), the prompt %.2f (chance %.2f); the layer picked from the same replies under other prompts "
                      "gives %.2fx the fixed layer, from the prompt's other pairs %.2fx. A router sees only the prompt: "
                      "the oracle's gain (%.2fx) is not within its reach.",
                      d.share_replies, d.chance_replies, d.share_prompt, d.chance_prompt, d.from_replies / d.fixed,
                      d.from_prompt / d.fixed, d.oracle / d.fixed);
        d.warning = buf;
    }
    return d;
}

}  // namespace w2s::steer
