// w2s/route/projection_embedding.hpp — an embedding that reads the concept directly: the projection of the
// prompt's residual at each candidate block onto that block's steering vector (issue "Whose layer is it").
//
//   route::Directions d = ...;                   // one unit direction per block (the steerer and the protocol
//                                                //  build it from their vector set: w2s::directions_of / eval)
//   route::ProjectionEmbedding e(route::Pooling::last);
//   e.bind(d);                                   // dim() = d.blocks.size()
//   Eigen::VectorXf x = e.embed(residuals);      // x[j] = <r at block d.blocks[j], v_j / |v_j|>
//
// Feature j says how far the unsteered prompt already stands along the direction that steering at block
// blocks[j] pushes it; a router reading it sees, per layer, the concept the vectors carry, instead of the whole
// residual stream at one block (hidden-size features, most of them about other things). The residual is read at
// the output of block blocks[j], where steering at that block adds its vector, pooled over the prompt like
// ResidualEmbedding (the last prompt token, or the mean over the prompt's tokens: the projection of the mean is the
// mean of the projections).
//
// It is a vector-bound embedding (the two optional members of the Embedding slot that AdaptiveSteerer and the
// protocol use, see w2s/adaptive_steerer.hpp):
//   void bind(const Directions&)       called once the steering vectors exist (after fit's extraction, and on load
//                                      with the bundle's vectors); until then dim() is 0 and embed throws
//   std::vector<int> blocks() const    the blocks whose residuals embed() reads (the bound directions' blocks)
//   std::string settings() const       what the bundle records beside the kind ("pooling=last"), and
//   static ProjectionEmbedding from_settings(std::string_view)   its inverse, so that a bundle restores the pooling.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/route/embedding.hpp"
#include "w2s/route/residual_embedding.hpp"

namespace w2s::route {

/// One direction per block: rows [blocks x hidden], row j belongs to block blocks[j].
struct Directions {
    std::vector<int> blocks;
    std::size_t hidden = 0;
    std::vector<float> rows;

    [[nodiscard]] std::span<const float> row(std::size_t j) const { return {rows.data() + j * hidden, hidden}; }
    /// Each row scaled to unit length; a zero (or non-finite) row is an error naming its block.
    [[nodiscard]] Directions normalized() const {
        check();
        Directions d = *this;
        for (std::size_t j = 0; j < blocks.size(); ++j) {
            double n2 = 0.0;
            for (float v : row(j)) n2 += static_cast<double>(v) * v;
            if (!(n2 > 0.0) || !std::isfinite(n2))
                throw invalid_argument("Directions: the vector of block " + std::to_string(blocks[j]) + " is zero or not finite");
            const auto inv = static_cast<float>(1.0 / std::sqrt(n2));
            for (std::size_t c = 0; c < hidden; ++c) d.rows[j * hidden + c] *= inv;
        }
        return d;
    }
    void check() const {
        if (blocks.empty() || hidden == 0) throw invalid_argument("Directions: no blocks (or hidden = 0)");
        if (rows.size() != blocks.size() * hidden)
            throw shape_error("Directions: " + std::to_string(rows.size()) + " values for " + std::to_string(blocks.size()) + " blocks x " +
                              std::to_string(hidden));
        for (std::size_t j = 0; j < blocks.size(); ++j)
            if (std::count(blocks.begin(), blocks.end(), blocks[j]) != 1)
                throw invalid_argument("Directions: block " + std::to_string(blocks[j]) + " given twice");
    }
};

class ProjectionEmbedding {
public:
    using input_type = PromptResiduals;
    static constexpr std::string_view kind = "projection";

    ProjectionEmbedding() = default;
    explicit ProjectionEmbedding(Pooling pooling) : pooling_(pooling) {}
    ProjectionEmbedding(Pooling pooling, const Directions& d) : pooling_(pooling) { bind(d); }

    /// Takes the directions (normalized here); replaces any bound before.
    void bind(const Directions& d) { dirs_ = d.normalized(); }
    [[nodiscard]] bool bound() const noexcept { return !dirs_.blocks.empty(); }
    [[nodiscard]] std::size_t dim() const noexcept { return dirs_.blocks.size(); }
    [[nodiscard]] std::vector<int> blocks() const { return dirs_.blocks; }
    [[nodiscard]] Pooling pooling() const noexcept { return pooling_; }
    [[nodiscard]] const Directions& directions() const noexcept { return dirs_; }

    [[nodiscard]] std::string settings() const { return "pooling=" + std::string(pooling_name(pooling_)); }
    [[nodiscard]] static ProjectionEmbedding from_settings(std::string_view s) {
        constexpr std::string_view key = "pooling=";
        if (s.substr(0, key.size()) != key)
            throw format_error("ProjectionEmbedding: settings '" + std::string(s) + "': expected pooling=<last|mean>");
        return ProjectionEmbedding(parse_pooling(s.substr(key.size())));
    }

    /// [dim()]: x[j] = <residual at block blocks[j] (pooled), unit direction j>.
    [[nodiscard]] Eigen::VectorXf embed(const PromptResiduals& in) const {
        if (!bound()) throw invalid_argument("ProjectionEmbedding: no directions bound (bind() the steering vectors first)");
        if (in.hidden != dirs_.hidden)
            throw shape_error("ProjectionEmbedding: residuals of width " + std::to_string(in.hidden) + ", the directions have " +
                              std::to_string(dirs_.hidden));
        const auto& src = pooling_ == Pooling::last ? in.last : in.mean;
        const std::size_t H = dirs_.hidden;
        Eigen::VectorXf x(static_cast<Eigen::Index>(dim()));
        for (std::size_t j = 0; j < dim(); ++j) {
            const auto it = std::find(in.blocks.begin(), in.blocks.end(), dirs_.blocks[j]);
            if (it == in.blocks.end())
                throw invalid_argument("ProjectionEmbedding: the prompt residuals do not include block " + std::to_string(dirs_.blocks[j]));
            const auto e = static_cast<std::size_t>(it - in.blocks.begin());
            if (src.size() < (e + 1) * H) throw shape_error("ProjectionEmbedding: residual rows missing");
            const Eigen::Map<const Eigen::VectorXf> r(src.data() + e * H, static_cast<Eigen::Index>(H));
            const Eigen::Map<const Eigen::VectorXf> v(dirs_.rows.data() + j * H, static_cast<Eigen::Index>(H));
            x(static_cast<Eigen::Index>(j)) = r.dot(v);
        }
        return x;
    }

private:
    Pooling pooling_ = Pooling::last;
    Directions dirs_;
};

static_assert(PromptEmbedding<ProjectionEmbedding>);

/// An embedding that reads the steering vectors (bind) and names the blocks it reads (blocks): the optional part
/// of the Embedding slot that AdaptiveSteerer and the protocol call. ProjectionEmbedding is one.
template <class E>
concept VectorBoundEmbedding = PromptEmbedding<E> && requires(E e, const E ce, const Directions& d) {
    e.bind(d);
    { ce.blocks() } -> std::convertible_to<std::vector<int>>;
};

static_assert(VectorBoundEmbedding<ProjectionEmbedding>);

}  // namespace w2s::route
