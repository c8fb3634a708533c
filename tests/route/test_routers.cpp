// Typed tests: one body run over every router (plain and cross-validated).
#define BOOST_TEST_MODULE route
#include <boost/test/unit_test.hpp>

#include <boost/mpl/list.hpp>

#include <sstream>
#include <string>

#include <w2s/route/route.hpp>

#include "synthetic.hpp"

namespace wr = w2s::route;

namespace {

struct Split {
    w2s::test::RouteData train, test;
};
// Same cluster centres for train and test (same seed for the centres; the items differ because n differs
// only in how many are drawn after them — so draw one set and cut it).
const Split& data() {
    static const Split s = [] {
        auto all = w2s::test::make_route_data(500, 16, 12, 4, 42);
        Split sp;
        sp.train = {all.X.topRows(300), all.S.topRows(300)};
        sp.test = {all.X.bottomRows(200), all.S.bottomRows(200)};
        return sp;
    }();
    return s;
}

template <class R>
R make() {
    if constexpr (std::is_same_v<R, wr::MlpCV>) {  // keep the typed CV test quick: 2 grid points, 3 folds
        typename R::Params p;
        p.grid.resize(2);
        p.grid[1].hidden = 16;
        p.folds = 3;
        return R(p);
    } else {
        return R{};
    }
}

std::string saved(const auto& r) {
    std::ostringstream os;
    r.save(os);
    return os.str();
}

}  // namespace

using AllRouters = boost::mpl::list<wr::LinearRouter, wr::MlpRouter, wr::KnnRouter, wr::ProfileRouter, wr::LinearCV,
                                    wr::MlpCV, wr::KnnCV, wr::ProfileCV>;

BOOST_AUTO_TEST_SUITE(routers_typed)

BOOST_AUTO_TEST_CASE_TEMPLATE(beats_fixed_layer_clearly, R, AllRouters) {
    const auto& d = data();
    R r = make<R>();
    const wr::FitStatus st = r.fit(d.train.X, d.train.S, 7);
    BOOST_TEST_MESSAGE(std::string(R::kind) << ": status " << wr::to_string(st));
    BOOST_TEST(r.layers() == 12);
    BOOST_TEST(r.dim() == 16);
    const Eigen::VectorXd col_mean = d.train.S.colwise().mean();
    int fixed = 0;
    col_mean.maxCoeff(&fixed);
    const double s_fixed = d.test.S.col(fixed).mean();
    const double s_oracle = wr::mean_chosen(d.test.S, wr::best_layers(d.test.S));
    const double s_routed = wr::mean_chosen(d.test.S, r.predict(d.test.X));
    const double gap = (s_routed - s_fixed) / (s_oracle - s_fixed);
    BOOST_TEST_MESSAGE(std::string(R::kind) << ": fixed " << s_fixed << " routed " << s_routed << " oracle "
                                             << s_oracle << " gap closed " << gap);
    BOOST_TEST(s_oracle - s_fixed > 0.2);  // the data really needs routing
    BOOST_TEST(gap > 0.8);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(deterministic_for_a_seed, R, AllRouters) {
    const auto& d = data();
    R a = make<R>(), b = make<R>();
    a.fit(d.train.X, d.train.S, 3);
    b.fit(d.train.X, d.train.S, 3);
    BOOST_TEST(saved(a) == saved(b));  // bit-identical models
    BOOST_TEST((a.predict(d.test.X) == b.predict(d.test.X)));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(predict_one_matches_predict, R, AllRouters) {
    const auto& d = data();
    R r = make<R>();
    r.fit(d.train.X, d.train.S, 1);
    const wr::Layers all = r.predict(d.test.X);
    for (Eigen::Index i = 0; i < d.test.X.rows(); ++i) {
        const Eigen::VectorXf x = d.test.X.row(i).transpose();
        const int l = r.predict_one({x.data(), static_cast<std::size_t>(x.size())});
        BOOST_TEST(l == all(i));
        BOOST_TEST((l >= 0 && l < 12));
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(save_load_round_trip, R, AllRouters) {
    const auto& d = data();
    R r = make<R>();
    r.fit(d.train.X, d.train.S, 5);
    const std::string bytes = saved(r);
    std::istringstream is(bytes);
    BOOST_TEST(wr::peek_kind(is) == std::string(R::kind));
    R back;
    back.load(is);
    BOOST_TEST((back.predict(d.test.X) == r.predict(d.test.X)));
    BOOST_TEST(back.info() == r.info());
    BOOST_TEST(saved(back) == bytes);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(bad_files_refused, R, AllRouters) {
    const auto& d = data();
    R r = make<R>();
    r.fit(d.train.X, d.train.S, 5);
    const std::string bytes = saved(r);
    // Layout: magic(8) | u32 container version | u32 len + kind | u32 body version | ...
    const std::size_t version_at = 8 + 4 + 4 + R::kind.size();
    auto refused = [](std::string b, const std::string& needle) {
        std::istringstream is(b);
        R x;
        try {
            x.load(is);
        } catch (const w2s::format_error& e) {
            BOOST_TEST_INFO("message: " << e.what());
            BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos);
            return;
        }
        BOOST_FAIL("load accepted a bad file (" << needle << ")");
    };
    std::string wrong_version = bytes;
    wrong_version[version_at] = 9;
    refused(wrong_version, "format version 9 found");
    std::string bad_magic = bytes;
    bad_magic[0] = 'X';
    refused(bad_magic, "bad magic");
    refused(bytes.substr(0, bytes.size() - 3), "truncated");
    // A file of another router kind.
    std::ostringstream other;
    if constexpr (R::kind == std::string_view("knn")) {
        wr::ProfileRouter p;
        p.fit(d.train.X, d.train.S, 0);
        p.save(other);
    } else {
        wr::KnnRouter k;
        k.fit(d.train.X, d.train.S, 0);
        k.save(other);
    }
    refused(other.str(), "router; expected '" + std::string(R::kind) + "'");
}

BOOST_AUTO_TEST_CASE_TEMPLATE(misuse_throws_with_context, R, AllRouters) {
    const auto& d = data();
    R r = make<R>();
    BOOST_CHECK_THROW((void)r.predict(d.test.X), w2s::invalid_argument);  // not fitted
    BOOST_CHECK_THROW(r.fit(d.train.X, d.train.S.topRows(10), 0), w2s::shape_error);
    wr::Profiles bad = d.train.S;
    bad(3, 2) = std::numeric_limits<double>::quiet_NaN();
    BOOST_CHECK_THROW(r.fit(d.train.X, bad, 0), w2s::data_error);
    r.fit(d.train.X, d.train.S, 0);
    const std::vector<float> short_x(15, 0.0f);
    try {
        (void)r.predict_one(short_x);
        BOOST_FAIL("no throw");
    } catch (const w2s::shape_error& e) {
        BOOST_TEST(std::string(e.what()).find("has 15 values; expected 16") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(fits_on_the_documented_minimum_of_two_items, R, AllRouters) {
    // Two items are the documented minimum of a fit. Cross-validation over them would leave one row to fit on in
    // each fold (below every router's minimum of two): the CV routers then fit their first grid entry on both.
    const auto& d = data();
    for (const int n : {2, 3}) {
        R r = make<R>();
        BOOST_TEST_CONTEXT("n = " << n) {
            BOOST_CHECK_NO_THROW(r.fit(d.train.X.topRows(n), d.train.S.topRows(n), 0));
            const auto got = r.predict(d.test.X.topRows(5));
            BOOST_TEST_REQUIRE(got.size() == 5u);
            for (int l : got) BOOST_TEST((l >= 0 && l < d.train.S.cols()));
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
