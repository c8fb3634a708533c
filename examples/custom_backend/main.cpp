// examples/custom_backend — generation and the whole W2S path on a user-provided backend (toy_backend.hpp).
//
// Builds a tiny random-weight transformer, then generates from it greedily, with sampling, and with a
// steering vector added after one block; checks its forward_tails against the emulation from prefill; and fits
// AdaptiveSteerer on it (vectors, the per-item sweep, a router), natively and through PrefillTails (what a
// backend with prefill only uses). The output is gibberish (the weights are random); what matters is that
// w2s's generic code runs on a backend it has never seen. Last, the benchmark harness (w2s/bench/harness.hpp)
// times the toy's prefill, decode, hook cost and sweep, as the project's benchmarks time LlamaModel.
//
// The toy has no chat template, so it formats prompts itself (here: BOS + bytes) and uses the steerer's id-level
// calls (fit on TokenizedItems, choose_layer / generate on ids). A backend with has_chat_template() and
// chat_template() (the ChatTemplates capability of w2s/model/backend.hpp) can use the text calls instead.
#include <cmath>
#include <iostream>
#include <string>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/bench/harness.hpp>
#include <w2s/model/generate.hpp>
#include <w2s/model/prefill_tails.hpp>

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

    // 4. Is the toy's forward_tails right? Compare it with the emulation from session copies and prefill.
    auto prefix = model.new_session();
    model.prefill(prefix, prompt, {}, nullptr);
    const std::vector<model::token_id> t0{'a', 'b'}, t1{'c'};
    const std::vector<model::Tail> tails{{t0, {}, -1}, {t1, {}, 0}};
    const auto check = model::check_tails(model, prefix, tails);
    std::cout << "check_tails: max logit difference " << check.max_logit_diff << ", max residual difference "
              << check.max_residual_diff << " over " << check.hook_calls << " block outputs\n";

    // 5. W2S on the toy: contrast pairs as ids (a prompt, a positive and a negative reply), the steerer fitted on
    //    them, a layer chosen per prompt. Then the same through PrefillTails, as a backend with prefill only would.
    std::vector<steer::TokenizedItem> items;
    const char* prompts[] = {"How was it?", "Did you like it?", "What do you think?", "Tell me.", "And then?", "Well?"};
    for (std::size_t i = 0; i < 12; ++i) {
        steer::TokenizedItem it;
        it.item = i;
        it.scoring = steer::Scoring::logprob_sum;
        it.read = steer::ReadAt::last;
        it.prompt = {examples::ByteTokenizer::bos};
        for (auto id : model.tokenizer().encode(std::string(prompts[i % 6]) + std::string(i / 6 + 1, ' '))) it.prompt.push_back(id);
        it.response[0] = model.tokenizer().encode(" good");
        it.response[1] = model.tokenizer().encode(" bad");
        items.push_back(it);
    }
    ThreadPool pool(2);
    AdaptiveOptions o;
    o.embedding_block = 1;
    AdaptiveSteerer<examples::ToyTransformer> steerer(model, {}, o);
    const auto fit = steerer.fit(items, pool);
    std::cout << "W2S on the toy: candidate layers";
    for (int l : fit.layers) std::cout << ' ' << l;
    std::cout << ", best fixed layer " << fit.fixed_layer << "; layers chosen per prompt:";
    for (const auto& it : items) std::cout << ' ' << steerer.choose_layer(it.prompt);
    const model::PrefillTails<examples::ToyTransformer> prefill_only(model);
    AdaptiveSteerer<model::PrefillTails<examples::ToyTransformer>> slow(prefill_only, {}, o);
    const auto fit2 = slow.fit(items, pool);
    std::cout << "\nthrough PrefillTails: best fixed layer " << fit2.fixed_layer << " (the same: "
              << (fit2.fixed_layer == fit.fixed_layer ? "yes" : "NO") << ")\n";

    // 6. The benchmark harness on the toy (short settings: the example runs as a test).
    bench::Options bo;
    bo.prompt_tokens = 32;
    bo.gen_tokens = 8;
    bo.reps = 3;
    bo.hook_reps = 10;
    bo.hook_pos = 8;
    const auto rep = bench::run(model, bo);
    std::cout << "\nthe benchmark harness on the toy:\n" << bench::markdown(rep);
    const bool timed = rep.prefill.median() > 0 && rep.decode.median() > 0 && rep.has_sweep && rep.sweep.sweep.median() > 0;
    return fit2.fixed_layer == fit.fixed_layer && timed ? 0 : 1;
}
