// w2s/steer/activations.hpp — contrastive activations and vector extraction (protocol section 4).
//
//   auto items = tokenize_items(model.tokenizer(), model.chat_template(), split.train, Variant::base);
//   ExtractionResult r = extract_vectors(model, items, MeanDifference{}, {.layers = {1, 2, ..., 29}}, pool);
//   save_control_vector(r.vectors, "caa.gguf");
//
// For each item the prompt is prefilled once; the two completions (matching, non-matching response) run as
// two tails of it, and a capture hook reads the residual at the positions of TokenizedItem::read_range (the
// answer-letter token of an A/B item; a free-text reply's last token or the mean over its tokens) at the
// output of every requested block. Every TokenizedItem is one pair: an A/B item measured in both orders gives
// two pairs, so a mean difference is the mean over both orders and the answer letter cancels. Items run in parallel (oneTBB, inside the given
// ThreadPool) in batches of `batch`; after each batch the pairs are fed to the estimator's per-layer states
// in item order (layers in parallel), so the result does not depend on the thread count and memory holds
// one batch of activations ([batch x 2·layers x hidden] floats) plus what the estimator keeps.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/memory.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/progress.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/estimators.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"

namespace w2s::steer {

/// Residuals at the answer-letter token of both completions of `item`, at the output of each block in
/// `layers`. out is resized to [2·layers.size() x hidden]: row 2i = matching, row 2i+1 = non-matching, at
/// block layers[i]. Throws invalid_argument for a layer out of range.
template <class B>
void contrastive_activations(const B& backend, const TokenizedItem& item, std::span<const int> layers, MatrixRM& out);

struct ExtractOptions {
    std::vector<int> layers;  ///< blocks to fit (empty = 1..n_layers-1: every block a control vector can express)
    std::size_t batch = 16;   ///< items per batch
};

struct ExtractionResult {
    VectorSet vectors;            ///< one vector per requested layer
    std::vector<int> layers;      ///< [k] the fitted layers
    std::vector<LayerFit> fits;   ///< [k] per layer: status, iterations, message (vectors moved into `vectors`)
    std::size_t n_items = 0;
};

/// Fits one vector per layer from `items` with estimator `est` (see the file comment); items of weight 0 (an
/// order measured for the letter diagnostic only) are left out. Progress events:
/// stage "vectors", items done / total, called from the calling thread after each batch.
template <class E, class B>
ExtractionResult extract_vectors(const B& backend, std::span<const TokenizedItem> items, const E& est,
                                 const ExtractOptions& opts, ThreadPool& pool, const ProgressFn& progress = {});

// ---- implementation ------------------------------------------------------------------------------

namespace detail {
inline std::vector<int> resolve_layers(std::span<const int> layers, int n_layers, int first_default) {
    std::vector<int> out;
    if (layers.empty())
        for (int l = first_default; l < n_layers; ++l) out.push_back(l);
    else
        out.assign(layers.begin(), layers.end());
    for (int l : out)
        if (l < 0 || l >= n_layers)
            throw invalid_argument("layer " + std::to_string(l) + " out of range 0.." + std::to_string(n_layers - 1));
    return out;
}
}  // namespace detail

template <class B>
void contrastive_activations(const B& backend, const TokenizedItem& item, std::span<const int> layers, MatrixRM& out) {
    static_assert(model::check_backend<B>());
    const int L = backend.n_layers();
    const auto h = static_cast<std::size_t>(backend.hidden_size());
    std::vector<int> slot(static_cast<std::size_t>(L), -1);
    for (std::size_t i = 0; i < layers.size(); ++i) {
        if (layers[i] < 0 || layers[i] >= L)
            throw invalid_argument("contrastive_activations: layer " + std::to_string(layers[i]) + " out of range 0.." +
                                   std::to_string(L - 1));
        slot[static_cast<std::size_t>(layers[i])] = static_cast<int>(i);
    }
    out.setZero(static_cast<Eigen::Index>(2 * layers.size()), static_cast<Eigen::Index>(h));
    // seen[row] counts the positions of read_range(k) that were captured for that row.
    std::vector<std::size_t> seen(2 * layers.size(), 0);
    auto session = backend.new_session();
    backend.prefill(session, std::span<const token_id>(item.prompt), model::Hook{}, nullptr);
    const model::Tail tails[2] = {{item.response[0], {}, -1}, {item.response[1], {}, -1}};
    const model::Hook capture = [&](const model::BlockOutput& o) {
        if (o.layer < 0 || o.layer >= L) return;
        const int s = slot[static_cast<std::size_t>(o.layer)];
        if (s < 0 || o.seq > 1) return;
        const auto [b, e] = item.read_range(static_cast<int>(o.seq));
        const auto row = static_cast<Eigen::Index>(2 * static_cast<std::size_t>(s) + o.seq);
        float* dst = out.row(row).data();
        for (std::size_t at = std::max(b, o.pos0); at < e && at - o.pos0 < o.residual.rows; ++at) {
            const float* src = o.residual.row(at - o.pos0);
            for (std::size_t c = 0; c < h; ++c) dst[c] += src[c];
            ++seen[static_cast<std::size_t>(row)];
        }
    };
    backend.forward_tails(session, std::span<const model::Tail>(tails, 2), 0, capture, nullptr);
    for (std::size_t r = 0; r < seen.size(); ++r) {
        const auto [b, e] = item.read_range(static_cast<int>(r % 2));
        if (seen[r] == e - b) {
            if (seen[r] > 1) out.row(static_cast<Eigen::Index>(r)) /= static_cast<float>(seen[r]);
            continue;
        }
        throw invalid_argument("contrastive_activations: the backend did not show every read row of the " +
                                   std::string(r % 2 ? "non-matching" : "matching") + " completion at layer " +
                                   std::to_string(layers[r / 2]) + " (a Backend contract violation)");
    }
}

template <class E, class B>
ExtractionResult extract_vectors(const B& backend, std::span<const TokenizedItem> items, const E& est,
                                 const ExtractOptions& opts, ThreadPool& pool, const ProgressFn& progress) {
    static_assert(model::check_backend<B>());
    static_assert(check_estimator<E>());
    // Orders measured for the letter diagnostic only (weight 0) make no pair; `kept` indexes the others.
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < items.size(); ++i)
        if (items[i].weight > 0.0) kept.push_back(i);
    if (kept.empty()) throw invalid_argument("extract_vectors: no items");
    const int L = backend.n_layers();
    const std::vector<int> layers = detail::resolve_layers(opts.layers, L, 1);
    const std::size_t k = layers.size(), h = static_cast<std::size_t>(backend.hidden_size());
    const std::size_t batch = std::max<std::size_t>(1, opts.batch);

    // Refuse a fit that would not fit in memory before any forward pass: one batch of activations, every
    // layer's state and the workspace of the layers finished at once (estimators that state their memory).
    {
        const EstimatorMemory em = estimator_memory(est, h, kept.size());
        const std::uint64_t acts_bytes = mul_sat(mul_sat(std::min(batch, kept.size()), 2 * k), 4 * h);
        const std::uint64_t concurrent = std::min<std::uint64_t>(k, static_cast<std::uint64_t>(std::max(1, pool.threads())));
        const std::uint64_t need = add_sat(add_sat(acts_bytes, mul_sat(k, em.state)), mul_sat(concurrent, em.finish));
        require_memory(need, "extract_vectors (" + std::string(E::name) + " estimator, " + std::to_string(kept.size()) + " pairs x " +
                                 std::to_string(k) + " layers x hidden " + std::to_string(h) + ")",
                       "use fewer items (--max-items), fewer layers (--layers) or the mean estimator, whose memory does not "
                       "grow with the items");
    }
    std::vector<typename E::State> states;
    states.reserve(k);
    for (std::size_t i = 0; i < k; ++i) states.push_back(est.start(h));
    std::vector<MatrixRM> acts(std::min(batch, kept.size()));  // [batch] x [2k x hidden]
    report(progress, "vectors", 0, kept.size());
    pool.run([&] {
        for (std::size_t b0 = 0; b0 < kept.size(); b0 += batch) {
            const std::size_t nb = std::min(batch, kept.size() - b0);
            parallel_for(0, nb, 1, [&](std::size_t j) { contrastive_activations(backend, items[kept[b0 + j]], layers, acts[j]); });
            parallel_for(0, k, 1, [&](std::size_t li) {
                const auto row = [&](std::size_t j, std::size_t r) {
                    return std::span<const float>(acts[j].row(static_cast<Eigen::Index>(r)).data(), h);
                };
                for (std::size_t j = 0; j < nb; ++j) est.add(states[li], row(j, 2 * li), row(j, 2 * li + 1));
            });
            report(progress, "vectors", b0 + nb, kept.size());
        }
    });
    ExtractionResult r;
    r.layers = layers;
    r.n_items = kept.size();
    r.fits.resize(k);
    pool.run([&] { parallel_for(0, k, 1, [&](std::size_t li) { r.fits[li] = est.finish(states[li]); }); });
    r.vectors = VectorSet(L, static_cast<int>(h));
    r.vectors.estimator = std::string(E::name);
    for (std::size_t li = 0; li < k; ++li) {
        r.vectors.set(layers[li], std::span<const float>(r.fits[li].vector.data(), h));
        r.fits[li].vector.resize(0);
    }
    return r;
}

}  // namespace w2s::steer
