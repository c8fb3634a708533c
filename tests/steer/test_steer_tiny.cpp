// The steering pipeline on the tiny random-weight model (unit): tokenized items, contrastive capture against
// a plain prefill, extraction over all estimators, the direct measurement against a prefill-only path,
// thread-count independence, and vectors surviving a control-vector file.
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <w2s/model/model.hpp>
#include <w2s/steer/steer.hpp>

#include "scratch.hpp"
#include "tiny_model.hpp"
#include "w2s_test_support.hpp"

using namespace w2s::steer;
using w2s::model::LlamaModel;

namespace {

struct Fixture {
    LlamaModel model;
    std::vector<Item> items;
    std::vector<TokenizedItem> tok;
    Fixture() : model(LlamaModel::load(w2s::test::make_tiny_llama((w2s::test::scratch_dir() / "tiny").string(), 7))) {
        std::string text;  // written for this test
        const char* qs[] = {"Is the sky green?", "Do cats bark?", "Is water wet?", "Can fish fly?", "Is ice cold?", "Do trees walk?"};
        for (int i = 0; i < 6; ++i)
            text += std::string("{\"question\": \"") + qs[i] + "\", \"answer_matching_behavior\": \"" + (i % 2 ? " Yes" : " No") +
                    "\", \"answer_not_matching_behavior\": \"" + (i % 2 ? " No" : " Yes") + "\"}\n";
        items = load_items(w2s::test::write_scratch("tiny/toy.jsonl", text));
        tok = tokenize_items(model.tokenizer(), model.chat_template(), items, Variant::base);
    }
};

Fixture& fx() {
    static Fixture f;
    return f;
}

/// Block outputs at every position of prompt ++ response[k], by one plain prefill: [layer] x [T x hidden].
std::vector<w2s::MatrixRM> full_prefill_residuals(const LlamaModel& m, const std::vector<token_id>& seq) {
    std::vector<w2s::MatrixRM> out(static_cast<std::size_t>(m.n_layers()));
    auto s = m.new_session();
    m.prefill(s, seq, [&](const w2s::model::BlockOutput& o) {
        auto& r = out[static_cast<std::size_t>(o.layer)];
        r.resize(static_cast<Eigen::Index>(o.residual.rows), static_cast<Eigen::Index>(o.residual.cols));
        std::copy_n(o.residual.data, o.residual.rows * o.residual.cols, r.data());
    });
    return out;
}

double rel(const Eigen::VectorXf& a, const Eigen::VectorXf& b) { return (a - b).norm() / std::max(1e-30f, b.norm()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(steer_tiny_model)

BOOST_AUTO_TEST_CASE(tokenized_items_put_the_letter_second_to_last) {
    auto& f = fx();
    const auto& t = f.tok[0];
    BOOST_TEST(t.response[0].size() == 3u);  // "(", letter, ")" (bytes in the tiny vocabulary)
    const std::vector<token_id> letter{t.sequence(0)[t.letter_index(0)]};
    BOOST_TEST(f.model.tokenizer().decode(letter) == f.items[0].matching.substr(1, 1));
    const std::string prompt = f.model.tokenizer().decode(t.prompt);
    BOOST_TEST(prompt.size() > 22u);
    BOOST_TEST(prompt.substr(prompt.size() - 22) == "<|im_start|>assistant\n");
    BOOST_TEST(t.last_prompt() == t.prompt.size() - 1);
}

BOOST_AUTO_TEST_CASE(capture_matches_a_plain_prefill) {
    auto& f = fx();
    const std::vector<int> layers{0, 1, 2};
    w2s::MatrixRM acts;
    contrastive_activations(f.model, f.tok[1], layers, acts);
    BOOST_REQUIRE_EQUAL(acts.rows(), 6);
    for (int k = 0; k < 2; ++k) {
        const auto full = full_prefill_residuals(f.model, f.tok[1].sequence(k));
        for (std::size_t li = 0; li < layers.size(); ++li) {
            const Eigen::VectorXf a = acts.row(static_cast<Eigen::Index>(2 * li + static_cast<std::size_t>(k))).transpose();
            const Eigen::VectorXf b = full[li].row(static_cast<Eigen::Index>(f.tok[1].letter_index(k))).transpose();
            BOOST_TEST(rel(a, b) < 1e-5);
        }
    }
    BOOST_CHECK_THROW(contrastive_activations(f.model, f.tok[1], std::vector<int>{3}, acts), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(mean_vectors_equal_the_mean_of_plain_prefill_differences_at_any_thread_count) {
    auto& f = fx();
    w2s::ThreadPool one(1), two(2);
    const auto r1 = extract_vectors(f.model, f.tok, MeanDifference{}, {.layers = {}, .batch = 4}, one);
    const auto r2 = extract_vectors(f.model, f.tok, MeanDifference{}, {.layers = {}, .batch = 3}, two);
    BOOST_TEST(r1.layers == (std::vector<int>{1, 2}));  // default: every block a control vector can express
    BOOST_TEST(r1.vectors.estimator == "mean");
    BOOST_TEST(r1.n_items == f.tok.size());
    for (int l : r1.layers) {
        Eigen::VectorXd sum = Eigen::VectorXd::Zero(f.model.hidden_size());
        for (const auto& t : f.tok) {
            const auto p = full_prefill_residuals(f.model, t.sequence(0));
            const auto n = full_prefill_residuals(f.model, t.sequence(1));
            sum += (p[static_cast<std::size_t>(l)].row(static_cast<Eigen::Index>(t.letter_index(0))) -
                    n[static_cast<std::size_t>(l)].row(static_cast<Eigen::Index>(t.letter_index(1))))
                       .transpose()
                       .cast<double>();
        }
        const Eigen::VectorXf expect = (sum / static_cast<double>(f.tok.size())).cast<float>();
        const Eigen::Map<const Eigen::VectorXf> a(r1.vectors.at(l).data(), f.model.hidden_size());
        const Eigen::Map<const Eigen::VectorXf> b(r2.vectors.at(l).data(), f.model.hidden_size());
        // 1e-4: the capture runs the responses as tails of a prefilled prompt, the expectation one prefill of
        // everything, and the tiled attention kernel sums their keys in other blocks (model/kernels/attention.hpp).
        BOOST_TEST(rel(a, expect) < 1e-4);
        BOOST_TEST(rel(a, b) < 1e-6);  // batches and threads do not change the result
    }
}

// Issue 17, resource limits: a fit whose memory grows with the items (the probe keeps every activation) is refused
// before the first forward pass when it would not fit, with the figures and what to change; the mean estimator,
// whose memory does not grow with the items, runs under the same limit.
BOOST_AUTO_TEST_CASE(a_fit_that_would_not_fit_in_memory_is_refused_before_any_work) {
    auto& f = fx();
    w2s::ThreadPool pool(2);
    const std::size_t h = static_cast<std::size_t>(f.model.hidden_size()), n = f.tok.size(), k = 3;
    const std::uint64_t acts = std::min<std::size_t>(16, n) * 2 * k * h * 4;
    const auto mean = MeanDifference{}.memory(h, n), probe = LogisticProbe{}.memory(h, n);
    const std::uint64_t mean_need = acts + k * mean.state + 2 * mean.finish;
    const std::uint64_t probe_need = acts + k * probe.state + 2 * probe.finish;
    BOOST_REQUIRE(probe_need > mean_need + 2048);
    BOOST_TEST(probe.state == 2 * n * h * 4);  // the probe's state is its activations
    BOOST_TEST(LogisticProbe{}.memory(h, 10 * n).state == 10 * probe.state);
    BOOST_TEST(MeanDifference{}.memory(h, 10 * n).state == mean.state);  // the mean's does not grow
    const std::string limit = std::to_string(mean_need + 1024);
    w2s::test::ScopedEnv env("W2S_MEMORY_LIMIT", limit.c_str());
    std::size_t events = 0;
    const auto count = [&](const w2s::ProgressEvent&) { ++events; };
    try {
        (void)extract_vectors(f.model, f.tok, LogisticProbe{}, {.layers = {0, 1, 2}}, pool, count);
        BOOST_FAIL("the probe's fit was not refused");
    } catch (const w2s::resource_error& e) {
        const std::string m = e.what();
        BOOST_TEST_INFO(m);
        BOOST_TEST(m.find("probe estimator, " + std::to_string(n) + " pairs x 3 layers") != std::string::npos);
        BOOST_TEST(m.find("W2S_MEMORY_LIMIT") != std::string::npos);
        BOOST_TEST(m.find("--max-items") != std::string::npos);
    }
    BOOST_TEST(events == 0u);  // refused before any work
    const auto r = extract_vectors(f.model, f.tok, MeanDifference{}, {.layers = {0, 1, 2}}, pool, count);
    BOOST_TEST(r.fits.size() == 3u);
    BOOST_TEST(events > 0u);
}

using AllEstimators = boost::mpl::list<MeanDifference, PCA, LogisticProbe>;

// Issue 17, determinism: every estimator's vectors are the same bits at 1 and at 2 threads (pairs are fed in item
// order whatever the thread count; layers finish independently).
BOOST_AUTO_TEST_CASE_TEMPLATE(vectors_are_the_same_bits_at_one_and_two_threads, E, AllEstimators) {
    auto& f = fx();
    w2s::ThreadPool one(1), two(2);
    const auto a = extract_vectors(f.model, f.tok, E{}, {.layers = {1, 2}, .batch = 4}, one);
    const auto b = extract_vectors(f.model, f.tok, E{}, {.layers = {1, 2}, .batch = 4}, two);
    for (int l : {1, 2}) {
        const auto va = a.vectors.at(l), vb = b.vectors.at(l);
        BOOST_TEST_REQUIRE(va.size() == vb.size());
        BOOST_TEST(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0, E::name << " layer " << l);
    }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(every_estimator_extracts_oriented_vectors, E, AllEstimators) {
    auto& f = fx();
    w2s::ThreadPool pool(2);
    std::size_t last_done = 0, events = 0;
    const auto r = extract_vectors(f.model, f.tok, E{}, {.layers = {0, 1, 2}, .batch = 4}, pool,
                                   [&](const w2s::ProgressEvent& e) {
                                       BOOST_TEST(e.total == f.tok.size());
                                       BOOST_TEST(e.done >= last_done);
                                       last_done = e.done;
                                       ++events;
                                   });
    BOOST_TEST(last_done == f.tok.size());
    BOOST_TEST(events >= 2u);
    const auto mean = extract_vectors(f.model, f.tok, MeanDifference{}, {.layers = {0, 1, 2}}, pool);
    BOOST_REQUIRE_EQUAL(r.fits.size(), 3u);
    BOOST_TEST(r.vectors.estimator == std::string(E::name));
    for (int l = 0; l < 3; ++l) {
        BOOST_TEST_INFO(E::name << " layer " << l << ": " << r.fits[static_cast<std::size_t>(l)].message);
        const Eigen::Map<const Eigen::VectorXf> v(r.vectors.at(l).data(), f.model.hidden_size());
        const Eigen::Map<const Eigen::VectorXf> mu(mean.vectors.at(l).data(), f.model.hidden_size());
        BOOST_TEST(v.allFinite());
        BOOST_TEST(v.norm() == mu.norm(), boost::test_tools::tolerance(1e-4f));
        if (r.fits[static_cast<std::size_t>(l)].status == FitStatus::success) BOOST_TEST(v.dot(mu) > 0.0f);
    }
}

BOOST_AUTO_TEST_CASE(direct_measurement_agrees_with_prefill_only_path_and_is_unsteered_at_zero) {
    auto& f = fx();
    w2s::ThreadPool pool(2);
    const auto vec = extract_vectors(f.model, f.tok, MeanDifference{}, {.layers = {0, 1, 2}}, pool).vectors;
    const std::vector<int> layers{0, 2};
    const std::vector<double> mult(kMultipliers.begin(), kMultipliers.end());
    const auto& t = f.tok[2];
    const auto a = measure_item(f.model, t, vec, layers, mult, 6, true);
    const auto b = measure_item(f.model, t, vec, layers, mult, 6, false);
    // λ = 0 by hand: full prefill of each sequence, logits of the response rows.
    double m0 = 0;
    for (int k = 0; k < 2; ++k) {
        auto s = f.model.new_session();
        w2s::MatrixRM logits;
        const auto seq = t.sequence(k);
        f.model.prefill(s, seq, {}, &logits);
        const w2s::ConstMatrixView lv(logits.data(), static_cast<std::size_t>(logits.rows()), static_cast<std::size_t>(logits.cols()));
        m0 += (k ? -1 : 1) * response_logit_sum(lv, t.last_prompt(), t.response[static_cast<std::size_t>(k)]);
    }
    for (std::size_t l = 0; l < layers.size(); ++l) {
        BOOST_TEST(a(l, 3) == m0, boost::test_tools::tolerance(1e-4));
        for (std::size_t k = 0; k < mult.size(); ++k) BOOST_TEST(std::abs(a(l, k) - b(l, k)) <= 1e-4 * std::max(1.0, std::abs(b(l, k))));
        BOOST_TEST(std::abs(a(l, 0) - a(l, 6)) > 1e-3);  // steering changes the propensity
    }
    // Steered rows start at the last prompt token: a steered full prefill with Positions::from(P-1) agrees.
    double m1 = 0;
    const SteeringHook h(vec, 2, 1.5f, Positions::from(t.last_prompt()));
    for (int k = 0; k < 2; ++k) {
        auto s = f.model.new_session();
        w2s::MatrixRM logits;
        f.model.prefill(s, t.sequence(k), std::cref(h), &logits);
        const w2s::ConstMatrixView lv(logits.data(), static_cast<std::size_t>(logits.rows()), static_cast<std::size_t>(logits.cols()));
        m1 += (k ? -1 : 1) * response_logit_sum(lv, t.last_prompt(), t.response[static_cast<std::size_t>(k)]);
    }
    BOOST_TEST(std::abs(a(1, 6) - m1) <= 1e-4 * std::max(1.0, std::abs(m1)));
}

BOOST_AUTO_TEST_CASE(sweep_is_thread_independent_and_survives_a_vector_file) {
    auto& f = fx();
    w2s::ThreadPool one(1), two(2);
    auto vec = extract_vectors(f.model, f.tok, MeanDifference{}, {}, two).vectors;
    const auto r1 = measure_steerability(f.model, f.tok, vec, {}, one);
    BOOST_TEST(r1.layers == (std::vector<int>{1, 2}));
    BOOST_TEST(f.tok.size() == 2 * f.items.size());  // both answer orders of every item
    BOOST_TEST(r1.propensity.shape(0) == f.items.size());
    BOOST_TEST(r1.order_steerability.shape(0) == f.items.size());
    BOOST_TEST(r1.propensity.shape(2) == 7u);
    BOOST_TEST((r1.best_layer == 1 || r1.best_layer == 2));
    const std::string p = (w2s::test::scratch_dir() / "tiny_cv.gguf").string();
    save_control_vector(vec, p);
    const auto back = load_control_vector(p, f.model.n_layers());
    std::size_t done = 0;
    const auto r2 = measure_steerability(f.model, f.tok, back, {.layers = {}, .multipliers = {-1, 0, 1, 2}}, two,
                                         [&](const w2s::ProgressEvent& e) { done = e.done; });
    BOOST_TEST(done == f.tok.size());
    for (std::size_t i = 0; i < f.items.size(); ++i)
        for (std::size_t l = 0; l < 2; ++l) {
            BOOST_TEST(r2.propensity(i, l, 0) == r1.propensity(i, l, 1), boost::test_tools::tolerance(1e-6));
            BOOST_TEST(r2.propensity(i, l, 2) == r1.propensity(i, l, 5), boost::test_tools::tolerance(1e-6));
        }
    BOOST_CHECK_THROW((void)measure_steerability(f.model, f.tok, back, {.layers = {0}}, one), w2s::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
