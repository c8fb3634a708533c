// w2s/model/batched_decode.hpp — several sequences advanced together, on any generation backend.
//
//   std::vector<w2s::model::BatchStep<B::Session>> steps{{&s1, {&t1, 1}}, {&s2, prompt_chunk, false}, ...};
//   w2s::MatrixRM logits;                                        // [steps x vocab]
//   w2s::model::decode_steps(model, steps, hook, &logits);       // hook sees seq = step index
//
// decode_steps runs the backend's own decode_batch when it has one (the BatchedDecode capability of backend.hpp: one
// forward pass, the weights read once for every row) and otherwise decode_steps_one_by_one, its emulation: one
// prefill_last_logits (or prefill) per step. The emulation is also the slow twin the native path is tested against.
// check_batch_steps holds the contract's checks, with the same messages for every backend.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/hooks.hpp"

namespace w2s::model {

/// The contract's checks of a batched decode: every step has a session and at least one token, no session appears
/// twice, and (context > 0) no session grows beyond `context` positions. Throws invalid_argument naming the step.
template <class S>
void check_batch_steps(std::span<const BatchStep<S>> steps, std::size_t context = 0) {
    std::vector<const S*> seen;
    seen.reserve(steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string where = "decode_batch: step " + std::to_string(i);
        if (!steps[i].session) throw invalid_argument(where + " has no session");
        if (steps[i].tokens.empty()) throw invalid_argument(where + " has no tokens");
        if (std::find(seen.begin(), seen.end(), steps[i].session) != seen.end())
            throw invalid_argument(where + ": its session is already in the batch (one step per sequence)");
        seen.push_back(steps[i].session);
        const std::size_t end = steps[i].session->size() + steps[i].tokens.size();
        if (context && end > context)
            throw invalid_argument(where + " reaches position " + std::to_string(end) + ", beyond the model's context of " +
                                   std::to_string(context));
    }
}

/// The emulation: each step alone, in order, by prefill_last_logits (LastLogitsPrefill) or prefill; the hook sees
/// seq = the step index. Same results as a native decode_batch (backend.hpp). On an exception the sessions of the
/// steps before the failing one keep their new tokens.
template <class B>
void decode_steps_one_by_one(const B& b, std::span<const BatchStep<typename B::Session>> steps, const Hook& hook, MatrixRM* logits) {
    static_assert(check_generation_backend<B>());
    check_batch_steps(steps);
    const auto V = static_cast<Eigen::Index>(b.vocab_size());
    if (logits) *logits = MatrixRM::Zero(static_cast<Eigen::Index>(steps.size()), V);
    MatrixRM one;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        Hook h;
        if (hook)
            h = [&hook, i](const BlockOutput& o) {
                BlockOutput r = o;
                r.seq = i;
                hook(r);
            };
        MatrixRM* want = logits && steps[i].logits ? &one : nullptr;
        if constexpr (LastLogitsPrefill<B>)
            b.prefill_last_logits(*steps[i].session, steps[i].tokens, h, want);
        else
            b.prefill(*steps[i].session, steps[i].tokens, h, want);
        if (want) {
            if (one.rows() < 1 || one.cols() != V)
                throw shape_error("decode_steps: the backend returned logits of shape " + std::to_string(one.rows()) + "x" +
                                  std::to_string(one.cols()) + ", expected rows x " + std::to_string(V));
            logits->row(static_cast<Eigen::Index>(i)) = one.row(one.rows() - 1);
        }
    }
}

/// The backend's decode_batch when it has one, else decode_steps_one_by_one.
template <class B>
void decode_steps(const B& b, std::span<const BatchStep<typename B::Session>> steps, const Hook& hook, MatrixRM* logits) {
    if constexpr (BatchedDecode<B>)
        b.decode_batch(steps, hook, logits);
    else
        decode_steps_one_by_one(b, steps, hook, logits);
}

}  // namespace w2s::model
