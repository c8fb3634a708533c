// w2s/gguf/blocks.hpp — the byte layout of ggml's quantized blocks, and fp16/bf16 conversion.
//
// One block holds `QK` consecutive weights of a row. Layouts match ggml-common.h exactly (the structs are
// read straight out of the memory-mapped file, so their sizes are checked below).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace w2s::gguf {

using f16_bits = std::uint16_t;

/// IEEE half -> float, exact for every value (normals, subnormals, inf, nan).
inline float fp16_to_fp32(f16_bits h) noexcept {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    std::uint32_t exp = (h >> 10) & 0x1fu;
    std::uint32_t mant = h & 0x3ffu;
    std::uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do { mant <<= 1; ++e; } while ((mant & 0x400u) == 0);
            mant &= 0x3ffu;
            bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
    }
    return std::bit_cast<float>(bits);
}

/// float -> IEEE half, round to nearest even (as numpy's astype(float16)).
inline f16_bits fp32_to_fp16(float f) noexcept {
    std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    std::uint32_t sign = (x >> 16) & 0x8000u;
    std::uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) return static_cast<f16_bits>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u));
    if (absx >= 0x477ff000u) return static_cast<f16_bits>(sign | 0x7c00u);  // overflow to inf
    if (absx < 0x38800000u) {  // subnormal or zero in half
        float v = std::bit_cast<float>(absx) + 0.5f;  // magic: rounds to nearest even at 2^-24 granularity
        return static_cast<f16_bits>(sign | (std::bit_cast<std::uint32_t>(v) - 0x3f000000u));
    }
    std::uint32_t mant_odd = (absx >> 13) & 1u;
    absx += 0xc8000fffu + mant_odd;  // rebias exponent and round
    return static_cast<f16_bits>(sign | (absx >> 13));
}

/// bfloat16 -> float (exact).
inline float bf16_to_fp32(std::uint16_t b) noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

inline constexpr int QK4_0 = 32, QK4_1 = 32, QK5_0 = 32, QK5_1 = 32, QK8_0 = 32, QK8_1 = 32, QK_K = 256, K_SCALE_SIZE = 12;

#pragma pack(push, 1)
struct block_q4_0 { f16_bits d; std::uint8_t qs[QK4_0 / 2]; };
struct block_q4_1 { f16_bits d; f16_bits m; std::uint8_t qs[QK4_1 / 2]; };
struct block_q5_0 { f16_bits d; std::uint8_t qh[4]; std::uint8_t qs[QK5_0 / 2]; };
struct block_q5_1 { f16_bits d; f16_bits m; std::uint8_t qh[4]; std::uint8_t qs[QK5_1 / 2]; };
struct block_q8_0 { f16_bits d; std::int8_t qs[QK8_0]; };
struct block_q8_1 { f16_bits d; f16_bits s; std::int8_t qs[QK8_1]; };
struct block_q2_K { std::uint8_t scales[QK_K / 16]; std::uint8_t qs[QK_K / 4]; f16_bits d; f16_bits dmin; };
struct block_q3_K { std::uint8_t hmask[QK_K / 8]; std::uint8_t qs[QK_K / 4]; std::uint8_t scales[12]; f16_bits d; };
struct block_q4_K { f16_bits d; f16_bits dmin; std::uint8_t scales[K_SCALE_SIZE]; std::uint8_t qs[QK_K / 2]; };
struct block_q5_K { f16_bits d; f16_bits dmin; std::uint8_t scales[K_SCALE_SIZE]; std::uint8_t qh[QK_K / 8]; std::uint8_t qs[QK_K / 2]; };
struct block_q6_K { std::uint8_t ql[QK_K / 2]; std::uint8_t qh[QK_K / 4]; std::int8_t scales[QK_K / 16]; f16_bits d; };
struct block_q8_K { float d; std::int8_t qs[QK_K]; std::int16_t bsums[QK_K / 16]; };
#pragma pack(pop)

static_assert(sizeof(block_q4_0) == 18 && sizeof(block_q4_1) == 20 && sizeof(block_q5_0) == 22 && sizeof(block_q5_1) == 24);
static_assert(sizeof(block_q8_0) == 34 && sizeof(block_q8_1) == 36);
static_assert(sizeof(block_q2_K) == 84 && sizeof(block_q3_K) == 110 && sizeof(block_q4_K) == 144);
static_assert(sizeof(block_q5_K) == 176 && sizeof(block_q6_K) == 210 && sizeof(block_q8_K) == 292);

}  // namespace w2s::gguf
