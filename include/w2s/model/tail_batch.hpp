// w2s/model/tail_batch.hpp — the bookkeeping of a forward_tails call, written once for every backend.
//
//   const auto b = w2s::model::batch_tails(tails, prefix.size(), first_block, n_layers(), hidden_size(), context);
//   // b.seqs[i]: tail i's rows [row0, row0 + len) in the batch, its absolute position pos0, and the batch row
//   //            ranges of its ancestors (its parent chain), which its rows attend to besides the prefix and
//   //            themselves; b.ids: every tail's tokens in tail order; b.inputs: their residuals (first_block > 0).
//
// A backend with a native forward_tails (the reference LlamaModel, the CUDA model, a user's) calls this and then
// runs b.rows rows through its blocks with the masks the seqs describe; the checks of the contract (backend.hpp)
// are made here, with the same messages for every backend.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"

namespace w2s::model {

struct TailBatch {
    struct Seq {
        std::size_t row0 = 0, len = 0, pos0 = 0;  ///< rows [row0, row0 + len) of the batch, at positions pos0, pos0 + 1, ...
        std::vector<std::pair<std::size_t, std::size_t>> ancestors;  ///< batch row ranges [a, b) it fully sees
    };
    std::vector<Seq> seqs;                ///< one per tail
    std::vector<token_id> ids;            ///< [rows] the tails' tokens, in tail order
    std::vector<ConstMatrixView> inputs;  ///< one per tail: the residual entering first_block (first_block > 0)
    std::size_t rows = 0;                 ///< the batch's rows (sum of the tails' lengths)
};

/// One sequence of `len` new rows at position `pos0` (prefill): a batch of one with no ancestors.
[[nodiscard]] inline TailBatch::Seq single_seq(std::size_t len, std::size_t pos0) { return {0, len, pos0, {}}; }

/// Validates `tails` against the contract of forward_tails and lays them out as one batch. Throws invalid_argument,
/// naming the tail, for first_block outside 0..n_layers, a tail with no tokens, a parent that is not an earlier
/// tail, an input that is not [tokens x hidden] when first_block > 0, or a tail reaching beyond `context`
/// positions (0 = no limit).
[[nodiscard]] inline TailBatch batch_tails(std::span<const Tail> tails, std::size_t prefix_size, int first_block, int n_layers,
                                           std::size_t hidden, std::size_t context = 0) {
    if (first_block < 0 || first_block > n_layers)
        throw invalid_argument("forward_tails: first_block " + std::to_string(first_block) + " is outside 0.." + std::to_string(n_layers));
    TailBatch b;
    b.seqs.resize(tails.size());
    for (std::size_t i = 0; i < tails.size(); ++i) {
        const Tail& t = tails[i];
        const std::string where = "forward_tails: tail " + std::to_string(i);
        if (t.tokens.empty()) throw invalid_argument(where + " has no tokens");
        if (t.parent < -1 || t.parent >= static_cast<int>(i))
            throw invalid_argument(where + ": parent " + std::to_string(t.parent) + " must be -1 or an earlier tail");
        if (first_block > 0 && (t.input.data == nullptr || t.input.rows != t.tokens.size() || t.input.cols != hidden))
            throw invalid_argument(where + ": input is " + std::to_string(t.input.rows) + "x" + std::to_string(t.input.cols) + ", expected " +
                                   std::to_string(t.tokens.size()) + "x" + std::to_string(hidden) + " (the residual entering block " +
                                   std::to_string(first_block) + ")");
        TailBatch::Seq& s = b.seqs[i];
        s.row0 = b.rows;
        s.len = t.tokens.size();
        s.pos0 = prefix_size;
        for (int p = t.parent; p >= 0; p = tails[static_cast<std::size_t>(p)].parent) {
            const TailBatch::Seq& a = b.seqs[static_cast<std::size_t>(p)];
            s.ancestors.emplace_back(a.row0, a.row0 + a.len);
            s.pos0 += a.len;
        }
        if (context && s.pos0 + s.len > context)
            throw invalid_argument(where + " reaches position " + std::to_string(s.pos0 + s.len) + ", beyond the model's context of " +
                                   std::to_string(context));
        b.rows += s.len;
        b.ids.insert(b.ids.end(), t.tokens.begin(), t.tokens.end());
        b.inputs.push_back(t.input);
    }
    return b;
}

}  // namespace w2s::model
