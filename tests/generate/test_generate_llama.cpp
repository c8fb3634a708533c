// Generation over the reference backend on the tiny random llama of tests/support/tiny_model.hpp: the
// generic code and w2s::model::LlamaModel together (KV cache, stop at the tokenizer's eog, streaming of a
// byte-level BPE, steering hooks).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <w2s/model/generate.hpp>
#include <w2s/model/model.hpp>

#include "tiny_model.hpp"

namespace wm = w2s::model;

namespace {

const wm::LlamaModel& tiny() {
    static const wm::LlamaModel m = [] {
        const auto dir = std::filesystem::temp_directory_path() / "w2s_test_generate";
        std::filesystem::create_directories(dir);
        return wm::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 3));
    }();
    return m;
}

std::vector<wm::token_id> chat_prompt(const std::string& user) {
    const auto& m = tiny();
    return m.tokenizer().encode(m.chat_template().render_prompt("", user), /*add_special=*/false);
}

wm::GenerateOptions opts(int max_tokens, wm::SamplingParams s = {}, bool eog = false) {
    wm::GenerateOptions o;
    o.max_tokens = max_tokens;
    o.sampling = s;
    o.stop_at_eog = eog;
    return o;
}

}  // namespace

static_assert(wm::Backend<wm::LlamaModel>);

BOOST_AUTO_TEST_SUITE(generate_llama)

BOOST_AUTO_TEST_CASE(greedy_equals_argmax_of_a_full_recompute) {
    const auto& m = tiny();
    const auto p = chat_prompt("hello there");
    const auto res = wm::generate(m, p, opts(10));
    BOOST_REQUIRE(res.tokens.size() == 10u);
    std::vector<wm::token_id> seq = p;
    for (std::size_t i = 0; i < res.tokens.size(); ++i) {
        auto s = m.new_session();
        w2s::MatrixRM l;
        m.prefill(s, seq, {}, &l);
        const std::span<const float> row(l.row(l.rows() - 1).data(), static_cast<std::size_t>(l.cols()));
        const auto best = wm::argmax(row);
        // A full recompute may differ from the cached path in the last bits; where the chosen tokens
        // differ, the two logits must be within rounding of each other.
        if (best != res.tokens[i])
            BOOST_TEST(std::abs(row[static_cast<std::size_t>(best)] - row[static_cast<std::size_t>(res.tokens[i])]) <= 1e-4f,
                       "step " << i);
        seq.push_back(res.tokens[i]);
    }
    BOOST_TEST(res.text == m.tokenizer().decode(res.tokens));
}

BOOST_AUTO_TEST_CASE(sampling_is_deterministic_and_top_k_one_is_greedy) {
    const auto& m = tiny();
    const auto p = chat_prompt("the weather");
    const wm::SamplingParams s{.temperature = 0.9f, .top_k = 50, .top_p = 0.9f, .seed = 21};
    const auto a = wm::generate(m, p, opts(16, s));
    const auto b = wm::generate(m, p, opts(16, s));
    BOOST_TEST(a.tokens == b.tokens, boost::test_tools::per_element());
    auto other = s;
    other.seed = 22;
    BOOST_TEST((wm::generate(m, p, opts(16, other)).tokens != a.tokens));
    const auto greedy = wm::generate(m, p, opts(16));
    const auto k1 = wm::generate(m, p, opts(16, {.temperature = 3.0f, .top_k = 1, .seed = 4}));
    const auto cold = wm::generate(m, p, opts(16, {.temperature = 1e-5f, .seed = 4}));
    BOOST_TEST(k1.tokens == greedy.tokens, boost::test_tools::per_element());
    BOOST_TEST(cold.tokens == greedy.tokens, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(stops_at_the_tokenizer_end_of_generation_token) {
    // Hot sampling over 262 tokens reaches <|im_end|> (id 2, eog) soon; with stop_at_eog the same seed stops there.
    const auto& m = tiny();
    const auto p = chat_prompt("x");
    const wm::SamplingParams hot{.temperature = 20.0f, .seed = 9};
    const auto free_run = wm::generate(m, p, opts(800, hot));
    const auto it = std::find_if(free_run.tokens.begin(), free_run.tokens.end(),
                                 [&](wm::token_id id) { return m.tokenizer().is_eog(id); });
    BOOST_REQUIRE_MESSAGE(it != free_run.tokens.end(), "no eog token in 800 hot samples");
    const auto stopped = wm::generate(m, p, opts(800, hot, true));
    BOOST_TEST(stopped.reason == wm::StopReason::stop_token);
    BOOST_TEST(stopped.stop_token == *it);
    BOOST_TEST(stopped.tokens.size() == static_cast<std::size_t>(it - free_run.tokens.begin()));
}

BOOST_AUTO_TEST_CASE(streamed_pieces_are_the_text) {
    // Random byte tokens split UTF-8 characters across tokens; the stream must hold them back, never garble.
    const auto& m = tiny();
    const auto p = chat_prompt("stream");
    std::string streamed;
    const auto res = wm::generate(m, p, opts(200, {.temperature = 5.0f, .seed = 1}), {},
                                  [&](wm::token_id, std::string_view piece) {
                                      streamed += piece;
                                      return true;
                                  });
    BOOST_TEST(streamed == res.text.substr(0, wm::detail::utf8_complete_prefix(res.text)));
    BOOST_TEST(res.text == m.tokenizer().decode(res.tokens));
}

BOOST_AUTO_TEST_CASE(steering_hook_changes_generation_and_a_zero_vector_does_not) {
    const auto& m = tiny();
    const auto p = chat_prompt("steer me");
    const auto plain = wm::generate(m, p, opts(12));
    std::vector<float> v(static_cast<std::size_t>(m.hidden_size()));
    for (std::size_t j = 0; j < v.size(); ++j) v[j] = (j % 3 == 0) ? 1.0f : -0.5f;
    auto add_at = [&](int layer, float alpha) {
        return wm::Hook([&v, layer, alpha](const wm::BlockOutput& o) {
            if (o.layer != layer) return;
            for (std::size_t r = 0; r < o.residual.rows; ++r)
                for (std::size_t j = 0; j < o.residual.cols; ++j) o.residual.row(r)[j] += alpha * v[j];
        });
    };
    BOOST_TEST(wm::generate(m, p, opts(12), add_at(1, 0.0f)).tokens == plain.tokens, boost::test_tools::per_element());
    BOOST_TEST((wm::generate(m, p, opts(12), add_at(1, 8.0f)).tokens != plain.tokens));
}

BOOST_AUTO_TEST_SUITE_END()
