// w2s/model/kernels/detail/matmul_q8_impl.hpp — implementation of w2s/model/kernels/matmul_q8.hpp.
#pragma once

#ifndef W2S_KERNELS_INTERNAL
#error "w2s/model/kernels/detail/matmul_q8_impl.hpp is internal: include w2s/model/kernels/matmul_q8.hpp"
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#if defined(__AVX2__)
#include <immintrin.h>
#define W2S_KERNELS_Q8_PATH 1
#else
#define W2S_KERNELS_Q8_PATH 0
#endif

#include "w2s/gguf/blocks.hpp"
#include "w2s/model/kernels/matmul.hpp"

namespace w2s::kernels {

namespace detail {

/// One quantized block of 32 activations: x_i ~= d * q[i]; s = d * sum(q) (for the weights' min term).
struct XBlock {
    float d;
    float s;
    std::int8_t q[32];
};

/// Quantizes one row of n (multiple of 32) activations into n / 32 blocks.
inline void quantize_row_q8(const float* x, std::size_t n, XBlock* out) noexcept {
    for (std::size_t b = 0; b < n / 32; ++b) {
        const float* xb = x + 32 * b;
        float amax = 0.0f;
        for (int i = 0; i < 32; ++i) amax = std::max(amax, std::abs(xb[i]));
        const float d = amax / 127.0f;
        const float id = d > 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int i = 0; i < 32; ++i) {
            const int q = std::clamp(static_cast<int>(std::nearbyint(xb[i] * id)), -127, 127);
            out[b].q[i] = static_cast<std::int8_t>(q);
            sum += q;
        }
        out[b].d = d;
        out[b].s = d * static_cast<float>(sum);
    }
}

#if W2S_KERNELS_Q8_PATH

/// Sum of u[i] * s[i] over groups of 4 bytes -> 8 int32 lanes (u unsigned, s signed; no overflow for the
/// ranges used here: u <= 128, |s| <= 127).
inline __m256i dot_u8_i8(__m256i u, __m256i s) noexcept {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#elif defined(__AVXVNNI__)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/// Signed x signed byte dot via |w| and x carrying w's sign.
inline __m256i dot_i8_i8(__m256i w, __m256i x) noexcept {
    return dot_u8_i8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

/// 32 nibbles of a Q4/Q5 block in element order: bytes 0..15 = low nibbles, 16..31 = high nibbles.
inline __m256i nibbles(const std::uint8_t* qs) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
    const __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/// Byte i = 0x10 when bit i of the 32-bit qh is set, else 0.
inline __m256i high_bits(const std::uint8_t* qh) noexcept {
    std::uint32_t h;
    std::memcpy(&h, qh, 4);
    const __m256i sel = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                         2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(h)), sel);
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
    return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

inline float hsum256(__m256 v) noexcept {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

inline float h2f_scalar(gguf::f16_bits h) noexcept { return _cvtsh_ss(h); }

/// Dots of one weight row (nb blocks of type t) with R quantized X rows x[0..R): each weight block is
/// expanded once and reused for the R rows. out[r] = result for x[r].
template <std::size_t R>
inline void dot_q8_rows(gguf::TensorType t, const std::byte* w, const XBlock* const* x, std::size_t nb,
                        float* out) noexcept {
    using gguf::TensorType;
    __m256 acc[R];
    float acc_min[R];
    for (std::size_t r = 0; r < R; ++r) {
        acc[r] = _mm256_setzero_ps();
        acc_min[r] = 0.0f;
    }
    auto load_x = [&](std::size_t r, std::size_t b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][b].q)); };
    auto add = [&](std::size_t r, std::size_t b, float dw, __m256i isum) {
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * x[r][b].d), _mm256_cvtepi32_ps(isum), acc[r]);
    };
    // signed weights: |w| and its sign are computed once per block
    auto signed_block = [&](std::size_t b, float dw, __m256i q) {
        const __m256i aw = _mm256_sign_epi8(q, q);
        for (std::size_t r = 0; r < R; ++r) add(r, b, dw, dot_u8_i8(aw, _mm256_sign_epi8(load_x(r, b), q)));
    };
    auto unsigned_block = [&](std::size_t b, float dw, float mw, __m256i q) {
        for (std::size_t r = 0; r < R; ++r) {
            add(r, b, dw, dot_u8_i8(q, load_x(r, b)));
            acc_min[r] += mw * x[r][b].s;
        }
    };
    switch (t) {
        case TensorType::Q8_0: {
            const auto* blk = gguf::detail::blocks_of<gguf::block_q8_0>(w);
            for (std::size_t b = 0; b < nb; ++b)
                signed_block(b, h2f_scalar(blk[b].d), _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[b].qs)));
            break;
        }
        case TensorType::Q4_0: {
            const auto* blk = gguf::detail::blocks_of<gguf::block_q4_0>(w);
            for (std::size_t b = 0; b < nb; ++b)
                signed_block(b, h2f_scalar(blk[b].d), _mm256_sub_epi8(nibbles(blk[b].qs), _mm256_set1_epi8(8)));
            break;
        }
        case TensorType::Q4_1: {
            const auto* blk = gguf::detail::blocks_of<gguf::block_q4_1>(w);
            for (std::size_t b = 0; b < nb; ++b)
                unsigned_block(b, h2f_scalar(blk[b].d), h2f_scalar(blk[b].m), nibbles(blk[b].qs));
            break;
        }
        case TensorType::Q5_0: {
            const auto* blk = gguf::detail::blocks_of<gguf::block_q5_0>(w);
            for (std::size_t b = 0; b < nb; ++b) {
                const __m256i q = _mm256_or_si256(nibbles(blk[b].qs), high_bits(blk[b].qh));
                signed_block(b, h2f_scalar(blk[b].d), _mm256_sub_epi8(q, _mm256_set1_epi8(16)));
            }
            break;
        }
        case TensorType::Q5_1: {
            const auto* blk = gguf::detail::blocks_of<gguf::block_q5_1>(w);
            for (std::size_t b = 0; b < nb; ++b)
                unsigned_block(b, h2f_scalar(blk[b].d), h2f_scalar(blk[b].m),
                               _mm256_or_si256(nibbles(blk[b].qs), high_bits(blk[b].qh)));
            break;
        }
        default: break;
    }
    for (std::size_t r = 0; r < R; ++r) out[r] = hsum256(acc[r]) + acc_min[r];
}

#endif  // W2S_KERNELS_Q8_PATH

}  // namespace detail

inline bool has_q8_path(gguf::TensorType t) noexcept {
#if W2S_KERNELS_Q8_PATH
    using gguf::TensorType;
    return t == TensorType::Q4_0 || t == TensorType::Q4_1 || t == TensorType::Q5_0 || t == TensorType::Q5_1 ||
           t == TensorType::Q8_0;
#else
    (void)t;
    return false;
#endif
}

inline void matmul_q8(const WeightMatrix& W, ConstMatrixView X, MatrixView Y) {
    detail::check_product_shapes("matmul_q8", W, X, Y);
    if (!has_q8_path(W.type) || W.n_in % 32 != 0) {
        matmul(W, X, Y);
        return;
    }
#if W2S_KERNELS_Q8_PATH
    (void)gguf::row_size_bytes(W.type, W.n_in);
    if (X.rows == 0 || W.n_out == 0) return;
    const std::size_t nb = W.n_in / 32;
    std::vector<detail::XBlock> xq(X.rows * nb);  // [rows x nb] blocks
    for (std::size_t r = 0; r < X.rows; ++r) detail::quantize_row_q8(X.row(r), W.n_in, xq.data() + r * nb);
    const std::size_t per_row = W.n_in * X.rows;
    const std::size_t grain = std::max<std::size_t>(16, (std::size_t{1} << 18) / per_row);
    // Blocks of X rows (about 256 KiB of quantized activations) so they stay in L2 while weight rows stream.
    const std::size_t xb = std::max<std::size_t>(4, (256 * 1024 / (nb * sizeof(detail::XBlock))) / 4 * 4);
    auto body = [&](std::size_t o0, std::size_t o1) {
        for (std::size_t r0 = 0; r0 < X.rows; r0 += xb) {
            const std::size_t r1 = std::min(X.rows, r0 + xb);
            for (std::size_t o = o0; o < o1; ++o) {
                std::size_t r = r0;
                float res[4];
                const detail::XBlock* xr[4];
                for (; r + 4 <= r1; r += 4) {
                    for (std::size_t i = 0; i < 4; ++i) xr[i] = xq.data() + (r + i) * nb;
                    detail::dot_q8_rows<4>(W.type, W.row(o), xr, nb, res);
                    for (std::size_t i = 0; i < 4; ++i) Y.row(r + i)[o] = res[i];
                }
                for (; r < r1; ++r) {
                    xr[0] = xq.data() + r * nb;
                    detail::dot_q8_rows<1>(W.type, W.row(o), xr, nb, res);
                    Y.row(r)[o] = res[0];
                }
            }
        }
    };
    if (W.n_out <= grain) {
        body(0, W.n_out);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, W.n_out, grain),
                      [&](const tbb::blocked_range<std::size_t>& g) { body(g.begin(), g.end()); });
#endif
}

}  // namespace w2s::kernels
