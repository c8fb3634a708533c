// Estimators: one typed test body over every estimator, plus estimator-specific checks and the concept's
// refusal of a type that breaks the contract. Built header-only (w2s/steer/config.hpp): every other test links
// the compiled w2s::steer.
#define BOOST_TEST_MODULE test_estimators
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <span>
#include <vector>

#include <w2s/steer/estimators.hpp>

using namespace w2s::steer;

namespace {

/// Synthetic contrastive pairs: pos = base + shift/2 + noise, neg = base - shift/2 + noise, where base
/// varies a lot between items (in directions unrelated to shift) and shift = scale * dir (+ per-item jitter).
struct Synthetic {
    std::size_t hidden = 48, n = 800;
    Eigen::VectorXf dir;  // unit
    std::vector<std::vector<float>> pos, neg;
    explicit Synthetic(unsigned seed = 3) {
        std::mt19937 g(seed);
        std::normal_distribution<float> N(0, 1);
        dir = Eigen::VectorXf::NullaryExpr(static_cast<Eigen::Index>(hidden), [&] { return N(g); });
        dir.normalize();
        for (std::size_t i = 0; i < n; ++i) {
            Eigen::VectorXf base = Eigen::VectorXf::NullaryExpr(static_cast<Eigen::Index>(hidden), [&] { return 1.5f * N(g); });
            const float s = 3.0f + 0.3f * N(g);
            Eigen::VectorXf p = base + 0.5f * s * dir, q = base - 0.5f * s * dir;
            for (Eigen::Index j = 0; j < p.size(); ++j) {
                p(j) += 0.2f * N(g);
                q(j) += 0.2f * N(g);
            }
            pos.emplace_back(p.data(), p.data() + p.size());
            neg.emplace_back(q.data(), q.data() + q.size());
        }
    }
    Eigen::VectorXf mean_difference() const {
        Eigen::VectorXd s = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(hidden));
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < hidden; ++j) s(static_cast<Eigen::Index>(j)) += double(pos[i][j]) - double(neg[i][j]);
        return (s / static_cast<double>(n)).cast<float>();
    }
};

template <class E>
LayerFit fit(const E& e, const Synthetic& d) {
    auto st = e.start(d.hidden);
    for (std::size_t i = 0; i < d.n; ++i) e.add(st, d.pos[i], d.neg[i]);
    return e.finish(st);
}

// ---- types that break the contract are refused ----
struct NoFinish {
    static constexpr std::string_view name = "nofinish";
    struct State {};
    State start(std::size_t) const { return {}; }
    void add(State&, std::span<const float>, std::span<const float>) const {}
};
struct WrongFinish : NoFinish {
    int finish(const State&) const { return 0; }
};
struct NoName {
    struct State {};
    State start(std::size_t) const { return {}; }
    void add(State&, std::span<const float>, std::span<const float>) const {}
    LayerFit finish(const State&) const { return {}; }
};
struct NotCopyable : MeanDifference {
    NotCopyable() = default;
    NotCopyable(const NotCopyable&) = delete;
};
static_assert(!Estimator<NoFinish>, "an estimator without finish() must be refused");
static_assert(!Estimator<WrongFinish>, "finish() must return LayerFit");
static_assert(!Estimator<NoName>, "an estimator needs a static name");
static_assert(!Estimator<NotCopyable>, "an estimator must be copyable");
static_assert(Estimator<MeanDifference> && Estimator<PCA> && Estimator<LogisticProbe>);

}  // namespace

BOOST_AUTO_TEST_SUITE(estimators)

using AllEstimators = boost::mpl::list<MeanDifference, PCA, LogisticProbe>;

BOOST_AUTO_TEST_CASE_TEMPLATE(recovers_direction_sign_and_scale, E, AllEstimators) {
    const Synthetic d;
    const LayerFit f = fit(E{}, d);
    BOOST_TEST_INFO(E::name << ": " << f.message);
    BOOST_TEST((f.status == FitStatus::success));
    BOOST_REQUIRE_EQUAL(f.vector.size(), static_cast<Eigen::Index>(d.hidden));
    const Eigen::VectorXf mu = d.mean_difference();
    const double cos = f.vector.dot(d.dir) / f.vector.norm();
    BOOST_TEST(cos > 0.97);                                         // the planted direction, pointing to "matching"
    BOOST_TEST(f.vector.dot(mu) > 0.0f);                            // orientation convention
    BOOST_TEST(f.vector.norm() == mu.norm(), boost::test_tools::tolerance(1e-4f));  // scale convention
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finishing_without_pairs_throws_and_bad_shapes_are_refused, E, AllEstimators) {
    const E e{};
    auto st = e.start(4);
    BOOST_CHECK_THROW((void)e.finish(st), w2s::invalid_argument);
    std::vector<float> a(4, 1.0f), b(3, 0.0f);
    BOOST_CHECK_THROW(e.add(st, a, b), w2s::shape_error);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(independent_of_the_order_of_runs, E, AllEstimators) {
    const Synthetic d(11);
    const LayerFit a = fit(E{}, d), b = fit(E{}, d);
    BOOST_TEST((a.vector - b.vector).norm() <= 1e-6f * a.vector.norm());
}

BOOST_AUTO_TEST_CASE(mean_difference_is_the_exact_mean) {
    const Synthetic d(5);
    const LayerFit f = fit(MeanDifference{}, d);
    BOOST_TEST((f.vector - d.mean_difference()).norm() <= 1e-6f * f.vector.norm());
}

BOOST_AUTO_TEST_CASE(pca_matches_svd_of_the_difference_matrix) {
    const Synthetic d(9);
    Eigen::MatrixXd D(static_cast<Eigen::Index>(d.n), static_cast<Eigen::Index>(d.hidden));
    for (std::size_t i = 0; i < d.n; ++i)
        for (std::size_t j = 0; j < d.hidden; ++j)
            D(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = double(d.pos[i][j]) - double(d.neg[i][j]);
    for (bool center : {false, true}) {
        Eigen::MatrixXd X = D;
        if (center) X.rowwise() -= D.colwise().mean();
        Eigen::JacobiSVD<Eigen::MatrixXd> svd(X, Eigen::ComputeThinV);
        Eigen::VectorXd v = svd.matrixV().col(0);
        const LayerFit f = fit(PCA{.center = center}, d);
        const double cos = std::abs(v.dot(f.vector.cast<double>()) / f.vector.cast<double>().norm());
        BOOST_TEST_INFO("center = " << center);
        BOOST_TEST(cos > 1 - 1e-6);
    }
    // Flipping every pair flips the vector (the sign follows the mean difference).
    Synthetic flipped = d;
    std::swap(flipped.pos, flipped.neg);
    const LayerFit a = fit(PCA{}, d), b = fit(PCA{}, flipped);
    BOOST_TEST((a.vector + b.vector).norm() <= 1e-4f * a.vector.norm());
}

BOOST_AUTO_TEST_CASE(probe_reports_non_convergence) {
    const Synthetic d(13);
    const LayerFit f = fit(LogisticProbe{.l2 = 1e-2, .max_iterations = 1, .tolerance = 1e-12}, d);
    BOOST_TEST((f.status == FitStatus::no_convergence));
    BOOST_TEST(f.iterations == 1);
    BOOST_TEST(!f.message.empty());
    const LayerFit ok = fit(LogisticProbe{}, d);
    BOOST_TEST((ok.status == FitStatus::success));
    BOOST_TEST(ok.iterations < 50);
}

BOOST_AUTO_TEST_CASE(pca_reports_a_zero_mean_difference) {
    // Pairs whose differences are +d and -d alternately: mean zero, no sign to choose.
    PCA e;
    auto st = e.start(3);
    std::vector<float> z(3, 0.0f), p{1, 2, 3}, m{-1, -2, -3};
    e.add(st, p, z);
    e.add(st, m, z);
    const LayerFit f = e.finish(st);
    BOOST_TEST((f.status == FitStatus::degenerate));
}

BOOST_AUTO_TEST_SUITE_END()
