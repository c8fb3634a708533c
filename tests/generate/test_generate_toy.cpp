// Generation over the example backend (examples/custom_backend/toy_backend.hpp), and that backend's own
// contract: forward_tails agrees with prefill, resuming from a stored residual, parent chains, forks.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <w2s/model/generate.hpp>

#include "toy_backend.hpp"

namespace wm = w2s::model;
using w2s::examples::ByteTokenizer;
using w2s::examples::ToyTransformer;

namespace {

const ToyTransformer& toy() {
    static const ToyTransformer m({.n_layers = 3, .hidden = 32, .n_heads = 4, .ffn = 48, .seed = 11});
    return m;
}

std::vector<wm::token_id> prompt_ids() {
    std::vector<wm::token_id> p{ByteTokenizer::bos};
    for (auto id : toy().tokenizer().encode("The quick brown fox")) p.push_back(id);
    return p;
}

double max_abs_diff(const w2s::MatrixRM& a, const w2s::MatrixRM& b) {
    BOOST_REQUIRE(a.rows() == b.rows());
    BOOST_REQUIRE(a.cols() == b.cols());
    double m = 0;  // a plain loop: Eigen's vectorised maxCoeff trips a GCC 12 AVX-512 false warning
    for (Eigen::Index i = 0; i < a.size(); ++i)
        m = std::max(m, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
    return m;
}

wm::GenerateOptions opts(int max_tokens, wm::SamplingParams s = {}) {
    wm::GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling = s;
    o.stop_at_eog = false;
    return o;
}

struct NotABackend {
    int n_layers() const { return 1; }
};

}  // namespace

static_assert(wm::Backend<ToyTransformer>);
static_assert(!wm::Backend<NotABackend>, "a type without Session / prefill / forward_tails must be refused");

BOOST_AUTO_TEST_SUITE(toy_backend)

BOOST_AUTO_TEST_CASE(incremental_prefill_equals_one_batch) {
    const auto& m = toy();
    const auto p = prompt_ids();
    auto s1 = m.new_session();
    w2s::MatrixRM all;
    m.prefill(s1, p, {}, &all);
    auto s2 = m.new_session();
    w2s::MatrixRM part, last;
    m.prefill(s2, std::span(p).first(5), {}, &part);
    m.prefill(s2, std::span(p).subspan(5), {}, &last);
    BOOST_TEST(s2.size() == p.size());
    BOOST_TEST(max_abs_diff(all.bottomRows(last.rows()), last) <= 1e-4);
    BOOST_TEST(max_abs_diff(all.topRows(5), part) <= 1e-4);
}

BOOST_AUTO_TEST_CASE(forward_tails_agree_with_prefill_and_resume_from_a_residual) {
    const auto& m = toy();
    const auto p = prompt_ids();
    auto prefix = m.new_session();
    m.prefill(prefix, p, {}, nullptr);
    const std::vector<wm::token_id> a{'a', 'b', 'c'}, b{'x', 'y'}, c{'z'};

    // reference: prefill of prefix + a, prefix + a + b (b continues a), prefix + c
    auto ref = [&](std::vector<std::vector<wm::token_id>> parts, w2s::MatrixRM& out, const wm::Hook& h = {}) {
        auto s = prefix;  // fork
        for (auto& part : parts) m.prefill(s, part, h, &out);
    };
    w2s::MatrixRM la, lab, lc;
    ref({a}, la);
    ref({a, b}, lab);
    ref({c}, lc);

    const std::vector<wm::Tail> tails{{a, {}, -1}, {b, {}, 0}, {c, {}, -1}};
    w2s::MatrixRM got;
    m.forward_tails(prefix, tails, 0, {}, &got);
    BOOST_REQUIRE(got.rows() == 6);
    BOOST_TEST(max_abs_diff(got.middleRows(0, 3), la) <= 1e-4);
    BOOST_TEST(max_abs_diff(got.middleRows(3, 2), lab) <= 1e-4);
    BOOST_TEST(max_abs_diff(got.middleRows(5, 1), lc) <= 1e-4);
    BOOST_TEST(prefix.size() == p.size());  // the prefix is not changed

    // Resume at block 2 from the residual entering it (= output of block 1), captured by a hook.
    std::vector<w2s::MatrixRM> stored(3);
    std::size_t seen = 0;
    m.forward_tails(prefix, tails, 0, [&](const wm::BlockOutput& o) {
        if (o.layer != 1) return;
        stored[o.seq] = Eigen::Map<w2s::MatrixRM>(o.residual.data, static_cast<Eigen::Index>(o.residual.rows),
                                                  static_cast<Eigen::Index>(o.residual.cols));
        ++seen;
    }, nullptr);
    BOOST_REQUIRE(seen == 3u);
    std::vector<wm::Tail> resumed = tails;
    for (std::size_t i = 0; i < 3; ++i)
        resumed[i].input = w2s::ConstMatrixView(stored[i].data(), static_cast<std::size_t>(stored[i].rows()),
                                                static_cast<std::size_t>(stored[i].cols()));
    w2s::MatrixRM again;
    std::vector<int> layers_seen;
    m.forward_tails(prefix, resumed, 2, [&](const wm::BlockOutput& o) { layers_seen.push_back(o.layer); }, &again);
    BOOST_TEST(max_abs_diff(again, got) <= 1e-4);
    BOOST_TEST(layers_seen == (std::vector<int>{2, 2, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_copied_session_is_an_independent_fork) {
    const auto& m = toy();
    auto s = m.new_session();
    m.prefill(s, prompt_ids(), {}, nullptr);
    auto fork = s;
    const std::vector<wm::token_id> x{'q'}, y{'r'};
    w2s::MatrixRM lx1, ly, lx2;
    m.prefill(fork, y, {}, &ly);
    m.prefill(s, x, {}, &lx1);
    auto s_again = m.new_session();
    m.prefill(s_again, prompt_ids(), {}, nullptr);
    m.prefill(s_again, x, {}, &lx2);
    BOOST_TEST(max_abs_diff(lx1, lx2) <= 1e-6);
    BOOST_TEST(fork.size() == s.size());
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused) {
    const auto& m = toy();
    auto s = m.new_session();
    const std::vector<wm::token_id> bad{300};
    BOOST_CHECK_THROW(m.prefill(s, bad, {}, nullptr), w2s::invalid_argument);
    const std::vector<wm::token_id> a{'a'};
    const std::vector<wm::Tail> self_parent{{a, {}, 0}};
    BOOST_CHECK_THROW(m.forward_tails(s, self_parent, 0, {}, nullptr), w2s::invalid_argument);
    const std::vector<wm::Tail> no_input{{a, {}, -1}};
    BOOST_CHECK_THROW(m.forward_tails(s, no_input, 1, {}, nullptr), w2s::invalid_argument);  // the same check as every backend (tail_batch.hpp)
    BOOST_CHECK_THROW(m.forward_tails(s, no_input, 4, {}, nullptr), w2s::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(generate_toy)

BOOST_AUTO_TEST_CASE(greedy_equals_argmax_of_a_full_recompute) {
    const auto& m = toy();
    const auto p = prompt_ids();
    const auto res = wm::generate(m, p, opts(12));
    BOOST_REQUIRE(res.tokens.size() == 12u);
    BOOST_TEST(res.reason == wm::StopReason::max_tokens);
    // No cache: prefill the whole sequence in a new session for every step.
    std::vector<wm::token_id> seq = p;
    for (std::size_t i = 0; i < res.tokens.size(); ++i) {
        auto s = m.new_session();
        w2s::MatrixRM l;
        m.prefill(s, seq, {}, &l);
        const auto next = wm::argmax(std::span<const float>(l.row(l.rows() - 1).data(), static_cast<std::size_t>(l.cols())));
        BOOST_TEST(next == res.tokens[i], "step " << i);
        seq.push_back(next);
    }
    BOOST_TEST(res.text == m.tokenizer().decode(res.tokens));
    BOOST_TEST(res.prompt_tokens == p.size());
}

BOOST_AUTO_TEST_CASE(sampling_is_deterministic_for_a_seed) {
    const auto& m = toy();
    const auto p = prompt_ids();
    const wm::SamplingParams s1{.temperature = 1.0f, .top_k = 40, .top_p = 0.95f, .seed = 5};
    auto s2 = s1;
    s2.seed = 6;
    const auto a = wm::generate(m, p, opts(20, s1));
    const auto b = wm::generate(m, p, opts(20, s1));
    const auto c = wm::generate(m, p, opts(20, s2));
    BOOST_TEST(a.tokens == b.tokens, boost::test_tools::per_element());
    BOOST_TEST(a.text == b.text);
    BOOST_TEST((a.tokens != c.tokens));
}

BOOST_AUTO_TEST_CASE(top_k_one_and_cold_temperature_equal_greedy) {
    const auto& m = toy();
    const auto p = prompt_ids();
    const auto greedy = wm::generate(m, p, opts(16));
    const auto k1 = wm::generate(m, p, opts(16, {.temperature = 2.0f, .top_k = 1, .top_p = 1.0f, .seed = 3}));
    const auto cold = wm::generate(m, p, opts(16, {.temperature = 1e-4f, .top_k = 0, .top_p = 1.0f, .seed = 3}));
    BOOST_TEST(k1.tokens == greedy.tokens, boost::test_tools::per_element());
    BOOST_TEST(cold.tokens == greedy.tokens, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stop_tokens_end_generation_before_the_stop_token) {
    const auto& m = toy();
    const auto p = prompt_ids();
    const auto free_run = wm::generate(m, p, opts(20, {.temperature = 1.0f, .seed = 8}));
    BOOST_REQUIRE(free_run.tokens.size() == 20u);
    const wm::token_id stop = free_run.tokens[6];
    const auto first = static_cast<std::size_t>(std::find(free_run.tokens.begin(), free_run.tokens.end(), stop) - free_run.tokens.begin());
    auto o = opts(20, {.temperature = 1.0f, .seed = 8});
    o.stop_tokens = {stop};
    const auto stopped = wm::generate(m, p, o);
    BOOST_TEST(stopped.reason == wm::StopReason::stop_token);
    BOOST_TEST(stopped.stop_token == stop);
    BOOST_REQUIRE(stopped.tokens.size() == first);
    BOOST_TEST(std::equal(stopped.tokens.begin(), stopped.tokens.end(), free_run.tokens.begin()));
}

BOOST_AUTO_TEST_CASE(the_tokenizer_eos_stops_generation) {
    // Hot sampling reaches EOS (1 of 258 tokens) within a few hundred steps; find it with EOS allowed,
    // then check that with stop_at_eog the same seed stops right there.
    const auto& m = toy();
    const auto p = prompt_ids();
    const wm::SamplingParams hot{.temperature = 50.0f, .seed = 4};
    const auto free_run = wm::generate(m, p, opts(1500, hot));
    const auto it = std::find(free_run.tokens.begin(), free_run.tokens.end(), ByteTokenizer::eos);
    BOOST_REQUIRE_MESSAGE(it != free_run.tokens.end(), "no EOS in 1500 hot samples");
    auto o = opts(1500, hot);
    o.stop_at_eog = true;
    const auto stopped = wm::generate(m, p, o);
    BOOST_TEST(stopped.reason == wm::StopReason::stop_token);
    BOOST_TEST(stopped.stop_token == ByteTokenizer::eos);
    BOOST_TEST(stopped.tokens.size() == static_cast<std::size_t>(it - free_run.tokens.begin()));
    BOOST_TEST(wm::tokenizer_is_eog(m.tokenizer(), ByteTokenizer::eos));
    BOOST_TEST(!wm::tokenizer_is_eog(m.tokenizer(), 'a'));
}

BOOST_AUTO_TEST_CASE(eog_is_found_through_any_of_the_tokenizer_spellings) {
    struct WithIsEog { bool is_eog(wm::token_id id) const { return id == 7 || id == 9; } };
    struct WithList { std::vector<int> eog_ids() const { return {3, 4}; } };
    struct WithEos { int eos_id() const { return 2; } };
    struct WithNoEos { int eos_id() const { return -1; } };
    struct Plain {};
    BOOST_TEST(wm::tokenizer_is_eog(WithIsEog{}, 9));
    BOOST_TEST(!wm::tokenizer_is_eog(WithIsEog{}, 8));
    BOOST_TEST(wm::tokenizer_is_eog(WithList{}, 4));
    BOOST_TEST(!wm::tokenizer_is_eog(WithList{}, 5));
    BOOST_TEST(wm::tokenizer_is_eog(WithEos{}, 2));
    BOOST_TEST(!wm::tokenizer_is_eog(WithNoEos{}, -1));
    BOOST_TEST(!wm::tokenizer_is_eog(Plain{}, 0));
}

BOOST_AUTO_TEST_CASE(the_callback_streams_pieces_and_can_stop) {
    const auto& m = toy();
    const auto p = prompt_ids();
    std::string streamed;
    std::vector<wm::token_id> ids;
    const auto res = wm::generate(m, p, opts(40, {.temperature = 1.0f, .seed = 2}), {},
                                  [&](wm::token_id id, std::string_view piece) {
                                      ids.push_back(id);
                                      streamed += piece;
                                      return true;
                                  });
    BOOST_TEST(ids == res.tokens, boost::test_tools::per_element());
    // the pieces are the text, except an incomplete UTF-8 character at the very end
    BOOST_TEST(streamed == res.text.substr(0, wm::detail::utf8_complete_prefix(res.text)));

    int calls = 0;
    const auto stopped = wm::generate(m, p, opts(40, {.temperature = 1.0f, .seed = 2}), {},
                                      [&](wm::token_id, std::string_view) { return ++calls < 3; });
    BOOST_TEST(calls == 3);
    BOOST_TEST(stopped.reason == wm::StopReason::callback);
    BOOST_REQUIRE(stopped.tokens.size() == 3u);
    BOOST_TEST(std::equal(stopped.tokens.begin(), stopped.tokens.end(), res.tokens.begin()));
}

BOOST_AUTO_TEST_CASE(session_holds_prompt_and_all_but_the_last_token) {
    const auto& m = toy();
    const auto p = prompt_ids();
    auto s = m.new_session();
    const auto res = wm::generate(m, s, p, opts(7));
    BOOST_TEST(s.size() == p.size() + 6);
    auto s0 = m.new_session();
    const auto none = wm::generate(m, s0, p, opts(0));
    BOOST_TEST(none.tokens.empty());
    BOOST_TEST(s0.size() == p.size());
    // continuing the session continues the greedy sequence
    const std::vector<wm::token_id> last{res.tokens.back()};
    const auto more = wm::generate(m, s, last, opts(3));
    const auto longer = wm::generate(m, p, opts(10));
    BOOST_TEST(std::equal(more.tokens.begin(), more.tokens.end(), longer.tokens.begin() + 7));
    BOOST_CHECK_THROW((void)wm::generate(m, std::span<const wm::token_id>{}, opts(3)), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)wm::generate(m, p, opts(-1)), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(hooks_run_at_every_prefill_and_steering_changes_the_output) {
    const auto& m = toy();
    const auto p = prompt_ids();
    const auto plain = wm::generate(m, p, opts(10));
    // an empty hook and a hook that does nothing give the same tokens
    std::vector<std::pair<int, std::size_t>> calls;  // (layer, pos0)
    const auto observed = wm::generate(m, p, opts(10), [&](const wm::BlockOutput& o) {
        calls.emplace_back(o.layer, o.pos0);
    });
    BOOST_TEST(observed.tokens == plain.tokens, boost::test_tools::per_element());
    // the prompt in one prefill (rows at pos 0..n-1), then 9 single tokens: 10 prefills x 3 blocks
    BOOST_REQUIRE(calls.size() == 10u * 3u);
    BOOST_TEST(calls[0].second == 0u);
    BOOST_TEST(calls[2].second == 0u);
    BOOST_TEST(calls[3].second == p.size());
    BOOST_TEST(calls.back().second == p.size() + 8);
    BOOST_TEST(calls.back().first == 2);

    // a steering hook at one layer changes the continuation
    Eigen::VectorXf v = Eigen::VectorXf::LinSpaced(m.hidden_size(), -1.0f, 1.0f);
    const auto steered = wm::generate(m, p, opts(10), [&](const wm::BlockOutput& o) {
        if (o.layer != 1) return;
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            for (std::size_t j = 0; j < o.residual.cols; ++j) o.residual.row(r)[j] += 6.0f * v[static_cast<Eigen::Index>(j)];
    });
    BOOST_TEST((steered.tokens != plain.tokens));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The toy backend plus the optional prefill_last_logits ([1 x vocab] for the last new token), counting calls.
struct ToyWithLastLogits : ToyTransformer {
    using ToyTransformer::ToyTransformer;
    mutable int last_calls = 0;
    void prefill_last_logits(Session& s, std::span<const wm::token_id> tokens, const wm::Hook& hook,
                             w2s::MatrixRM* logits) const {
        ++last_calls;
        w2s::MatrixRM all;
        prefill(s, tokens, hook, &all);
        *logits = all.bottomRows(1);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(generate_optional_backend_members)

BOOST_AUTO_TEST_CASE(prefill_last_logits_is_used_for_the_prompt_when_offered) {
    const ToyWithLastLogits m({.n_layers = 3, .hidden = 32, .n_heads = 4, .ffn = 48, .seed = 11});
    const auto p = prompt_ids();
    const auto res = wm::generate(m, p, opts(8));
    BOOST_TEST(m.last_calls == 1);  // the prompt only; generated tokens use prefill
    BOOST_TEST(res.tokens == wm::generate(toy(), p, opts(8)).tokens, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
