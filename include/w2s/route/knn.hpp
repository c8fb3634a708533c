// w2s/route/knn.hpp — KnnRouter: k nearest training prompts by cosine similarity; the AVERAGE of their
// steerability profiles decides (argmax over layers), not a vote over their best layers. Averaging profiles
// uses how close to best every other layer was for each neighbour, so a layer that is good for all neighbours
// wins over one that is best for a few and bad for the rest.
//
// Stores the unit-normalised training embeddings [n x d] (float) and their profiles [n x L] (double).
// Neighbours are ordered by (similarity descending, training index ascending) — deterministic; a zero embedding
// has similarity 0 to everything. k > n uses all n. The seed is unused. predict_one costs one [n x d] GEMV
// plus a partial sort: about n*d multiply-adds (n = 500, d = 576: ~0.3 MFLOP).
#pragma once

#include <algorithm>
#include <cstdint>
#include <istream>
#include <numeric>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/route/config.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

class KnnRouter {
public:
    struct Params {
        int k = 10;  // neighbours (>= 1)
        [[nodiscard]] std::string to_string() const { return "k=" + std::to_string(k); }
    };
    static constexpr std::string_view kind = "knn";
    static constexpr std::uint32_t format_version = 1;

    KnnRouter() = default;
    explicit KnnRouter(Params p) : p_(p) {}
    [[nodiscard]] static std::vector<Params> default_grid() { return {{1}, {3}, {5}, {10}, {20}, {40}}; }
    [[nodiscard]] const Params& params() const noexcept { return p_; }

    FitStatus fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed = 0);
    [[nodiscard]] Layers predict(const FeaturesRef& X) const;
    [[nodiscard]] int predict_one(std::span<const float> x) const;
    /// The averaged neighbour profile of x: [L].
    [[nodiscard]] Eigen::VectorXd neighbour_profile(std::span<const float> x) const;

    void save(std::ostream& os) const;
    void load(std::istream& is);
    [[nodiscard]] FitStatus info() const noexcept { return FitStatus::success; }
    [[nodiscard]] int layers() const noexcept { return static_cast<int>(S_.cols()); }
    [[nodiscard]] int dim() const noexcept { return static_cast<int>(Xn_.cols()); }

private:
    Params p_{};
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Xn_;  // [n x d] unit rows (row-major: the
    // GEMV is one contiguous dot product per training row, measured ~4x faster than column-major here)
    Eigen::MatrixXd S_;                                                          // [n x L]
};

// ================================================================================================
// The bodies (w2s/route/config.hpp: inline here, or compiled once into w2s::route).
#if W2S_ROUTE_BODIES

namespace detail {
template <class M>
void normalise_rows(M& X) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        const float nrm = X.row(i).norm();
        if (nrm > 0.0f) X.row(i) /= nrm;
    }
}
}  // namespace detail

W2S_ROUTE_FUNC FitStatus KnnRouter::fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t /*seed*/) {
    check_fit_inputs("KnnRouter", X, S);
    if (p_.k < 1) throw invalid_argument("KnnRouter.fit: k = " + std::to_string(p_.k) + "; expected >= 1");
    Xn_ = X;
    detail::normalise_rows(Xn_);
    S_ = S;
    return FitStatus::success;
}

W2S_ROUTE_FUNC Eigen::VectorXd KnnRouter::neighbour_profile(std::span<const float> x) const {
    check_dim("KnnRouter.predict_one", x.size(), dim());
    const Eigen::Map<const Eigen::VectorXf> xv(x.data(), static_cast<Eigen::Index>(x.size()));
    const float nrm = xv.norm();
    Eigen::VectorXf sim = Xn_ * xv;  // [n]
    if (nrm > 0.0f) sim /= nrm;
    const Eigen::Index n = Xn_.rows();
    const Eigen::Index k = std::min<Eigen::Index>(p_.k, n);
    std::vector<int> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    // (similarity desc, index asc) is a strict total order, so the k chosen rows do not depend on the algorithm.
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [&](int a, int b) { return sim(a) > sim(b) || (sim(a) == sim(b) && a < b); });
    Eigen::VectorXd prof = Eigen::VectorXd::Zero(S_.cols());
    for (Eigen::Index j = 0; j < k; ++j) prof += S_.row(idx[static_cast<std::size_t>(j)]).transpose();
    return prof / static_cast<double>(k);
}

W2S_ROUTE_FUNC int KnnRouter::predict_one(std::span<const float> x) const { return detail::argmax(neighbour_profile(x)); }

W2S_ROUTE_FUNC Layers KnnRouter::predict(const FeaturesRef& X) const {
    check_predict_inputs("KnnRouter.predict", X.cols(), dim());
    Layers y(X.rows());
    Eigen::VectorXf row(X.cols());
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        row = X.row(i).transpose();
        y(i) = predict_one({row.data(), static_cast<std::size_t>(row.size())});
    }
    return y;
}

W2S_ROUTE_FUNC void KnnRouter::save(std::ostream& os) const {
    check_fitted("KnnRouter.save", dim());
    RouterWriter w(os);
    w.header(kind, format_version);
    w.put(static_cast<std::int32_t>(p_.k));
    w.put_matrix(Xn_);
    w.put_matrix(S_);
}

W2S_ROUTE_FUNC void KnnRouter::load(std::istream& is) {
    RouterReader r(is, "KnnRouter.load");
    r.header(kind, format_version);
    KnnRouter m;
    m.p_.k = r.get<std::int32_t>("k");
    if (m.p_.k < 1) throw format_error("KnnRouter.load: k = " + std::to_string(m.p_.k) + "; expected >= 1");
    m.Xn_ = r.get_matrix<decltype(m.Xn_)>("X");
    m.S_ = r.get_matrix<Eigen::MatrixXd>("S", m.Xn_.rows(), -1);
    if (m.Xn_.size() == 0 || m.S_.cols() == 0) throw format_error("KnnRouter.load: empty model");
    *this = std::move(m);
}

#endif  // W2S_ROUTE_BODIES

}  // namespace w2s::route
