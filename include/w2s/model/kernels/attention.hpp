// w2s/model/kernels/attention.hpp — the attention of one block over a batch of sequences: a = softmax(q k^T · scale
// [softcapped]) v over the keys each row sees, grouped-query heads sharing k and v.
//
//   kernels::AttentionShape sh{.n_head = 9, .n_head_kv = 3, .head_k = 64, .head_v = 64, .scale = 0.125f};
//   kernels::attend_tiled(sh, seqs, pos, Q, K, V, A);      // the fast kernel (the model uses it)
//   kernels::attend_reference(sh, seqs, pos, Q, K, V, A);  // the slow one it is checked against
//
// What a row sees: its sequence's cached keys (positions 0..cache_len-1), the batch rows of its ancestors (tails
// that continue other tails) and its own sequence's rows up to itself; on a sliding-window block (window > 0) only
// keys at positions > pos - window. Shapes: Q [n x n_head·head_k], K [n x n_head_kv·head_k], V [n x
// n_head_kv·head_v] (the batch's own keys and values, after RoPE), the caches [cache_len x the same widths], A [n x
// n_head·head_v].
//
// attend_reference is the definition: one (row, head) at a time, scores in a vector, one softmax. attend_tiled
// streams over the keys in blocks with an online softmax (flash attention): a tile of a sequence's rows times the
// heads of one KV group forms a [rows·group x head_k] query matrix; per block of 64 keys one matrix product gives
// the scores, the running maximum and sum are updated and one more product adds the block's values. No [tokens x
// tokens] score matrix exists; the memory is one tile's scores and accumulators per task, whatever the context.
// A row's result depends only on its own sequence's keys, split into blocks the same way however the batch around
// it is made, so a sequence decoded in a batch gives the bits it gives alone. It agrees with the reference to
// float rounding (the sum is taken in another order), checked in tests/model/test_attention.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/parallel.hpp"
#include "w2s/core/tensor.hpp"

namespace w2s::kernels {

struct AttentionShape {
    std::size_t n_head = 1, n_head_kv = 1, head_k = 1, head_v = 1;
    float scale = 1.0f;    ///< applied to q·k
    float softcap = 0.0f;  ///< > 0: s = softcap · tanh(s / softcap) (Gemma 2)
    std::size_t window = 0;  ///< > 0: sliding window (keys at positions > pos - window)
};

/// One sequence of the batch: its rows [row0, row0 + len), the cache it continues ([cache_len x kd] keys, [cache_len
/// x vd] values, row-major; null when cache_len is 0) and the batch row ranges of its ancestors.
struct AttendSeq {
    std::size_t row0 = 0, len = 0;
    const float* cache_k = nullptr;
    const float* cache_v = nullptr;
    std::size_t cache_len = 0;
    std::span<const std::pair<std::size_t, std::size_t>> ancestors;
};

namespace detail {
/// The first position a row at `pos` sees.
inline std::size_t first_visible(std::size_t pos, std::size_t window) { return window && pos + 1 > window ? pos + 1 - window : 0; }
inline float capped(float s, float softcap) { return softcap > 0.f ? softcap * std::tanh(s / softcap) : s; }
}  // namespace detail

/// The definition (see the file comment). `pos` [n]: every batch row's absolute position.
inline void attend_reference(const AttentionShape& sh, std::span<const AttendSeq> seqs, std::span<const std::size_t> pos,
                             ConstMatrixView Q, ConstMatrixView K, ConstMatrixView V, MatrixView A) {
    const std::size_t nh = sh.n_head, hk = sh.head_k, hv = sh.head_v, group = sh.n_head / sh.n_head_kv;
    const std::size_t kd = sh.n_head_kv * hk, vd = sh.n_head_kv * hv;
    std::vector<std::size_t> seq_of(Q.rows);
    for (std::size_t s = 0; s < seqs.size(); ++s)
        for (std::size_t j = 0; j < seqs[s].len; ++j) seq_of[seqs[s].row0 + j] = s;
    parallel_for_range(0, Q.rows * nh, 2, [&](std::size_t lo, std::size_t hi) {
        std::vector<float> sc;
        std::vector<const float*> kp, vp;
        for (std::size_t idx = lo; idx < hi; ++idx) {
            const std::size_t r = idx / nh, hh = idx % nh, g = hh / group;
            const AttendSeq& sq = seqs[seq_of[r]];
            const std::size_t first_pos = detail::first_visible(pos[r], sh.window);
            kp.clear();
            vp.clear();
            for (std::size_t j = first_pos; j < sq.cache_len; ++j) {
                kp.push_back(sq.cache_k + j * kd + g * hk);
                vp.push_back(sq.cache_v + j * vd + g * hv);
            }
            auto add_rows = [&](std::size_t a, std::size_t b) {
                for (std::size_t j = a; j < b; ++j)
                    if (pos[j] >= first_pos) {
                        kp.push_back(K.row(j) + g * hk);
                        vp.push_back(V.row(j) + g * hv);
                    }
            };
            for (const auto& [a, b] : sq.ancestors) add_rows(a, b);
            add_rows(sq.row0, r + 1);
            const Eigen::Map<const Eigen::VectorXf> q(Q.row(r) + hh * hk, static_cast<Eigen::Index>(hk));
            sc.resize(kp.size());
            float mx = -std::numeric_limits<float>::infinity();
            for (std::size_t j = 0; j < kp.size(); ++j) {
                const float s = detail::capped(q.dot(Eigen::Map<const Eigen::VectorXf>(kp[j], static_cast<Eigen::Index>(hk))) * sh.scale, sh.softcap);
                sc[j] = s;
                mx = std::max(mx, s);
            }
            float sum = 0.f;
            for (auto& s : sc) {
                s = std::exp(s - mx);
                sum += s;
            }
            Eigen::Map<Eigen::VectorXf> out(A.row(r) + hh * hv, static_cast<Eigen::Index>(hv));
            out.setZero();
            const float inv = 1.0f / sum;
            for (std::size_t j = 0; j < kp.size(); ++j)
                out += (sc[j] * inv) * Eigen::Map<const Eigen::VectorXf>(vp[j], static_cast<Eigen::Index>(hv));
        }
    });
}

/// The fast kernel (see the file comment); the same arguments and results as attend_reference.
inline void attend_tiled(const AttentionShape& sh, std::span<const AttendSeq> seqs, std::span<const std::size_t> pos,
                         ConstMatrixView Q, ConstMatrixView K, ConstMatrixView V, MatrixView A) {
    using RM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Strided = Eigen::Map<const RM, 0, Eigen::OuterStride<>>;
    constexpr std::size_t kRows = 16;  // query rows per tile (times the group's heads)
    constexpr std::size_t kKeys = 64;  // keys per block
    const std::size_t nkv = sh.n_head_kv, hk = sh.head_k, hv = sh.head_v, group = sh.n_head / sh.n_head_kv;
    const std::size_t kd = nkv * hk, vd = nkv * hv;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    struct Task {
        std::size_t seq, g, a, b;  // sequence, KV group, its rows [a, b)
    };
    std::vector<Task> tasks;
    for (std::size_t s = 0; s < seqs.size(); ++s)
        for (std::size_t g = 0; g < nkv; ++g)
            for (std::size_t a = seqs[s].row0; a < seqs[s].row0 + seqs[s].len; a += kRows)
                tasks.push_back({s, g, a, std::min(a + kRows, seqs[s].row0 + seqs[s].len)});
    parallel_for(0, tasks.size(), 1, [&](std::size_t t) {
        const std::size_t s = tasks[t].seq, g = tasks[t].g, a = tasks[t].a, b = tasks[t].b;  // (no structured binding:
                                                                                              // lambdas below capture them)
        const AttendSeq& sq = seqs[s];
        const std::size_t tq = b - a, M = tq * group;
        // Qt [M x hk]: row i·group + e = the query of batch row a + i, head g·group + e
        RM Qt(static_cast<Eigen::Index>(M), static_cast<Eigen::Index>(hk));
        std::vector<std::size_t> first(tq);  // each tile row's first visible position
        for (std::size_t i = 0; i < tq; ++i) {
            first[i] = detail::first_visible(pos[a + i], sh.window);
            for (std::size_t e = 0; e < group; ++e)
                std::copy_n(Q.row(a + i) + (g * group + e) * hk, hk, Qt.row(static_cast<Eigen::Index>(i * group + e)).data());
        }
        const std::size_t first_min = first[0];  // rows are in position order
        RM S(static_cast<Eigen::Index>(M), static_cast<Eigen::Index>(kKeys));
        RM acc = RM::Zero(static_cast<Eigen::Index>(M), static_cast<Eigen::Index>(hv));
        Eigen::VectorXf mx = Eigen::VectorXf::Constant(static_cast<Eigen::Index>(M), neg_inf);
        Eigen::VectorXf sum = Eigen::VectorXf::Zero(static_cast<Eigen::Index>(M));
        std::vector<std::size_t> kpos(kKeys);
        // One block of nb keys at kp / vp (row strides kd / vd), positions kpos[0..nb); `own0`: when the keys are
        // the tile's own sequence's rows, the batch row of the first key (causal mask), else SIZE_MAX.
        auto block = [&](const float* kp, const float* vp, std::size_t nb, std::size_t own0) {
            const auto NB = static_cast<Eigen::Index>(nb);
            const Strided Kb(kp, NB, static_cast<Eigen::Index>(hk), Eigen::OuterStride<>(static_cast<Eigen::Index>(kd)));
            const Strided Vb(vp, NB, static_cast<Eigen::Index>(hv), Eigen::OuterStride<>(static_cast<Eigen::Index>(vd)));
            auto Sb = S.leftCols(NB);
            Sb.noalias() = Qt * Kb.transpose();
            Sb *= sh.scale;
            if (sh.softcap > 0.f) Sb = (Sb.array() / sh.softcap).tanh() * sh.softcap;
            // Masks only where a key can be invisible: left of the last tile row's window, or after the first tile row.
            const bool masked = (sh.window > 0 && kpos[0] < first[tq - 1]) || (own0 != static_cast<std::size_t>(-1) && own0 + nb - 1 > a);
            for (std::size_t i = 0; i < tq; ++i) {
                for (std::size_t e = 0; e < group; ++e) {
                    const auto row = static_cast<Eigen::Index>(i * group + e);
                    if (masked)
                        for (std::size_t j = 0; j < nb; ++j)
                            if (kpos[j] < first[i] || (own0 != static_cast<std::size_t>(-1) && own0 + j > a + i)) S(row, static_cast<Eigen::Index>(j)) = neg_inf;
                    const float bm = Sb.row(row).maxCoeff();
                    if (bm == neg_inf) {  // nothing visible in this block for this row
                        Sb.row(row).setZero();
                        continue;
                    }
                    const float m_new = std::max(mx(row), bm);
                    const float alpha = std::exp(mx(row) - m_new);  // 0 when nothing was seen before
                    Sb.row(row) = (Sb.row(row).array() - m_new).exp();
                    sum(row) = sum(row) * alpha + Sb.row(row).sum();
                    acc.row(row) *= alpha;
                    mx(row) = m_new;
                }
            }
            acc.noalias() += Sb * Vb;
        };
        // 1. The cache, from the first position any tile row sees.
        for (std::size_t j0 = first_min; j0 < sq.cache_len; j0 += kKeys) {
            const std::size_t nb = std::min(kKeys, sq.cache_len - j0);
            for (std::size_t j = 0; j < nb; ++j) kpos[j] = j0 + j;
            block(sq.cache_k + j0 * kd + g * hk, sq.cache_v + j0 * vd + g * hv, nb, static_cast<std::size_t>(-1));
        }
        // 2. The ancestors' rows and 3. the sequence's own rows up to the tile's last row, in blocks of batch rows.
        auto rows_of = [&](std::size_t r0, std::size_t r1, bool own) {
            for (std::size_t j0 = r0; j0 < r1; j0 += kKeys) {
                const std::size_t nb = std::min(kKeys, r1 - j0);
                if (pos[j0 + nb - 1] < first_min) continue;  // the whole block is left of every row's window
                for (std::size_t j = 0; j < nb; ++j) kpos[j] = pos[j0 + j];
                block(K.row(j0) + g * hk, V.row(j0) + g * hv, nb, own ? j0 : static_cast<std::size_t>(-1));
            }
        };
        for (const auto& [ra, rb] : sq.ancestors) rows_of(ra, rb, false);
        rows_of(sq.row0, b, true);
        for (std::size_t i = 0; i < tq; ++i)
            for (std::size_t e = 0; e < group; ++e) {
                const auto row = static_cast<Eigen::Index>(i * group + e);
                Eigen::Map<Eigen::RowVectorXf>(A.row(a + i) + (g * group + e) * hv, static_cast<Eigen::Index>(hv)) = acc.row(row) / sum(row);
            }
    });
}

}  // namespace w2s::kernels
