// w2s/model/hooks.hpp — the one hook point per block.
//
// After block `layer` of the forward pass, a backend calls the hook once for each sequence (tail) of the
// batch with that sequence's new rows of the residual stream. Capture reads the view; steering adds to it
// in place for the positions it chooses. Nothing else in a forward pass knows about steering.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <map>
#include <utility>

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

/// Copies of the residuals a forward pass shows its hook, per (layer, seq): [rows x hidden] each (the latest call's
/// rows for that key). For tests, checks (check_tails) and analysis; one pass at a time (not thread-safe).
struct ResidualCapture {
    std::map<std::pair<int, std::size_t>, MatrixRM> at;
    [[nodiscard]] Hook hook() {
        return [this](const BlockOutput& o) {
            MatrixRM m(static_cast<Eigen::Index>(o.residual.rows), static_cast<Eigen::Index>(o.residual.cols));
            for (std::size_t r = 0; r < o.residual.rows; ++r)
                std::copy_n(o.residual.row(r), o.residual.cols, m.data() + r * o.residual.cols);
            at[{o.layer, o.seq}] = std::move(m);
        };
    }
};

}  // namespace w2s::model
