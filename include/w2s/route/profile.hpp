// w2s/route/profile.hpp — ProfileRouter: multi-output ridge regression X -> S (the whole steerability profile),
// then argmax. The project's own router: it learns from every layer's steerability, not only the argmax label.
//
// Model: s_hat(x) = W^T x + b, W [d x L], b [L]. Fit (in double) minimises
//   (1/n) ||Sc - Xc W||_F^2 + lambda ||W||_F^2        (Xc, Sc: X, S centred on their train means; b unpenalised)
// in closed form: primal (d x d system) when n >= d, dual (n x n system) otherwise; both are Cholesky (LLT)
// solves, and a failed factorisation is FitStatus::numerical_issue. With standardized embeddings the diagonal of
// Xc^T Xc / n is about 1, so lambda is on a unit scale (default grid 1e-3 .. 1e2). The seed is unused (the fit is
// deterministic).
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/route/config.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

class ProfileRouter {
public:
    struct Params {
        double lambda = 1.0;  // ridge strength (> 0), relative to the per-feature variance
        [[nodiscard]] std::string to_string() const { return "lambda=" + detail::short_num(lambda); }
    };
    static constexpr std::string_view kind = "profile";
    static constexpr std::uint32_t format_version = 1;

    ProfileRouter() = default;
    explicit ProfileRouter(Params p) : p_(p) {}
    [[nodiscard]] static std::vector<Params> default_grid() { return {{1e-3}, {1e-2}, {1e-1}, {1.0}, {10.0}, {100.0}}; }
    [[nodiscard]] const Params& params() const noexcept { return p_; }

    FitStatus fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed = 0);
    [[nodiscard]] Layers predict(const FeaturesRef& X) const;
    [[nodiscard]] int predict_one(std::span<const float> x) const;
    /// The predicted profile of every row: [n x L].
    [[nodiscard]] Eigen::MatrixXf predict_profiles(const FeaturesRef& X) const;

    void save(std::ostream& os) const;
    void load(std::istream& is);
    [[nodiscard]] FitStatus info() const noexcept { return info_; }
    [[nodiscard]] int layers() const noexcept { return static_cast<int>(b_.size()); }
    [[nodiscard]] int dim() const noexcept { return static_cast<int>(Wt_.cols()); }

private:
    Params p_{};
    FitStatus info_ = FitStatus::success;
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Wt_;  // [L x d]: W transposed
    Eigen::VectorXf b_;                                                          // [L]
};

// ================================================================================================
// The bodies (w2s/route/config.hpp: inline here, or compiled once into w2s::route).
#if W2S_ROUTE_BODIES

W2S_ROUTE_FUNC FitStatus ProfileRouter::fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t /*seed*/) {
    check_fit_inputs("ProfileRouter", X, S);
    if (!(p_.lambda > 0.0) || !std::isfinite(p_.lambda))
        throw invalid_argument("ProfileRouter.fit: lambda = " + std::to_string(p_.lambda) + "; expected > 0");
    const auto n = X.rows(), d = X.cols();
    const double nd = static_cast<double>(n);
    Eigen::MatrixXd Xc = X.cast<double>();          // [n x d]
    const Eigen::RowVectorXd mx = Xc.colwise().mean();  // [d]
    Xc.rowwise() -= mx;
    const Eigen::RowVectorXd ms = S.colwise().mean();  // [L]
    const Eigen::MatrixXd Sc = S.rowwise() - ms;       // [n x L]

    Eigen::MatrixXd W;  // [d x L]
    if (n >= d) {
        Eigen::MatrixXd A = Eigen::MatrixXd(d, d).setZero();
        A.selfadjointView<Eigen::Lower>().rankUpdate(Xc.transpose(), 1.0 / nd);
        A.diagonal().array() += p_.lambda;
        Eigen::LLT<Eigen::MatrixXd> llt(A.selfadjointView<Eigen::Lower>());
        if (llt.info() != Eigen::Success) return info_ = FitStatus::numerical_issue;
        W = llt.solve(Xc.transpose() * Sc / nd);
    } else {
        Eigen::MatrixXd K = Eigen::MatrixXd(n, n).setZero();
        K.selfadjointView<Eigen::Lower>().rankUpdate(Xc, 1.0 / nd);
        K.diagonal().array() += p_.lambda;
        Eigen::LLT<Eigen::MatrixXd> llt(K.selfadjointView<Eigen::Lower>());
        if (llt.info() != Eigen::Success) return info_ = FitStatus::numerical_issue;
        W = Xc.transpose() * llt.solve(Sc) / nd;
    }
    if (!W.allFinite()) return info_ = FitStatus::numerical_issue;
    Wt_ = W.transpose().cast<float>();
    b_ = (ms - mx * W).transpose().cast<float>();
    return info_ = FitStatus::success;
}

W2S_ROUTE_FUNC Eigen::MatrixXf ProfileRouter::predict_profiles(const FeaturesRef& X) const {
    check_predict_inputs("ProfileRouter.predict", X.cols(), dim());
    Eigen::MatrixXf P = X * Wt_.transpose();  // [n x L]
    P.rowwise() += b_.transpose();
    return P;
}

W2S_ROUTE_FUNC Layers ProfileRouter::predict(const FeaturesRef& X) const {
    const Eigen::MatrixXf P = predict_profiles(X);
    Layers y(P.rows());
    for (Eigen::Index i = 0; i < P.rows(); ++i) y(i) = detail::argmax(P.row(i));
    return y;
}

W2S_ROUTE_FUNC int ProfileRouter::predict_one(std::span<const float> x) const {
    check_dim("ProfileRouter.predict_one", x.size(), dim());
    const Eigen::Map<const Eigen::VectorXf> xv(x.data(), static_cast<Eigen::Index>(x.size()));
    const Eigen::VectorXf s = Wt_ * xv + b_;  // [L]
    return detail::argmax(s);
}

W2S_ROUTE_FUNC void ProfileRouter::save(std::ostream& os) const {
    check_fitted("ProfileRouter.save", dim());
    RouterWriter w(os);
    w.header(kind, format_version);
    w.put(p_.lambda);
    w.put(static_cast<std::int32_t>(info_));
    w.put_matrix(Wt_);
    w.put_matrix(Eigen::MatrixXf(b_));
}

W2S_ROUTE_FUNC void ProfileRouter::load(std::istream& is) {
    RouterReader r(is, "ProfileRouter.load");
    r.header(kind, format_version);
    ProfileRouter m;
    m.p_.lambda = r.get<double>("lambda");
    m.info_ = fit_status_from(r.get<std::int32_t>("info"), "ProfileRouter.load");
    m.Wt_ = r.get_matrix<decltype(m.Wt_)>("W");
    m.b_ = r.get_matrix<Eigen::MatrixXf>("b", m.Wt_.rows(), 1);
    if (m.Wt_.size() == 0) throw format_error("ProfileRouter.load: empty model");
    *this = std::move(m);
}

#endif  // W2S_ROUTE_BODIES

}  // namespace w2s::route
