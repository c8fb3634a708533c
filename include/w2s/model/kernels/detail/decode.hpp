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

/// 1 << (lane + base): the qh bit masks of Q5_0/Q5_1 elements base..base+kLanes-1.
inline ibatch bit_masks(std::int32_t base) noexcept {
    alignas(64) std::int32_t t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) t[i] = static_cast<std::int32_t>(1u << (base + static_cast<int>(i)));
    return ibatch::load_aligned(t);
}

// ---- per type: visit the decoded weights of a row -----------------------------------------------------------
//
// A visitor decodes the row batch by batch and hands each batch to a sink:
//   sink.template put<S>(off, w)  — w = weights off .. off+kLanes-1 of the row; S in {0, 1} alternates between
//                                   independent batches so a sink can keep two accumulator chains;
//   sink.scalar(off, w)           — one weight (only the float types, for a row length not a multiple of kLanes).
// decode_row uses a sink that stores; the fused matmul path uses one that multiplies into accumulators.

template <class Sink>
inline void visit_f32(const std::byte* src, std::size_t n, Sink& sink) noexcept {
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        sink.template put<0>(i, fbatch::load_unaligned(reinterpret_cast<const float*>(src) + i));
        sink.template put<1>(i + kLanes, fbatch::load_unaligned(reinterpret_cast<const float*>(src) + i + kLanes));
    }
    for (; i + kLanes <= n; i += kLanes) sink.template put<0>(i, fbatch::load_unaligned(reinterpret_cast<const float*>(src) + i));
    for (; i < n; ++i) {
        float v;
        std::memcpy(&v, src + 4 * i, 4);
        sink.scalar(i, v);
    }
}

inline fbatch load_f16(const std::byte* p) noexcept {
#if XSIMD_WITH_AVX512F
    return fbatch(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
#elif XSIMD_WITH_AVX2 && defined(__F16C__)
    return fbatch(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
    alignas(64) float t[kLanes];
    for (std::size_t i = 0; i < kLanes; ++i) {
        gguf::f16_bits h;
        std::memcpy(&h, p + 2 * i, 2);
        t[i] = gguf::fp16_to_fp32(h);
    }
    return fbatch::load_aligned(t);
#endif
}

template <class Sink>
inline void visit_f16(const std::byte* src, std::size_t n, Sink& sink) noexcept {
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        sink.template put<0>(i, load_f16(src + 2 * i));
        sink.template put<1>(i + kLanes, load_f16(src + 2 * (i + kLanes)));
    }
    for (; i + kLanes <= n; i += kLanes) sink.template put<0>(i, load_f16(src + 2 * i));
    for (; i < n; ++i) {
        gguf::f16_bits h;
        std::memcpy(&h, src + 2 * i, 2);
        sink.scalar(i, gguf::fp16_to_fp32(h));
    }
}

template <class Sink>
inline void visit_bf16(const std::byte* src, std::size_t n, Sink& sink) noexcept {
    std::size_t i = 0;
    for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
        sink.template put<0>(i, xsimd::bitwise_cast<fbatch>(load_u16(src + 2 * i) << 16));
        sink.template put<1>(i + kLanes, xsimd::bitwise_cast<fbatch>(load_u16(src + 2 * (i + kLanes)) << 16));
    }
    for (; i + kLanes <= n; i += kLanes) sink.template put<0>(i, xsimd::bitwise_cast<fbatch>(load_u16(src + 2 * i) << 16));
    for (; i < n; ++i) {
        std::uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        sink.scalar(i, gguf::bf16_to_fp32(b));
    }
}

template <class Sink>
inline void visit_q4_0(const gguf::block_q4_0* x, std::size_t nb, Sink& sink) noexcept {
    const ibatch m15(15), eight(8);
    for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t y = 32 * b;
        const fbatch d(h2f(x[b].d));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            sink.template put<0>(y + h, to_f((q & m15) - eight) * d);
            sink.template put<1>(y + 16 + h, to_f((q >> 4) - eight) * d);
        }
    }
}

template <class Sink>
inline void visit_q4_1(const gguf::block_q4_1* x, std::size_t nb, Sink& sink) noexcept {
    const ibatch m15(15);
    for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t y = 32 * b;
        const fbatch d(h2f(x[b].d)), m(h2f(x[b].m));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            sink.template put<0>(y + h, xsimd::fma(to_f(q & m15), d, m));
            sink.template put<1>(y + 16 + h, xsimd::fma(to_f(q >> 4), d, m));
        }
    }
}

template <bool kHasMin, class Block, class Sink>
inline void visit_q5(const Block* x, std::size_t nb, Sink& sink) noexcept {
    constexpr std::size_t nh = 16 / kLanes;
    const ibatch m15(15), zero(0), sixteen(16);
    ibatch masks_lo[nh], masks_hi[nh];
    for (std::size_t h = 0; h < 16; h += kLanes) {
        masks_lo[h / kLanes] = bit_masks(static_cast<std::int32_t>(h));
        masks_hi[h / kLanes] = bit_masks(static_cast<std::int32_t>(h + 16));
    }
    for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t y = 32 * b;
        const fbatch d(h2f(x[b].d));
        std::uint32_t qh32;
        std::memcpy(&qh32, x[b].qh, 4);
        const ibatch qh(static_cast<std::int32_t>(qh32));
        for (std::size_t h = 0; h < 16; h += kLanes) {
            const ibatch q = load_u8(x[b].qs + h);
            const ibatch lo = (q & m15) | xsimd::select((qh & masks_lo[h / kLanes]) != zero, sixteen, zero);
            const ibatch hi = (q >> 4) | xsimd::select((qh & masks_hi[h / kLanes]) != zero, sixteen, zero);
            if constexpr (kHasMin) {
                const fbatch m(h2f(x[b].m));
                sink.template put<0>(y + h, xsimd::fma(to_f(lo), d, m));
                sink.template put<1>(y + 16 + h, xsimd::fma(to_f(hi), d, m));
            } else {
                sink.template put<0>(y + h, to_f(lo - sixteen) * d);
                sink.template put<1>(y + 16 + h, to_f(hi - sixteen) * d);
            }
        }
    }
}

template <class Sink>
inline void visit_q8_0(const gguf::block_q8_0* x, std::size_t nb, Sink& sink) noexcept {
    for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t y = 32 * b;
        const fbatch d(h2f(x[b].d));
        for (std::size_t h = 0; h < 32; h += 2 * kLanes) {
            sink.template put<0>(y + h, to_f(load_i8(x[b].qs + h)) * d);
            sink.template put<1>(y + h + kLanes, to_f(load_i8(x[b].qs + h + kLanes)) * d);
        }
    }
}

template <class Sink>
inline void visit_q4_K(const gguf::block_q4_K* x, std::size_t nb, Sink& sink) noexcept {
    const ibatch m15(15);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const std::uint8_t* q = x[b].qs;
        std::size_t y = 256 * b;
        for (int is = 0; is < 8; is += 2, q += 32, y += 64) {
            std::uint8_t sc, m;
            gguf::detail::scale_min_k4(is, x[b].scales, sc, m);
            const fbatch d1(d * static_cast<float>(sc)), m1(dmin * static_cast<float>(m));
            gguf::detail::scale_min_k4(is + 1, x[b].scales, sc, m);
            const fbatch d2(d * static_cast<float>(sc)), m2(dmin * static_cast<float>(m));
            for (std::size_t l = 0; l < 32; l += kLanes) {
                const ibatch v = load_u8(q + l);
                sink.template put<0>(y + l, xsimd::fms(to_f(v & m15), d1, m1));
                sink.template put<1>(y + 32 + l, xsimd::fms(to_f(v >> 4), d2, m2));
            }
        }
    }
}

template <class Sink>
inline void visit_q5_K(const gguf::block_q5_K* x, std::size_t nb, Sink& sink) noexcept {
    const ibatch m15(15), zero(0), sixteen(16);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d), dmin = h2f(x[b].dmin);
        const std::uint8_t* ql = x[b].qs;
        const std::uint8_t* qh = x[b].qh;
        std::int32_t u1 = 1, u2 = 2;
        std::size_t y = 256 * b;
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
                sink.template put<0>(y + l, xsimd::fms(to_f(lo), d1, m1));
                sink.template put<1>(y + 32 + l, xsimd::fms(to_f(hi), d2, m2));
            }
        }
    }
}

template <class Sink>
inline void visit_q6_K(const gguf::block_q6_K* x, std::size_t nb, Sink& sink) noexcept {
    const ibatch m15(15), m3(3), t32(32);
    for (std::size_t b = 0; b < nb; ++b) {
        const float d = h2f(x[b].d);
        const std::uint8_t* ql = x[b].ql;
        const std::uint8_t* qh = x[b].qh;
        const std::int8_t* sc = x[b].scales;
        std::size_t y = 256 * b;
        for (int n = 0; n < gguf::QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (std::size_t l = 0; l < 32; l += kLanes) {
                const std::size_t is = l / 16;  // one scale per 16 weights: constant within a batch
                const ibatch a = load_u8(ql + l), c = load_u8(ql + 32 + l), h = load_u8(qh + l);
                const ibatch q1 = ((a & m15) | ((h & m3) << 4)) - t32;
                const ibatch q2 = ((c & m15) | (((h >> 2) & m3) << 4)) - t32;
                const ibatch q3 = ((a >> 4) | (((h >> 4) & m3) << 4)) - t32;
                const ibatch q4 = ((c >> 4) | (((h >> 6) & m3) << 4)) - t32;
                sink.template put<0>(y + l, fbatch(d * static_cast<float>(sc[is + 0])) * to_f(q1));
                sink.template put<1>(y + 32 + l, fbatch(d * static_cast<float>(sc[is + 2])) * to_f(q2));
                sink.template put<0>(y + 64 + l, fbatch(d * static_cast<float>(sc[is + 4])) * to_f(q3));
                sink.template put<1>(y + 96 + l, fbatch(d * static_cast<float>(sc[is + 6])) * to_f(q4));
            }
        }
    }
}

/// True when visit_row has a SIMD decoder for t (else the caller decodes with the scalar reference and visits
/// the floats with visit_f32).
inline bool has_simd_decoder(gguf::TensorType t) noexcept {
    return t != gguf::TensorType::Q2_K && t != gguf::TensorType::Q3_K;
}

/// Visits the n weights of one row of type t (validated, has_simd_decoder(t)) at src.
template <class Sink>
inline void visit_row(gguf::TensorType t, const std::byte* src, std::size_t n, Sink& sink) noexcept {
    using gguf::TensorType;
    using gguf::detail::blocks_of;
    switch (t) {
        case TensorType::F32: return visit_f32(src, n, sink);
        case TensorType::F16: return visit_f16(src, n, sink);
        case TensorType::BF16: return visit_bf16(src, n, sink);
        case TensorType::Q4_0: return visit_q4_0(blocks_of<gguf::block_q4_0>(src), n / 32, sink);
        case TensorType::Q4_1: return visit_q4_1(blocks_of<gguf::block_q4_1>(src), n / 32, sink);
        case TensorType::Q5_0: return visit_q5<false>(blocks_of<gguf::block_q5_0>(src), n / 32, sink);
        case TensorType::Q5_1: return visit_q5<true>(blocks_of<gguf::block_q5_1>(src), n / 32, sink);
        case TensorType::Q8_0: return visit_q8_0(blocks_of<gguf::block_q8_0>(src), n / 32, sink);
        case TensorType::Q4_K: return visit_q4_K(blocks_of<gguf::block_q4_K>(src), n / 256, sink);
        case TensorType::Q5_K: return visit_q5_K(blocks_of<gguf::block_q5_K>(src), n / 256, sink);
        case TensorType::Q6_K: return visit_q6_K(blocks_of<gguf::block_q6_K>(src), n / 256, sink);
        default: return;
    }
}

/// Sink that stores the decoded row: dst [n] floats.
struct StoreSink {
    float* dst;
    template <int S>
    void put(std::size_t off, const fbatch& w) noexcept { w.store_unaligned(dst + off); }
    void scalar(std::size_t off, float w) noexcept { dst[off] = w; }
};

/// SIMD twin of gguf::dequantize_row_ref for a type already validated (dequantizable, n a multiple of the
/// block size). src: the row's blocks; dst: [n] floats. Bit-identical to the reference.
inline void decode_row(gguf::TensorType t, const std::byte* src, float* dst, std::size_t n) {
    if (!has_simd_decoder(t)) {
        gguf::dequantize_row_ref(t, src, dst, n);  // Q2_K, Q3_K
        return;
    }
    StoreSink s{dst};
    visit_row(t, src, n, s);
}

}  // namespace w2s::kernels::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
