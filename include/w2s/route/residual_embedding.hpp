// w2s/route/residual_embedding.hpp — the model's own embedding of a prompt: the residual stream after block k,
// at the last prompt token or averaged over the prompt's tokens.
//
// It is read from the unsteered pass over the prompt that steering computes anyway (the sweep stores it for
// every item; the adaptive steerer captures it while prefilling the prompt), so it costs no extra forward pass.
// input_type is PromptResiduals: the residuals of one prompt at a set of blocks.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
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
    static constexpr std::string_view kind = "residual";
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

/// What the adaptive steerer knows of a prompt when it embeds it: the chat-formatted prompt's token ids and its
/// residuals from the unsteered pass (at the steerer's embedding block). Both views live only for the call.
struct PromptInput {
    std::span<const std::int32_t> ids;    ///< [P] prompt ids
    const PromptResiduals& residuals;     ///< at AdaptiveOptions::embedding_block
};

/// The Embedding slot of AdaptiveSteerer: an Embedding whose input is what the steerer has of a prompt, either
/// its residuals (ResidualEmbedding, free: read from the pass steering runs anyway) or PromptInput (ids and
/// residuals: a user's embedding of the text, a table keyed by ids, a mix). Its settings travel with the bundle
/// only as far as the embedding says: a type with `static constexpr std::string_view kind` is recorded under that
/// name and must be handed to load() again (ResidualEmbedding's block and pooling are in the bundle).
template <class E>
concept PromptEmbedding = Embedding<E> && (std::same_as<typename E::input_type, PromptResiduals> ||
                                           std::same_as<typename E::input_type, PromptInput>);

#define W2S_REQUIRE_PROMPT_EMBEDDING(E)                                                                         \
    static_assert(::w2s::route::PromptEmbedding<E>,                                                             \
                  "w2s: this type is not a PromptEmbedding: it needs `using input_type = w2s::route::PromptResiduals` " \
                  "(or w2s::route::PromptInput), `std::size_t dim() const` and `Eigen::VectorXf embed(const input_type&) " \
                  "const` (see w2s/route/residual_embedding.hpp)")

/// Embeds one prompt with a PromptEmbedding.
template <class E>
[[nodiscard]] Eigen::VectorXf embed_prompt(const E& e, const PromptInput& in) {
    if constexpr (std::same_as<typename E::input_type, PromptResiduals>)
        return e.embed(in.residuals);
    else
        return e.embed(in);
}

static_assert(PromptEmbedding<ResidualEmbedding>);

}  // namespace w2s::route
