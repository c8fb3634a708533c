// Router-specific checks with hand-computed numbers, solver status, and the concept refusing wrong types.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include <limits>
#include <sstream>
#include <string>

#include <w2s/core/parallel.hpp>
#include <w2s/route/route.hpp>

#include "synthetic.hpp"

namespace wr = w2s::route;
namespace tt = boost::test_tools;

namespace {
// Breaks the contract: no predict_one.
struct NoPredictOne {
    static constexpr std::string_view kind = "bad";
    wr::FitStatus fit(const wr::FeaturesRef&, const wr::ProfilesRef&, std::uint64_t) { return {}; }
    [[nodiscard]] wr::Layers predict(const wr::FeaturesRef&) const { return {}; }
    void save(std::ostream&) const {}
    void load(std::istream&) {}
    [[nodiscard]] wr::FitStatus info() const { return {}; }
    [[nodiscard]] int layers() const { return 0; }
    [[nodiscard]] int dim() const { return 0; }
};
// Satisfies Router but has no Params / grid: not tunable.
struct NotTunable : NoPredictOne {
    [[nodiscard]] int predict_one(std::span<const float>) const { return 0; }
};
// fit returns the wrong type.
struct WrongFit : NotTunable {
    void fit(const wr::FeaturesRef&, const wr::ProfilesRef&, std::uint64_t) {}
};
}  // namespace

BOOST_AUTO_TEST_SUITE(router_units)

BOOST_AUTO_TEST_CASE(concept_refuses_types_that_break_it) {
    static_assert(!wr::Router<NoPredictOne>, "a type without predict_one must not be a Router");
    static_assert(wr::Router<NotTunable>);
    static_assert(!wr::TunableRouter<NotTunable>, "a Router without Params is not tunable");
    static_assert(!wr::Router<WrongFit>, "fit must return FitStatus");
    static_assert(!wr::Router<int>);
    BOOST_TEST(wr::Router<wr::ProfileCV>);
}

BOOST_AUTO_TEST_CASE(best_layers_and_mean_chosen_by_hand) {
    Eigen::MatrixXd S(3, 3);
    S << 0.1, 0.5, 0.2,  //
        1.0, 1.0, -1.0,  // tie -> lowest layer
        -0.3, -0.2, -0.1;
    const wr::Layers y = wr::best_layers(S);
    BOOST_TEST(y(0) == 1);
    BOOST_TEST(y(1) == 0);
    BOOST_TEST(y(2) == 2);
    wr::Layers pick(3);
    pick << 2, 2, 0;
    BOOST_TEST(wr::mean_chosen(S, pick) == (0.2 - 1.0 - 0.3) / 3.0, tt::tolerance(1e-15));
    pick(0) = 3;
    BOOST_CHECK_THROW((void)wr::mean_chosen(S, pick), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(profile_ridge_by_hand) {
    // d = 1, X = [-1; 1], S = [0 2; 2 0], lambda = 1:
    //   Xc = X, Xc'Xc/n = 1, Xc'Sc/n = [1, -1]  ->  W = [1, -1] / (1 + 1) = [0.5, -0.5], b = mean(S) = [1, 1].
    wr::Features X(2, 1);
    X << -1, 1;
    Eigen::MatrixXd S(2, 2);
    S << 0, 2, 2, 0;
    wr::ProfileRouter r(wr::ProfileRouter::Params{1.0});
    BOOST_TEST((r.fit(X, S, 0) == wr::FitStatus::success));
    wr::Features Q(2, 1);
    Q << 2, -1;
    const Eigen::MatrixXf P = r.predict_profiles(Q);
    BOOST_TEST(P(0, 0) == 2.0f, tt::tolerance(1e-6f));
    BOOST_TEST(P(0, 1) == 0.0f, tt::tolerance(1e-6f));
    BOOST_TEST(P(1, 0) == 0.5f, tt::tolerance(1e-6f));
    BOOST_TEST(P(1, 1) == 1.5f, tt::tolerance(1e-6f));
    const wr::Layers y = r.predict(Q);
    BOOST_TEST(y(0) == 0);
    BOOST_TEST(y(1) == 1);
}

BOOST_AUTO_TEST_CASE(profile_primal_and_dual_agree) {
    // n < d takes the dual path; compare with the primal normal equations solved directly.
    const auto data = w2s::test::make_route_data(20, 30, 5, 3, 11);
    const double lambda = 0.3;
    wr::ProfileRouter r(wr::ProfileRouter::Params{lambda});
    r.fit(data.X, data.S, 0);
    Eigen::MatrixXd Xc = data.X.cast<double>();
    const Eigen::RowVectorXd mx = Xc.colwise().mean();
    Xc.rowwise() -= mx;
    const Eigen::MatrixXd Sc = data.S.rowwise() - data.S.colwise().mean();
    const Eigen::MatrixXd A = Xc.transpose() * Xc / 20.0 + lambda * Eigen::MatrixXd::Identity(30, 30);
    const Eigen::MatrixXd W = A.ldlt().solve(Xc.transpose() * Sc / 20.0);
    const Eigen::MatrixXd expect = ((data.X.cast<double>().rowwise() - mx) * W).rowwise() + data.S.colwise().mean();
    const Eigen::MatrixXd got = r.predict_profiles(data.X).cast<double>();
    BOOST_TEST((got - expect).cwiseAbs().maxCoeff() < 1e-4);
}

BOOST_AUTO_TEST_CASE(knn_averages_profiles_not_votes) {
    // Query's 3 nearest neighbours: two best at layer 0 by a hair, one disastrous at layer 0. A vote says 0,
    // the average profile says 1: mean = [(1 + 1 - 5)/3, 0.9] = [-1, 0.9].
    wr::Features X(4, 2);
    X << 1, 0.01f, 1, -0.01f, 1, 0.02f, -1, 0;  // the last one points the other way
    Eigen::MatrixXd S(4, 2);
    S << 1, 0.9, 1, 0.9, -5, 0.9, 3, -3;
    wr::KnnRouter r(wr::KnnRouter::Params{3});
    r.fit(X, S, 0);
    const std::vector<float> q{2.0f, 0.0f};  // cosine ignores the norm
    const Eigen::VectorXd prof = r.neighbour_profile(q);
    BOOST_TEST(prof(0) == -1.0, tt::tolerance(1e-12));
    BOOST_TEST(prof(1) == 0.9, tt::tolerance(1e-12));
    BOOST_TEST(r.predict_one(q) == 1);
    wr::KnnRouter one(wr::KnnRouter::Params{1});  // nearest alone: (1, 0.01) -> layer 0
    one.fit(X, S, 0);
    BOOST_TEST(one.predict_one(q) == 0);
    wr::KnnRouter all(wr::KnnRouter::Params{99});  // k > n: all four: [(1 + 1 - 5 + 3) / 4, ...] = [0, -0.075]
    all.fit(X, S, 0);
    BOOST_TEST(all.neighbour_profile(q)(0) == 0.0, tt::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(linear_gradient_matches_finite_differences) {
    const auto data = w2s::test::make_route_data(15, 4, 3, 3, 5);
    const Eigen::MatrixXd X = data.X.cast<double>();
    const wr::Layers y = wr::best_layers(data.S);
    const wr::detail::SoftmaxObjective obj{X, y, 3, 0.1};
    wr::Rng rng(1);
    Eigen::VectorXd theta(4 * 3 + 3);
    for (auto& t : theta) t = 0.3 * rng.normal();
    Eigen::VectorXd g, tmp;
    obj(theta, g);
    for (Eigen::Index k = 0; k < theta.size(); ++k) {
        Eigen::VectorXd tp = theta, tm = theta;
        tp(k) += 1e-6;
        tm(k) -= 1e-6;
        const double fd = (obj(tp, tmp) - obj(tm, tmp)) / 2e-6;
        BOOST_TEST_INFO("component " << k << ": analytic " << g(k) << ", finite difference " << fd);
        BOOST_TEST(std::abs(g(k) - fd) < 1e-6 * (1.0 + std::abs(fd)));  // central differences, h = 1e-6, in double
    }
}

BOOST_AUTO_TEST_CASE(linear_reports_non_convergence_as_status) {
    const auto data = w2s::test::make_route_data(100, 8, 6, 3, 2);
    wr::LinearRouter::Params p;
    p.max_iter = 2;
    p.tol = 1e-12;
    wr::LinearRouter r(p);
    BOOST_TEST((r.fit(data.X, data.S, 0) == wr::FitStatus::no_convergence));
    BOOST_TEST((r.info() == wr::FitStatus::no_convergence));
    BOOST_TEST(r.predict(data.X).size() == 100);  // still usable
    wr::LinearRouter ok;
    BOOST_TEST((ok.fit(data.X, data.S, 0) == wr::FitStatus::success));
    BOOST_TEST(ok.iterations() > 2);
}

BOOST_AUTO_TEST_CASE(mlp_statuses) {
    const auto data = w2s::test::make_route_data(200, 8, 6, 3, 2, 2.0, 0.3);
    wr::MlpRouter::Params p;
    p.max_epochs = 2;
    wr::MlpRouter short_run(p);
    BOOST_TEST((short_run.fit(data.X, data.S, 0) == wr::FitStatus::no_convergence));
    BOOST_TEST(short_run.epochs() == 2);
    p.max_epochs = 2000;
    p.lr = 1e-2;
    p.patience = 5;
    wr::MlpRouter early(p);
    BOOST_TEST((early.fit(data.X, data.S, 0) == wr::FitStatus::success));  // early stopping triggered
    BOOST_TEST(early.epochs() < 2000);
    p.hidden2 = 8;  // two hidden layers round-trip too
    wr::MlpRouter two(p);
    two.fit(data.X, data.S, 4);
    std::stringstream ss;
    two.save(ss);
    wr::MlpRouter back;
    back.load(ss);
    BOOST_TEST((back.predict(data.X) == two.predict(data.X)));
}

BOOST_AUTO_TEST_CASE(kfold_partitions) {
    const auto folds = wr::kfold(23, 5, 9);
    std::vector<int> seen(23, 0);
    std::size_t total = 0;
    for (const auto& f : folds) {
        BOOST_TEST((f.size() == 4u || f.size() == 5u));
        for (auto i : f) ++seen[static_cast<std::size_t>(i)];
        total += f.size();
    }
    BOOST_TEST(total == 23u);
    for (int s : seen) BOOST_TEST(s == 1);
    BOOST_TEST((wr::kfold(23, 5, 9) == folds));
    BOOST_TEST((wr::kfold(23, 5, 10) != folds));
    BOOST_CHECK_THROW((void)wr::kfold(3, 5, 0), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(cv_picks_the_best_grid_entry) {
    // k = n averages every training profile: that is the fixed layer; small k routes. CV must prefer small k.
    const auto data = w2s::test::make_route_data(200, 8, 10, 4, 21);
    const std::vector<wr::KnnRouter::Params> grid{{200}, {5}, {160}};
    const auto cv = wr::cross_validate<wr::KnnRouter>(data.X, data.S, grid, 4, 1);
    BOOST_TEST(cv.table.size() == 3u);
    BOOST_TEST(cv.best_index == 1u);
    BOOST_TEST(cv.best.k == 5);
    BOOST_TEST(cv.table[1].score > cv.table[0].score + 0.1);
    // score = size-weighted mean of the fold scores
    const auto folds = wr::kfold(200, 4, 1);
    double acc = 0;
    for (std::size_t f = 0; f < 4; ++f) acc += cv.table[1].fold_scores[f] * static_cast<double>(folds[f].size());
    BOOST_TEST(cv.table[1].score == acc / 200.0, tt::tolerance(1e-12));
    // The same with two threads: identical table.
    w2s::ThreadPool pool(2);
    const auto cv2 = pool.run([&] { return wr::cross_validate<wr::KnnRouter>(data.X, data.S, grid, 4, 1); });
    for (std::size_t g = 0; g < 3; ++g) BOOST_TEST(cv2.table[g].score == cv.table[g].score);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(an_empty_matrix_of_a_huge_declared_side_reads_at_once) {
    // Found by route_router_load_fuzz (a timeout): a 70-byte knn file declaring S as 0 x 738262528 spent seconds in
    // the copy of the empty row-major matrix into a column-major one, one pass per empty column, before the load
    // refused the model as empty. An empty matrix is now made at its declared shape without the copy.
    std::string bytes;
    {
        std::stringstream ss;
        wr::RouterWriter w(ss);
        w.header("knn", 1);
        w.put(std::int32_t{10});                                    // k
        w.put(std::uint64_t{0});                                    // X: 0 x 0
        w.put(std::uint64_t{0});
        w.put(std::uint64_t{0});                                    // S: 0 x 2^31 (the largest side allowed)
        w.put(std::uint64_t{1} << 31);
        bytes = ss.str();
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::stringstream in(bytes);
    wr::KnnRouter r;
    try {
        r.load(in);
        BOOST_ERROR("loaded a knn router with no points");
    } catch (const w2s::format_error& e) {
        BOOST_TEST(std::string(e.what()).find("KnnRouter.load: empty model") != std::string::npos, e.what());
    }
    std::stringstream in2(bytes.substr(bytes.size() - 16));
    wr::RouterReader reader(in2, "test");
    const auto m = reader.get_matrix<Eigen::MatrixXd>("S");
    BOOST_TEST(m.rows() == 0);
    BOOST_TEST(m.cols() == Eigen::Index{1} << 31);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BOOST_TEST(secs < 0.5, "reading two empty matrices took " << secs << " s");
}

BOOST_AUTO_TEST_CASE(router_files_are_read_as_far_as_their_bytes_and_only_finite) {
    // A damaged shape is refused as truncated after reading what the stream holds (memory follows the bytes, not
    // the declared 2^31 elements), and a matrix holding NaN or Inf is refused naming the value: a router or
    // standardizer loaded from it would route every prompt by NaN.
    auto refused = [](std::stringstream& ss, const std::string& want) {
        wr::RouterReader r(ss, "test");
        try {
            (void)r.get_matrix<wr::Features>("weights");
            BOOST_ERROR("read a matrix that should say: " << want);
        } catch (const w2s::format_error& e) {
            BOOST_TEST(std::string(e.what()).find(want) != std::string::npos, e.what());
        }
    };
    {
        std::stringstream ss;
        wr::RouterWriter w(ss);
        w.put(std::uint64_t{1} << 16);
        w.put(std::uint64_t{1} << 15);  // 2^31 floats declared
        w.put(1.0f);
        refused(ss, "test: stream ends inside field weights");
    }
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        std::stringstream ss;
        wr::RouterWriter w(ss);
        wr::Features m = wr::Features::Ones(2, 3);
        m(1, 2) = bad;
        w.put_matrix(m);
        refused(ss, "field weights: value 5 (row 1, column 2) is not finite");
    }
    // a standardizer file with a NaN mean
    {
        std::stringstream ss;
        wr::Standardizer st;
        wr::Features X(3, 2);
        X << 1, 2, 3, 4, 5, 7;
        st.fit(X);
        st.save(ss);
        std::string bytes = ss.str();
        const float nan = std::numeric_limits<float>::quiet_NaN();
        // the mean's first value follows the header; find it by its bytes (mean of column 0 is 3)
        const float three = 3.0f;
        const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&three), sizeof three));
        BOOST_TEST_REQUIRE(at != std::string::npos);
        bytes.replace(at, sizeof nan, std::string(reinterpret_cast<const char*>(&nan), sizeof nan));
        std::stringstream in(bytes);
        wr::Standardizer back;
        BOOST_CHECK_THROW(back.load(in), w2s::format_error);
    }
}
