// Layer-policy metrics on hand-computed small examples (exact numbers).
#include <boost/test/unit_test.hpp>

#include <w2s/eval/metrics.hpp>

namespace ev = w2s::eval;
namespace tt = boost::test_tools;

namespace {
// Train: column means [2/3, 1, 2/3] -> fixed layer 1.
Eigen::MatrixXd train() {
    Eigen::MatrixXd S(3, 3);
    S << 1, 2, 0,  //
        0, 1, 2,   //
        1, 0, 0;
    return S;
}
// Test: per-item best layers [2, 0, 2, 1].
Eigen::MatrixXd test() {
    Eigen::MatrixXd S(4, 3);
    S << 0.5, -1, 2,     //
        1, 0.5, -0.5,    //
        -1, -2, -0.5,    //
        0, 1, 0.5;
    return S;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(fixed_oracle_routed_by_hand) {
    const auto Str = train(), Ste = test();
    BOOST_TEST(ev::fixed_layer(Str) == 1);
    // fixed layer 1 on test: [-1, 0.5, -2, 1] -> mean -0.375, 2 of 4 steerable
    const auto fixed = ev::score(Ste, ev::constant_layers(4, 1));
    BOOST_TEST(fixed.mean_steerability == -0.375, tt::tolerance(1e-15));
    BOOST_TEST(fixed.fraction_steerable == 0.5);
    BOOST_TEST(fixed.n == 4u);
    // oracle: [2, 1, -0.5, 1] -> 0.875, 3 of 4
    const auto oracle = ev::score(Ste, ev::oracle_layers(Ste));
    BOOST_TEST(oracle.mean_steerability == 0.875, tt::tolerance(1e-15));
    BOOST_TEST(oracle.fraction_steerable == 0.75);
    // routed [2, 0, 0, 1]: [2, 1, -1, 1] -> 0.75, 3 of 4; gap closed (0.75 + 0.375) / (0.875 + 0.375) = 0.9
    ev::Layers routed(4);
    routed << 2, 0, 0, 1;
    const auto w2s = ev::score(Ste, routed);
    BOOST_TEST(w2s.mean_steerability == 0.75, tt::tolerance(1e-15));
    BOOST_TEST(w2s.fraction_steerable == 0.75);
    BOOST_TEST(ev::gap_closed(w2s.mean_steerability, fixed.mean_steerability, oracle.mean_steerability) == 0.9,
               tt::tolerance(1e-14));
    BOOST_TEST(std::isnan(ev::gap_closed(1.0, 0.5, 0.5)));
    routed(1) = 3;
    BOOST_CHECK_THROW((void)ev::score(Ste, routed), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)ev::score(Ste, ev::constant_layers(3, 0)), w2s::shape_error);
}

BOOST_AUTO_TEST_CASE(best_layer_distribution_by_hand) {
    // best [2, 0, 2, 1], fixed 1: histogram [1, 1, 2]; |best - fixed| = [1, 1, 1, 0] -> 0.75; share at fixed 0.25
    const auto b = ev::best_layer_stats(test(), 1);
    BOOST_TEST(b.fixed_layer == 1);
    BOOST_TEST(b.histogram == (std::vector<std::size_t>{1, 1, 2}), tt::per_element());
    BOOST_TEST(b.mean_abs_distance == 0.75);
    BOOST_TEST(b.share_at_fixed == 0.25);
    BOOST_CHECK_THROW((void)ev::best_layer_stats(test(), 3), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(layer_spread_by_hand) {
    // layer 0: [0.5, 1, -1, 0], sorted [-1, 0, 0.5, 1]; mean 0.125; population var 2.1875 / 4;
    // q25: h = 0.75 -> -1 + 0.75 * 1 = -0.25; median: h = 1.5 -> 0.25; q75: h = 2.25 -> 0.5 + 0.25 * 0.5 = 0.625
    const auto s = ev::layer_spread(test());
    BOOST_TEST(s.mean.size() == 3u);
    BOOST_TEST(s.mean[0] == 0.125, tt::tolerance(1e-15));
    BOOST_TEST(s.stddev[0] == std::sqrt(2.1875 / 4.0), tt::tolerance(1e-14));
    BOOST_TEST(s.q25[0] == -0.25, tt::tolerance(1e-15));
    BOOST_TEST(s.median[0] == 0.25, tt::tolerance(1e-15));
    BOOST_TEST(s.q75[0] == 0.625, tt::tolerance(1e-15));
    BOOST_TEST(s.fraction_steerable[0] == 0.5);
    // layer 2: [2, -0.5, -0.5, 0.5] sorted [-0.5, -0.5, 0.5, 2]: median 0, q75 0.5 + 0.25 * 1.5 = 0.875
    BOOST_TEST(s.median[2] == 0.0, tt::tolerance(1e-15));
    BOOST_TEST(s.q75[2] == 0.875, tt::tolerance(1e-15));
    BOOST_TEST(ev::quantile_sorted({3.0}, 0.9) == 3.0);
}

BOOST_AUTO_TEST_CASE(random_layers_uniform_and_seeded) {
    const auto a = ev::random_layers(30000, 3, 7), b = ev::random_layers(30000, 3, 7), c = ev::random_layers(30000, 3, 8);
    BOOST_TEST((a == b));
    BOOST_TEST((a != c));
    std::vector<int> count(3, 0);
    for (int l : a) ++count[static_cast<std::size_t>(l)];
    for (int k : count) BOOST_TEST(std::abs(k - 10000) < 400);  // ~4.9 sigma
}

BOOST_AUTO_TEST_SUITE_END()
