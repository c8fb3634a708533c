// w2s/sweep/engine.hpp — the per-input layer sweep, computed for a small multiple of one forward pass.
//
// For every item x, every swept layer l and every multiplier λ, the propensity m(x, l, λ) (protocol section 6)
// and the slope s(x, l) — the same numbers as the direct measurement (w2s/steer/measure.hpp), with the work
// shared:
//  1. the prompt before its last token is prefilled once, unsteered (no position before the last prompt token
//     is ever steered); the hook of that pass also accumulates the prompt embeddings (sum over positions);
//  2. the tails are arranged as a tree: t0 = [last prompt token ++ the common head of both responses], then
//     t1 / t2 = the rest of the matching / non-matching response (each response's final token is never fed:
//     it is only predicted); t1 and t2 continue t0 (parent chains), so the common tokens run once;
//  3. one unsteered pass of the tails from block 0 stores the residual at the output of every swept block
//     (and gives λ = 0, which does not depend on the layer);
//  4. for each swept layer l, ONE batched forward_tails call resumes at block l+1 from the stored residual
//     plus λ·v_l (steering adds at the output of block l to every tail row: all of them are at positions from
//     the last prompt token on), for all non-zero multipliers at once. Blocks 0..l are never recomputed.
// An item measured in two answer orders (steer::Orders::mirrored) is swept as one unit: the longest common
// prefix of its two prompts (everything before the choices, typically) is prefilled once and forked, the rest
// of each order as above; its record holds the weighted sum over the orders (propensity, slope: the mean when
// mirrored, order 0 alone as given), each order's slope (slope_orders) and the embeddings of the prompt as given. Free-text pairs (Scoring::logprob_*) read full logits
// rows, since a log-probability needs each row's normaliser; A/B items (Scoring::logits) read only the response
// tokens' logits when the backend has the SelectiveLogits capability.
// Items run in parallel (oneTBB) inside the caller's ThreadPool; finished items are appended to the sweep file
// as they complete, so an interrupted sweep resumes without redoing them; a complete sweep's file is then put in
// item order (SweepWriter::seal), so it is the same file, byte for byte, at any thread count and after any
// number of interruptions. Before any work the memory the sweep will hold is checked (sweep_memory_bytes).
#pragma once

#include <algorithm>
#include <array>
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
#include "w2s/steer/apply.hpp"
#include "w2s/steer/propensity.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"
#include "w2s/io/sweep_file.hpp"

namespace w2s::sweep {

// The sweep's products are the sweep file's types (w2s/io/sweep_file.hpp, a format below every room that
// reads it); named here too because the engine returns them.
using io::ItemRecord;
using io::SweepData;
using io::SweepHeader;
using io::SweepWriter;

struct SweepOptions {
    std::vector<int> layers;            ///< blocks to sweep (empty = every layer present in the vector set)
    std::vector<double> multipliers{steer::kMultipliers.begin(), steer::kMultipliers.end()};  ///< λ, >= 2 distinct
    std::vector<int> embedding_layers;  ///< blocks whose prompt embeddings are stored (empty = all blocks)
};

namespace detail {

/// The tail tree of one item (see the file comment). rows(k, j) = the row (in the concatenated tail rows of one
/// group) whose logits predict response k's token j.
struct TailPlan {
    std::vector<model::token_id> t0, t1, t2;  // t1 / t2 may be empty
    std::size_t rows_per_group = 0;
    [[nodiscard]] std::size_t row(int k, std::size_t j) const {
        if (j < t0.size()) return j;
        const std::size_t off = t0.size() + (k == 0 ? 0 : t1.size());
        return off + (j - t0.size());
    }
};

inline TailPlan plan_tails(const steer::TokenizedItem& item) {
    TailPlan p;
    const auto& r0 = item.response[0];
    const auto& r1 = item.response[1];
    // Tokens fed: response[k] without its last token.
    std::size_t common = 0;
    while (common + 1 < r0.size() && common + 1 < r1.size() && r0[common] == r1[common]) ++common;
    p.t0.push_back(item.prompt.back());
    p.t0.insert(p.t0.end(), r0.begin(), r0.begin() + static_cast<std::ptrdiff_t>(common));
    p.t1.assign(r0.begin() + static_cast<std::ptrdiff_t>(common), r0.end() - 1);
    p.t2.assign(r1.begin() + static_cast<std::ptrdiff_t>(common), r1.end() - 1);
    p.rows_per_group = p.t0.size() + p.t1.size() + p.t2.size();
    return p;
}

/// Appends one group of tails (t0, t1, t2 — empty ones left out) to `tails`; inputs (when non-null) point at
/// [rows_per_group x hidden] rows in tail order.
inline void add_group(std::vector<model::Tail>& tails, const TailPlan& p, const float* input, std::size_t hidden) {
    const int parent = static_cast<int>(tails.size());
    auto view = [&](std::size_t row0, std::size_t n) {
        return input ? ConstMatrixView(input + row0 * hidden, n, hidden) : ConstMatrixView();
    };
    tails.push_back({p.t0, view(0, p.t0.size()), -1});
    if (!p.t1.empty()) tails.push_back({p.t1, view(p.t0.size(), p.t1.size()), parent});
    if (!p.t2.empty()) tails.push_back({p.t2, view(p.t0.size() + p.t1.size(), p.t2.size()), parent});
}

inline double group_propensity(ConstMatrixView logits, std::size_t row0, const TailPlan& p, const steer::TokenizedItem& item) {
    double m[2] = {0.0, 0.0};
    for (int k = 0; k < 2; ++k) {
        const auto& r = item.response[static_cast<std::size_t>(k)];
        for (std::size_t j = 0; j < r.size(); ++j) {
            const std::size_t row = row0 + p.row(k, j);
            if (row >= logits.rows || r[j] < 0 || static_cast<std::size_t>(r[j]) >= logits.cols)
                throw shape_error("sweep: logits row " + std::to_string(row) + " / token " + std::to_string(r[j]) + " out of range");
            m[k] += static_cast<double>(logits.row(row)[static_cast<std::size_t>(r[j])]);
            if (item.scoring != steer::Scoring::logits) m[k] -= steer::log_sum_exp({logits.row(row), logits.cols});
        }
        if (item.scoring == steer::Scoring::logprob_mean) m[k] /= static_cast<double>(r.size());
    }
    return m[0] - m[1];
}

inline ConstMatrixView view_of(const MatrixRM& m) {
    return {m.data(), static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
}

/// Runs the tails (n_groups groups of the plan, in order) and returns the propensity of each group. Backends with
/// the SelectiveLogits capability compute only the response tokens' logits; others give full logits.
template <class B>
std::vector<double> run_groups(const B& backend, const typename B::Session& prefix, std::span<const model::Tail> tails,
                               int first_block, const model::Hook& hook, std::size_t n_groups, const TailPlan& plan,
                               const steer::TokenizedItem& item) {
    static_assert(model::check_backend<B>());
    std::vector<double> m(n_groups, 0.0);
    bool selective = false;
    if constexpr (model::SelectiveLogits<B>) selective = item.scoring == steer::Scoring::logits;
    if (selective) {
      if constexpr (model::SelectiveLogits<B>) {
        std::vector<model::LogitQuery> q;
        std::vector<float> sign;
        for (std::size_t g = 0; g < n_groups; ++g)
            for (int k = 0; k < 2; ++k) {
                const auto& r = item.response[static_cast<std::size_t>(k)];
                for (std::size_t j = 0; j < r.size(); ++j) q.push_back({g * plan.rows_per_group + plan.row(k, j), r[j]});
            }
        std::vector<float> out(q.size());
        backend.forward_tails_logits(prefix, tails, first_block, hook, q, out);
        std::size_t i = 0;
        for (std::size_t g = 0; g < n_groups; ++g)
            for (int k = 0; k < 2; ++k)
                for (std::size_t j = 0; j < item.response[static_cast<std::size_t>(k)].size(); ++j)
                    m[g] += (k == 0 ? 1.0 : -1.0) * static_cast<double>(out[i++]);
      }
    } else {
        MatrixRM logits;
        backend.forward_tails(prefix, tails, first_block, hook, &logits);
        for (std::size_t g = 0; g < n_groups; ++g) m[g] = group_propensity(view_of(logits), g * plan.rows_per_group, plan, item);
    }
    return m;
}

}  // namespace detail

/// Resolved settings for a backend and a vector set (layers and embedding layers filled in and checked).
template <class B>
SweepOptions resolve_options(const B& backend, const steer::VectorSet& vectors, SweepOptions opt) {
    static_assert(model::check_backend<B>());
    if (vectors.hidden() != backend.hidden_size() || vectors.n_layers() != backend.n_layers())
        throw shape_error("sweep: vector set for " + std::to_string(vectors.n_layers()) + " layers x " + std::to_string(vectors.hidden()) +
                          ", the model has " + std::to_string(backend.n_layers()) + " x " + std::to_string(backend.hidden_size()));
    if (opt.layers.empty()) opt.layers = vectors.layers();
    if (opt.layers.empty()) throw invalid_argument("sweep: the vector set has no layers");
    for (int l : opt.layers) (void)vectors.at(l);  // throws for absent / out-of-range layers
    if (opt.embedding_layers.empty())
        for (int l = 0; l < backend.n_layers(); ++l) opt.embedding_layers.push_back(l);
    for (int l : opt.embedding_layers)
        if (l < 0 || l >= backend.n_layers())
            throw invalid_argument("sweep: embedding layer " + std::to_string(l) + " out of range 0.." + std::to_string(backend.n_layers() - 1));
    if (opt.multipliers.size() < 2) throw invalid_argument("sweep: need at least two multipliers");
    for (double m : opt.multipliers) steer::check_multiplier(m, "sweep: multiplier");
    return opt;
}

namespace detail {

/// A hook that adds every row of the residual after an embedding block (emb_slot[block] >= 0) to emb_sum
/// [embedding blocks x H]; both must outlive the hook.
inline model::Hook embedding_sum_hook(const std::vector<int>& emb_slot, std::vector<double>& emb_sum, std::size_t H) {
    return [&emb_slot, &emb_sum, H](const model::BlockOutput& o) {
        const int e = emb_slot[static_cast<std::size_t>(o.layer)];
        if (e < 0) return;
        double* dst = emb_sum.data() + static_cast<std::size_t>(e) * H;
        for (std::size_t r = 0; r < o.residual.rows; ++r) {
            const float* src = o.residual.row(r);
            for (std::size_t c = 0; c < H; ++c) dst[c] += src[c];
        }
    };
}

/// One answer order of one item: its propensity [layers x multipliers]; the embeddings when `rec` is non-null.
/// `prefix` holds prompt[0, done) already (unsteered); `emb_sum` the sum of the embedding blocks' residuals over
/// those positions (read only when rec is non-null).
template <class B>
std::vector<double> sweep_order(const B& backend, typename B::Session prefix, std::size_t done, std::vector<double> emb_sum,
                                const steer::TokenizedItem& item, const steer::VectorSet& vectors, const SweepOptions& opt,
                                ItemRecord* rec) {
    static_assert(model::check_backend<B>());
    const std::size_t H = static_cast<std::size_t>(backend.hidden_size());
    const std::size_t NL = static_cast<std::size_t>(backend.n_layers());
    const std::size_t L = opt.layers.size(), M = opt.multipliers.size(), E = opt.embedding_layers.size();
    const std::size_t P = item.prompt.size();
    std::vector<int> emb_slot(NL, -1);
    for (std::size_t e = 0; e < E; ++e) emb_slot[static_cast<std::size_t>(opt.embedding_layers[e])] = static_cast<int>(e);

    // 1. The rest of the prefix (all prompt tokens but the last), unsteered.
    if (P - 1 > done) {
        const model::Hook acc = rec ? embedding_sum_hook(emb_slot, emb_sum, H) : model::Hook{};
        backend.prefill(prefix, std::span<const model::token_id>(item.prompt.data() + done, P - 1 - done), acc, nullptr);
    }

    // 2-3. The unsteered tails from block 0, storing every block's residual.
    const TailPlan plan = plan_tails(item);
    const std::size_t G = plan.rows_per_group;
    std::vector<MatrixRM> base(NL);  // base[b]: [G x H] output of block b for the tail rows, in tail order
    std::vector<double> prop(L * M, 0.0);
    {
        std::vector<model::Tail> tails;
        add_group(tails, plan, nullptr, H);
        std::vector<std::size_t> tail_row0(tails.size());
        for (std::size_t i = 0, r = 0; i < tails.size(); ++i) {
            tail_row0[i] = r;
            r += tails[i].tokens.size();
        }
        for (auto& m : base) m.resize(static_cast<Eigen::Index>(G), static_cast<Eigen::Index>(H));
        const model::Hook capture = [&](const model::BlockOutput& o) {
            MatrixRM& dst = base[static_cast<std::size_t>(o.layer)];
            for (std::size_t r = 0; r < o.residual.rows; ++r)
                std::copy_n(o.residual.row(r), H, dst.row(static_cast<Eigen::Index>(tail_row0[o.seq] + r)).data());
        };
        const double m0 = run_groups(backend, prefix, std::span<const model::Tail>(tails), 0, capture, 1, plan, item)[0];
        for (std::size_t mi = 0; mi < M; ++mi)
            if (opt.multipliers[mi] == 0.0)
                for (std::size_t li = 0; li < L; ++li) prop[li * M + mi] = m0;
    }
    // Embeddings: the last prompt token is tail row 0.
    if (rec) {
        rec->emb_last.assign(E * H, 0.0f);
        rec->emb_mean.assign(E * H, 0.0f);
        for (std::size_t e = 0; e < E; ++e) {
            const MatrixRM& b = base[static_cast<std::size_t>(opt.embedding_layers[e])];
            for (std::size_t c = 0; c < H; ++c) {
                const float last = b(0, static_cast<Eigen::Index>(c));
                rec->emb_last[e * H + c] = last;
                rec->emb_mean[e * H + c] = static_cast<float>((emb_sum[e * H + c] + last) / static_cast<double>(P));
            }
        }
    }

    // 4. Per swept layer: all non-zero multipliers in one batched call from block l+1.
    std::vector<std::size_t> steered;
    for (std::size_t mi = 0; mi < M; ++mi)
        if (opt.multipliers[mi] != 0.0) steered.push_back(mi);
    MatrixRM input(static_cast<Eigen::Index>(steered.size() * G), static_cast<Eigen::Index>(H));
    std::vector<model::Tail> tails;
    for (std::size_t li = 0; li < L && !steered.empty(); ++li) {
        const int l = opt.layers[li];
        const auto v = vectors.at(l);
        const MatrixRM& b = base[static_cast<std::size_t>(l)];
        tails.clear();
        for (std::size_t s = 0; s < steered.size(); ++s) {
            // The unsteered output of block l for the tail rows, steered by the same hook steered generation uses
            // (apply.hpp is the one place vectors are added): every tail row is at or after the last prompt
            // token, where the protocol steers.
            const float lambda = static_cast<float>(opt.multipliers[steered[s]]);
            const MatrixView rows{input.row(static_cast<Eigen::Index>(s * G)).data(), G, H};
            std::copy_n(b.data(), G * H, rows.data);
            const steer::SteeringHook add({steer::SteeringTerm{l, lambda, v}}, steer::Positions::from(P - 1));
            add(model::BlockOutput{l, 0, P - 1, rows});
        }
        for (std::size_t s = 0; s < steered.size(); ++s)
            add_group(tails, plan, input.row(static_cast<Eigen::Index>(s * G)).data(), H);
        const auto m = run_groups(backend, prefix, std::span<const model::Tail>(tails), l + 1, model::Hook{}, steered.size(),
                                  plan, item);
        for (std::size_t s = 0; s < steered.size(); ++s) prop[li * M + steered[s]] = m[s];
    }
    return prop;
}

/// Slopes [layers] of propensities [layers x multipliers].
inline std::vector<double> slopes_of(const std::vector<double>& prop, const std::vector<double>& multipliers) {
    const std::size_t M = multipliers.size(), L = prop.size() / M;
    std::vector<double> out(L), y(M);
    for (std::size_t li = 0; li < L; ++li) {
        for (std::size_t mi = 0; mi < M; ++mi) y[mi] = prop[li * M + mi];
        out[li] = steer::slope(multipliers, y);
    }
    return out;
}

}  // namespace detail

/// The sweep of one item in one or two answer orders (`orders`: the TokenizedItems of one item, order 0 first):
/// propensity [layers x multipliers] and slope [layers] as the weighted sum over the orders (TokenizedItem::
/// weight: the mean when mirrored, order 0 alone as given), each order's slope when there are two, the
/// embeddings of order 0. `opt` must be resolved.
template <class B>
ItemRecord sweep_item(const B& backend, std::span<const steer::TokenizedItem> orders, const steer::VectorSet& vectors,
                      const SweepOptions& opt) {
    static_assert(model::check_backend<B>());
    if (orders.empty() || orders.size() > 2) throw invalid_argument("sweep: an item has 1 or 2 answer orders, got " + std::to_string(orders.size()));
    for (const auto& o : orders) {
        if (o.prompt.empty()) throw invalid_argument("sweep: item " + std::to_string(o.item) + " has an empty prompt");
        if (o.item != orders[0].item || o.scoring != orders[0].scoring)
            throw invalid_argument("sweep: the orders of one item must share its index and scoring");
    }
    if (orders.size() == 2 && orders[0].order != 0) throw invalid_argument("sweep: order 0 (as given) must come first");
    const std::size_t H = static_cast<std::size_t>(backend.hidden_size());
    const std::size_t NL = static_cast<std::size_t>(backend.n_layers());
    const std::size_t L = opt.layers.size(), M = opt.multipliers.size(), E = opt.embedding_layers.size();
    std::vector<int> emb_slot(NL, -1);
    for (std::size_t e = 0; e < E; ++e) emb_slot[static_cast<std::size_t>(opt.embedding_layers[e])] = static_cast<int>(e);

    // The prefix every order shares (their prompts' common head, never a last prompt token), prefilled once.
    std::size_t common = orders[0].prompt.size() - 1;
    for (const auto& o : orders.subspan(1)) {
        std::size_t c = 0;
        while (c < common && c + 1 < o.prompt.size() && o.prompt[c] == orders[0].prompt[c]) ++c;
        common = c;
    }
    auto shared = backend.new_session();
    std::vector<double> emb_sum(E * H, 0.0);
    if (common > 0) {
        backend.prefill(shared, std::span<const model::token_id>(orders[0].prompt.data(), common),
                        detail::embedding_sum_hook(emb_slot, emb_sum, H), nullptr);
    }
    ItemRecord rec;
    rec.item = orders[0].item;
    rec.propensity.assign(L * M, 0.0);
    std::vector<std::vector<double>> slopes;
    for (std::size_t k = 0; k < orders.size(); ++k) {
        const auto prop = detail::sweep_order(backend, shared, common, emb_sum, orders[k], vectors, opt, k == 0 ? &rec : nullptr);
        for (std::size_t i = 0; i < L * M; ++i) rec.propensity[i] += orders[k].weight * prop[i];
        slopes.push_back(detail::slopes_of(prop, opt.multipliers));
    }
    rec.slope = detail::slopes_of(rec.propensity, opt.multipliers);
    if (orders.size() == 2) {
        rec.slope_orders = slopes[0];
        rec.slope_orders.insert(rec.slope_orders.end(), slopes[1].begin(), slopes[1].end());
    }
    return rec;
}

/// The sweep of one item measured in one order.
template <class B>
ItemRecord sweep_item(const B& backend, const steer::TokenizedItem& item, const steer::VectorSet& vectors, const SweepOptions& opt) {
    static_assert(model::check_backend<B>());
    return sweep_item(backend, std::span<const steer::TokenizedItem>(&item, 1), vectors, opt);
}

/// Orders per item of a list of tokenized items (1 or 2, the same for every item, with the same weights) and their
/// scoring name; throws invalid_argument for a mixed list.
struct OrderLayout {
    int orders = 1;
    std::vector<double> weights;
    std::string scoring;
};
inline OrderLayout order_layout(std::span<const steer::TokenizedItem> items) {
    const auto groups = steer::item_groups(items);
    if (groups.empty()) throw invalid_argument("sweep: no items");
    const std::size_t n = groups[0].second - groups[0].first;
    for (const auto& [a, b] : groups)
        if (b - a != n || n > 2 || (n == 2 && (items[a].order != 0 || items[a + 1].order != 1)) || items[a].scoring != items[0].scoring ||
            items[a].weight != items[0].weight || items[b - 1].weight != items[n - 1].weight)
            throw invalid_argument("sweep: item " + std::to_string(items[a].item) +
                                   " differs from the first item in its answer orders, their weights or its scoring (a list holds one kind)");
    OrderLayout o;
    o.orders = static_cast<int>(n);
    for (std::size_t k = 0; k < n; ++k) o.weights.push_back(items[k].weight);
    o.scoring = std::string(steer::scoring_name(items[0].scoring));
    return o;
}

/// The model's fingerprint as hex: gguf::File::fingerprint() of a backend with file() (LlamaModel, the CUDA
/// model), a backend's own fingerprint() -> uint64 when it has one, else "" (unknown: not checked on resume).
template <class B>
std::string model_fingerprint(const B& backend) {
    if constexpr (requires { { backend.file().fingerprint() } -> std::convertible_to<std::uint64_t>; })
        return Fingerprint::to_hex(backend.file().fingerprint());
    else if constexpr (requires { { backend.fingerprint() } -> std::convertible_to<std::uint64_t>; })
        return Fingerprint::to_hex(backend.fingerprint());
    else
        return {};
}

/// The header describing a sweep of `backend` with resolved options.
template <class B>
SweepHeader make_header(const B& backend, const SweepOptions& opt, std::string model, std::string data, std::string variant,
                        std::string vectors) {
    static_assert(model::check_backend<B>());
    SweepHeader h;
    h.model = std::move(model);
    h.data = std::move(data);
    h.variant = std::move(variant);
    h.vectors = std::move(vectors);
    h.n_layers = backend.n_layers();
    h.hidden = backend.hidden_size();
    h.layers = opt.layers;
    h.multipliers = opt.multipliers;
    h.embedding_layers = opt.embedding_layers;
    return h;
}

/// The memory a sweep of `items` holds (bytes; `header` as run_sweep completes it: layers, multipliers, embedding
/// layers, orders, hidden; `threads` items in flight), checked by run_sweep
/// before its first forward pass (a resource_error when it exceeds core/memory.hpp's available_memory()): every
/// item's record (propensities, slopes and the prompt embeddings of every embedding layer: what the router is
/// trained on, so it grows with the items; counted twice, for the file's bytes when seal() rewrites it in item order)
/// and, per thread, the item in flight: every block's residual for its tail rows, the steered inputs and, for
/// items scored on full logits rows (free text, or any item on a backend without SelectiveLogits),
/// [multipliers x rows x vocab] floats. The backend's KV cache of the prompt is not counted.
template <class B>
std::uint64_t sweep_memory_bytes(const B& backend, std::span<const steer::TokenizedItem> items, const SweepHeader& header, int threads) {
    static_assert(model::check_backend<B>());
    const std::uint64_t H = static_cast<std::uint64_t>(backend.hidden_size());
    const std::uint64_t NL = static_cast<std::uint64_t>(backend.n_layers());
    const std::uint64_t V = static_cast<std::uint64_t>(backend.vocab_size());
    const std::uint64_t M = header.multipliers.size();
    const auto groups = steer::item_groups(items);
    const std::uint64_t record = io::detail::record_bytes(header) + 256;  // in memory: + the vectors' own overhead
    std::uint64_t worst = 0;  // the largest per-item workspace (all its orders)
    for (const auto& [a, b] : groups) {
        std::uint64_t w = 0;
        for (std::size_t i = a; i < b; ++i) {
            const auto& it = items[i];
            const std::uint64_t G = detail::plan_tails(it).rows_per_group;
            w = add_sat(w, mul_sat(4 * G * H, NL + M));
            bool full_rows = true;  // as run_groups reads them
            if constexpr (model::SelectiveLogits<B>) full_rows = it.scoring != steer::Scoring::logits;
            if (full_rows) w = add_sat(w, mul_sat(mul_sat(4 * G, M), V));
        }
        worst = std::max(worst, w);
    }
    const std::uint64_t in_flight = std::min<std::uint64_t>(groups.size(), static_cast<std::uint64_t>(std::max(1, threads)));
    return add_sat(mul_sat(2 * record, groups.size()), mul_sat(worst, in_flight));
}


/// Sweeps every item (in parallel inside `pool`; an item's answer orders together), appending finished items to `out_path` (when not empty) and
/// skipping items already in that file (resume). Returns the records of `items` (old and new), sorted by item.
template <class B>
SweepData run_sweep(const B& backend, std::span<const steer::TokenizedItem> items, const steer::VectorSet& vectors,
                    SweepOptions opt, SweepHeader header, const std::string& out_path, ThreadPool& pool,
                    const ProgressFn& progress = {}) {
    static_assert(model::check_backend<B>());
    opt = resolve_options(backend, vectors, std::move(opt));
    header.layers = opt.layers;
    header.multipliers = opt.multipliers;
    header.embedding_layers = opt.embedding_layers;
    header.n_layers = backend.n_layers();
    header.hidden = backend.hidden_size();
    const auto layout = order_layout(items);
    header.orders = layout.orders;
    header.order_weights = layout.weights;
    header.scoring = layout.scoring;
    header.vectors_fingerprint = vectors.fingerprint(opt.layers);
    header.model_fingerprint = model_fingerprint(backend);
    const auto groups = steer::item_groups(items);
    std::vector<std::uint64_t> inputs(groups.size());  // [groups] what each record is made from
    for (std::size_t g = 0; g < groups.size(); ++g)
        inputs[g] = steer::fingerprint_of(items.subspan(groups[g].first, groups[g].second - groups[g].first));
    // Before the file is opened, so that a refused sweep leaves nothing behind (counted as if no item were done).
    require_memory(sweep_memory_bytes(backend, items, header, pool.threads()),
                   "the sweep of " + std::to_string(groups.size()) + " items (" + std::to_string(opt.layers.size()) + " layers x " +
                       std::to_string(opt.multipliers.size()) + " multipliers, embeddings of " + std::to_string(opt.embedding_layers.size()) +
                       " layers x hidden " + std::to_string(backend.hidden_size()) + ")",
                   "use fewer items (--max-items), fewer threads, or store fewer embedding layers (SweepOptions::embedding_layers)");
    std::unique_ptr<SweepWriter> writer;
    if (!out_path.empty()) writer = std::make_unique<SweepWriter>(out_path, header);
    SweepData out;
    out.header = header;
    std::vector<std::size_t> todo;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto item = items[groups[g].first].item;
        const auto had = writer ? writer->inputs_of(item) : std::nullopt;
        if (!had) todo.push_back(g);
        else if (*had != inputs[g])
            throw invalid_argument(out_path + ": item " + std::to_string(item) + "'s record was made from other token ids (fingerprint " +
                                   Fingerprint::to_hex(*had) + ", now " + Fingerprint::to_hex(inputs[g]) +
                                   "): another split, subset, seed, prompt template or data file; remove the file or write to another path");
    }
    std::mutex mu;
    std::size_t done = groups.size() - todo.size();
    report(progress, "sweep", done, groups.size());
    pool.run([&] {
        parallel_for(0, todo.size(), 1, [&](std::size_t t) {
            const auto [a, b] = groups[todo[t]];
            ItemRecord r = sweep_item(backend, items.subspan(a, b - a), vectors, opt);
            r.inputs = inputs[todo[t]];
            std::lock_guard<std::mutex> lock(mu);
            if (writer) writer->append(r);
            out.items.push_back(std::move(r));
            report(progress, "sweep", ++done, groups.size());
        });
    });
    if (writer) {  // resumed: the records the file already held (read once, when the writer opened it)
        auto old = writer->take_existing();
        out.items.insert(out.items.end(), std::make_move_iterator(old.begin()), std::make_move_iterator(old.end()));
    }
    out.sort();
    if (writer) writer->seal(out);  // records in item order: the same file at any thread count, resumed or not
    // The file may hold records of items this run does not have (an earlier run over more items): they stay in the
    // file but are not this run's result.
    if (out.items.size() > groups.size()) {
        std::vector<std::uint64_t> wanted;
        wanted.reserve(groups.size());
        for (const auto& g : groups) wanted.push_back(items[g.first].item);
        std::sort(wanted.begin(), wanted.end());
        std::erase_if(out.items, [&](const ItemRecord& r) { return !std::binary_search(wanted.begin(), wanted.end(), r.item); });
    }
    return out;
}

}  // namespace w2s::sweep
