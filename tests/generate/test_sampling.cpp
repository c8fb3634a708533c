// Sampling: argmax ties, top-k / top-p sets against a plain full-sort reference, draw frequencies,
// determinism per seed, parameter checks.
#define BOOST_TEST_MODULE generate
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <w2s/model/generate.hpp>
#include <w2s/model/sampling.hpp>

namespace wm = w2s::model;

namespace {

std::vector<float> random_logits(std::size_t n, std::uint64_t seed, float scale = 3.0f) {
    std::mt19937_64 g(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = scale * static_cast<float>(static_cast<double>(g() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
    return v;
}

/// The distribution by the book: full sort (logit desc, id asc), softmax of logits/T over the top k, smallest
/// prefix with mass >= top_p, renormalised. Double precision throughout.
std::vector<wm::Candidate> reference_candidates(const std::vector<float>& logits, const wm::SamplingParams& p) {
    std::vector<int> idx(logits.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)]; });
    std::size_t k = idx.size();
    if (p.top_k > 0) k = std::min<std::size_t>(k, static_cast<std::size_t>(p.top_k));
    idx.resize(k);
    const double mx = logits[static_cast<std::size_t>(idx[0])] / p.temperature;
    std::vector<double> w(k);
    double total = 0;
    for (std::size_t i = 0; i < k; ++i) total += w[i] = std::exp(logits[static_cast<std::size_t>(idx[i])] / p.temperature - mx);
    std::size_t cut = k;
    double acc = 0;
    for (std::size_t i = 0; i < k; ++i) {
        acc += w[i] / total;
        if (acc >= p.top_p) {
            cut = i + 1;
            break;
        }
    }
    double kept = 0;
    for (std::size_t i = 0; i < cut; ++i) kept += w[i];
    std::vector<wm::Candidate> out;
    for (std::size_t i = 0; i < cut; ++i)
        out.push_back({idx[i], logits[static_cast<std::size_t>(idx[i])], static_cast<float>(w[i] / kept)});
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sampling)

BOOST_AUTO_TEST_CASE(argmax_breaks_ties_by_lowest_id_and_skips_nan) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> a{1.0f, 3.0f, 2.0f, 3.0f};
    BOOST_TEST(wm::argmax(a) == 1);
    std::vector<float> b{nan, -1.0f, nan, -0.5f};
    BOOST_TEST(wm::argmax(b) == 3);
    BOOST_CHECK_THROW((void)wm::argmax(std::span<const float>{}), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(greedy_params_give_the_argmax_alone) {
    auto l = random_logits(1000, 3);
    auto c = wm::candidates(l, {});
    BOOST_REQUIRE(c.size() == 1u);
    BOOST_TEST(c[0].id == wm::argmax(l));
    BOOST_TEST(c[0].p == 1.0f);
    wm::Sampler s({.temperature = 0.0f, .top_k = 5, .top_p = 0.5f, .seed = 9});
    for (int i = 0; i < 5; ++i) BOOST_TEST(s.sample(l) == wm::argmax(l));
}

BOOST_AUTO_TEST_CASE(candidates_match_a_full_sort_reference) {
    // Vocab large enough that top-p near 1 needs more than the first sorted chunk (256) of the fast path.
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        const auto l = random_logits(5000, seed, seed % 2 ? 2.0f : 8.0f);
        for (wm::SamplingParams p : {wm::SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 0.95f},
                                     wm::SamplingParams{.temperature = 0.7f, .top_k = 50, .top_p = 1.0f},
                                     wm::SamplingParams{.temperature = 1.3f, .top_k = 300, .top_p = 0.6f},
                                     wm::SamplingParams{.temperature = 2.0f, .top_k = 0, .top_p = 0.999f},
                                     wm::SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f}}) {
            const auto got = wm::candidates(l, p);
            const auto want = reference_candidates(l, p);
            BOOST_TEST_CONTEXT("seed " << seed << " T " << p.temperature << " k " << p.top_k << " p " << p.top_p) {
                BOOST_REQUIRE_EQUAL(got.size(), want.size());
                double sum = 0;
                for (std::size_t i = 0; i < got.size(); ++i) {
                    BOOST_TEST(got[i].id == want[i].id);
                    BOOST_TEST(std::abs(got[i].p - want[i].p) <= 1e-5f);  // float p, x * (1/T) vs x / T
                    sum += got[i].p;
                }
                BOOST_TEST(std::abs(sum - 1.0) <= 1e-4);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(top_p_keeps_the_smallest_set_reaching_the_mass) {
    // softmax of {ln 0.5, ln 0.3, ln 0.15, ln 0.05} at T = 1 is exactly {0.5, 0.3, 0.15, 0.05}.
    const std::vector<float> l{std::log(0.15f), std::log(0.5f), std::log(0.05f), std::log(0.3f)};
    auto ids = [&](float top_p) {
        std::vector<int> out;
        for (const auto& c : wm::candidates(l, {.temperature = 1.0f, .top_p = top_p})) out.push_back(c.id);
        return out;
    };
    BOOST_TEST(ids(0.4f) == (std::vector<int>{1}), boost::test_tools::per_element());
    BOOST_TEST(ids(0.7f) == (std::vector<int>{1, 3}), boost::test_tools::per_element());
    BOOST_TEST(ids(0.9f) == (std::vector<int>{1, 3, 0}), boost::test_tools::per_element());
    BOOST_TEST(ids(0.99f) == (std::vector<int>{1, 3, 0, 2}), boost::test_tools::per_element());
    const auto c = wm::candidates(l, {.temperature = 1.0f, .top_p = 0.7f});
    BOOST_TEST(std::abs(c[0].p - 0.625f) <= 1e-5f);  // 0.5 / 0.8
    BOOST_TEST(std::abs(c[1].p - 0.375f) <= 1e-5f);
}

BOOST_AUTO_TEST_CASE(draw_frequencies_follow_the_probabilities) {
    const std::vector<float> l{0.0f, 1.0f, -1.0f, 0.5f, 2.0f};
    const wm::SamplingParams p{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 77};
    const auto c = wm::candidates(l, p);
    wm::Sampler s(p);
    const int n = 40000;
    std::vector<int> count(l.size(), 0);
    for (int i = 0; i < n; ++i) ++count[static_cast<std::size_t>(s.sample(l))];
    for (const auto& x : c) {
        const double f = static_cast<double>(count[static_cast<std::size_t>(x.id)]) / n;
        // binomial standard error at n = 40000 is <= 0.0025; allow 4 of them
        BOOST_TEST(std::abs(f - x.p) <= 0.01, "token " << x.id << " freq " << f << " p " << x.p);
    }
}

BOOST_AUTO_TEST_CASE(top_k_one_is_greedy_and_tiny_temperature_is_greedy) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        auto l = random_logits(3000, seed);
        const auto best = wm::argmax(l);
        l[static_cast<std::size_t>(best)] += 0.01f;  // a gap of >= 0.01 = 100 T: the runner-up has p < e^-100
        wm::Sampler k1({.temperature = 1.5f, .top_k = 1, .top_p = 1.0f, .seed = seed});
        BOOST_TEST(k1.sample(l) == best);
        wm::Sampler cold({.temperature = 1e-4f, .top_k = 0, .top_p = 1.0f, .seed = seed});
        BOOST_TEST(cold.sample(l) == best);
    }
}

BOOST_AUTO_TEST_CASE(same_seed_same_draws_other_seed_other_draws) {
    const auto l = random_logits(500, 5, 1.0f);
    auto draws = [&](std::uint64_t seed) {
        wm::Sampler s({.temperature = 1.0f, .top_k = 100, .top_p = 0.9f, .seed = seed});
        std::vector<int> d;
        for (int i = 0; i < 50; ++i) d.push_back(s.sample(l));
        return d;
    };
    BOOST_TEST(draws(1) == draws(1), boost::test_tools::per_element());
    BOOST_TEST((draws(1) != draws(2)));
    // The uniform draw is made from the generator's bits here: pin the first values of seed 0.
    wm::Sampler s({.temperature = 1.0f, .seed = 0});
    std::mt19937_64 g(0);
    BOOST_TEST(s.uniform() == static_cast<double>(g() >> 11) * 0x1.0p-53);
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_refused_with_the_field_named) {
    auto msg = [](const wm::SamplingParams& p) -> std::string {
        try {
            wm::validate(p);
        } catch (const w2s::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    BOOST_TEST(msg({.temperature = 1.0f, .top_k = -1}).find("top_k") != std::string::npos);
    BOOST_TEST(msg({.temperature = 1.0f, .top_p = 0.0f}).find("top_p") != std::string::npos);
    BOOST_TEST(msg({.temperature = 1.0f, .top_p = 1.5f}).find("top_p") != std::string::npos);
    BOOST_TEST(msg({.temperature = std::numeric_limits<float>::infinity()}).find("temperature") != std::string::npos);
    BOOST_TEST(msg({.temperature = 0.8f, .top_k = 3, .top_p = 0.5f}).empty());
}

BOOST_AUTO_TEST_CASE(utf8_complete_prefix_holds_back_partial_characters) {
    using wm::detail::utf8_complete_prefix;
    BOOST_TEST(utf8_complete_prefix("abc") == 3u);
    BOOST_TEST(utf8_complete_prefix("a\xC3") == 1u);           // first byte of a 2-byte character
    BOOST_TEST(utf8_complete_prefix("a\xC3\xA9") == 3u);       // é
    BOOST_TEST(utf8_complete_prefix("a\xE2\x82") == 1u);       // 2 of 3 bytes of €
    BOOST_TEST(utf8_complete_prefix("a\xE2\x82\xAC") == 4u);
    BOOST_TEST(utf8_complete_prefix("\xF0\x9F\x98") == 0u);    // 3 of 4 bytes of an emoji
    BOOST_TEST(utf8_complete_prefix("\xF0\x9F\x98\x80") == 4u);
    BOOST_TEST(utf8_complete_prefix("") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
