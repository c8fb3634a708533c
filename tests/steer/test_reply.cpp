// The reply diagnostic on constructed data: a reply-driven set (each reply template has its own best layer, the
// prompt none) is flagged; a prompt-driven set (each prompt has its own best layer, whatever its replies) passes
// and is called prompt-driven; the chance levels are those of permuted labels.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <vector>

#include <w2s/steer/reply.hpp>

using namespace w2s::steer;

namespace {

constexpr int kPrompts = 30, kTemplates = 4, kLayers = 9;

struct Cells {
    Eigen::MatrixXd S;
    std::vector<int> prompt, reply;
};

/// 30 prompts x 4 templates x 9 layers: a common curve peaking at the middle (the fixed layer), plus a bump of
/// height `bump` at the layer that `peak(p, r)` gives, plus noise.
template <class Peak>
Cells make(Peak peak, double bump, double noise, std::uint64_t seed) {
    Cells c;
    c.S.resize(kPrompts * kTemplates, kLayers);
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> eps(0.0, noise);
    for (int p = 0; p < kPrompts; ++p)
        for (int r = 0; r < kTemplates; ++r) {
            const int row = p * kTemplates + r;
            for (int l = 0; l < kLayers; ++l) c.S(row, l) = 5.0 - 0.1 * std::abs(l - 4) + eps(rng);
            c.S(row, peak(p, r)) += bump;
            c.prompt.push_back(100 + p);  // any labels: they are made dense inside
            c.reply.push_back(7 * r);
        }
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reply_diagnostic_suite)

BOOST_AUTO_TEST_CASE(reply_driven_data_is_flagged) {
    const int at[kTemplates] = {0, 2, 6, 8};
    const auto c = make([&](int, int r) { return at[r]; }, 1.5, 0.05, 1);
    const auto d = reply_diagnostic(c.S, c.prompt, c.reply);
    BOOST_TEST(d.present());
    BOOST_TEST(d.prompts == std::size_t(kPrompts));
    BOOST_TEST(d.templates == std::size_t(kTemplates));
    BOOST_TEST(d.share_replies > 0.9);
    BOOST_TEST(d.share_prompt < d.chance_prompt_q95);
    BOOST_TEST(d.oracle > d.fixed + 1.0);
    BOOST_TEST(d.from_replies > d.fixed + 1.0);   // the same replies under other prompts know the layer
    BOOST_TEST(d.from_prompt < d.fixed + 0.5);    // the prompt's other pairs (other templates) do not
    BOOST_TEST(d.reply_driven);
    BOOST_TEST(!d.prompt_driven);
    BOOST_TEST(!d.warning.empty());
}

BOOST_AUTO_TEST_CASE(prompt_driven_data_passes) {
    const auto c = make([](int p, int) { return (p * 5) % kLayers; }, 1.5, 0.05, 2);
    const auto d = reply_diagnostic(c.S, c.prompt, c.reply);
    BOOST_TEST(d.share_prompt > 0.9);
    BOOST_TEST(d.share_replies < d.chance_replies_q95);
    BOOST_TEST(d.from_prompt > d.fixed + 1.0);
    BOOST_TEST(d.from_replies < d.from_prompt);
    BOOST_TEST(d.prompt_driven);
    BOOST_TEST(!d.reply_driven);
    BOOST_TEST(d.warning.empty());
}

BOOST_AUTO_TEST_CASE(noise_only_is_neither) {
    const auto c = make([](int, int) { return 4; }, 0.0, 0.3, 3);
    const auto d = reply_diagnostic(c.S, c.prompt, c.reply);
    BOOST_TEST(!d.reply_driven);
    BOOST_TEST(!d.prompt_driven);
    // permutation chance of eta squared for k balanced groups of n cells is close to (k - 1) / (n - 1)
    BOOST_TEST(std::abs(d.chance_prompt - (kPrompts - 1.0) / (kPrompts * kTemplates - 1.0)) < 0.04);
    BOOST_TEST(std::abs(d.chance_replies - (kTemplates - 1.0) / (kPrompts * kTemplates - 1.0)) < 0.02);
}

BOOST_AUTO_TEST_CASE(cross_fitting_excludes_the_cell_itself) {
    // two prompts, two templates; each cell's own row says "layer 1", every other row says "layer 0": a choice
    // that let the cell vote for itself would pick layer 1 somewhere.
    Eigen::MatrixXd S(4, 2);
    S << 1.0, 0.0,  //
        1.0, 0.0,   //
        1.0, 0.0,   //
        1.0, 0.0;
    auto d = reply_diagnostic(S, {0, 0, 1, 1}, {0, 1, 0, 1});
    BOOST_TEST(d.from_prompt == 1.0);
    BOOST_TEST(d.from_replies == 1.0);
    BOOST_TEST(d.from_prompt_cells == 4u);
    BOOST_TEST(d.from_replies_cells == 4u);
    S(0, 1) = 5.0;  // cell 0 alone prefers layer 1: its own choice still comes from the others (layer 0: 1.0)
    d = reply_diagnostic(S, {0, 0, 1, 1}, {0, 1, 0, 1});
    BOOST_TEST(d.oracle == (5.0 + 3.0) / 4.0);
    // cell 1 (prompt 0) sees cell 0, which now prefers layer 1 (5 > 1): cell 1 gets S(1, 1) = 0
    BOOST_TEST(d.from_prompt == (1.0 + 0.0 + 1.0 + 1.0) / 4.0);
}

BOOST_AUTO_TEST_CASE(one_pair_per_prompt_is_not_measured_and_bad_shapes_throw) {
    Eigen::MatrixXd S = Eigen::MatrixXd::Ones(3, 4);
    const auto d = reply_diagnostic(S, {0, 1, 2}, {0, 0, 0});
    BOOST_TEST(!d.present());
    BOOST_TEST(!d.reply_driven);
    BOOST_CHECK_THROW((void)reply_diagnostic(S, {0, 1}, {0, 0, 0}), w2s::shape_error);
    S(0, 0) = std::nan("");
    BOOST_CHECK_THROW((void)reply_diagnostic(S, {0, 1, 2}, {0, 0, 0}), w2s::numeric_error);
}

BOOST_AUTO_TEST_SUITE_END()
