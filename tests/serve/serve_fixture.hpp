// Test support of tests/serve: a tiny random llama of 6 blocks and two W2S bundles fitted on it (different items,
// different routers), saved under a temporary folder as <dir>/bundles/{alpha,beta}. Made once per test process.
#pragma once

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/model/model.hpp>

#include "tiny_model.hpp"
#include "w2s_test_support.hpp"

namespace w2s::test {

struct ServeFixture {
    std::string dir;
    model::LlamaModel model;
    std::string bundles;  // the folder of bundles

    static std::string make_model(const std::string& dir) {
        TinyModelOptions o;
        o.n_layers = 6;
        o.seed = 11;
        return make_tiny_model(dir, o);
    }

    /// Random A/B-like token items (as tests/adaptive makes them), from `seed`.
    static std::vector<steer::TokenizedItem> items(std::uint64_t seed) {
        std::mt19937_64 g(seed);
        std::uniform_int_distribution<int> tok(3, 200);
        std::vector<steer::TokenizedItem> out;
        for (std::size_t i = 0; i < 14; ++i) {
            steer::TokenizedItem it;
            it.item = i;
            for (std::size_t p = 0; p < 5 + i % 7; ++p) it.prompt.push_back(tok(g));
            const bool a_matches = (i / 2) % 2 == 0;
            it.response[0] = {40, a_matches ? 65 : 66, 41};
            it.response[1] = {40, a_matches ? 66 : 65, 41};
            out.push_back(it);
        }
        return out;
    }

    ServeFixture() : dir(temp_dir("serve")), model(model::LlamaModel::load(make_model(dir))), bundles(dir + "/bundles") {
        if (std::filesystem::exists(bundles + "/beta/bundle.json")) return;
        ThreadPool pool(2);
        {
            AdaptiveSteerer<model::LlamaModel> s(model);
            const auto it = items(5);
            s.fit(std::span<const steer::TokenizedItem>(it), pool);
            s.save(bundles + "/alpha");
        }
        {
            AdaptiveSteerer<model::LlamaModel, route::KnnCV> s(model);
            const auto it = items(9);
            s.fit(std::span<const steer::TokenizedItem>(it), pool);
            s.save(bundles + "/beta");
        }
    }

    /// A prompt of n tokens (ids 3..258), different per seed.
    static std::vector<model::token_id> prompt(std::size_t n, std::uint64_t seed) {
        std::mt19937_64 g(seed);
        std::uniform_int_distribution<int> tok(3, 258);
        std::vector<model::token_id> p{1};
        while (p.size() < n) p.push_back(tok(g));
        return p;
    }
};

}  // namespace w2s::test
