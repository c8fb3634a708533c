// Exactness of the reference backend against PyPI transformers running the same GGUF file in float32
// (golden files from tests/reference/make_model_golden.py): logits at every position, 32 greedy tokens,
// residuals at three block outputs, and logits with a vector added at one block output. For
// SmolLM2-135M-Instruct (Q4_1) and Gemma 3 270M (Q4_K_M; scripts/fetch_gemma.sh).
#define BOOST_TEST_MODULE test_model_golden
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "w2s/gguf/reader.hpp"
#include "w2s/model/model.hpp"
#include "w2s/steer/activations.hpp"
#include "w2s/steer/estimators.hpp"
#include "w2s/sweep/engine.hpp"
#include "w2s_test_support.hpp"

using namespace w2s;
using namespace w2s::model;

namespace {

constexpr float kTol = 2e-3f;     // absolute, on raw logits and on residual values
constexpr float kRelTol = 1e-5f;  // residuals: plus this much of the row's largest |value| (float32 round-off)

std::string gemma_path() {
    std::string p = test::env_or("W2S_GEMMA_MODEL", test::cache_dir() + "/gemma-3-270m-q4_k_m.gguf");
    if (!std::filesystem::exists(p))
        throw std::runtime_error("Gemma 3 270M not found at " + p + ": run scripts/fetch_gemma.sh (or set W2S_GEMMA_MODEL)");
    return p;
}

/// A float32 golden tensor as a [ne1 x ne0] row-major matrix.
MatrixRM tensor(const gguf::File& f, const std::string& name) {
    const auto& t = f.tensor(name);
    BOOST_REQUIRE(t.type == gguf::TensorType::F32);
    const auto cols = static_cast<Eigen::Index>(t.ne[0]);
    const auto rows = static_cast<Eigen::Index>(t.n_elements / t.ne[0]);
    MatrixRM m(rows, cols);
    std::memcpy(m.data(), t.data, t.n_bytes);
    return m;
}

std::vector<token_id> ints(const gguf::File& f, const std::string& key) {
    std::vector<token_id> out;
    for (auto x : f.get_ints(key)) out.push_back(static_cast<token_id>(x));
    return out;
}

/// Largest |mine - ref| over the reference's top-k ids and the fixed subset, at every position.
float compare_rows(const gguf::File& g, const std::string& prefix, const MatrixRM& mine, const std::vector<token_id>& subset) {
    const MatrixRM ids = tensor(g, prefix + "topk_ids");
    const MatrixRM vals = tensor(g, prefix + "topk_vals");
    const MatrixRM sub = tensor(g, prefix + "subset");
    BOOST_REQUIRE_EQUAL(ids.rows(), mine.rows());
    float worst = 0;
    for (Eigen::Index r = 0; r < mine.rows(); ++r) {
        for (Eigen::Index k = 0; k < ids.cols(); ++k)
            worst = std::max(worst, std::fabs(mine(r, static_cast<Eigen::Index>(ids(r, k))) - vals(r, k)));
        for (std::size_t k = 0; k < subset.size(); ++k)
            worst = std::max(worst, std::fabs(mine(r, subset[k]) - sub(r, static_cast<Eigen::Index>(k))));
    }
    return worst;
}

token_id argmax(const float* row, int n) { return static_cast<token_id>(std::max_element(row, row + n) - row); }

void check_model(const std::string& name, const std::string& path) {
    const auto m = LlamaModel::load(path, LoadOptions{.tokenizer = false});
    gguf::File g(test::golden_path("model_" + name + "_logits.gguf"));
    const auto subset = ints(g, "golden.subset");
    const auto full_rows = g.get_ints("golden.full_rows");
    const auto n_prompts = g.get_int("golden.n_prompts");
    BOOST_TEST(n_prompts >= 10);
    float worst_all = 0;
    for (std::int64_t i = 0; i < n_prompts; ++i) {
        const std::string p = "golden.prompt." + std::to_string(i) + ".";
        const auto tokens = ints(g, p + "tokens");
        auto s = m.new_session();
        MatrixRM lg;
        m.prefill(s, tokens, {}, &lg);
        const float worst = compare_rows(g, "p" + std::to_string(i) + ".", lg, subset);
        worst_all = std::max(worst_all, worst);
        BOOST_TEST(worst <= kTol, name << " prompt " << i << " (" << g.get_string(p + "kind") << ", " << tokens.size()
                                       << " tokens): max |logit diff| " << worst);
        if (std::find(full_rows.begin(), full_rows.end(), i) != full_rows.end()) {
            const MatrixRM last = tensor(g, "p" + std::to_string(i) + ".last");
            const float d = (lg.bottomRows(1) - last).cwiseAbs().maxCoeff();
            BOOST_TEST(d <= kTol, name << " prompt " << i << " full last row: max diff " << d);
        }
        // greedy: equal tokens, or a divergence where the reference's top two are within the tolerance
        const auto want = ints(g, "golden.greedy." + std::to_string(i) + ".tokens");
        const auto gap = g.get_numbers("golden.greedy." + std::to_string(i) + ".gap");
        token_id next = argmax(lg.data() + (lg.rows() - 1) * lg.cols(), m.vocab_size());
        for (std::size_t k = 0; k < want.size(); ++k) {
            if (next != want[k]) {
                BOOST_TEST(gap[k] < kTol, name << " prompt " << i << " greedy step " << k << ": got " << next << ", reference "
                                               << want[k] << " with a top-2 gap of " << gap[k]);
                BOOST_TEST_MESSAGE(name << " prompt " << i << ": greedy parts at step " << k << " (reference gap " << gap[k] << ")");
                break;
            }
            const token_id t = next;
            m.prefill(s, std::span(&t, 1), {}, &lg);
            next = argmax(lg.data(), m.vocab_size());
        }
    }
    BOOST_TEST_MESSAGE(name << ": max |logit diff| over all prompts and positions " << worst_all);

    // residuals at three blocks, and steering
    gguf::File hg(test::golden_path("model_" + name + "_hidden.gguf"));
    const auto blocks = hg.get_ints("golden.blocks");
    float worst_h = 0;
    for (auto i : hg.get_ints("golden.hidden_prompts")) {
        const auto tokens = ints(g, "golden.prompt." + std::to_string(i) + ".tokens");
        std::map<int, MatrixRM> got;
        auto s = m.new_session();
        m.prefill(s, tokens, [&](const BlockOutput& o) {
            got[o.layer] = Eigen::Map<const MatrixRM>(o.residual.data, static_cast<Eigen::Index>(o.residual.rows),
                                                       static_cast<Eigen::Index>(o.residual.cols));
        });
        for (auto l : blocks) {
            const MatrixRM ref = tensor(hg, "h" + std::to_string(i) + ".b" + std::to_string(l));
            // Residual rows hold a few "massive activations" (|value| up to ~3e4 in SmolLM2, ~9e4 in Gemma 3), where
            // one float32 ulp is 2e-3 to 8e-3, and whose round-off reaches the whole row through the norms; so the
            // tolerance grows with the row's scale: |diff| <= kTol + kRelTol * max |row of ref|.
            const MatrixRM diff = (got[static_cast<int>(l)] - ref).cwiseAbs();
            const Eigen::VectorXf row_scale = ref.cwiseAbs().rowwise().maxCoeff();
            const float excess = (diff.colwise() - kRelTol * row_scale).maxCoeff();
            const float d = diff.maxCoeff();
            float d_small = 0;  // max |diff| where |ref| <= 100
            for (Eigen::Index r = 0; r < ref.rows(); ++r)
                for (Eigen::Index c = 0; c < ref.cols(); ++c)
                    if (std::fabs(ref(r, c)) <= 100.f) d_small = std::max(d_small, diff(r, c));
            worst_h = std::max(worst_h, excess);
            BOOST_TEST(excess <= kTol, name << " prompt " << i << " block " << l << ": max |residual diff| " << d
                                            << " (largest |value| " << ref.cwiseAbs().maxCoeff() << ")");
            BOOST_TEST_MESSAGE(name << " prompt " << i << " block " << l << ": max |residual diff| " << d
                                    << ", where |value| <= 100: " << d_small << ", largest |value| "
                                    << ref.cwiseAbs().maxCoeff());
        }
    }
    BOOST_TEST_MESSAGE(name << ": max (|residual diff| - kRelTol * max |row|) " << worst_h);

    const MatrixRM vec = tensor(hg, "steer.vector");
    const int steer_block = static_cast<int>(hg.get_int("golden.steer.block"));
    for (auto i : hg.get_ints("golden.steer_prompts")) {
        const auto tokens = ints(g, "golden.prompt." + std::to_string(i) + ".tokens");
        const auto pos0 = static_cast<std::size_t>(hg.get_int("golden.steer.pos0." + std::to_string(i)));
        auto s = m.new_session();
        MatrixRM lg, plain;
        auto s0 = m.new_session();
        m.prefill(s0, tokens, {}, &plain);
        m.prefill(s, tokens, [&](const BlockOutput& o) {
            if (o.layer != steer_block) return;
            for (std::size_t r = 0; r < o.residual.rows; ++r)
                if (o.pos0 + r >= pos0) Eigen::Map<Eigen::RowVectorXf>(o.residual.row(r), vec.cols()) += vec;
        }, &lg);
        const std::string pre = "steer.p" + std::to_string(i) + ".";
        const float d = compare_rows(hg, pre, lg, subset);
        const float dl = hg.find_tensor(pre + "last") ? (lg.bottomRows(1) - tensor(hg, pre + "last")).cwiseAbs().maxCoeff() : 0.f;
        const float effect = (lg.bottomRows(1) - plain.bottomRows(1)).cwiseAbs().maxCoeff();
        BOOST_TEST(d <= kTol, name << " steered prompt " << i << ": max |logit diff| " << d);
        BOOST_TEST(dl <= kTol, name << " steered prompt " << i << " last row: max diff " << dl);
        BOOST_TEST(effect > 0.5f, name << " steering should change the last logits visibly; changed by " << effect);
        BOOST_TEST_MESSAGE(name << " steered prompt " << i << ": max diff " << std::max(d, dl) << ", steering effect " << effect);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(smollm2_matches_transformers) { check_model("smollm2", test::model_path()); }

BOOST_AUTO_TEST_CASE(gemma3_matches_transformers) { check_model("gemma3", gemma_path()); }

// Gemma 3 270M is a base model: its GGUF has no chat template. The steering path refuses to guess a format and
// runs end to end with the plain transcript when it is asked for.
BOOST_AUTO_TEST_CASE(gemma3_steers_free_text_with_the_plain_format) {
    const auto m = LlamaModel::load(gemma_path());
    BOOST_REQUIRE(!m.has_chat_template());
    try {
        (void)text::select_template(m, "auto");
        BOOST_FAIL("a model without a chat template must not get one silently");
    } catch (const invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("plain") != std::string::npos);
    }
    const auto tmpl = text::select_template(m, "plain");
    const std::string p = tmpl.render_prompt("", "How was the film?");
    BOOST_TEST(p == "<bos>User: How was the film?\nAssistant:\n");
    const auto ids = m.tokenizer().encode(p);
    BOOST_TEST(ids.front() == m.tokenizer().bos_id());
    std::vector<steer::Item> items(3);
    const char* replies[3][2] = {{"I loved it.", "I hated it."}, {"It was wonderful.", "It was dreadful."}, {"Great fun.", "Very dull."}};
    for (std::size_t i = 0; i < 3; ++i) {
        items[i].kind = steer::ItemKind::free_text;
        items[i].question = "How was the film?";
        items[i].matching = replies[i][0];
        items[i].not_matching = replies[i][1];
    }
    const auto tok = steer::tokenize_items(m.tokenizer(), tmpl, items, steer::Variant::base);
    BOOST_TEST(tok.size() == 3u);
    ThreadPool pool(2);
    steer::ExtractOptions eo;
    eo.layers = {6, 12};
    const auto vs = steer::extract_vectors(m, tok, steer::MeanDifference{}, eo, pool).vectors;
    sweep::SweepOptions so;
    so.layers = {6, 12};
    so.embedding_layers = {9};
    so = sweep::resolve_options(m, vs, so);
    const auto rec = sweep::sweep_item(m, tok[0], vs, so);
    for (double s : rec.slope) BOOST_TEST(std::isfinite(s));
    BOOST_TEST(rec.slope.size() == 2u);
}
