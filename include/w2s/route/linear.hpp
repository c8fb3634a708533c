// w2s/route/linear.hpp — LinearRouter: multinomial logistic regression over layers, L2-regularised (the paper's
// linear router). Labels are the per-item best layers argmax_l S(i, l); all L layers are classes (a layer that is
// never best gets a low score through its bias).
//
// Model: z(x) = W^T x + b, W [d x L], b [L]; predicted layer = argmax z. Fit (double) minimises
//   f(W, b) = (1/n) sum_i [ logsumexp(z_i) - z_i[y_i] ] + (l2/2) ||W||_F^2          (b unpenalised)
// with L-BFGS (memory 10, backtracking Armijo line search) from W = 0, b = 0 — deterministic, the seed is
// unused. Converged when ||grad||_inf <= tol or the relative decrease of f falls below 1e-12; otherwise, after
// max_iter iterations, info() is no_convergence (the last iterate is kept and usable); a line search that cannot
// decrease f even along the steepest descent direction, or a non-finite f, is numerical_issue.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/route/config.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

class LinearRouter {
public:
    struct Params {
        double l2 = 1e-2;    // L2 strength on W
        int max_iter = 1000; // L-BFGS iterations
        double tol = 1e-4;   // on ||grad||_inf (scikit-learn's lbfgs default)
        [[nodiscard]] std::string to_string() const { return "l2=" + detail::short_num(l2); }
    };
    static constexpr std::string_view kind = "linear";
    static constexpr std::uint32_t format_version = 1;

    LinearRouter() = default;
    explicit LinearRouter(Params p) : p_(p) {}
    [[nodiscard]] static std::vector<Params> default_grid() {
        std::vector<Params> g;
        for (double l2 : {1e-3, 1e-2, 1e-1, 1.0}) g.push_back(Params{l2, 1000, 1e-4});
        return g;
    }
    [[nodiscard]] const Params& params() const noexcept { return p_; }

    FitStatus fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed = 0);
    [[nodiscard]] Layers predict(const FeaturesRef& X) const;
    [[nodiscard]] int predict_one(std::span<const float> x) const;
    /// Class probabilities per row: [n x L].
    [[nodiscard]] Eigen::MatrixXf predict_proba(const FeaturesRef& X) const;

    void save(std::ostream& os) const;
    void load(std::istream& is);
    [[nodiscard]] FitStatus info() const noexcept { return info_; }
    [[nodiscard]] int iterations() const noexcept { return iterations_; }
    [[nodiscard]] double final_loss() const noexcept { return loss_; }
    [[nodiscard]] int layers() const noexcept { return static_cast<int>(b_.size()); }
    [[nodiscard]] int dim() const noexcept { return static_cast<int>(Wt_.cols()); }

private:
    Params p_{};
    FitStatus info_ = FitStatus::success;
    int iterations_ = 0;
    double loss_ = 0.0;
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Wt_;  // [L x d]: W transposed
    Eigen::VectorXf b_;                                                          // [L]
};

// ================================================================================================
// The bodies (w2s/route/config.hpp: inline here, or compiled once into w2s::route).
#if W2S_ROUTE_BODIES

namespace detail {

/// Multinomial logistic loss and gradient. theta = [vec(W) (d*L, column-major) ; b (L)].
struct SoftmaxObjective {
    const Eigen::MatrixXd& X;  // [n x d]
    const Layers& y;           // [n]
    Eigen::Index L;
    double l2;

    double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) const {
        const Eigen::Index n = X.rows(), d = X.cols();
        const Eigen::Map<const Eigen::MatrixXd> W(theta.data(), d, L);
        const Eigen::Map<const Eigen::RowVectorXd> b(theta.data() + d * L, L);
        Eigen::MatrixXd Z = X * W;  // [n x L]
        Z.rowwise() += b;
        double f = 0.0;
        for (Eigen::Index i = 0; i < n; ++i) {
            const double m = Z.row(i).maxCoeff();
            Z.row(i).array() = (Z.row(i).array() - m).exp();
            const double sum = Z.row(i).sum();
            f += std::log(sum) - std::log(std::max(Z(i, y(i)), std::numeric_limits<double>::min()));
            Z.row(i) /= sum;  // now P
            Z(i, y(i)) -= 1.0;  // now P - Y
        }
        const double nd = static_cast<double>(n);
        f = f / nd + 0.5 * l2 * W.squaredNorm();
        grad.resize(theta.size());
        Eigen::Map<Eigen::MatrixXd> gW(grad.data(), d, L);
        gW.noalias() = X.transpose() * Z / nd;
        gW += l2 * W;
        grad.tail(L) = Z.colwise().sum().transpose() / nd;
        return f;
    }
};

struct LbfgsResult {
    FitStatus status;
    int iterations;
    double f;
};

/// Minimises f with L-BFGS (memory m) and a backtracking Armijo line search. theta: in/out.
template <class F>
LbfgsResult lbfgs(const F& fun, Eigen::VectorXd& theta, int max_iter, double gtol, int m = 10) {
    Eigen::VectorXd g, g_new, theta_new, dir;
    double f = fun(theta, g);
    if (!std::isfinite(f)) return {FitStatus::numerical_issue, 0, f};
    std::deque<Eigen::VectorXd> Ss, Ys;
    std::deque<double> rhos;
    for (int it = 1; it <= max_iter; ++it) {
        if (g.lpNorm<Eigen::Infinity>() <= gtol) return {FitStatus::success, it - 1, f};
        // Two-loop recursion: dir = -H g.
        dir = -g;
        std::vector<double> alpha(Ss.size());
        for (std::size_t k = Ss.size(); k-- > 0;) {
            alpha[k] = rhos[k] * Ss[k].dot(dir);
            dir -= alpha[k] * Ys[k];
        }
        if (!Ss.empty()) dir *= Ss.back().dot(Ys.back()) / Ys.back().squaredNorm();
        for (std::size_t k = 0; k < Ss.size(); ++k) {
            const double beta = rhos[k] * Ys[k].dot(dir);
            dir += (alpha[k] - beta) * Ss[k];
        }
        double slope = g.dot(dir);
        if (!(slope < 0.0)) {  // not a descent direction: restart from steepest descent
            Ss.clear(), Ys.clear(), rhos.clear();
            dir = -g;
            slope = -g.squaredNorm();
        }
        double t = Ss.empty() ? std::min(1.0, 1.0 / std::max(1e-12, g.lpNorm<Eigen::Infinity>())) : 1.0;
        double f_new = 0.0;
        bool ok = false;
        for (int ls = 0; ls < 50; ++ls) {
            theta_new = theta + t * dir;
            f_new = fun(theta_new, g_new);
            if (std::isfinite(f_new) && f_new <= f + 1e-4 * t * slope) {
                ok = true;
                break;
            }
            t *= 0.5;
        }
        if (!ok) {
            if (!Ss.empty()) {  // retry this iteration from steepest descent
                Ss.clear(), Ys.clear(), rhos.clear();
                continue;
            }
            return {FitStatus::numerical_issue, it, f};
        }
        Eigen::VectorXd s = theta_new - theta, yv = g_new - g;
        const double sy = s.dot(yv);
        theta.swap(theta_new);
        g.swap(g_new);
        const double f_old = f;
        f = f_new;
        if (sy > 1e-12 * yv.squaredNorm()) {
            Ss.push_back(std::move(s));
            Ys.push_back(std::move(yv));
            rhos.push_back(1.0 / sy);
            if (static_cast<int>(Ss.size()) > m) Ss.pop_front(), Ys.pop_front(), rhos.pop_front();
        }
        if (f_old - f <= 1e-12 * std::max(1.0, std::abs(f))) return {FitStatus::success, it, f};
    }
    return {g.lpNorm<Eigen::Infinity>() <= gtol ? FitStatus::success : FitStatus::no_convergence, max_iter, f};
}

}  // namespace detail

W2S_ROUTE_FUNC FitStatus LinearRouter::fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t /*seed*/) {
    check_fit_inputs("LinearRouter", X, S);
    if (!(p_.l2 >= 0.0) || p_.max_iter < 1)
        throw invalid_argument("LinearRouter.fit: l2 = " + std::to_string(p_.l2) + ", max_iter = " +
                               std::to_string(p_.max_iter) + "; expected l2 >= 0 and max_iter >= 1");
    const Eigen::MatrixXd Xd = X.cast<double>();  // [n x d]
    const Layers y = best_layers(S);              // [n]
    const Eigen::Index d = X.cols(), L = S.cols();
    Eigen::VectorXd theta = Eigen::VectorXd::Zero(d * L + L);
    const detail::SoftmaxObjective obj{Xd, y, L, p_.l2};
    const auto r = detail::lbfgs(obj, theta, p_.max_iter, p_.tol);
    iterations_ = r.iterations;
    loss_ = r.f;
    const Eigen::Map<const Eigen::MatrixXd> W(theta.data(), d, L);
    Wt_ = W.transpose().cast<float>();
    b_ = theta.tail(L).cast<float>();
    return info_ = r.status;
}

W2S_ROUTE_FUNC Eigen::MatrixXf LinearRouter::predict_proba(const FeaturesRef& X) const {
    check_predict_inputs("LinearRouter.predict", X.cols(), dim());
    Eigen::MatrixXf Z = X * Wt_.transpose();  // [n x L]
    Z.rowwise() += b_.transpose();
    for (Eigen::Index i = 0; i < Z.rows(); ++i) {
        Z.row(i).array() = (Z.row(i).array() - Z.row(i).maxCoeff()).exp();
        Z.row(i) /= Z.row(i).sum();
    }
    return Z;
}

W2S_ROUTE_FUNC Layers LinearRouter::predict(const FeaturesRef& X) const {
    check_predict_inputs("LinearRouter.predict", X.cols(), dim());
    Layers y(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        const Eigen::VectorXf z = Wt_ * X.row(i).transpose() + b_;
        y(i) = detail::argmax(z);
    }
    return y;
}

W2S_ROUTE_FUNC int LinearRouter::predict_one(std::span<const float> x) const {
    check_dim("LinearRouter.predict_one", x.size(), dim());
    const Eigen::Map<const Eigen::VectorXf> xv(x.data(), static_cast<Eigen::Index>(x.size()));
    const Eigen::VectorXf z = Wt_ * xv + b_;  // [L]
    return detail::argmax(z);
}

W2S_ROUTE_FUNC void LinearRouter::save(std::ostream& os) const {
    check_fitted("LinearRouter.save", dim());
    RouterWriter w(os);
    w.header(kind, format_version);
    w.put(p_.l2);
    w.put(static_cast<std::int32_t>(p_.max_iter));
    w.put(p_.tol);
    w.put(static_cast<std::int32_t>(info_));
    w.put(static_cast<std::int32_t>(iterations_));
    w.put(loss_);
    w.put_matrix(Wt_);
    w.put_matrix(Eigen::MatrixXf(b_));
}

W2S_ROUTE_FUNC void LinearRouter::load(std::istream& is) {
    RouterReader r(is, "LinearRouter.load");
    r.header(kind, format_version);
    LinearRouter m;
    m.p_.l2 = r.get<double>("l2");
    m.p_.max_iter = r.get<std::int32_t>("max_iter");
    m.p_.tol = r.get<double>("tol");
    m.info_ = fit_status_from(r.get<std::int32_t>("info"), "LinearRouter.load");
    m.iterations_ = r.get<std::int32_t>("iterations");
    m.loss_ = r.get<double>("loss");
    m.Wt_ = r.get_matrix<decltype(m.Wt_)>("W");
    m.b_ = r.get_matrix<Eigen::MatrixXf>("b", m.Wt_.rows(), 1);
    if (m.Wt_.size() == 0) throw format_error("LinearRouter.load: empty model");
    *this = std::move(m);
}

#endif  // W2S_ROUTE_BODIES

}  // namespace w2s::route
