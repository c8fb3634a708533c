// examples/custom_backend — generation with a user-provided backend (toy_backend.hpp).
//
// Builds a tiny random-weight transformer, then generates from it greedily, with sampling, and with a
// steering vector added after one block. The output is gibberish (the weights are random); what matters is
// that w2s's generic code — generation, sampling, steering hooks — runs on a backend it has never seen.
#include <cmath>
#include <iostream>
#include <string>

#include <w2s/model/generate.hpp>

#include "toy_backend.hpp"

namespace {

std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += (c >= 32 && c < 127) ? static_cast<char>(c) : '.';
    return out;
}

}  // namespace

int main() {
    using namespace w2s;
    const examples::ToyTransformer model({.n_layers = 4, .hidden = 32, .n_heads = 4, .ffn = 64, .seed = 7});
    static_assert(model::check_backend<examples::ToyTransformer>());

    std::vector<model::token_id> prompt{examples::ByteTokenizer::bos};
    for (auto id : model.tokenizer().encode("Hello, world")) prompt.push_back(id);

    model::GenerateOptions opt;
    opt.max_tokens = 24;

    // 1. Greedy, streaming each piece as it comes.
    std::cout << "greedy:   ";
    auto greedy = model::generate(model, prompt, opt, {}, [](model::token_id, std::string_view piece) {
        std::cout << printable(std::string(piece)) << std::flush;
        return true;
    });
    std::cout << "   [" << greedy.tokens.size() << " tokens, " << model::to_string(greedy.reason) << "]\n";

    // 2. Sampled: temperature, top-k, top-p and a seed (the same seed gives the same text).
    opt.sampling = {.temperature = 0.8f, .top_k = 20, .top_p = 0.9f, .seed = 123};
    auto sampled = model::generate(model, prompt, opt);
    std::cout << "sampled:  " << printable(sampled.text) << "   [" << model::to_string(sampled.reason) << "]\n";

    // 3. Steered: add alpha * v to the output of block 1 at every position. The hook is the only thing that
    //    changes; the backend knows nothing about steering.
    opt.sampling = {};
    Eigen::VectorXf v = Eigen::VectorXf::LinSpaced(model.hidden_size(), -1.0f, 1.0f);
    const float alpha = 4.0f;
    const int layer = 1;
    model::Hook steer = [&](const model::BlockOutput& o) {
        if (o.layer != layer) return;
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            for (std::size_t j = 0; j < o.residual.cols; ++j) o.residual.row(r)[j] += alpha * v[static_cast<Eigen::Index>(j)];
    };
    auto steered = model::generate(model, prompt, opt, steer);
    std::cout << "steered:  " << printable(steered.text) << "   [layer " << layer << ", alpha " << alpha << "]\n";
    return 0;
}
