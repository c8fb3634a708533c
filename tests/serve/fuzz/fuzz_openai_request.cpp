// libFuzzer target: the server's request parsing (w2s/serve/openai.hpp, openai::parse) on arbitrary request bodies,
// for the tiny random model (its byte-level tokenizer and ChatML template) with one bundle loaded as "alpha"
// (tests/support/fuzz_bundle.hpp). The first byte picks the endpoint (even: chat completions, odd: completions), the
// rest is the body. Seeds: requests of both endpoints with every field the parser knows. Promises: a request that
// parses has a prompt of ids within the vocabulary that, with max_tokens, fits the context; sampling values within
// their documented ranges; at most Defaults::max_steering steering entries, each holding a bundle, a finite alpha in
// +-1000, and a fixed layer the bundle has a vector for. A w2s::error (request_error: a 400 or a 404) is the expected
// answer to a bad request.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <w2s/serve/openai.hpp>

#include "fuzz_bundle.hpp"

using namespace w2s;
using Model = model::LlamaModel;

namespace {

std::unique_ptr<fuzz::BundleFixture> g_fix;
std::unique_ptr<serve::BundleRegistry<Model>> g_reg;
constexpr std::size_t kCtx = 256;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_fix = std::make_unique<fuzz::BundleFixture>();
    g_reg = std::make_unique<serve::BundleRegistry<Model>>(g_fix->model, "");
    g_reg->add("alpha", g_fix->bundle);
    fuzz::write_seed("chat", std::string(1, '\0') +
        R"({"model": "tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
            "max_tokens": 8, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "seed": 3, "stop": ["\n", "END"], "stream": true,
            "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 2, "n": 1, "presence_penalty": 0,
            "steering": [{"bundle": "alpha", "alpha": 1.5, "layer": "auto", "positions": "prompt_end"}, {"bundle": "alpha", "alpha": -2, "layer": 2, "positions": "all"}]})");
    fuzz::write_seed("completion", std::string("\x01") +
        R"({"prompt": "Once upon a time", "max_tokens": 4, "logprobs": 3, "ignore_eos": true, "echo": false, "response_format": {"type": "text"}})");
    fuzz::write_seed("completion_ids", std::string("\x01") + R"({"prompt": [[1, 72, 101, 108]], "max_completion_tokens": 2, "stop": "x", "logit_bias": {}})");
    fuzz::write_seed("chat_developer", std::string(1, '\0') + R"({"messages": [{"role": "developer", "content": "x"}, {"role": "assistant", "content": "y"}, {"role": "user", "content": "z"}]})");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto ep = data[0] % 2 == 0 ? serve::openai::Endpoint::chat : serve::openai::Endpoint::completion;
    const std::string_view body = fuzz::as_text(data + 1, size - 1);
    fuzz::run([&] {
        const serve::openai::Defaults defaults;
        const auto p = serve::openai::parse(ep, body, g_fix->model, *g_reg, kCtx, defaults);
        const auto& r = p.req;
        fuzz::require(!r.prompt.empty() && r.prompt.size() < kCtx, "a parsed prompt that is empty or fills the context");
        for (auto id : r.prompt)
            fuzz::require(id >= 0 && id < static_cast<model::token_id>(g_fix->model.vocab_size()), "a prompt id outside the vocabulary");
        fuzz::require(r.max_tokens >= 1 && r.prompt.size() + static_cast<std::size_t>(r.max_tokens) <= kCtx,
                      "max_tokens < 1, or the prompt and max_tokens exceed the context");
        fuzz::require(r.sampling.temperature >= 0.0f && r.sampling.temperature <= 2.0f, "temperature outside 0..2");
        fuzz::require(r.sampling.top_p > 0.0f && r.sampling.top_p <= 1.0f, "top_p outside (0, 1]");
        fuzz::require(r.top_logprobs <= 20, "top_logprobs above 20");
        fuzz::require(r.steering.size() <= defaults.max_steering, "more steering entries than Defaults::max_steering");
        for (const auto& s : r.steering) {
            fuzz::require(s.bundle != nullptr, "a steering entry without a bundle");
            fuzz::require(std::isfinite(s.alpha) && std::fabs(s.alpha) <= 1000.0f, "a steering alpha outside +-1000");
            fuzz::require(s.layer == -1 || s.bundle->vectors().has(s.layer), "a fixed steering layer the bundle has no vector for");
        }
        for (const auto& s : r.stop) fuzz::require(!s.empty(), "an empty stop string");
        (void)serve::openai::dump(serve::openai::steering_json(p.steering, {}));
    });
    return 0;
}
