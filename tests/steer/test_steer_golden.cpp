// Exactness against the reference implementation (labels model, data): CAA vectors at two layers from 20
// items and the propensities of 5 items at 3 multipliers, computed by tests/reference/make_steer_golden.py
// with PyPI transformers on the same GGUF. w2s agrees within 1e-3 relative.
#define BOOST_TEST_MODULE test_steer_golden
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <w2s/model/model.hpp>
#include <w2s/steer/steer.hpp>

#include "w2s_test_support.hpp"

using namespace w2s::steer;

namespace {

struct Golden {
    nlohmann::json j = nlohmann::json::parse(w2s::test::read_file(w2s::test::golden_path("steer_reference.json")));
    w2s::model::LlamaModel model = w2s::model::LlamaModel::load(w2s::test::model_path());
    std::vector<Item> all = load_items((std::filesystem::path(w2s::test::datasets_dir()) / j["vector_file"].get<std::string>()).string());

    std::vector<TokenizedItem> items(const char* records_key, const char* hashes_key) {
        std::vector<Item> sel;
        for (auto r : j[records_key]) {
            const auto i = r.get<std::size_t>();
            BOOST_REQUIRE(i < all.size());
            BOOST_REQUIRE_EQUAL(all[i].index, i);
            sel.push_back(all[i]);
        }
        // The reference is the single-order protocol (PROTOCOL.md): each item as given, one TokenizedItem each.
        std::vector<TokenizedItem> t;
        for (std::size_t i = 0; i < sel.size(); ++i)
            t.push_back(tokenize_item(model.tokenizer(), model.chat_template(), sel[i], Variant::base, nullptr, i));
        for (std::size_t i = 0; i < t.size(); ++i) {
            const std::string h = w2s::test::fnv1a64_ids(t[i].sequence(0)) + ":" + w2s::test::fnv1a64_ids(t[i].sequence(1));
            BOOST_TEST_INFO("record " << j[records_key][i] << ": token ids differ from transformers' tokenization");
            BOOST_TEST(h == j[hashes_key][i].get<std::string>());
        }
        return t;
    }
};

Golden& golden() {
    static Golden g;
    return g;
}

}  // namespace

BOOST_AUTO_TEST_CASE(caa_vectors_match_transformers) {
    auto& g = golden();
    const auto items = g.items("vector_records", "vector_token_hashes");
    BOOST_TEST(items.size() == 20u);
    const auto layers = g.j["layers"].get<std::vector<int>>();
    w2s::ThreadPool pool(2);
    const auto r = extract_vectors(g.model, items, MeanDifference{}, {.layers = layers}, pool);
    for (int l : layers) {
        const auto ref = g.j["vectors"][std::to_string(l)].get<std::vector<float>>();
        BOOST_REQUIRE_EQUAL(ref.size(), static_cast<std::size_t>(g.model.hidden_size()));
        const Eigen::Map<const Eigen::VectorXf> a(r.vectors.at(l).data(), g.model.hidden_size());
        const Eigen::Map<const Eigen::VectorXf> b(ref.data(), g.model.hidden_size());
        const double rel = (a - b).norm() / b.norm();
        const double max_rel = (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
        BOOST_TEST_MESSAGE("layer " << l << ": |v| = " << b.norm() << ", relative error " << rel << ", max element error / max |v| "
                                    << max_rel);
        BOOST_TEST(rel <= 1e-3);
        BOOST_TEST(max_rel <= 1e-3);
    }
}

BOOST_AUTO_TEST_CASE(propensities_match_transformers) {
    auto& g = golden();
    const auto vitems = g.items("vector_records", "vector_token_hashes");
    const auto pitems = g.items("propensity_records", "propensity_token_hashes");
    const int layer = g.j["propensity_layer"].get<int>();
    const auto mult = g.j["propensity_multipliers"].get<std::vector<double>>();
    const auto ref = g.j["propensities"].get<std::vector<std::vector<double>>>();
    w2s::ThreadPool pool(2);
    const auto vec = extract_vectors(g.model, vitems, MeanDifference{}, {.layers = {layer}}, pool).vectors;
    const std::vector<int> layers{layer};
    for (std::size_t i = 0; i < pitems.size(); ++i) {
        const auto m = measure_item(g.model, pitems[i], vec, layers, mult);
        for (std::size_t k = 0; k < mult.size(); ++k) {
            const double err = std::abs(m(0, k) - ref[i][k]) / std::max(1.0, std::abs(ref[i][k]));
            BOOST_TEST_MESSAGE("item " << i << " lambda " << mult[k] << ": w2s " << m(0, k) << ", transformers " << ref[i][k]
                                       << ", relative error " << err);
            BOOST_TEST(err <= 1e-3);
        }
        // The steering effect itself, m(λ) - m(0), which is small for this model at these multipliers.
        const auto zero = static_cast<std::size_t>(std::find(mult.begin(), mult.end(), 0.0) - mult.begin());
        BOOST_REQUIRE(zero < mult.size());
        for (std::size_t k = 0; k < mult.size(); ++k) {
            const double dw = m(0, k) - m(0, zero), dr = ref[i][k] - ref[i][zero];
            BOOST_TEST(std::abs(dw - dr) <= 0.1 * std::abs(dr) + 1e-4);
        }
    }
}
