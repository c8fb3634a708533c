// Support of the fuzz targets that need a model and a bundle (tests/adaptive/fuzz, tests/serve/fuzz): the tiny random
// llama of tests/support/tiny_model.hpp (4 blocks) written to the process's scratch folder and loaded, and a W2S
// bundle (profile router, residual embedding) fitted on random token items and saved there, as tests/serve's fixture
// does. Made once per process, in LLVMFuzzerInitialize.
#pragma once

#include <random>
#include <span>
#include <string>
#include <vector>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/model/model.hpp>

#include "tiny_model.hpp"
#include "w2s_fuzz.hpp"

namespace w2s::fuzz {

struct BundleFixture {
    model::LlamaModel model;
    std::string bundle;  ///< the fitted bundle's folder

    static std::string make_model() {
        test::TinyModelOptions o;
        o.n_layers = 4;
        o.seed = 5;
        return test::make_tiny_model(scratch_dir(), o);
    }

    BundleFixture() : model(model::LlamaModel::load(make_model())), bundle(scratch_dir() + "/bundle") {
        std::mt19937_64 g(3);
        std::uniform_int_distribution<int> tok(3, 200);
        std::vector<steer::TokenizedItem> items;
        for (std::size_t i = 0; i < 10; ++i) {
            steer::TokenizedItem it;
            it.item = i;
            for (std::size_t p = 0; p < 4 + i % 5; ++p) it.prompt.push_back(tok(g));
            const bool a = (i / 2) % 2 == 0;
            it.response[0] = {40, a ? 65 : 66, 41};
            it.response[1] = {40, a ? 66 : 65, 41};
            items.push_back(it);
        }
        ThreadPool pool(1);
        AdaptiveSteerer<model::LlamaModel> s(model);
        s.fit(std::span<const steer::TokenizedItem>(items), pool);
        s.save(bundle);
    }
};

}  // namespace w2s::fuzz
