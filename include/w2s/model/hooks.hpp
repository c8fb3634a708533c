// w2s/model/hooks.hpp — the one hook point per block.
//
// After block `layer` of the forward pass, a backend calls the hook once for each sequence (tail) of the
// batch with that sequence's new rows of the residual stream. Capture reads the view; steering adds to it
// in place for the positions it chooses. Nothing else in a forward pass knows about steering.
#pragma once

#include <cstddef>
#include <functional>

#include "w2s/core/tensor.hpp"

namespace w2s::model {

struct BlockOutput {
    int layer = 0;          ///< 0-based block index; the view is the output of this block
    std::size_t seq = 0;    ///< index of the sequence (tail) within the call
    std::size_t pos0 = 0;   ///< absolute position (in its sequence) of residual row 0
    MatrixView residual;    ///< [n_rows x hidden] — this sequence's rows computed in this call; writable
};

/// Called at every block output. Empty = no hook (costs one branch per block).
using Hook = std::function<void(const BlockOutput&)>;

}  // namespace w2s::model
