// Propensity arithmetic, slope against numpy.polyfit (golden), steering hooks, summaries and reports.
#include <boost/test/unit_test.hpp>

#include <random>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <w2s/steer/apply.hpp>
#include <w2s/steer/propensity.hpp>
#include <w2s/steer/report.hpp>

#include "w2s_test_support.hpp"

using namespace w2s::steer;

BOOST_AUTO_TEST_SUITE(propensity_and_slope)

BOOST_AUTO_TEST_CASE(slope_equals_numpy_polyfit) {
    // tests/golden/steer_slope.json: made by tests/reference/make_steer_golden.py with numpy.polyfit.
    const auto j = nlohmann::json::parse(w2s::test::read_file(w2s::test::golden_path("steer_slope.json")));
    const auto x = j["multipliers"].get<std::vector<double>>();
    const auto m = j["m"].get<std::vector<std::vector<double>>>();
    const auto expect = j["slopes"].get<std::vector<double>>();
    BOOST_REQUIRE_EQUAL(m.size(), expect.size());
    BOOST_REQUIRE(m.size() >= 20u);
    BOOST_TEST(x == std::vector<double>(kMultipliers.begin(), kMultipliers.end()), boost::test_tools::per_element());
    xt::xtensor<double, 3> prop = xt::zeros<double>({m.size(), std::size_t{1}, x.size()});
    for (std::size_t i = 0; i < m.size(); ++i) {
        BOOST_TEST(slope(x, m[i]) == expect[i], boost::test_tools::tolerance(1e-9));
        for (std::size_t k = 0; k < x.size(); ++k) prop(i, 0, k) = m[i][k];
    }
    const auto s = steerability(prop, x);
    for (std::size_t i = 0; i < m.size(); ++i) BOOST_TEST(s(i, 0) == expect[i], boost::test_tools::tolerance(1e-9));
    BOOST_CHECK_THROW((void)slope(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3}), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)slope(std::vector<double>{1}, std::vector<double>{1}), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(response_logits_are_read_at_the_predicting_rows) {
    // logits [4 x 5]: value = 10 * row + column
    std::vector<float> l(20);
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 5; ++c) l[static_cast<std::size_t>(r * 5 + c)] = static_cast<float>(10 * r + c);
    const w2s::ConstMatrixView v(l.data(), 4, 5);
    const std::vector<w2s::model::token_id> a{1, 2, 3}, b{4, 0, 3};
    BOOST_TEST(response_logit_sum(v, 1, a) == (11 + 22 + 33));
    BOOST_TEST(propensity(v, 0, a, v, 1, b) == (1 + 12 + 23) - (14 + 20 + 33));
    BOOST_CHECK_THROW((void)response_logit_sum(v, 2, a), w2s::shape_error);
    const std::vector<w2s::model::token_id> bad{7};
    BOOST_CHECK_THROW((void)response_logit_sum(v, 0, bad), w2s::shape_error);
}

BOOST_AUTO_TEST_CASE(dataset_figures_and_best_layer) {
    SteerabilityResult r;
    r.layers = {3, 4, 5};
    r.multipliers = {-1, 0, 1};
    r.propensity = xt::zeros<double>({std::size_t{2}, std::size_t{3}, std::size_t{3}});
    const double slopes[2][3] = {{1.0, -2.0, 3.0}, {-0.5, 4.0, 3.0}};
    for (std::size_t i = 0; i < 2; ++i)
        for (std::size_t l = 0; l < 3; ++l)
            for (std::size_t k = 0; k < 3; ++k) r.propensity(i, l, k) = 7.0 + slopes[i][l] * r.multipliers[k];
    summarize(r);
    BOOST_TEST(r.steerability(1, 1) == 4.0, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(r.per_layer[0].mean == 0.25, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(r.per_layer[0].fraction_steerable == 0.5);
    BOOST_TEST(r.per_layer[2].fraction_steerable == 1.0);
    BOOST_TEST(r.best_layer == 5);  // mean 3 beats mean 1

    const auto j = report_json(r, {{"behaviour", "toy"}});
    BOOST_TEST(j["behaviour"] == "toy");
    BOOST_TEST(j["best_layer"] == 5);
    BOOST_TEST(j["per_layer"].size() == 3u);
    BOOST_TEST(j["items"][1]["propensity"][1][2].get<double>() == 11.0, boost::test_tools::tolerance(1e-12));
    const std::string csv = report_csv(r);
    BOOST_TEST(csv.find("layer,mean_steerability,fraction_steerable\n3,0.25,0.5\n") == 0u);
    BOOST_TEST(items_csv(r).find("item,line,layer,steerability,m(-1),m(0),m(1)\n") == 0u);
    const std::string svg = plot_svg(r, "toy");
    BOOST_TEST(svg.find("<svg") != std::string::npos);
    BOOST_TEST(svg.find("best layer 5") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(steering_hook_positions) {
    // residual [4 x 3] of zeros for positions 10..13
    std::vector<float> buf(12, 0.0f);
    const std::vector<float> v{1, 2, 3}, u{0, 0, 1};
    auto run = [&](const SteeringHook& h, int layer) {
        std::fill(buf.begin(), buf.end(), 0.0f);
        h(w2s::model::BlockOutput{layer, 0, 10, w2s::MatrixView{buf.data(), 4, 3}});
    };
    auto row_sum = [&](std::size_t r) { return buf[r * 3] + buf[r * 3 + 1] + buf[r * 3 + 2]; };
    run(SteeringHook({{2, 2.0f, v}}, Positions::all()), 2);
    for (std::size_t r = 0; r < 4; ++r) BOOST_TEST(row_sum(r) == 12.0f);
    run(SteeringHook({{2, 2.0f, v}}, Positions::all()), 1);  // another layer: untouched
    for (std::size_t r = 0; r < 4; ++r) BOOST_TEST(row_sum(r) == 0.0f);
    run(SteeringHook({{2, 1.0f, v}}, Positions::from(12)), 2);
    BOOST_TEST(row_sum(1) == 0.0f);
    BOOST_TEST(row_sum(2) == 6.0f);
    BOOST_TEST(row_sum(3) == 6.0f);
    run(SteeringHook({{2, 1.0f, v}}, Positions::from(3)), 2);  // before this call's rows: all rows
    BOOST_TEST(row_sum(0) == 6.0f);
    run(SteeringHook({{2, -1.0f, v}}, Positions::last()), 2);
    BOOST_TEST(row_sum(2) == 0.0f);
    BOOST_TEST(row_sum(3) == -6.0f);
    run(SteeringHook({{2, 1.0f, v}, {2, 2.0f, u}, {3, 5.0f, u}}, Positions::all()), 2);  // summed
    BOOST_TEST(buf[2] == 5.0f);
    const std::vector<float> wrong{1, 2};
    BOOST_CHECK_THROW(run(SteeringHook({{2, 1.0f, wrong}}, Positions::all()), 2), w2s::shape_error);
}


BOOST_AUTO_TEST_CASE(fast_log_sum_exp_matches_the_reference) {
    std::mt19937 g(4);
    std::normal_distribution<float> nd(0.0f, 6.0f);
    for (std::size_t n : {1u, 7u, 16u, 1000u, 49152u, 49157u}) {
        std::vector<float> row(n);
        for (auto& v : row) v = nd(g);
        BOOST_TEST(std::abs(log_sum_exp(row) - log_sum_exp_ref(row)) < 1e-5, "n = " << n);
    }
    // Scores: log-probability sum and mean of a response, against a hand computation.
    const std::vector<float> logits = {0.f, 1.f, 2.f, 3.f, 4.f, 5.f};  // 2 rows x 3
    const w2s::ConstMatrixView v(logits.data(), 2, 3);
    const std::vector<w2s::model::token_id> r = {2, 0};
    const double lse0 = std::log(std::exp(0.) + std::exp(1.) + std::exp(2.)), lse1 = std::log(std::exp(3.) + std::exp(4.) + std::exp(5.));
    BOOST_TEST(std::abs(response_score(v, 0, r, Scoring::logprob_sum) - ((2 - lse0) + (3 - lse1))) < 1e-6);
    BOOST_TEST(std::abs(response_score(v, 0, r, Scoring::logprob_mean) - ((2 - lse0) + (3 - lse1)) / 2) < 1e-6);
    BOOST_TEST(response_score(v, 0, r, Scoring::logits) == 5.0);
}

BOOST_AUTO_TEST_SUITE_END()
