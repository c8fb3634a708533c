// w2s/cuda/detail/kernels.cuh — the device kernels of the CUDA backend and their launchers (runtime.hpp).
// Compiled once, by nvcc, into w2s::cuda (cuda/kernels.cu). Every kernel computes what the CPU reference
// backend (w2s/model/llama/llama_model.hpp) computes for the same step, in float32 (fp16 only where a value
// enters a GEMM); the CUDA tests compare the two backends end to end.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "w2s/cuda/detail/check.cuh"
#include "w2s/cuda/runtime.hpp"

namespace w2s::cuda {
namespace detail {

constexpr int kMaxSegments = 64;  // attention: per-row key segments (prefix + ancestors + own sequence)

inline unsigned blocks_for(std::size_t n, unsigned threads, unsigned cap = 65535u * 8u) {
    const std::size_t b = (n + threads - 1) / threads;
    return static_cast<unsigned>(std::min<std::size_t>(std::max<std::size_t>(b, 1), cap));
}

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ inline float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/// Sum (or max) over the block; every thread gets the result. `red`: shared scratch of 32 floats.
template <bool Max>
__device__ inline float block_reduce(float v, float* red) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = Max ? warp_max(v) : warp_sum(v);
    __syncthreads();  // red may still be read by a previous reduction
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float r = Max ? -INFINITY : 0.f;
    for (int i = 0; i < nw; ++i) r = Max ? fmaxf(r, red[i]) : r + red[i];
    return r;
}

/// splitmix64 of (seed, i) -> uniform in [0, 1) with 24 bits.
__device__ inline float hash_uniform(std::uint64_t seed, std::uint64_t i) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

__global__ void k_f32_to_f16(const float* x, __half* y, std::size_t n) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x)
        y[i] = __float2half_rn(x[i]);
}

template <class T>
__global__ void k_fill_uniform(T* y, std::size_t n, float lo, float hi, std::uint64_t seed) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x) {
        const float v = lo + (hi - lo) * hash_uniform(seed, i);
        if constexpr (sizeof(T) == 2) y[i] = __float2half_rn(v);
        else y[i] = v;
    }
}

// grid: n rows
__global__ void k_embed(const __half* table, const std::int32_t* ids, std::size_t D, float scale, float* X) {
    const std::size_t r = blockIdx.x;
    const __half* src = table + static_cast<std::size_t>(ids[r]) * D;
    for (std::size_t c = threadIdx.x; c < D; c += blockDim.x) X[r * D + c] = scale * __half2float(src[c]);
}

// grid: rows; y = (x * inv) * w with inv = 1 / sqrt(mean(x^2) + eps)
__global__ void k_rms_norm_f16(const float* x, std::size_t ldx, const float* w, __half* y, std::size_t ldy, std::size_t n,
                               float eps) {
    __shared__ float red[32];
    const float* xr = x + blockIdx.x * ldx;
    float ss = 0.f;
    for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_reduce<false>(ss, red);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    __half* yr = y + blockIdx.x * ldy;
    for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = __float2half_rn((xr[i] * inv) * w[i]);
}

// grid: rows; X += (H * inv) * w
__global__ void k_add_rms_norm(float* X, const float* H, const float* w, std::size_t n, float eps) {
    __shared__ float red[32];
    const float* hr = H + blockIdx.x * n;
    float ss = 0.f;
    for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) ss += hr[i] * hr[i];
    ss = block_reduce<false>(ss, red);
    const float inv = 1.0f / sqrtf(ss / static_cast<float>(n) + eps);
    float* xr = X + blockIdx.x * n;
    for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) xr[i] += (hr[i] * inv) * w[i];
}

// grid: rows, block: a multiple of 32 (one warp per head at a time)
__global__ void k_qkv_prepare(float* qkv, QkvLayout L, const float* bias, const float* qn, const float* kn, float eps,
                              const float* cos_t, const float* sin_t, int half, bool neox) {
    const std::size_t r = blockIdx.x;
    float* row = qkv + r * L.ld;
    if (bias) {
        const std::size_t end = L.v_off + static_cast<std::size_t>(L.n_head_kv) * L.head_v;
        for (std::size_t c = threadIdx.x; c < end; c += blockDim.x) row[c] += bias[c];
        __syncthreads();
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    const float* c = cos_t + r * half;
    const float* s = sin_t + r * half;
    for (int hh = warp; hh < L.n_head + L.n_head_kv; hh += nw) {
        const bool is_q = hh < L.n_head;
        float* v = row + (is_q ? L.q_off + static_cast<std::size_t>(hh) * L.head_k
                               : L.k_off + static_cast<std::size_t>(hh - L.n_head) * L.head_k);
        const float* nwt = is_q ? qn : kn;
        if (nwt) {
            float ss = 0.f;
            for (int i = lane; i < L.head_k; i += 32) ss += v[i] * v[i];
            ss = warp_sum(ss);
            const float inv = 1.0f / sqrtf(ss / static_cast<float>(L.head_k) + eps);
            for (int i = lane; i < L.head_k; i += 32) v[i] = (v[i] * inv) * nwt[i];
            __syncwarp();
        }
        for (int i = lane; i < half; i += 32) {
            const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * c[i] - x1 * s[i];
            v[b] = x1 * c[i] + x0 * s[i];
        }
        __syncwarp();
    }
}

struct Seg {
    int batch;  // 0: prefix cache rows, 1: batch rows of the q|k|v buffer
    int start;  // first row
    int len;    // rows
    int off;    // index of its first key in the row's flat key list
};

// grid: (n_head, rows of the chunk); one block per (head, row); dynamic shared: head_k floats (the query)
__global__ void k_attention(const float* qkv, QkvLayout L, const float* pk, std::size_t ldpk, const float* pv, std::size_t ldpv,
                            int P, AttentionBatch b, AttentionParams p, __half* out, float* scores, std::size_t n_keys_max,
                            int row_begin) {
    extern __shared__ float q[];
    __shared__ Seg seg[kMaxSegments];
    __shared__ int n_seg, n_keys;
    __shared__ float red[32];

    const int h = blockIdx.x;
    const int r = row_begin + static_cast<int>(blockIdx.y);
    const int group = L.n_head / L.n_head_kv, g = h / group;
    const int hk = L.head_k, hv = L.head_v;
    const int pos = b.row_pos[r];
    const int first_pos = (p.window > 0 && pos + 1 > p.window) ? pos + 1 - p.window : 0;

    if (threadIdx.x == 0) {
        int ns = 0, nk = 0;
        auto add = [&](int batch, int start, int len) {
            if (len <= 0 || ns >= kMaxSegments) return;
            seg[ns++] = Seg{batch, start, len, nk};
            nk += len;
        };
        add(0, first_pos, P - first_pos);
        const int sq = b.row_seq[r];
        for (int i = b.anc_begin[sq]; i < b.anc_begin[sq + 1]; ++i) {
            const int a0 = b.anc[2 * i], a1 = b.anc[2 * i + 1];
            const int skip = max(0, first_pos - b.row_pos[a0]);
            add(1, a0 + skip, a1 - a0 - skip);
        }
        const int o0 = b.seq_row0[sq];
        const int skip = max(0, first_pos - b.row_pos[o0]);
        add(1, o0 + skip, r + 1 - o0 - skip);
        n_seg = ns;
        n_keys = nk;
    }
    const float* qr = qkv + static_cast<std::size_t>(r) * L.ld + L.q_off + static_cast<std::size_t>(h) * hk;
    for (int i = threadIdx.x; i < hk; i += blockDim.x) q[i] = qr[i];
    __syncthreads();

    auto key_row = [&](const Seg& s, int j) -> const float* {  // j: row within the segment
        return s.batch ? qkv + static_cast<std::size_t>(s.start + j) * L.ld + L.k_off + static_cast<std::size_t>(g) * hk
                       : pk + static_cast<std::size_t>(s.start + j) * ldpk + static_cast<std::size_t>(g) * hk;
    };
    auto value_row = [&](const Seg& s, int j) -> const float* {
        return s.batch ? qkv + static_cast<std::size_t>(s.start + j) * L.ld + L.v_off + static_cast<std::size_t>(g) * hv
                       : pv + static_cast<std::size_t>(s.start + j) * ldpv + static_cast<std::size_t>(g) * hv;
    };

    float* sc = scores + (static_cast<std::size_t>(blockIdx.y) * L.n_head + h) * n_keys_max;
    // 1. scores and their max
    float mx = -INFINITY;
    for (int k = threadIdx.x; k < n_keys; k += blockDim.x) {
        int si = 0;
        while (si + 1 < n_seg && seg[si + 1].off <= k) ++si;
        const float* kr = key_row(seg[si], k - seg[si].off);
        float d = 0.f;
        for (int i = 0; i < hk; ++i) d += q[i] * kr[i];
        d *= p.scale;
        if (p.softcap > 0.f) d = p.softcap * tanhf(d / p.softcap);
        sc[k] = d;
        mx = fmaxf(mx, d);
    }
    mx = block_reduce<true>(mx, red);
    // 2. exponentials and their sum
    float sum = 0.f;
    for (int k = threadIdx.x; k < n_keys; k += blockDim.x) {
        const float e = expf(sc[k] - mx);
        sc[k] = e;
        sum += e;
    }
    sum = block_reduce<false>(sum, red);  // its leading __syncthreads also orders the sc writes before the reads below
    const float inv = 1.0f / sum;
    // 3. the weighted sum of the values, one output dim per thread
    for (int d = threadIdx.x; d < hv; d += blockDim.x) {
        float acc = 0.f;
        for (int si = 0; si < n_seg; ++si) {
            const Seg s = seg[si];
            for (int j = 0; j < s.len; ++j) acc += sc[s.off + j] * value_row(s, j)[d];
        }
        out[static_cast<std::size_t>(r) * L.n_head * hv + static_cast<std::size_t>(h) * hv + d] = __float2half_rn(acc * inv);
    }
}

__device__ inline float silu(float x) { return x / (1.0f + expf(-x)); }
__device__ inline float gelu_tanh(float x) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

__global__ void k_glu(const float* gu, std::size_t rows, std::size_t F, bool gelu, __half* out) {
    const std::size_t n = rows * F;
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x) {
        const std::size_t r = i / F, c = i % F;
        const float g = gu[r * 2 * F + c], u = gu[r * 2 * F + F + c];
        out[i] = __float2half_rn((gelu ? gelu_tanh(g) : silu(g)) * u);
    }
}

__global__ void k_softcap(float* x, std::size_t n, float cap) {
    for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < n; i += std::size_t{gridDim.x} * blockDim.x)
        x[i] = cap * tanhf(x[i] / cap);
}

}  // namespace detail

// ---- launchers -------------------------------------------------------------------------------------------------
void f32_to_f16(const float* d_x, half_bits* d_y, std::size_t n, const Stream& s) {
    if (!n) return;
    detail::k_f32_to_f16<<<detail::blocks_for(n, 256), 256, 0, detail::native(s)>>>(d_x, reinterpret_cast<__half*>(d_y), n);
    W2S_CUDA_CHECK_LAUNCH("f32_to_f16");
}

void fill_uniform_f16(half_bits* d_y, std::size_t n, float lo, float hi, std::uint64_t seed, const Stream& s) {
    if (!n) return;
    detail::k_fill_uniform<__half><<<detail::blocks_for(n, 256), 256, 0, detail::native(s)>>>(reinterpret_cast<__half*>(d_y),
                                                                                              n, lo, hi, seed);
    W2S_CUDA_CHECK_LAUNCH("fill_uniform_f16");
}

void fill_uniform_f32(float* d_y, std::size_t n, float lo, float hi, std::uint64_t seed, const Stream& s) {
    if (!n) return;
    detail::k_fill_uniform<float><<<detail::blocks_for(n, 256), 256, 0, detail::native(s)>>>(d_y, n, lo, hi, seed);
    W2S_CUDA_CHECK_LAUNCH("fill_uniform_f32");
}

void embed(const half_bits* d_table, const std::int32_t* d_ids, std::size_t n, std::size_t D, float scale, float* d_X,
           const Stream& s) {
    if (!n) return;
    detail::k_embed<<<static_cast<unsigned>(n), 256, 0, detail::native(s)>>>(reinterpret_cast<const __half*>(d_table), d_ids,
                                                                             D, scale, d_X);
    W2S_CUDA_CHECK_LAUNCH("embed");
}

void rms_norm_f16(const float* d_x, std::size_t ldx, const float* d_w, half_bits* d_y, std::size_t ldy, std::size_t rows,
                  std::size_t n, float eps, const Stream& s) {
    if (!rows) return;
    detail::k_rms_norm_f16<<<static_cast<unsigned>(rows), 256, 0, detail::native(s)>>>(d_x, ldx, d_w,
                                                                                       reinterpret_cast<__half*>(d_y), ldy, n, eps);
    W2S_CUDA_CHECK_LAUNCH("rms_norm_f16");
}

void add_rms_norm(float* d_X, const float* d_H, const float* d_w, std::size_t rows, std::size_t n, float eps, const Stream& s) {
    if (!rows) return;
    detail::k_add_rms_norm<<<static_cast<unsigned>(rows), 256, 0, detail::native(s)>>>(d_X, d_H, d_w, n, eps);
    W2S_CUDA_CHECK_LAUNCH("add_rms_norm");
}

void qkv_prepare(float* d_qkv, std::size_t rows, const QkvLayout& L, const float* d_bias, const float* d_q_norm,
                 const float* d_k_norm, float eps, const float* d_cos, const float* d_sin, int rope_half, bool neox,
                 const Stream& s) {
    if (!rows) return;
    detail::k_qkv_prepare<<<static_cast<unsigned>(rows), 128, 0, detail::native(s)>>>(d_qkv, L, d_bias, d_q_norm, d_k_norm, eps,
                                                                                      d_cos, d_sin, rope_half, neox);
    W2S_CUDA_CHECK_LAUNCH("qkv_prepare");
}

void attention(const float* d_qkv, std::size_t n, const QkvLayout& L, const float* d_pk, std::size_t ldpk, const float* d_pv,
               std::size_t ldpv, std::size_t P, const AttentionBatch& b, const AttentionParams& p, half_bits* d_out,
               float* d_scores, std::size_t n_keys_max, std::size_t chunk_rows, const Stream& s) {
    if (!n) return;
    if (b.max_segments > detail::kMaxSegments)
        throw invalid_argument("cuda::attention: a tail's parent chain is " + std::to_string(b.max_segments - 2) +
                               " deep; at most " + std::to_string(detail::kMaxSegments - 2) + " are supported");
    if (chunk_rows == 0 || chunk_rows > 65535) chunk_rows = 65535;
    const std::size_t shmem = static_cast<std::size_t>(L.head_k) * sizeof(float);
    for (std::size_t r0 = 0; r0 < n; r0 += chunk_rows) {
        const std::size_t rows = std::min(chunk_rows, n - r0);
        const dim3 grid(static_cast<unsigned>(L.n_head), static_cast<unsigned>(rows));
        detail::k_attention<<<grid, 128, shmem, detail::native(s)>>>(d_qkv, L, d_pk, ldpk, d_pv, ldpv, static_cast<int>(P), b, p,
                                                                     reinterpret_cast<__half*>(d_out), d_scores, n_keys_max,
                                                                     static_cast<int>(r0));
        W2S_CUDA_CHECK_LAUNCH("attention");
    }
}

void glu(const float* d_gu, std::size_t rows, std::size_t F, bool gelu, half_bits* d_out, const Stream& s) {
    if (!rows || !F) return;
    detail::k_glu<<<detail::blocks_for(rows * F, 256), 256, 0, detail::native(s)>>>(d_gu, rows, F, gelu,
                                                                                    reinterpret_cast<__half*>(d_out));
    W2S_CUDA_CHECK_LAUNCH("glu");
}

void softcap(float* d_x, std::size_t n, float cap, const Stream& s) {
    if (!n) return;
    detail::k_softcap<<<detail::blocks_for(n, 256), 256, 0, detail::native(s)>>>(d_x, n, cap);
    W2S_CUDA_CHECK_LAUNCH("softcap");
}

}  // namespace w2s::cuda
