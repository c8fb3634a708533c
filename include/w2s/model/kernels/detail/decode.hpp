// w2s/model/kernels/detail/decode.hpp — SIMD (xsimd + x86 byte-widening intrinsics) row dequantizers.
//
// Internal header of w2s/model/kernels/matmul.hpp. decode_row(t, src, dst, n) writes exactly the floats
// gguf::dequantize_row_ref writes (bit for bit: every scale*quant product is exact in float32, so an FMA
// gives the same result as the reference's multiply-then-add); tests/kernels checks this for every type.
// Q2_K and Q3_K use the scalar reference decoder.
#pragma once

#ifndef W2S_KERNELS_INTERNAL
#error "w2s/model/kernels/detail/decode.hpp is internal: include w2s/model/kernels/matmul.hpp"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xsimd/xsimd.hpp>
#if XSIMD_WITH_AVX2 || XSIMD_WITH_AVX512F
#include <immintrin.h>
#endif

#include "w2s/gguf/blocks.hpp"
#include "w2s/gguf/quants.hpp"
#include "w2s/gguf/types.hpp"

// GCC 12 reports -Wmaybe-uninitialized inside its own AVX-512 intrinsic headers (the `__Y = __Y` idiom of
// _mm512_undefined_*) once they are inlined here; the values are fully defined. Silence only that.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace w2s::kernels::detail {

using fbatch = xsimd::batch<float>;          ///< widest float batch the compiler targets (16 lanes on AVX-512)
using ibatch = xsimd::batch<std::int32_t>;   ///< same width, int32 lanes
inline constexpr std::size_t kLanes = fbatch::size;
static_assert(ibatch::size == kLanes, "float and int32 batches must have the same lane count");
static_assert(32 % kLanes == 0, "a 32-element quant block must hold a whole number of batches");

/// kLanes bytes at p, zero-extended to int32 lanes.
inline ibatch load_u8(const std::uint8_t* p) noexcept {
#if XSIMD_WITH_AVX512F
    static_assert(kLanes == 16);
    return ibatch(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#elif XSIMD_WITH_AVX2
    static_assert(kLanes == 8);
    return ibatch(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
#else
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) t[i] = p[i];
    return ibatch::load_aligned(t);
#endif
}

/// kLanes signed bytes at p, sign-extended to int32 lanes.
inline ibatch load_i8(const std::int8_t* p) noexcept {
#if XSIMD_WITH_AVX512F
    return ibatch(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#elif XSIMD_WITH_AVX2
    return ibatch(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
#else
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) t[i] = p[i];
    return ibatch::load_aligned(t);
#endif
}

/// kLanes little-endian uint16 at p (any alignment), zero-extended to int32 lanes.
inline ibatch load_u16(const std::byte* p) noexcept {
#if XSIMD_WITH_AVX512F
    return ibatch(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
#elif XSIMD_WITH_AVX2
    return ibatch(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) {
        std::uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        t[i] = v;
    }
    return ibatch::load_aligned(t);
#endif
}

/// fp16 -> fp32 with the F16C instruction where available (exact, as gguf::fp16_to_fp32 for non-NaN input).
inline float h2f(gguf::f16_bits h) noexcept {
#if defined(__F16C__)
    return _cvtsh_ss(h);
#else
    return gguf::fp16_to_fp32(h);
#endif
}

inline fbatch to_f(const ibatch& b) noexcept { return xsimd::to_float(b); }

/// Lane index vector {0, 1, ..., kLanes-1} + base.
inline ibatch lane_iota(std::int32_t base) noexcept {
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) t[i] = base + static_cast<std::int32_t>(i);
    return ibatch::load_aligned(t);
}

/// 1 << (lane + base): the qh bit masks of Q5_0/Q5_1 elements base..base+kLanes-1.
inline ibatch bit_masks(std::int32_t base) noexcept {
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) t[i] = static_cast<std::int32_t>(1u << (base + static_cast<int>(i)));
    return ibatch::load_aligned(t);
}

// ---- per type: decode nb blocks at src into dst ------------------------------------------------------------

inline void decode_f16(const std::byte* src, float* dst, std::size_t n) noexcept {
    std::size_t i = 0;
#if XSIMD_WITH_AVX512F
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i))));
#elif defined(__F16C__)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i))));
#endif
    for (; i < n; ++i) {
        gguf::f16_bits h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = gguf::fp16_to_fp32(h);
    }
}

inline void decode_bf16(const std::byte* src, float* dst, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        xsimd::bitwise_cast<fbatch>(load_u16(src + 2 * i) << 16).store_unaligned(dst + i);
    for (; i < n; ++i) {
        std::uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = gguf::bf16_to_fp32(b);
    }
}

inline void decode_q4_0(const gguf::block_q4_0* x, float* y, std::size_t nb) noexcept {
    const ibatch m15(15), eight(8);
    for (std::size_t b = 0; b < nb; ++b, y += 32) {
        const fbatch d(h2f(x[b].d));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            (to_f((q & m15) - eight) * d).store_unaligned(y + h);
            (to_f((q >> 4) - eight) * d).store_unaligned(y + 16 + h);
        }
    }
}

inline void decode_q4_1(const gguf::block_q4_1* x, float* y, std::size_t nb) noexcept {
    const ibatch m15(15);
    for (std::size_t b = 0; b < nb; ++b, y += 32) {
        const fbatch d(h2f(x[b].d)), m(h2f(x[b].m));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            xsimd::fma(to_f(q & m15), d, m).store_unaligned(y + h);
            xsimd::fma(to_f(q >> 4), d, m).store_unaligned(y + 16 + h);
        }
    }
}

template <bool kHasMin, class Block>
inline void decode_q5(const Block* x, float* y, std::size_t nb) noexcept {
    const ibatch m15(15), zero(0), sixteen(16);
    ibatch masks_lo[16 / kLanes ? 16 / kLanes : 1], masks_hi[16 / kLanes ? 16 / kLanes : 1];
    for (std::size_t h = 0; h < 16; h += kLanes) {
        masks_lo[h / kLanes] = bit_masks(static_cast<std::int32_t>(h));
        masks_hi[h / kLanes] = bit_masks(static_cast<std::int32_t>(h + 16));
    }
    for (std::size_t b = 0; b < nb; ++b, y += 32) {
        const fbatch d(h2f(x[b].d));
        std::uint32_t qh32;
        std::memcpy(&qh32, x[b].qh, 4);
        const ibatch qh(static_cast<std::int32_t>(qh32));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            ibatch lo = (q & m15) | xsimd::select((qh & masks_lo[h / kLanes]) != zero, sixteen, zero);
            ibatch hi = (q >> 4) | xsimd::select((qh & masks_hi[h / kLanes]) != zero, sixteen, zero);
            if constexpr (kHasMin) {
                const fbatch m(h2f(x[b].m));
                xsimd::fma(to_f(lo), d, m).store_unaligned(y + h);
                xsimd::fma(to_f(hi), d, m).store_unaligned(y + 16 + h);
            } else {
                (to_f(lo - sixteen) * d).store_unaligned(y + h);
                (to_f(hi - sixteen) * d).store_unaligned(y + 16 + h);
            }
        }
    }
}

inline void decode_q8_0(const gguf::block_q8_0* x, float* y, std::size_t nb) noexcept {
    for (std::size_t b = 0; b < nb; ++b, y += 32) {
        const fbatch d(h2f(x[b].d));
        for (std::size_t h = 0; h < 32; h += kLanes) (to_f(load_i8(x[b].qs + h)) * d).store_unaligned(y + h);
    }
}

inline void decode_q4_K(const gguf::block_q4_K* x, float* y, std::size_t nb) noexcept {
    const ibatch m15(15);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const std::uint8_t* q = x[b].qs;
        for (int is = 0; is < 8; is += 2, q += 32, y += 64) {
            std::uint8_t sc, m;
            gguf::detail::scale_min_k4(is, x[b].scales, sc, m);
            const fbatch d1(d * static_cast<float>(sc)), m1(dmin * static_cast<float>(m));
            gguf::detail::scale_min_k4(is + 1, x[b].scales, sc, m);
            const fbatch d2(d * static_cast<float>(sc)), m2(dmin * static_cast<float>(m));
            for (std::size_t l = 0; l < 32; l += kLanes) {
                const ibatch v = load_u8(q + l);
                xsimd::fms(to_f(v & m15), d1, m1).store_unaligned(y + l);
                xsimd::fms(to_f(v >> 4), d2, m2).store_unaligned(y + 32 + l);
            }
        }
    }
}

inline void decode_q5_K(const gguf::block_q5_K* x, float* y, std::size_t nb) noexcept {
    const ibatch m15(15), zero(0), sixteen(16);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const std::uint8_t* ql = x[b].qs;
        const std::uint8_t* qh = x[b].qh;
        std::int32_t u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, y += 64, u1 <<= 2, u2 <<= 2) {
            std::uint8_t sc, m;
            gguf::detail::scale_min_k4(is, x[b].scales, sc, m);
            const fbatch d1(d * static_cast<float>(sc)), m1(dmin * static_cast<float>(m));
            gguf::detail::scale_min_k4(is + 1, x[b].scales, sc, m);
            const fbatch d2(d * static_cast<float>(sc)), m2(dmin * static_cast<float>(m));
            const ibatch bu1(u1), bu2(u2);
            for (std::size_t l = 0; l < 32; l += kLanes) {
                const ibatch v = load_u8(ql + l), h = load_u8(qh + l);
                const ibatch lo = (v & m15) | xsimd::select((h & bu1) != zero, sixteen, zero);
                const ibatch hi = (v >> 4) | xsimd::select((h & bu2) != zero, sixteen, zero);
                xsimd::fms(to_f(lo), d1, m1).store_unaligned(y + l);
                xsimd::fms(to_f(hi), d2, m2).store_unaligned(y + 32 + l);
            }
        }
    }
}

inline void decode_q6_K(const gguf::block_q6_K* x, float* y, std::size_t nb) noexcept {
    static_assert(16 % kLanes == 0 || kLanes == 16, "Q6_K sub-blocks of 16 must align with batches");
    const ibatch m15(15), m3(3), t32(32);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d);
        const std::uint8_t* ql = x[b].ql;
        const std::uint8_t* qh = x[b].qh;
        const std::int8_t* sc = x[b].scales;
        for (int n = 0; n < gguf::QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (std::size_t l = 0; l < 32; l += kLanes) {
                const std::size_t is = l / 16;
                const ibatch a = load_u8(ql + l), c = load_u8(ql + 32 + l), h = load_u8(qh + l);
                const ibatch q1 = ((a & m15) | ((h & m3) << 4)) - t32;
                const ibatch q2 = ((c & m15) | (((h >> 2) & m3) << 4)) - t32;
                const ibatch q3 = ((a >> 4) | (((h >> 4) & m3) << 4)) - t32;
                const ibatch q4 = ((c >> 4) | (((h >> 6) & m3) << 4)) - t32;
                (fbatch(d * static_cast<float>(sc[is + 0])) * to_f(q1)).store_unaligned(y + l);
                (fbatch(d * static_cast<float>(sc[is + 2])) * to_f(q2)).store_unaligned(y + 32 + l);
                (fbatch(d * static_cast<float>(sc[is + 4])) * to_f(q3)).store_unaligned(y + 64 + l);
                (fbatch(d * static_cast<float>(sc[is + 6])) * to_f(q4)).store_unaligned(y + 96 + l);
            }
        }
    }
}

/// SIMD twin of gguf::dequantize_row_ref for a type already validated (is_dequantizable, n a multiple of the
/// block size). src: the row's blocks; dst: [n] floats.
inline void decode_row(gguf::TensorType t, const std::byte* src, float* dst, std::size_t n) {
    using gguf::TensorType;
    using gguf::detail::blocks_of;
    switch (t) {
        case TensorType::F32: std::memcpy(dst, src, n * sizeof(float)); return;
        case TensorType::F16: decode_f16(src, dst, n); return;
        case TensorType::BF16: decode_bf16(src, dst, n); return;
        case TensorType::Q4_0: decode_q4_0(blocks_of<gguf::block_q4_0>(src), dst, n / 32); return;
        case TensorType::Q4_1: decode_q4_1(blocks_of<gguf::block_q4_1>(src), dst, n / 32); return;
        case TensorType::Q5_0: decode_q5<false>(blocks_of<gguf::block_q5_0>(src), dst, n / 32); return;
        case TensorType::Q5_1: decode_q5<true>(blocks_of<gguf::block_q5_1>(src), dst, n / 32); return;
        case TensorType::Q8_0: decode_q8_0(blocks_of<gguf::block_q8_0>(src), dst, n / 32); return;
        case TensorType::Q4_K: decode_q4_K(blocks_of<gguf::block_q4_K>(src), dst, n / 256); return;
        case TensorType::Q5_K: decode_q5_K(blocks_of<gguf::block_q5_K>(src), dst, n / 256); return;
        case TensorType::Q6_K: decode_q6_K(blocks_of<gguf::block_q6_K>(src), dst, n / 256); return;
        default: gguf::dequantize_row_ref(t, src, dst, n); return;  // Q2_K, Q3_K: scalar reference
    }
}

}  // namespace w2s::kernels::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
