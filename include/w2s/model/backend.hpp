// w2s/model/backend.hpp — the backend concepts: the extension point for users' transformers.
//
// Two tiers and named optional capabilities:
//   GenerationBackend  what steered generation and the layer choice need: sessions, sizes, a tokenizer, prefill.
//   Backend            (the sweep tier) a GenerationBackend with forward_tails: what vectors, the sweep, the
//                      direct measurement, the evaluation and AdaptiveSteerer need. A GenerationBackend gets it
//                      from w2s/model/prefill_tails.hpp (PrefillTails<B>: forward_tails emulated with session
//                      copies and prefill, exact but slower); a native forward_tails is the fast path, and
//                      check_tails (same header) compares it against the emulation.
//   Optional capabilities, used when present (if constexpr on these concepts), never required:
//     SelectiveLogits    forward_tails_logits: only the requested logits (the sweep of A/B items)
//     LastLogitsPrefill  prefill_last_logits: prefill computing the last row's logits only (generation)
//     EndOfGeneration    the tokenizer's is_eog(id), eog_ids() or eos_id(): where generation stops by itself
//     ChatTemplates      has_chat_template(), chat_template(): the model's prompt format ("auto"); a backend
//                        without it needs an explicit format (text::PromptFormat{"plain", ...} or a family)
//     BatchedDecode      decode_batch: several sequences, each with its own session, advanced by one forward pass
//                        (serving: continuous batching); w2s/model/batched_decode.hpp runs it, or its emulation
//
// Contract (prose). A backend B is a loaded, read-only model that any number of threads may use at once.
//  - B::Session holds one sequence's KV cache. It is a value type: copying it forks the sequence (the copy
//    may share the prefix storage; writes to one never show in the other).
//  - b.n_layers(), b.hidden_size(), b.vocab_size(): sizes. Layers are 0-based blocks 0..n_layers()-1.
//  - b.tokenizer(): encode(text) -> ids, decode(ids) -> text (see w2s/text/tokenizer.hpp).
//  - b.new_session(): an empty session.
//  - b.prefill(session, tokens, hook, logits): appends `tokens` to the session, running every block; calls
//    hook at every block output (rows = the new tokens); when `logits` is non-null it is resized to
//    [tokens x vocab] and filled with the raw logits of every new position. On an exception the session is
//    unchanged.
//  - b.forward_tails(prefix, tails, first_block, hook, logits) (sweep tier): runs a batch of short continuations
//    ("tails") of a shared, read-only prefix session, without changing it. Tail i's rows attend to the prefix, to
//    the rows of its parent chain (parent < i, or -1 for none) and causally to its own earlier rows. With
//    first_block == 0 each tail gives token ids; with first_block in 1..n_layers it gives `input`, the
//    residual entering block first_block (= the output of block first_block-1), and blocks below
//    first_block are not run. The hook is called for blocks >= first_block with seq = the tail's index and
//    pos0 = the absolute position of its first row. `logits` (if non-null) is resized to [sum of tail rows x
//    vocab], rows in tail order. This is what makes the sweep cheap: the prefix is computed once, variants
//    steered at block l resume at l+1 from a stored residual, and the variants go through the blocks as one batch.
//  - b.decode_batch(steps, hook, logits) (optional, BatchedDecode): one forward pass over several sequences. Step i
//    appends steps[i].tokens (>= 1) to its own session *steps[i].session (all sessions distinct), attending to that
//    session's cache only; the weights are read once for all rows. The hook is called at every block output once per
//    step with seq = i and pos0 = the session's size before the call. `logits` (if non-null) becomes [steps x vocab]:
//    row i = the logits of step i's last new token when steps[i].logits, zeros otherwise. Exactness: every step gets
//    what prefill_last_logits(session_i, tokens_i, hook seeing seq 0) gives it alone (bit for bit on the reference
//    backend; within float summation order elsewhere), whatever the other steps are. On an exception every session
//    is unchanged.
// A type that breaks the contract is refused at the point of use by static_assert(check_backend<B>()) (or
// check_generation_backend<B>()) with one readable message.
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/tensor.hpp"
#include "w2s/model/hooks.hpp"

namespace w2s::model {

using token_id = std::int32_t;

/// One continuation of a shared prefix in forward_tails.
struct Tail {
    std::span<const token_id> tokens;  ///< the tail's tokens (always given: positions and bookkeeping)
    ConstMatrixView input;             ///< [tokens.size() x hidden] residual entering first_block; unused when first_block == 0
    int parent = -1;                   ///< index of an earlier tail this one continues, or -1
};

/// One requested raw logit: row `row` of the concatenated tail rows, vocabulary entry `token`.
struct LogitQuery {
    std::size_t row = 0;
    token_id token = 0;
};

/// The minimal tokenizer interface a backend exposes.
template <class T>
concept TokenizerLike = requires(const T& t, std::string_view text, std::span<const token_id> ids) {
    { t.encode(text) } -> std::convertible_to<std::vector<token_id>>;
    { t.decode(ids) } -> std::convertible_to<std::string>;
};

template <class B>
concept GenerationBackend = requires(const B& b, typename B::Session& s, const typename B::Session& cs,
                                     std::span<const token_id> toks, const Hook& hook, MatrixRM* logits) {
    typename B::Session;
    requires std::copyable<typename B::Session>;
    { b.n_layers() } -> std::convertible_to<int>;
    { b.hidden_size() } -> std::convertible_to<int>;
    { b.vocab_size() } -> std::convertible_to<int>;
    { b.tokenizer() } -> TokenizerLike;
    { b.new_session() } -> std::same_as<typename B::Session>;
    { b.prefill(s, toks, hook, logits) };
    { cs.size() } -> std::convertible_to<std::size_t>;  ///< tokens in the session
};

/// The sweep tier: a GenerationBackend with forward_tails (see the file comment).
template <class B>
concept Backend = GenerationBackend<B> && requires(const B& b, const typename B::Session& cs, std::span<const Tail> tails,
                                                   const Hook& hook, MatrixRM* logits, int first_block) {
    { b.forward_tails(cs, tails, first_block, hook, logits) };
};

/// Optional capability: prefill that computes the logits of the last new token only ([1 x vocab]).
template <class B>
concept LastLogitsPrefill = GenerationBackend<B> && requires(const B& b, typename B::Session& s, std::span<const token_id> toks,
                                                             const Hook& hook, MatrixRM* logits) {
    { b.prefill_last_logits(s, toks, hook, logits) };
};

/// Optional capability of a tokenizer: end-of-generation tokens, by is_eog(id), a list eog_ids() or one eos_id().
template <class T>
concept EndOfGeneration = requires(const T& t, token_id id) {
    { t.is_eog(id) } -> std::convertible_to<bool>;
} || requires(const T& t) { t.eog_ids(); } || requires(const T& t) {
    { t.eos_id() } -> std::convertible_to<token_id>;
};

/// One sequence's part of a batched decode: append `tokens` to `*session`; `logits`: compute its last row's logits.
template <class S>
struct BatchStep {
    S* session = nullptr;
    std::span<const token_id> tokens;
    bool logits = true;
};

/// Optional capability: several sequences advanced by one batched forward pass (see the file comment).
template <class B>
concept BatchedDecode = GenerationBackend<B> && requires(const B& b, std::span<const BatchStep<typename B::Session>> steps,
                                                         const Hook& hook, MatrixRM* logits) {
    { b.decode_batch(steps, hook, logits) };
};

/// Optional capability: the model's own chat template (text::select_template's "auto").
template <class B>
concept ChatTemplates = requires(const B& b) {
    { b.has_chat_template() } -> std::convertible_to<bool>;
    b.chat_template();
};

/// Optional capability: forward_tails that computes only the requested logits (out[i] = logit of query i),
/// instead of [rows x vocab]. The sweep needs two or three logits per row; a backend that offers this saves
/// the output head's full matrix product (the largest single matmul of a small model). Same numbers as
/// forward_tails' logits up to summation order.
template <class B>
concept SelectiveLogits = Backend<B> && requires(const B& b, const typename B::Session& cs, std::span<const Tail> tails,
                                                 const Hook& hook, std::span<const LogitQuery> q, std::span<float> out) {
    { b.forward_tails_logits(cs, tails, 0, hook, q, out) };
};

/// Use in templates over backends: one readable error instead of a page of template noise.
template <class B>
constexpr bool check_backend() {
    static_assert(Backend<B>,
                  "w2s: this type is not a w2s::model::Backend. It needs: a copyable nested Session with size(); "
                  "n_layers(), hidden_size(), vocab_size(); tokenizer() with encode/decode; new_session(); "
                  "prefill(Session&, span<const token_id>, const Hook&, MatrixRM*); and "
                  "forward_tails(const Session&, span<const Tail>, int first_block, const Hook&, MatrixRM*) "
                  "(a backend with prefill only gets it from w2s::model::PrefillTails<B>, w2s/model/prefill_tails.hpp). "
                  "See w2s/model/backend.hpp for the contract.");
    return true;
}

/// The same for the generation tier (generate, steered generation).
template <class B>
constexpr bool check_generation_backend() {
    static_assert(GenerationBackend<B>,
                  "w2s: this type is not a w2s::model::GenerationBackend. It needs: a copyable nested Session with "
                  "size(); n_layers(), hidden_size(), vocab_size(); tokenizer() with encode/decode; new_session(); "
                  "prefill(Session&, span<const token_id>, const Hook&, MatrixRM*). "
                  "See w2s/model/backend.hpp for the contract.");
    return true;
}

}  // namespace w2s::model
