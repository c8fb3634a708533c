// w2s/steer/apply.hpp — steering as hook objects: add λ·v at one block's output.
//
//   SteeringHook h({{layer, lambda, vector}}, Positions::from(p));   // a model::Hook (callable)
//   backend.prefill(session, tokens, h, &logits);
//
// A SteeringHook holds one or more terms (layer, multiplier, vector); at the output of block `layer` it adds
// multiplier * vector to the rows its position policy selects; several terms at the same layer are summed.
// Positions are absolute positions in the sequence (BlockOutput::pos0 + row):
//   Positions::all()     every row;
//   Positions::from(p)   rows at absolute position >= p (the protocol steers from the last prompt token on);
//   Positions::last()    only the last row of each call (during generation: the newest token).
// The hook copies nothing per call and allocates nothing; it is safe to call from several threads at once
// (it only reads its own state and writes the view it is given).
#pragma once

#include <cmath>

#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/steer/vector_set.hpp"

namespace w2s::steer {

struct Positions {
    enum class Kind { all, from, last };
    Kind kind = Kind::all;
    std::size_t first = 0;  ///< for Kind::from
    static Positions all() { return {Kind::all, 0}; }
    static Positions from(std::size_t p) { return {Kind::from, p}; }
    static Positions last() { return {Kind::last, 0}; }
};

/// One added term: multiplier * vector at the output of block `layer`. `vector` ([hidden]) is not owned.
struct SteeringTerm {
    int layer = 0;
    float multiplier = 0.0f;
    std::span<const float> vector;
};

/// The largest |multiplier| a steering term accepts. Residual norms of the models w2s runs are O(1..100) and
/// useful multipliers O(1..10); beyond this bound a multiplier is a mistake (a unit slip, a parse error), and
/// it is refused before any forward pass instead of producing an overflowed residual.
inline constexpr float kMaxMultiplier = 1000.0f;

/// Throws invalid_argument unless `m` is finite and |m| <= kMaxMultiplier; `what` names it in the message.
inline void check_multiplier(double m, const std::string& what) {
    if (!std::isfinite(m))
        throw invalid_argument(what + " is " + std::to_string(m) + ": a steering multiplier must be a finite number");
    if (std::abs(m) > kMaxMultiplier)
        throw invalid_argument(what + " is " + std::to_string(m) + ": beyond +-" + std::to_string(static_cast<int>(kMaxMultiplier)) +
                               ", which would swamp the residual stream (useful multipliers are of order 1-10)");
}

class SteeringHook {
public:
    SteeringHook() = default;
    SteeringHook(std::vector<SteeringTerm> terms, Positions where) : terms_(std::move(terms)), where_(where) {
        for (const auto& t : terms_) check_term(t);
    }
    /// One term from a vector set (the set must outlive the hook).
    SteeringHook(const VectorSet& vs, int layer, float multiplier, Positions where)
        : terms_{SteeringTerm{layer, multiplier, vs.at(layer)}}, where_(where) {
        check_term(terms_.front());
    }

    void operator()(const model::BlockOutput& o) const {
        for (const auto& t : terms_) {
            if (t.layer != o.layer || t.multiplier == 0.0f) continue;
            if (t.vector.size() != o.residual.cols)
                throw shape_error("SteeringHook: vector of " + std::to_string(t.vector.size()) + " values at layer " +
                                  std::to_string(t.layer) + ", the residual has " + std::to_string(o.residual.cols) + " columns");
            std::size_t r0 = 0;
            const std::size_t rows = o.residual.rows;
            switch (where_.kind) {
                case Positions::Kind::all: break;
                case Positions::Kind::from: r0 = where_.first > o.pos0 ? where_.first - o.pos0 : 0; break;
                case Positions::Kind::last: r0 = rows ? rows - 1 : 0; break;
            }
            for (std::size_t r = r0; r < rows; ++r) {
                float* x = o.residual.row(r);
                for (std::size_t j = 0; j < o.residual.cols; ++j) x[j] += t.multiplier * t.vector[j];
            }
        }
    }
    [[nodiscard]] const std::vector<SteeringTerm>& terms() const noexcept { return terms_; }
    [[nodiscard]] Positions positions() const noexcept { return where_; }

private:
    // Everything that could make the added term non-finite is refused here, once, so that the per-row loop is a
    // plain axpy: the multiplier (check_multiplier) and every multiplier * v[j] must be finite.
    static void check_term(const SteeringTerm& t) {
        const std::string what = "the multiplier at layer " + std::to_string(t.layer);
        check_multiplier(t.multiplier, what);
        for (std::size_t j = 0; j < t.vector.size(); ++j)
            if (!std::isfinite(t.multiplier * t.vector[j]))
                throw numeric_error("steering at layer " + std::to_string(t.layer) + ": multiplier " + std::to_string(t.multiplier) +
                                    " times the vector's value " + std::to_string(t.vector[j]) + " at index " + std::to_string(j) +
                                    " is not finite (NaN or Inf); the vector is corrupt or the multiplier too large for it");
    }

    std::vector<SteeringTerm> terms_;
    Positions where_;
};

/// A llama.cpp-style control vector as a hook: alpha times the set's direction at block `layer` only, or, with
/// layer = -1, alpha times every direction the set holds at its own block (what llama.cpp's --control-vector
/// does), at the positions `where` selects. Throws invalid_argument for a layer the set has no direction for.
/// The set must outlive the hook.
[[nodiscard]] inline SteeringHook control_vector_hook(const VectorSet& vs, float alpha, int layer = -1, Positions where = Positions::all()) {
    std::vector<SteeringTerm> terms;
    if (layer >= 0) {
        if (!vs.has(layer))
            throw invalid_argument("control_vector_hook: the vector set has no direction for layer " + std::to_string(layer));
        terms.push_back({layer, alpha, vs.at(layer)});
    } else {
        for (int l : vs.layers()) terms.push_back({l, alpha, vs.at(l)});
    }
    return SteeringHook(std::move(terms), where);
}

}  // namespace w2s::steer
