// w2s/route/residual_embedding.hpp — the model's own embedding of a prompt: the residual stream after block k,
// at the last prompt token or averaged over the prompt's tokens.
//
// It is read from the unsteered pass over the prompt that steering computes anyway (the sweep stores it for
// every item; the adaptive steerer captures it while prefilling the prompt), so it costs no extra forward pass.
// input_type is PromptResiduals: the residuals of one prompt at a set of blocks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/route/embedding.hpp"
#include "w2s/io/sweep_file.hpp"

namespace w2s::route {

/// The prompt residuals at some blocks: last [blocks x hidden] (last prompt token), mean [blocks x hidden]
/// (mean over the prompt tokens). Row e belongs to block `blocks[e]`.
struct PromptResiduals {
    std::vector<int> blocks;
    std::size_t hidden = 0;
    std::vector<float> last;
    std::vector<float> mean;

    /// From a sweep record and its header (the blocks are the header's embedding_layers).
    static PromptResiduals from_record(const io::SweepHeader& h, const io::ItemRecord& r) {
        return {h.embedding_layers, static_cast<std::size_t>(h.hidden), r.emb_last, r.emb_mean};
    }
};

enum class Pooling { last, mean };

inline std::string_view pooling_name(Pooling p) { return p == Pooling::last ? "last" : "mean"; }
inline Pooling parse_pooling(std::string_view s) {
    if (s == "last") return Pooling::last;
    if (s == "mean") return Pooling::mean;
    throw invalid_argument("pooling '" + std::string(s) + "': expected last or mean");
}

/// Embedding policy: residual after block `block`, pooled by `pooling`; dim() = hidden.
class ResidualEmbedding {
public:
    using input_type = PromptResiduals;
    ResidualEmbedding() = default;
    ResidualEmbedding(int block, Pooling pooling, std::size_t hidden) : block_(block), pooling_(pooling), hidden_(hidden) {}

    [[nodiscard]] std::size_t dim() const noexcept { return hidden_; }
    [[nodiscard]] int block() const noexcept { return block_; }
    [[nodiscard]] Pooling pooling() const noexcept { return pooling_; }

    [[nodiscard]] Eigen::VectorXf embed(const PromptResiduals& in) const {
        if (in.hidden != hidden_)
            throw shape_error("ResidualEmbedding: residuals of width " + std::to_string(in.hidden) + ", expected " + std::to_string(hidden_));
        const auto it = std::find(in.blocks.begin(), in.blocks.end(), block_);
        if (it == in.blocks.end())
            throw invalid_argument("ResidualEmbedding: the prompt residuals do not include block " + std::to_string(block_));
        const auto e = static_cast<std::size_t>(it - in.blocks.begin());
        const auto& src = pooling_ == Pooling::last ? in.last : in.mean;
        if (src.size() < (e + 1) * hidden_) throw shape_error("ResidualEmbedding: residual rows missing");
        return Eigen::Map<const Eigen::VectorXf>(src.data() + e * hidden_, static_cast<Eigen::Index>(hidden_));
    }

private:
    int block_ = 0;
    Pooling pooling_ = Pooling::last;
    std::size_t hidden_ = 0;
};

static_assert(Embedding<ResidualEmbedding>);

}  // namespace w2s::route
