// w2s/steer/estimators.hpp — steering-vector estimators: one concept, three policies.
//
// Contract (prose). An Estimator E turns the contrastive pairs of ONE layer into one steering vector.
//  - E is a small copyable policy holding only its settings; it arrives built (users set its fields,
//    e.g. `PCA{.center = true}`), the extraction code never forwards constructor arguments to it.
//  - E::name: a static std::string_view naming it ("mean", "pca", "probe"), written into vector files.
//  - typename E::State: all the layer's fit needs to keep, created by `e.start(hidden)`. The estimator
//    chooses what to hold: running sums for the mean, a streaming second-moment matrix for PCA, the
//    activations themselves for the probe.
//  - e.add(state, pos, neg): one item's activations (pos = the matching completion, neg = the non-matching
//    one), spans of `hidden` floats. Called in item order from one thread at a time per state (different
//    layers' states may be fed concurrently), so results do not depend on the thread count.
//  - e.finish(state) -> LayerFit: the vector ([hidden] floats) plus a status. Numerical trouble is a
//    status (FitStatus::no_convergence / degenerate, with a message), not an exception; finishing a state
//    that saw no pair throws invalid_argument.
//  - optional: e.memory(hidden, n_pairs) -> EstimatorMemory, the bytes one layer's State holds after n_pairs
//    pairs and the extra workspace finish() allocates. extract_vectors() then refuses, before the first forward
//    pass, a fit that would not fit in memory (w2s/core/memory.hpp); an estimator without it is not checked.
// The orientation convention shared by all three: the vector points from "not matching" to "matching", so
// adding it (positive multiplier) pushes towards the behaviour; PCA and the probe are scaled to the mean
// difference's norm, so the same multipliers mean comparable strengths across estimators.
// A type that breaks the contract is refused by check_estimator<E>() with one readable message.
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/core/fit_status.hpp"
#include "w2s/steer/config.hpp"

namespace w2s::steer {

using w2s::FitStatus;  // w2s/core/fit_status.hpp: one type for estimators and routers

/// The result of fitting one layer.
struct LayerFit {
    Eigen::VectorXf vector;           ///< [hidden] the steering vector
    FitStatus status = FitStatus::success;
    int iterations = 0;               ///< iterative estimators: iterations used
    std::string message;              ///< empty when ok
};

/// Bytes one layer's fit holds (the optional e.memory(hidden, n_pairs) of the contract).
struct EstimatorMemory {
    std::uint64_t state = 0;   ///< the State after all pairs were added
    std::uint64_t finish = 0;  ///< extra workspace of finish()
};

template <class E>
concept Estimator = std::copyable<E> &&
    requires(const E& e, typename E::State& st, const typename E::State& cst, std::span<const float> v, std::size_t hidden) {
        typename E::State;
        { E::name } -> std::convertible_to<std::string_view>;
        { e.start(hidden) } -> std::same_as<typename E::State>;
        { e.add(st, v, v) } -> std::same_as<void>;
        { e.finish(cst) } -> std::same_as<LayerFit>;
    };

/// Use in templates over estimators: one readable error instead of a page of template noise.
template <class E>
constexpr bool check_estimator() {
    static_assert(Estimator<E>,
                  "w2s: this type is not a w2s::steer::Estimator. It needs: to be copyable; a static E::name "
                  "(string_view); a nested State; start(size_t hidden) -> State; add(State&, span<const float> pos, "
                  "span<const float> neg) -> void; finish(const State&) const -> LayerFit. "
                  "See w2s/steer/estimators.hpp for the contract.");
    return true;
}

/// e.memory(hidden, n_pairs) when E has it, else zeros (unknown: not checked).
template <class E>
EstimatorMemory estimator_memory(const E& e, std::size_t hidden, std::size_t n_pairs) {
    if constexpr (requires { { e.memory(hidden, n_pairs) } -> std::same_as<EstimatorMemory>; }) return e.memory(hidden, n_pairs);
    else return {};
}

namespace detail {
inline void check_pair(std::span<const float> pos, std::span<const float> neg, std::size_t hidden, std::string_view who) {
    if (pos.size() != hidden || neg.size() != hidden)
        throw shape_error(std::string(who) + ": activation pair of sizes " + std::to_string(pos.size()) + " and " +
                          std::to_string(neg.size()) + ", expected " + std::to_string(hidden));
}
inline Eigen::Map<const Eigen::VectorXf> as_vec(std::span<const float> s) {
    return {s.data(), static_cast<Eigen::Index>(s.size())};
}
}  // namespace detail

// ---- MeanDifference: CAA, the reference ----------------------------------------------------------

/// v = mean over items of (pos - neg), not normalised (protocol section 4). Keeps a running sum in double.
struct MeanDifference {
    static constexpr std::string_view name = "mean";
    struct State {
        Eigen::VectorXd sum;  ///< [hidden] sum of differences
        std::size_t n = 0;
    };
    [[nodiscard]] State start(std::size_t hidden) const { return {Eigen::VectorXd::Zero(static_cast<Eigen::Index>(hidden)), 0}; }
    [[nodiscard]] EstimatorMemory memory(std::size_t hidden, std::size_t) const { return {8 * hidden, 8 * hidden}; }
    void add(State& s, std::span<const float> pos, std::span<const float> neg) const {
        detail::check_pair(pos, neg, static_cast<std::size_t>(s.sum.size()), "MeanDifference::add");
        s.sum += (detail::as_vec(pos) - detail::as_vec(neg)).cast<double>();
        ++s.n;
    }
    [[nodiscard]] LayerFit finish(const State& s) const {
        if (s.n == 0) throw invalid_argument("MeanDifference::finish: no contrastive pairs were added");
        LayerFit f;
        f.vector = (s.sum / static_cast<double>(s.n)).cast<float>();
        return f;
    }
};

// ---- PCA: first principal component of the differences ---------------------------------------------

/// First principal direction of the differences d_i = pos_i - neg_i. By default uncentered (the top
/// eigenvector of (1/n) sum d d^T, i.e. the first right singular vector of the difference matrix); with
/// center = true the covariance around the mean difference is used instead. The sign is fixed so that the
/// mean difference projects positively and the length is set to the mean difference's norm (PCA's own
/// sign is arbitrary and its unit length says nothing about the strength that steers).
/// Memory per layer: a streaming [hidden x hidden] second-moment matrix (double), independent of n.
struct PCA {
    static constexpr std::string_view name = "pca";
    bool center = false;
    struct State {
        Eigen::MatrixXd second;  ///< [hidden x hidden] sum of d d^T (lower triangle kept up to date)
        Eigen::VectorXd sum;     ///< [hidden] sum of d
        std::size_t n = 0;
    };
    [[nodiscard]] State start(std::size_t hidden) const {
        const auto h = static_cast<Eigen::Index>(hidden);
        return {Eigen::MatrixXd::Zero(h, h), Eigen::VectorXd::Zero(h), 0};
    }
    /// State: [hidden x hidden] + [hidden] doubles; finish: the covariance copy, the eigen solver's vectors and
    /// its workspace (about three more [hidden x hidden] doubles).
    [[nodiscard]] EstimatorMemory memory(std::size_t hidden, std::size_t) const {
        const std::uint64_t h = hidden;
        return {8 * (h * h + h), 8 * 3 * h * h + 8 * 4 * h};
    }
    void add(State& s, std::span<const float> pos, std::span<const float> neg) const {
        detail::check_pair(pos, neg, static_cast<std::size_t>(s.sum.size()), "PCA::add");
        const Eigen::VectorXd d = (detail::as_vec(pos) - detail::as_vec(neg)).cast<double>();
        s.second.selfadjointView<Eigen::Lower>().rankUpdate(d);
        s.sum += d;
        ++s.n;
    }
    [[nodiscard]] LayerFit finish(const State& s) const;  // w2s/steer/config.hpp: inline or in w2s_steer
};

// ---- LogisticProbe: direction of an L2-regularised logistic regression -------------------------------

/// Fits p(matching | a) = sigmoid(w.a + b) on the pos (label 1) and neg (label 0) activations by Newton's
/// method with a backtracking line search, minimising mean log-loss + (l2/2)|w|^2 on features centred and
/// divided by their overall RMS (one scalar, so the direction is that of the original space and l2 does
/// not depend on the model's activation scale). The vector is w in the original space, scaled to the mean
/// difference's norm; its sign is the probe's own (towards "matching"). Not converging within
/// max_iterations (gradient max-norm above tolerance) gives FitStatus::no_convergence with the last w.
/// Memory per layer: the 2n activations ([2n x hidden] floats).
struct LogisticProbe {
    static constexpr std::string_view name = "probe";
    double l2 = 1e-2;
    int max_iterations = 50;
    double tolerance = 1e-6;
    struct State {
        std::size_t hidden = 0;
        std::vector<float> rows;  ///< [2n x hidden] row-major: pos_0, neg_0, pos_1, neg_1, ...
    };
    [[nodiscard]] State start(std::size_t hidden) const { return {hidden, {}}; }
    /// State: the 2n activations as floats; finish: the design matrix and its weighted copy ([2n x (hidden+1)]
    /// doubles each) and the Hessian with its product temporary ([(hidden+1)^2] doubles each).
    [[nodiscard]] EstimatorMemory memory(std::size_t hidden, std::size_t n_pairs) const {
        const std::uint64_t h = hidden, N = 2 * static_cast<std::uint64_t>(n_pairs);
        return {4 * N * h, 8 * (2 * N * (h + 1) + 2 * (h + 1) * (h + 1))};
    }
    void add(State& s, std::span<const float> pos, std::span<const float> neg) const {
        detail::check_pair(pos, neg, s.hidden, "LogisticProbe::add");
        s.rows.insert(s.rows.end(), pos.begin(), pos.end());
        s.rows.insert(s.rows.end(), neg.begin(), neg.end());
    }
    [[nodiscard]] LayerFit finish(const State& s) const;
};

#if W2S_STEER_BODIES
W2S_STEER_FUNC LayerFit PCA::finish(const State& s) const {
    if (s.n == 0) throw invalid_argument("PCA::finish: no contrastive pairs were added");
    const double n = static_cast<double>(s.n);
    const Eigen::VectorXd mu = s.sum / n;
    Eigen::MatrixXd c = s.second.selfadjointView<Eigen::Lower>();
    c /= n;
    if (center) c -= mu * mu.transpose();
    LayerFit f;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(c);
    if (es.info() != Eigen::Success) {
        f.vector = mu.cast<float>();
        f.status = FitStatus::no_convergence;
        f.message = "eigen decomposition did not converge; mean difference returned";
        return f;
    }
    Eigen::VectorXd v = es.eigenvectors().col(es.eigenvectors().cols() - 1);  // largest eigenvalue
    const double proj = v.dot(mu);
    const double norm = mu.norm();
    if (!(norm > 0.0) || proj == 0.0) {  // exact zero: no sign can be chosen
        f.vector = (v * norm).cast<float>();
        f.status = FitStatus::degenerate;
        f.message = "the mean difference is zero or orthogonal to the first component; sign undetermined";
        return f;
    }
    if (proj < 0) v = -v;
    f.vector = (v * norm).cast<float>();
    return f;
}

W2S_STEER_FUNC LayerFit LogisticProbe::finish(const State& s) const {
    using Eigen::Index;
    const Index h = static_cast<Index>(s.hidden);
    const Index N = h ? static_cast<Index>(s.rows.size()) / h : 0;
    if (N == 0) throw invalid_argument("LogisticProbe::finish: no contrastive pairs were added");
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> raw(s.rows.data(), N, h);
    // Design matrix [N x (h+1)]: centred, RMS-scaled features, then a column of ones (intercept).
    const Eigen::RowVectorXd mean = raw.cast<double>().colwise().mean();
    Eigen::MatrixXd X(N, h + 1);
    X.leftCols(h) = raw.cast<double>().rowwise() - mean;
    const double rms = std::sqrt(X.leftCols(h).squaredNorm() / static_cast<double>(N * h));
    const double scale = rms > 0 ? rms : 1.0;
    X.leftCols(h) /= scale;
    X.col(h).setOnes();
    Eigen::VectorXd t(N);  // labels: even rows pos (1), odd rows neg (0)
    for (Index i = 0; i < N; ++i) t(i) = (i % 2 == 0) ? 1.0 : 0.0;
    Eigen::VectorXd reg = Eigen::VectorXd::Constant(h + 1, l2);
    reg(h) = 1e-10;  // the intercept is (almost) not regularised

    auto loss = [&](const Eigen::VectorXd& w) {
        const Eigen::VectorXd z = X * w;
        double l = 0;
        for (Index i = 0; i < N; ++i) {
            const double m = t(i) > 0.5 ? z(i) : -z(i);  // log(1 + exp(-m)), stable
            l += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
        }
        return l / static_cast<double>(N) + 0.5 * (reg.array() * w.array().square()).sum();
    };
    Eigen::VectorXd w = Eigen::VectorXd::Zero(h + 1);
    LayerFit f;
    bool converged = false;
    int it = 0;
    double cur = loss(w);
    for (; it < max_iterations; ++it) {
        const Eigen::VectorXd z = X * w;
        const Eigen::VectorXd p = (1.0 / (1.0 + (-z.array()).exp())).matrix();
        const Eigen::VectorXd g = X.transpose() * (p - t) / static_cast<double>(N) + (reg.array() * w.array()).matrix();
        if (g.lpNorm<Eigen::Infinity>() < tolerance) {
            converged = true;
            break;
        }
        const Eigen::VectorXd wt = (p.array() * (1.0 - p.array())).sqrt().matrix();
        const Eigen::MatrixXd Xw = X.array().colwise() * wt.array();
        Eigen::MatrixXd H = Eigen::MatrixXd(Xw.transpose() * Xw) / static_cast<double>(N);
        H.diagonal() += reg;
        const Eigen::VectorXd step = H.ldlt().solve(g);
        double a = 1.0;
        Eigen::VectorXd next = w - step;
        double nl = loss(next);
        while (nl > cur - 1e-4 * a * g.dot(step) && a > 1e-8) {  // Armijo: f(w - a s) <= f(w) - c a g.s
            a *= 0.5;
            next = w - a * step;
            nl = loss(next);
        }
        w = std::move(next);
        cur = nl;
    }
    f.iterations = it;
    Eigen::VectorXd dir = w.head(h) / scale;
    // Mean difference in the original space, for the scale.
    Eigen::VectorXd mu = Eigen::VectorXd::Zero(h);
    for (Index i = 0; i + 1 < N; i += 2) mu += (raw.row(i) - raw.row(i + 1)).cast<double>().transpose();
    mu /= static_cast<double>(N / 2);
    const double dn = dir.norm();
    if (!(dn > 0.0) || !std::isfinite(dn)) {
        f.vector = Eigen::VectorXf::Zero(h);
        f.status = FitStatus::degenerate;
        f.message = "the probe's weight vector is zero (the classes are not separable by any direction)";
        return f;
    }
    f.vector = (dir * (mu.norm() / dn)).cast<float>();
    if (!converged) {
        f.status = FitStatus::no_convergence;
        f.message = "logistic probe: gradient max-norm still above " + std::to_string(tolerance) + " after " +
                    std::to_string(it) + " Newton iterations";
    }
    return f;
}

#endif  // W2S_STEER_BODIES

static_assert(check_estimator<MeanDifference>());
static_assert(check_estimator<PCA>());
static_assert(check_estimator<LogisticProbe>());

/// The one place where an estimator's name becomes its type: calls f(std::type_identity<E>{}) for "mean" (CAA),
/// "pca" or "probe"; invalid_argument otherwise.
template <class F>
decltype(auto) for_estimator(std::string_view name, F&& f) {
    if (name == MeanDifference::name) return f(std::type_identity<MeanDifference>{});
    if (name == PCA::name) return f(std::type_identity<PCA>{});
    if (name == LogisticProbe::name) return f(std::type_identity<LogisticProbe>{});
    throw invalid_argument("estimator '" + std::string(name) + "': expected mean (CAA), pca or probe");
}

}  // namespace w2s::steer
