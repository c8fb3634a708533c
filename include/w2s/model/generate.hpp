// w2s/model/generate.hpp — text generation over any w2s::model::Backend.
//
// Generation is prefill(prompt) (one call) followed by prefill of one token at a time; the hook (if any) is
// passed to every prefill, so steering during generation is nothing but a hook that adds a vector at a block:
//
//   auto steer = [&](const w2s::model::BlockOutput& o) {        // add alpha * v after block 12
//       if (o.layer != 12) return;
//       for (std::size_t r = 0; r < o.residual.rows; ++r)
//           for (std::size_t j = 0; j < o.residual.cols; ++j) o.residual.row(r)[j] += alpha * v[j];
//   };
//   w2s::model::GenerateOptions opt;
//   opt.max_tokens = 64;
//   opt.sampling = {.temperature = 0.7f, .top_k = 40, .top_p = 0.95f, .seed = 1};
//   auto res = w2s::model::generate(model, prompt_ids, opt, steer,
//                                   [](w2s::model::token_id, std::string_view piece) {
//                                       std::cout << piece << std::flush;
//                                       return true;  // false stops
//                                   });
//
// Stop tokens: the tokenizer's end-of-generation tokens (when it exposes them: is_eog(id), eog_ids() or
// eos_id(); see tokenizer_is_eog) plus GenerateOptions::stop_tokens. A stop token ends the generation and
// is neither returned, streamed nor fed to the session.
//
// Session contents afterwards: the prompt and every returned token except the last one (whose logits would
// only be needed to continue). To continue a conversation, prefill {last returned token, next turn...}.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/model/sampling.hpp"

namespace w2s::model {

struct GenerateOptions {
    int max_tokens = 256;                 ///< most tokens to return (>= 0)
    SamplingParams sampling{};            ///< greedy by default
    std::vector<token_id> stop_tokens{};  ///< extra stop tokens, besides the tokenizer's end-of-generation ones
    bool stop_at_eog = true;              ///< also stop at the tokenizer's end-of-generation tokens
};

enum class StopReason {
    max_tokens,  ///< returned max_tokens tokens
    stop_token,  ///< sampled a stop token (GenerateResult::stop_token)
    callback,    ///< the streaming callback returned false
};

[[nodiscard]] constexpr const char* to_string(StopReason r) noexcept {
    switch (r) {
        case StopReason::max_tokens: return "max_tokens";
        case StopReason::stop_token: return "stop_token";
        case StopReason::callback: return "callback";
    }
    return "?";
}

inline std::ostream& operator<<(std::ostream& os, StopReason r) { return os << to_string(r); }

struct GenerateResult {
    std::vector<token_id> tokens;  ///< generated tokens, stop token excluded
    std::string text;              ///< tokenizer().decode(tokens)
    StopReason reason = StopReason::max_tokens;
    token_id stop_token = -1;      ///< the stop token sampled, when reason == stop_token
    std::size_t prompt_tokens = 0; ///< tokens of the prompt fed in this call
};

/// Streaming callback: the token just generated and the text it completes. A piece may be empty while a
/// multi-byte UTF-8 character is still incomplete; the concatenated pieces are the generated text (an
/// incomplete character left at the very end is only in GenerateResult::text). Return false to stop; the
/// token given is then the last one returned.
using TokenCallback = std::function<bool(token_id, std::string_view piece)>;

/// Whether `id` ends a generation for this tokenizer, asked through the first of these it has: is_eog(id),
/// eog_ids() (a range of ids), eos_id() (one id; negative = none): the EndOfGeneration capability of backend.hpp.
/// False for a tokenizer with none of them (generation then stops only at max_tokens and stop_tokens).
template <class Tok>
[[nodiscard]] bool tokenizer_is_eog(const Tok& tok, token_id id);

/// Generates from `prompt` (>= 1 token), appended to `session` (which may already hold a prefix).
/// `hook` is passed to every prefill (prompt and each generated token). Throws invalid_argument on an empty
/// prompt, a negative max_tokens or bad sampling params; shape_error when the backend's logits are malformed.
template <class B>
GenerateResult generate(const B& backend, typename B::Session& session, std::span<const token_id> prompt,
                        const GenerateOptions& options = {}, const Hook& hook = {},
                        const TokenCallback& on_token = {});

/// Same, in a fresh session (backend.new_session()).
template <class B>
GenerateResult generate(const B& backend, std::span<const token_id> prompt, const GenerateOptions& options = {},
                        const Hook& hook = {}, const TokenCallback& on_token = {});

// ------------------------------------------------------------------------------------------------------------
// Details.

namespace detail {

/// Length of the longest prefix of `s` that does not end inside an incomplete UTF-8 sequence.
[[nodiscard]] inline std::size_t utf8_complete_prefix(std::string_view s) noexcept {
    const std::size_t n = s.size();
    // Look back at most 3 bytes for the lead byte of the last sequence.
    for (std::size_t back = 1; back <= std::min<std::size_t>(n, 4); ++back) {
        const auto c = static_cast<unsigned char>(s[n - back]);
        if ((c & 0xC0u) == 0x80u) continue;  // continuation byte
        std::size_t need = 1;
        if ((c & 0xE0u) == 0xC0u) need = 2;
        else if ((c & 0xF0u) == 0xE0u) need = 3;
        else if ((c & 0xF8u) == 0xF0u) need = 4;
        return back < need ? n - back : n;
    }
    return n;  // only continuation bytes (invalid): nothing to wait for
}

/// Turns a growing token list into text pieces by decoding the whole list and emitting what is new, so that
/// tokenizers that merge bytes across tokens (byte-level BPE) or drop a leading space still stream right.
template <class Tok>
class TextStream {
public:
    explicit TextStream(const Tok& tok) : tok_(tok) {}
    /// Appends `id`; returns the newly completed text.
    std::string push(token_id id) {
        ids_.push_back(id);
        text_ = std::string(tok_.decode(std::span<const token_id>(ids_)));
        const std::size_t ready = utf8_complete_prefix(text_);
        std::string piece;
        if (ready > emitted_) piece = text_.substr(emitted_, ready - emitted_);
        emitted_ = std::max(emitted_, ready);
        return piece;
    }
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    const Tok& tok_;
    std::vector<token_id> ids_;
    std::string text_;
    std::size_t emitted_ = 0;
};

}  // namespace detail

template <class Tok>
bool tokenizer_is_eog(const Tok& tok, token_id id) {
    if constexpr (requires { { tok.is_eog(id) } -> std::convertible_to<bool>; }) {
        return static_cast<bool>(tok.is_eog(id));
    } else if constexpr (requires { tok.eog_ids(); }) {
        for (auto e : tok.eog_ids())
            if (static_cast<token_id>(e) == id) return true;
        return false;
    } else if constexpr (requires { { tok.eos_id() } -> std::convertible_to<token_id>; }) {
        const auto e = static_cast<token_id>(tok.eos_id());
        return e >= 0 && e == id;
    } else {
        (void)tok;
        (void)id;
        return false;
    }
}

template <class B>
GenerateResult generate(const B& backend, typename B::Session& session, std::span<const token_id> prompt,
                        const GenerateOptions& options, const Hook& hook, const TokenCallback& on_token) {
    static_assert(check_generation_backend<B>());
    if (prompt.empty()) throw invalid_argument("generate: the prompt is empty (it needs at least one token)");
    if (options.max_tokens < 0)
        throw invalid_argument("generate: max_tokens must be >= 0, got " + std::to_string(options.max_tokens));
    Sampler sampler(options.sampling);

    const auto& tok = backend.tokenizer();
    auto is_stop = [&](token_id id) {
        return std::find(options.stop_tokens.begin(), options.stop_tokens.end(), id) != options.stop_tokens.end() ||
               (options.stop_at_eog && tokenizer_is_eog(tok, id));
    };

    GenerateResult res;
    res.prompt_tokens = prompt.size();
    if (options.max_tokens == 0) {
        backend.prefill(session, prompt, hook, nullptr);
        return res;
    }

    // The prompt goes in ONE prefill, so a hook sees it as one call (e.g. a "last row of each call" policy
    // sees the prompt's last token). Only the last row of logits is used: a backend that offers the optional
    // prefill_last_logits(session, tokens, hook, logits) ([1 x vocab], the last new token only) saves the
    // [prompt x vocab] buffer and the output matmul of the other rows; otherwise prefill fills every row.
    MatrixRM logits;  // [prompt x vocab] (or [1 x vocab]) after the prompt, then [1 x vocab] per token
    if constexpr (LastLogitsPrefill<B>)
        backend.prefill_last_logits(session, prompt, hook, &logits);
    else
        backend.prefill(session, prompt, hook, &logits);

    const auto vocab = static_cast<Eigen::Index>(backend.vocab_size());
    detail::TextStream<std::remove_cvref_t<decltype(tok)>> stream(tok);
    while (true) {
        if (logits.rows() < 1 || logits.cols() != vocab)
            throw shape_error("generate: the backend returned logits of shape " + std::to_string(logits.rows()) + "x" +
                              std::to_string(logits.cols()) + ", expected rows x " + std::to_string(vocab));
        const std::span<const float> last(logits.row(logits.rows() - 1).data(), static_cast<std::size_t>(vocab));
        for (float v : last)
            if (!std::isfinite(v))
                throw numeric_error("generate: the logits after " + std::to_string(res.tokens.size()) +
                                    " generated token(s) are not finite (NaN or Inf); a steering hook or the weights produced them");
        const token_id next = sampler.sample(last);
        if (is_stop(next)) {
            res.reason = StopReason::stop_token;
            res.stop_token = next;
            break;
        }
        res.tokens.push_back(next);
        const std::string piece = stream.push(next);
        if (on_token && !on_token(next, piece)) {
            res.reason = StopReason::callback;
            break;
        }
        if (static_cast<int>(res.tokens.size()) >= options.max_tokens) {
            res.reason = StopReason::max_tokens;
            break;
        }
        backend.prefill(session, std::span<const token_id>(&res.tokens.back(), 1), hook, &logits);
    }
    res.text = stream.text();
    return res;
}

template <class B>
GenerateResult generate(const B& backend, std::span<const token_id> prompt, const GenerateOptions& options,
                        const Hook& hook, const TokenCallback& on_token) {
    static_assert(check_generation_backend<B>());
    auto session = backend.new_session();
    return generate(backend, session, prompt, options, hook, on_token);
}

}  // namespace w2s::model
