#define BOOST_TEST_MODULE adaptive
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <type_traits>
#include <limits>
#include <random>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/eval/w2s_pipeline.hpp>
#include <w2s/steer/load.hpp>
#include <w2s/model/model.hpp>
#include <w2s/model/prefill_tails.hpp>
#include <w2s/text/prompt_format.hpp>

#include <nlohmann/json.hpp>

#include "tiny_model.hpp"
#include "w2s_test_support.hpp"

namespace {

struct Fixture {
    std::string dir;
    w2s::model::LlamaModel model;
    std::vector<w2s::steer::TokenizedItem> items;

    static std::string make_dir() {
        auto d = std::filesystem::temp_directory_path() / ("w2s_adaptive_test_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d.string();
    }
    Fixture() : dir(make_dir()), model(w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir, 11))) {
        std::mt19937_64 g(5);
        std::uniform_int_distribution<int> tok(3, 200);
        for (std::size_t i = 0; i < 24; ++i) {
            w2s::steer::TokenizedItem it;
            it.item = i;
            for (std::size_t p = 0; p < 5 + i % 7; ++p) it.prompt.push_back(tok(g));
            const bool a_matches = (i / 2) % 2 == 0;
            it.response[0] = {40, a_matches ? 65 : 66, 41};
            it.response[1] = {40, a_matches ? 66 : 65, 41};
            items.push_back(it);
        }
    }
    ~Fixture() { std::filesystem::remove_all(dir); }
};

template <class Steerer>
void check_fit_choose_save_load(const w2s::model::LlamaModel& model, const std::vector<w2s::steer::TokenizedItem>& items,
                                const std::string& dir) {
    w2s::ThreadPool pool(2);
    Steerer s(model);
    const auto train = std::span(items).first(16);
    const auto summary = s.fit(train, pool);
    BOOST_TEST(summary.n_items == 16u);
    BOOST_TEST(!summary.layers.empty());
    BOOST_TEST(summary.layers.front() >= 1);  // block 0 cannot be a control-vector layer
    std::vector<int> chosen;
    for (const auto& it : items) {
        const int l = s.choose_layer(it.prompt);
        BOOST_TEST((std::find(summary.layers.begin(), summary.layers.end(), l) != summary.layers.end()));
        chosen.push_back(l);
    }
    const std::string bundle = dir + "/bundle_" + std::string(Steerer::router_type::kind);
    s.save(bundle);
    const auto t = Steerer::load(model, bundle);
    for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(t.choose_layer(items[i].prompt) == chosen[i]);
    // Steered generation at the chosen layer; alpha = 0 equals plain generation.
    w2s::model::GenerateOptions go;
    go.max_tokens = 5;
    go.stop_at_eog = false;
    const auto g0 = t.generate(items[0].prompt, 0.0f, go);
    BOOST_TEST(g0.layer == chosen[0]);
    const auto plain = w2s::model::generate(model, std::span<const w2s::model::token_id>(items[0].prompt), go);
    BOOST_TEST(g0.result.tokens == plain.tokens, boost::test_tools::per_element());
}

/// A router written outside the library, from the Router contract and route/router_kit.hpp only: each layer's
/// centroid of the embeddings of the train items whose best layer it is; a prompt goes to the nearest centroid.
class NearestCentroid {
public:
    static constexpr std::string_view kind = "centroid";
    w2s::FitStatus fit(const w2s::route::FeaturesRef& X, const w2s::route::ProfilesRef& S, std::uint64_t) {
        w2s::route::check_fit_inputs("NearestCentroid", X, S);
        const w2s::route::Layers best = w2s::route::best_layers(S);
        C_ = w2s::route::Features::Zero(S.cols(), X.cols());
        count_ = Eigen::VectorXi::Zero(S.cols());
        for (Eigen::Index i = 0; i < X.rows(); ++i) {
            C_.row(best(i)) += X.row(i);
            ++count_(best(i));
        }
        for (Eigen::Index l = 0; l < C_.rows(); ++l)
            if (count_(l)) C_.row(l) /= static_cast<float>(count_(l));
        return w2s::FitStatus::success;
    }
    [[nodiscard]] int predict_one(std::span<const float> x) const {
        w2s::route::check_dim("NearestCentroid.predict_one", x.size(), dim());
        const Eigen::Map<const Eigen::RowVectorXf> v(x.data(), static_cast<Eigen::Index>(x.size()));
        int best = -1;
        float bd = 0.0f;
        for (Eigen::Index l = 0; l < C_.rows(); ++l) {
            if (!count_(l)) continue;
            const float d = (C_.row(l) - v).squaredNorm();
            if (best < 0 || d < bd) best = static_cast<int>(l), bd = d;
        }
        return best;
    }
    [[nodiscard]] w2s::route::Layers predict(const w2s::route::FeaturesRef& X) const {
        w2s::route::Layers out(X.rows());
        for (Eigen::Index i = 0; i < X.rows(); ++i) {
            const Eigen::RowVectorXf r = X.row(i);
            out(i) = predict_one(std::span<const float>(r.data(), static_cast<std::size_t>(r.size())));
        }
        return out;
    }
    void save(std::ostream& os) const {
        w2s::route::RouterWriter w(os);
        w.header(kind, 1);
        w.put_matrix(C_);
        w.put_matrix(count_);
    }
    void load(std::istream& is) {
        w2s::route::RouterReader r(is, "NearestCentroid");
        (void)r.header(kind, 1);
        C_ = r.get_matrix<w2s::route::Features>("centroids");
        count_ = r.get_matrix<Eigen::VectorXi>("counts", C_.rows(), 1);
    }
    [[nodiscard]] w2s::FitStatus info() const { return w2s::FitStatus::success; }
    [[nodiscard]] int layers() const { return static_cast<int>(C_.rows()); }
    [[nodiscard]] int dim() const { return static_cast<int>(C_.cols()); }

private:
    w2s::route::Features C_;  // [layers x d]
    Eigen::VectorXi count_;   // [layers]
};
static_assert(w2s::route::Router<NearestCentroid>);

/// A user's embedding that reads the prompt's ids as well as its residuals: the last-token residual with the
/// prompt length appended. The "scale" setting is the user's (not in the bundle): load() gets the object again.
struct ResidualAndLength {
    using input_type = w2s::route::PromptInput;
    static constexpr std::string_view kind = "residual+length";
    std::size_t hidden = 0;
    float scale = 1.0f;
    [[nodiscard]] std::size_t dim() const { return hidden + 1; }
    [[nodiscard]] Eigen::VectorXf embed(const w2s::route::PromptInput& in) const {
        Eigen::VectorXf v(static_cast<Eigen::Index>(hidden + 1));
        std::copy_n(in.residuals.last.data(), hidden, v.data());
        v(static_cast<Eigen::Index>(hidden)) = scale * static_cast<float>(in.ids.size());
        return v;
    }
};
static_assert(w2s::route::PromptEmbedding<ResidualAndLength>);

}  // namespace

BOOST_FIXTURE_TEST_SUITE(adaptive, Fixture)

BOOST_AUTO_TEST_CASE(profile_router_end_to_end) {
    check_fit_choose_save_load<w2s::AdaptiveSteerer<w2s::model::LlamaModel>>(model, items, dir);
}

BOOST_AUTO_TEST_CASE(knn_router_end_to_end) {
    check_fit_choose_save_load<w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV>>(model, items, dir);
}

BOOST_AUTO_TEST_CASE(bundle_of_another_router_is_refused) {
    w2s::ThreadPool pool(1);
    w2s::AdaptiveSteerer<w2s::model::LlamaModel> s(model);
    s.fit(std::span(items).first(12), pool);
    s.save(dir + "/b_profile");
    using Knn = w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV>;
    BOOST_CHECK_THROW(Knn::load(model, dir + "/b_profile"), w2s::invalid_argument);
    BOOST_CHECK_THROW(w2s::AdaptiveSteerer<w2s::model::LlamaModel>::load(model, dir + "/missing"), w2s::io_error);
}

BOOST_AUTO_TEST_CASE(a_bundle_whose_parts_disagree_is_refused_naming_what) {
    // The router indexes 'layers' and the steering reads them: an empty list, a block outside the model, a block
    // twice, a fixed layer outside the list, or a router over another number of layers must not load.
    w2s::ThreadPool pool(1);
    using S = w2s::AdaptiveSteerer<w2s::model::LlamaModel>;
    S s(model);
    s.fit(std::span(items).first(12), pool);
    const std::string good = dir + "/b_checked";
    s.save(good);
    const auto j = nlohmann::json::parse(w2s::test::read_file(good + "/bundle.json"));
    BOOST_TEST_REQUIRE(j.at("layers").size() == 2u);  // the tiny model's blocks 1 and 2
    auto with = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
        const std::string d = dir + "/" + name;
        std::filesystem::remove_all(d);
        std::filesystem::copy(good, d);
        nlohmann::json k = j;
        edit(k);
        std::ofstream(d + "/bundle.json") << k.dump(2);
        return d;
    };
    const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases{
        {[](nlohmann::json& k) { k["layers"] = nlohmann::json::array(); }, "'layers' is empty"},
        {[](nlohmann::json& k) { k["layers"] = {1, 7}; }, "'layers' holds block 7, expected blocks 1..2 of this model"},
        {[](nlohmann::json& k) { k["layers"] = {0, 2}; }, "'layers' holds block 0, expected blocks 1..2"},
        {[](nlohmann::json& k) { k["layers"] = {2, 2}; }, "'layers' holds block 2 twice"},
        {[](nlohmann::json& k) { k["fixed_layer"] = 5; }, "'fixed_layer' 5 is not one of 'layers'"},
        {[](nlohmann::json& k) { k["layers"] = {2}; k["fixed_layer"] = 2; }, "the router picks among 2 layers, bundle.json lists 1"},
        // nlohmann's get<int>() cast a float to int unchecked (1e300: undefined behaviour; 2.5 became 2) and wrapped a
        // 64-bit integer: the integer fields are checked (w2s/io/json_fields.hpp), naming the field and the value.
        {[](nlohmann::json& k) { k["fixed_layer"] = 1e300; }, "bundle.json: field 'fixed_layer' is 1e+300 (number), expected an integer"},
        {[](nlohmann::json& k) { k["n_layers"] = 2.5; }, "bundle.json: field 'n_layers' is 2.5 (number), expected an integer"},
        {[](nlohmann::json& k) { k["layers"] = {1, -1e30}; }, "bundle.json: field 'layers[1]' is -1e+30 (number), expected an integer"},
        {[](nlohmann::json& k) { k["embedding_block"] = (std::int64_t{1} << 32) + 1; }, "bundle.json: field 'embedding_block' is 4294967297, expected an integer within"},
        {[](nlohmann::json& k) { k["format_version"] = 3e9; }, "bundle.json: field 'format_version' is 3000000000.0 (number), expected an integer"},
    };
    int n = 0;
    for (const auto& [edit, want] : cases) {
        const std::string d = with("b_bad" + std::to_string(n++), edit);
        try {
            (void)S::load(model, d);
            BOOST_ERROR("loaded a bundle that should say: " << want);
        } catch (const w2s::format_error& e) {
            BOOST_TEST(std::string(e.what()).find(want) != std::string::npos, e.what());
        }
    }
    BOOST_CHECK_NO_THROW((void)S::load(model, good));
}

BOOST_AUTO_TEST_CASE(a_bundle_saved_over_another_is_swapped_in_whole) {
    // save() writes into a staged sibling folder and swaps it in with one rename: after saving a second fit over
    // the first, the folder holds exactly the second (its three files), no staged folder of this save is left, and
    // a staged folder left by an interrupted save (here made by hand, with a half-written file) is never read.
    w2s::ThreadPool pool(1);
    using S = w2s::AdaptiveSteerer<w2s::model::LlamaModel>;
    const std::string b = dir + "/b_swap";
    S first(model);
    first.fit(std::span(items).first(12), pool);
    first.save(b);
    std::ofstream(b + "/stray.txt") << "left by the user";
    S second(model);
    second.fit(std::span(items).subspan(8, 12), pool);
    std::filesystem::create_directories(b + ".w2s-partial-1");
    std::ofstream(b + ".w2s-partial-1/bundle.json") << "{\"format\": \"w2s-bu";  // an interrupted save elsewhere
    // the swap replaces the folder whole, so a file of the user's own in it is refused, named, and kept
    try {
        second.save(b);
        BOOST_ERROR("saved over a folder holding a file of the user's own");
    } catch (const w2s::io_error& e) {
        BOOST_TEST(std::string(e.what()).find("holds 'stray.txt', which is not a bundle file") != std::string::npos, e.what());
    }
    BOOST_TEST(std::filesystem::exists(b + "/stray.txt"));
    std::filesystem::remove(b + "/stray.txt");
    second.save(b + "/");  // a trailing slash names the same folder
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(b)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    BOOST_TEST(names == (std::vector<std::string>{"bundle.json", "router.bin", "vectors.gguf"}), boost::test_tools::per_element());
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string f = e.path().filename().string();
        BOOST_TEST((f.find("b_swap.w2s-partial-") != 0 || f == "b_swap.w2s-partial-1"), f);  // only the hand-made one
    }
    const auto t = S::load(model, b);
    for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(t.choose_layer(items[i].prompt) == second.choose_layer(items[i].prompt));
    BOOST_TEST(t.fixed_layer() == second.fixed_layer());
}

BOOST_AUTO_TEST_CASE(unfitted_steerer_refuses_to_choose) {
    w2s::AdaptiveSteerer<w2s::model::LlamaModel> s(model);
    BOOST_CHECK_THROW((void)s.choose_layer(items[0].prompt), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)s.generate(items[0].prompt, 1.0f, {}), w2s::invalid_argument);
    BOOST_CHECK_THROW(s.save(dir + "/never"), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_refused_before_any_work) {
    using S = w2s::AdaptiveSteerer<w2s::model::LlamaModel>;
    auto with = [&](auto set) {
        w2s::AdaptiveOptions o;
        set(o);
        return o;
    };
    BOOST_CHECK_THROW(S(model, {}, with([](auto& o) { o.embedding_block = -2; })), w2s::invalid_argument);
    BOOST_CHECK_THROW(S(model, {}, with([&](auto& o) { o.embedding_block = model.n_layers(); })), w2s::invalid_argument);
    BOOST_CHECK_THROW(S(model, {}, with([](auto& o) { o.layers = {0, 1}; })), w2s::invalid_argument);
    BOOST_CHECK_THROW(S(model, {}, with([](auto& o) { o.multipliers = {-1.0, std::nan("")}; })), w2s::invalid_argument);
    w2s::ThreadPool pool(1);
    S s(model);
    BOOST_CHECK_THROW((void)s.fit(std::span(items).first(1), pool), w2s::invalid_argument);  // one item: before the sweep
    (void)s.fit(std::span(items).first(8), pool);
    for (float alpha : {std::nanf(""), std::numeric_limits<float>::infinity(), 1e30f})
        BOOST_CHECK_THROW((void)s.generate(items[0].prompt, alpha, {}), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)s.generate(std::span<const w2s::model::token_id>{}, 1.0f, {}), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_non_finite_steering_term_is_an_error_naming_the_layer) {
    w2s::steer::VectorSet vs(model.n_layers(), model.hidden_size());
    std::vector<float> v(static_cast<std::size_t>(model.hidden_size()), 0.0f);
    v[3] = std::numeric_limits<float>::infinity();
    vs.set(1, v);
    try {
        const w2s::steer::SteeringHook h(vs, 1, 1.0f, w2s::steer::Positions::all());
        BOOST_FAIL("no error");
    } catch (const w2s::numeric_error& e) {
        BOOST_TEST(std::string(e.what()).find("layer 1") != std::string::npos);
        BOOST_TEST(std::string(e.what()).find("index 3") != std::string::npos);
    }
    // Finite values whose product with the multiplier overflows are refused the same way.
    v[3] = 1e37f;
    vs.set(1, v);
    BOOST_CHECK_THROW(w2s::steer::SteeringHook(vs, 1, 100.0f, w2s::steer::Positions::all()), w2s::numeric_error);
    // A multiplier of zero adds nothing and is accepted whatever the vector's size.
    BOOST_CHECK_NO_THROW(w2s::steer::SteeringHook(vs, 1, 0.0f, w2s::steer::Positions::all()));
    // A prompt beyond the model's context (2048 for the tiny model) is refused with the context in the message.
    std::vector<w2s::model::token_id> longp(model.context_length() + 1, 5);
    auto s2 = model.new_session();
    try {
        model.prefill(s2, longp);
        BOOST_FAIL("no error");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("context of 2048") != std::string::npos);
    }
}


BOOST_AUTO_TEST_CASE(free_text_pairs_fit_and_round_trip) {
    // Multi-token replies scored by log-probability, activations at the reply's last token.
    std::mt19937_64 g(8);
    std::uniform_int_distribution<int> tok(3, 200);
    std::vector<w2s::steer::TokenizedItem> ft;
    for (std::size_t i = 0; i < 20; ++i) {
        w2s::steer::TokenizedItem it;
        it.item = i;
        it.scoring = w2s::steer::Scoring::logprob_sum;
        it.read = w2s::steer::ReadAt::last;
        for (std::size_t p = 0; p < 4 + i % 5; ++p) it.prompt.push_back(tok(g));
        for (std::size_t j = 0; j < 3 + i % 3; ++j) it.response[0].push_back(tok(g));
        for (std::size_t j = 0; j < 2 + i % 4; ++j) it.response[1].push_back(tok(g));
        ft.push_back(it);
    }
    check_fit_choose_save_load<w2s::AdaptiveSteerer<w2s::model::LlamaModel>>(model, ft, dir + "/free");
}

namespace {
/// Free-text items as text (the steerer formats them): prompts and replies over a small vocabulary.
std::vector<w2s::steer::Item> text_items(std::size_t n) {
    const char* words[] = {"cat", "sat", "on", "the", "mat", "in", "a", "hat", "and", "ran"};
    std::vector<w2s::steer::Item> out;
    std::mt19937_64 g(3);
    auto phrase = [&](std::size_t k) {
        std::string s;
        for (std::size_t j = 0; j < k; ++j) s += std::string(j ? " " : "") + words[g() % 10];
        return s;
    };
    for (std::size_t i = 0; i < n; ++i) {
        w2s::steer::Item it;
        it.kind = w2s::steer::ItemKind::free_text;
        it.behaviour = "toy";
        it.source = "generated";
        it.line = i + 1;
        it.question = phrase(3 + i % 4);
        it.matching = phrase(2 + i % 3);
        do it.not_matching = phrase(2 + i % 2); while (it.not_matching == it.matching);
        out.push_back(it);
    }
    return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_prompt_with_several_reply_pairs_is_one_item_of_the_mean_over_its_pairs) {
    w2s::ThreadPool pool(2);
    // 10 prompts of 3 pairs each (each pair: the replies of another generated item).
    const auto base = text_items(30);
    std::vector<w2s::steer::Item> multi;
    for (std::size_t j = 0; j < 10; ++j) {
        w2s::steer::Item it = base[j];
        it.index = j;
        it.pairs.clear();
        for (std::size_t k = 0; k < 3; ++k)
            it.pairs.push_back({base[10 * k + j].matching, base[10 * k + j].not_matching, "t" + std::to_string(k)});
        it.matching = it.pairs[0].positive, it.not_matching = it.pairs[0].negative;
        multi.push_back(it);
    }
    w2s::AdaptiveOptions o;
    o.layers = {1, 2};
    w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV> s(model, {}, o);
    const auto sum = s.fit(std::span<const w2s::steer::Item>(multi), pool);
    BOOST_TEST(sum.n_items == 10u);  // prompts, not cells
    // The vectors come from every cell, not only each prompt's first pair.
    const auto cells = w2s::steer::expand_pairs(multi);
    BOOST_REQUIRE(cells.size() == 30u);
    const auto t = w2s::text::select_template(model, "auto");
    const auto tok = w2s::steer::tokenize_items(model.tokenizer(), t, cells, w2s::steer::Variant::base, nullptr, {});
    w2s::steer::ExtractOptions eo;
    eo.layers = o.layers;
    const auto want = w2s::steer::extract_vectors(model, std::span<const w2s::steer::TokenizedItem>(tok), w2s::steer::MeanDifference{}, eo, pool);
    for (int l : o.layers) {
        const auto a = s.vectors().at(l), b = want.vectors.at(l);
        BOOST_TEST(std::vector<float>(a.begin(), a.end()) == std::vector<float>(b.begin(), b.end()), boost::test_tools::per_element());
    }
    // A prompt's steerability is the mean over its pairs: with every pair given twice, the fit is the fit of the
    // single-pair items (same vectors, each profile the mean of two equal cells).
    std::vector<w2s::steer::Item> single(base.begin(), base.begin() + 10), twice = single;
    for (auto& it : twice) it.pairs = {{it.matching, it.not_matching, "a"}, {it.matching, it.not_matching, "b"}};
    w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV> s1(model, {}, o), s2(model, {}, o);
    const auto f1 = s1.fit(std::span<const w2s::steer::Item>(single), pool);
    const auto f2 = s2.fit(std::span<const w2s::steer::Item>(twice), pool);
    BOOST_TEST(f1.n_items == f2.n_items);
    BOOST_TEST(f1.fixed_layer == f2.fixed_layer);
    BOOST_TEST(f1.fixed_mean == f2.fixed_mean, boost::test_tools::tolerance(1e-9));
    for (const char* q : {"the cat ran", "a hat on the mat"}) BOOST_TEST(s1.choose_layer(q) == s2.choose_layer(q));
}

BOOST_AUTO_TEST_CASE(the_steerer_formats_prompts_one_way_and_its_bundle_keeps_the_format) {
    w2s::ThreadPool pool(2);
    const auto items = text_items(14);
    w2s::AdaptiveOptions o;
    o.format.system = "Be brief.";
    w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV> s(model, {}, o);
    (void)s.fit(std::span<const w2s::steer::Item>(items), pool, {}, w2s::steer::PCA{});
    // Text calls use the steerer's format: the same ids as rendering (system, user) with the model's template.
    const auto want = w2s::text::prompt_ids(model, {"auto", "Be brief."}, "the cat ran");
    BOOST_TEST(s.prompt_ids("the cat ran") == want, boost::test_tools::per_element());
    BOOST_TEST(s.choose_layer("the cat ran") == s.choose_layer(std::span<const w2s::model::token_id>(want)));
    w2s::model::GenerateOptions go;
    go.max_tokens = 3;
    go.stop_at_eog = false;
    const auto g_text = s.generate("the cat ran", 0.0f, go);
    const auto g_ids = s.generate(std::span<const w2s::model::token_id>(want), 0.0f, go);
    BOOST_TEST(g_text.layer == g_ids.layer);
    BOOST_TEST(g_text.result.tokens == g_ids.result.tokens, boost::test_tools::per_element());
    // The bundle keeps the format and the estimator; with_bundle finds the router kind by itself.
    const std::string b = dir + "/formatted";
    s.save(b);
    int layer = -1;
    std::string kind;
    w2s::with_bundle(model, b, [&](const auto& t) {
        kind = std::string(std::remove_cvref_t<decltype(t)>::router_type::kind);
        BOOST_TEST(t.options().format.system == "Be brief.");
        BOOST_TEST(t.vectors().estimator == "pca");
        layer = t.choose_layer("the cat ran");
    });
    BOOST_TEST(kind == "knn");
    BOOST_TEST(layer == s.choose_layer("the cat ran"));
    BOOST_TEST(w2s::bundle_router_kind(b) == "knn");
    // A version-1 bundle (no prompt format) still loads, with the protocol's default format.
    nlohmann::json j;
    {
        std::ifstream f(b + "/bundle.json");
        j = nlohmann::json::parse(f);
    }
    j["format_version"] = 1;
    j.erase("template");
    j.erase("system");
    {
        std::ofstream f(b + "/bundle.json");
        f << j.dump();
    }
    const auto v1 = w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV>::load(model, b);
    BOOST_TEST(v1.options().format.system == std::string(w2s::steer::kDefaultSystemPrompt));
    j["format_version"] = 3;
    {
        std::ofstream f(b + "/bundle.json");
        f << j.dump();
    }
    BOOST_CHECK_THROW(w2s::with_bundle(model, b, [](const auto&) {}), w2s::format_error);
    BOOST_CHECK_THROW((void)w2s::bundle_router_kind(dir + "/nowhere"), w2s::io_error);
}

BOOST_AUTO_TEST_CASE(a_control_vector_becomes_a_hook_at_one_layer_or_all) {
    w2s::steer::VectorSet vs(model.n_layers(), model.hidden_size());
    std::vector<float> v(static_cast<std::size_t>(model.hidden_size()), 0.5f);
    vs.set(1, v);
    vs.set(2, v);
    BOOST_TEST(w2s::steer::control_vector_hook(vs, 2.0f).terms().size() == 2u);
    const auto one = w2s::steer::control_vector_hook(vs, 2.0f, 2);
    BOOST_TEST(one.terms().size() == 1u);
    BOOST_TEST(one.terms()[0].layer == 2);
    BOOST_TEST(one.terms()[0].multiplier == 2.0f);
    BOOST_CHECK_THROW((void)w2s::steer::control_vector_hook(vs, 1.0f, 0), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_backend_with_prefill_only_runs_the_whole_path_through_the_adapter) {
    // PrefillTails<B> gives a prefill-only backend the sweep tier; the steerer fitted through it matches the one
    // fitted on the native forward_tails (vectors, the sweep's fixed layer, the layer chosen per prompt).
    w2s::ThreadPool pool(2);
    const auto train = std::span(items).first(12);
    w2s::AdaptiveSteerer<w2s::model::LlamaModel> native(model);
    const auto a = native.fit(train, pool);
    const w2s::model::PrefillTails<w2s::model::LlamaModel> slow(model);
    w2s::AdaptiveSteerer<w2s::model::PrefillTails<w2s::model::LlamaModel>> emulated(slow);
    const auto b = emulated.fit(train, pool);
    BOOST_TEST(a.fixed_layer == b.fixed_layer);
    BOOST_TEST(std::abs(a.fixed_mean - b.fixed_mean) <= 1e-4);
    for (int l : a.layers) {
        const auto va = native.vectors().at(l), vb = emulated.vectors().at(l);
        for (std::size_t j = 0; j < va.size(); ++j) BOOST_TEST(std::abs(va[j] - vb[j]) <= 1e-4f);
    }
    for (const auto& it : items) BOOST_TEST(native.choose_layer(it.prompt) == emulated.choose_layer(it.prompt));
}

BOOST_AUTO_TEST_CASE(a_router_of_ones_own_runs_through_fit_the_evaluation_and_a_bundle) {
    w2s::ThreadPool pool(2);
    const auto train = std::span(items).first(16);
    using S = w2s::AdaptiveSteerer<w2s::model::LlamaModel, NearestCentroid>;
    S s(model);
    const auto fit = s.fit(train, pool);
    BOOST_TEST(fit.layers.size() == s.router().layers() + 0u);
    std::vector<int> chosen;
    for (const auto& it : items) chosen.push_back(s.choose_layer(it.prompt));
    s.save(dir + "/centroid");
    const auto t = S::load(model, dir + "/centroid");
    for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(t.choose_layer(items[i].prompt) == chosen[i]);
    // The evaluation takes it next to (or instead of) the library's routers.
    w2s::sweep::SweepOptions so;
    so.layers = fit.layers;
    so.embedding_layers = {model.n_layers() / 2};
    so = w2s::sweep::resolve_options(model, s.vectors(), so);
    const auto h = w2s::sweep::make_header(model, so, "tiny", "items", "BASE", "");
    const auto tr = w2s::sweep::run_sweep(model, train, s.vectors(), so, h, "", pool);
    const auto te = w2s::sweep::run_sweep(model, std::span(items).subspan(16), s.vectors(), so, h, "", pool);
    w2s::eval::PipelineOptions po;
    po.routers = {"knn"};
    po.custom_routers.push_back(w2s::eval::router_entry<NearestCentroid>());
    const auto rep = w2s::eval::evaluate_behaviour("toy", tr, std::span(&te, 1), po);
    std::size_t mine = 0, knn = 0;
    for (const auto& m : rep.pairs.front().methods) {
        mine += m.method.rfind("W2S-centroid@", 0) == 0;
        knn += m.method.rfind("W2S-knn@", 0) == 0;
    }
    BOOST_TEST(mine == 2u);  // one embedding block x {last, mean}
    BOOST_TEST(knn == 2u);
}

BOOST_AUTO_TEST_CASE(an_embedding_of_ones_own_fills_the_embedding_slot) {
    w2s::ThreadPool pool(2);
    const auto train = std::span(items).first(16);
    using S = w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV, ResidualAndLength>;
    const ResidualAndLength emb{static_cast<std::size_t>(model.hidden_size()), 0.5f};
    S s(model, {}, {}, emb);
    const auto fit = s.fit(train, pool);
    BOOST_TEST(fit.n_items == 16u);
    BOOST_TEST(s.router().dim() == model.hidden_size() + 1);  // the router sees the user's d, not hidden
    std::vector<int> chosen;
    for (const auto& it : items) {
        chosen.push_back(s.choose_layer(it.prompt));
        BOOST_TEST(std::count(fit.layers.begin(), fit.layers.end(), chosen.back()) == 1);
    }
    // The length feature matters: the same residuals with another length can route elsewhere, and choose_column
    // agrees with choose_layer.
    auto sess = model.new_session();
    const auto res = s.prompt_residuals(sess, items[0].prompt);
    const int col = s.choose_column({items[0].prompt, res});
    BOOST_TEST(s.layers()[static_cast<std::size_t>(col)] == chosen[0]);
    s.save(dir + "/user_emb");
    {
        std::ifstream f(dir + "/user_emb/bundle.json");
        BOOST_TEST(nlohmann::json::parse(f).at("embedding").get<std::string>() == "residual+length");
    }
    const auto t = S::load(model, dir + "/user_emb", emb);
    for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(t.choose_layer(items[i].prompt) == chosen[i]);
    // A steerer with another embedding refuses the bundle, and the reverse.
    using Plain = w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV>;
    BOOST_CHECK_THROW((void)Plain::load(model, dir + "/user_emb"), w2s::invalid_argument);
    Plain p(model);
    p.fit(train, pool);
    p.save(dir + "/plain_emb");
    BOOST_CHECK_THROW((void)S::load(model, dir + "/plain_emb", emb), w2s::invalid_argument);
    // A wrong dim() is caught with its numbers.
    struct Liar : ResidualAndLength {
        [[nodiscard]] std::size_t dim() const { return hidden + 3; }
    };
    using L = w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV, Liar>;
    L liar(model, {}, {}, Liar{emb});
    BOOST_CHECK_THROW(liar.fit(train, pool), w2s::shape_error);
}

BOOST_AUTO_TEST_CASE(the_projection_embedding_reads_the_steering_vectors_through_the_slot) {
    w2s::ThreadPool pool(2);
    const auto train = std::span(items).first(16);
    using P = w2s::ProjectionSteerer<w2s::model::LlamaModel>;
    P s(model, {}, {}, w2s::route::ProjectionEmbedding(w2s::route::Pooling::mean));
    const auto fit = s.fit(train, pool);
    // One feature per candidate layer; the directions are the fitted vectors, normalized.
    BOOST_TEST(s.embedding().dim() == fit.layers.size());
    BOOST_TEST(s.embedding().blocks() == fit.layers, boost::test_tools::per_element());
    BOOST_TEST(s.router().dim() == static_cast<int>(fit.layers.size()));
    const auto& dirs = s.embedding().directions();
    for (std::size_t j = 0; j < fit.layers.size(); ++j) {
        const auto v = s.vectors().at(fit.layers[j]);
        double n2 = 0;
        for (float x : v) n2 += static_cast<double>(x) * x;
        for (std::size_t c = 0; c < v.size(); c += 7) BOOST_TEST(dirs.row(j)[c] == v[c] / std::sqrt(n2), boost::test_tools::tolerance(1e-5));
    }
    // The residuals the steerer captures at several blocks are those a one-block steerer captures at each.
    auto sess = model.new_session();
    const auto res = s.prompt_residuals(sess, items[0].prompt);
    BOOST_TEST(res.blocks == fit.layers, boost::test_tools::per_element());
    const int b = fit.layers.back();
    w2s::AdaptiveOptions one;
    one.embedding_block = b;
    const w2s::ProfileSteerer<w2s::model::LlamaModel> plain(model, {}, one);
    auto sess1 = model.new_session();
    const auto res1 = plain.prompt_residuals(sess1, items[0].prompt);
    const std::size_t H = static_cast<std::size_t>(model.hidden_size()), e = fit.layers.size() - 1;
    for (std::size_t c = 0; c < H; ++c) {
        BOOST_TEST(res.mean[e * H + c] == res1.mean[c]);
        BOOST_TEST(res.last[e * H + c] == res1.last[c]);
    }
    // Choices, a bundle that restores the pooling, and the refusal of an embedding with other settings.
    std::vector<int> chosen;
    for (const auto& it : items) {
        chosen.push_back(s.choose_layer(it.prompt));
        BOOST_TEST(std::count(fit.layers.begin(), fit.layers.end(), chosen.back()) == 1);
    }
    s.save(dir + "/proj");
    {
        std::ifstream f(dir + "/proj/bundle.json");
        const auto j = nlohmann::json::parse(f);
        BOOST_TEST(j.at("embedding").get<std::string>() == "projection");
        BOOST_TEST(j.at("embedding_settings").get<std::string>() == "pooling=mean");
    }
    const auto t = P::load(model, dir + "/proj");
    BOOST_TEST((t.embedding().pooling() == w2s::route::Pooling::mean));
    BOOST_TEST(t.embedding().dim() == fit.layers.size());
    for (std::size_t i = 0; i < items.size(); ++i) BOOST_TEST(t.choose_layer(items[i].prompt) == chosen[i]);
    BOOST_CHECK_THROW((void)P::load(model, dir + "/proj", w2s::route::ProjectionEmbedding(w2s::route::Pooling::last)),
                      w2s::invalid_argument);
    BOOST_CHECK_THROW((void)w2s::ProfileSteerer<w2s::model::LlamaModel>::load(model, dir + "/proj"), w2s::invalid_argument);
    // Steered generation at the chosen layer; alpha = 0 is plain generation.
    w2s::model::GenerateOptions go;
    go.max_tokens = 4;
    go.stop_at_eog = false;
    const auto g0 = t.generate(items[3].prompt, 0.0f, go);
    BOOST_TEST(g0.layer == chosen[3]);
    const auto base = w2s::model::generate(model, std::span<const w2s::model::token_id>(items[3].prompt), go);
    BOOST_TEST(g0.result.tokens == base.tokens, boost::test_tools::per_element());
    // From precomputed pieces: a sweep that lacks a candidate layer's residuals is refused, naming the block.
    w2s::sweep::SweepOptions so;
    so.layers = fit.layers;
    so.embedding_layers = {fit.layers.front()};
    const auto h = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, s.vectors(), so), "", "", "", "");
    const auto sw = w2s::sweep::run_sweep(model, train, s.vectors(), so, h, "", pool);
    P q(model);
    BOOST_CHECK_THROW(q.fit(s.vectors(), sw, train), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_data_file_to_token_ids_in_one_call) {
    const std::string ft = w2s::test::source_dir() + "/examples/data/freetext/sentiment.jsonl";
    const std::string ab = w2s::test::source_dir() + "/examples/data/corrigibility.jsonl";
    w2s::steer::DataSpec d;
    d.path = ft;
    d.part = "test";
    d.max_items = 5;
    const auto f = w2s::steer::load_tokenized(model, d);
    BOOST_TEST(f.items.size() == 5u);
    BOOST_TEST(f.tokenized.size() == 5u);  // free text: one view per pair
    const auto all = w2s::steer::load_part(ft, "all");
    const auto split = w2s::steer::split_items(w2s::steer::load_items(ft));
    BOOST_TEST(all.size() == split.train.size() + split.test.size());
    BOOST_TEST(f.items[0].question == split.test[0].question);  // the seeded split's test part, in its order
    d.path = ab;
    d.part = "train";
    const auto a = w2s::steer::load_tokenized(model, d);
    BOOST_TEST(a.tokenized.size() == 2 * a.items.size());  // A/B: both answer orders
    d.tokenize.orders = w2s::steer::Orders::as_given;
    BOOST_TEST(w2s::steer::load_tokenized(model, d).tokenized.size() == 2 * a.items.size());  // the mirror, weight 0
    BOOST_CHECK_THROW((void)w2s::steer::load_part(ft, "validation"), w2s::invalid_argument);
    BOOST_TEST(!w2s::steer::personas_for(w2s::steer::Variant::base, ft).has_value());
    const auto p = w2s::steer::personas_for(w2s::steer::Variant::sys_pos, ft);
    BOOST_TEST((p.has_value() && p->by_behaviour.count("sentiment") == 1u));
    d.variant = w2s::steer::Variant::user_neg;
    d.path = ft;
    const auto u = w2s::steer::load_tokenized(model, d);
    BOOST_TEST(u.tokenized.front().prompt.size() > f.tokenized.front().prompt.size() / 2);
}

BOOST_AUTO_TEST_SUITE_END()
