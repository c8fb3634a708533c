// w2s/gguf/quants.hpp — scalar reference dequantization of ggml tensor types.
//
// The values produced are exactly those of ggml's dequantize_row_* (ggml-quants.c) and of the PyPI `gguf`
// package's gguf.quants.dequantize: every product that is followed by an addition is exact in float32
// (the fp16 scale has 11 significant bits, the quant and sub-scale at most 8 + 6), so the result does not
// depend on whether the compiler contracts `a * b - c` into an FMA. Q6_K's `(d * sc) * q` keeps ggml's
// left-to-right order.
//
//   std::vector<float> w = w2s::gguf::dequantize(file.tensor("blk.0.attn_q.weight"));   // n_elements floats
//   w2s::gguf::dequantize_row_ref(t.type, t.data, dst, t.ne[0]);                         // one row
//
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/blocks.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/gguf/types.hpp"

namespace w2s::gguf {

/// True for the tensor types dequantize_row_ref understands.
[[nodiscard]] bool is_dequantizable(TensorType t) noexcept;

/// Elements per block and bytes per block of a dequantizable type; unsupported_error otherwise.
[[nodiscard]] TensorTypeTraits dequant_traits(TensorType t);

/// Bytes that `n` elements of type `t` occupy (n must be a multiple of the block size, else invalid_argument).
[[nodiscard]] std::size_t row_size_bytes(TensorType t, std::size_t n);

/// Dequantizes n consecutive elements. src: n / block_size blocks of type t; dst: [n] floats.
/// Throws unsupported_error for a type not listed above, invalid_argument when n is not a multiple of the
/// block size (both messages name the type).
void dequantize_row_ref(TensorType t, const std::byte* src, float* dst, std::size_t n);

/// Dequantizes a whole tensor into t.n_elements floats (in file order: ne[0] fastest).
/// Throws as dequantize_row_ref, and format_error when t.n_bytes does not match its shape and type.
[[nodiscard]] std::vector<float> dequantize(const TensorInfo& t);

// ------------------------------------------------------------------------------------------------
// implementation
// ------------------------------------------------------------------------------------------------
namespace detail {

template <class Block>
inline const Block* blocks_of(const std::byte* p) noexcept {
    static_assert(alignof(Block) == 1, "block structs are packed and may sit at any address in the mapping");
    return reinterpret_cast<const Block*>(p);  // NOLINT: the packed layout is the file layout
}

/// ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block.
inline void scale_min_k4(int j, const std::uint8_t* q, std::uint8_t& sc, std::uint8_t& m) noexcept {
    if (j < 4) {
        sc = static_cast<std::uint8_t>(q[j] & 63);
        m = static_cast<std::uint8_t>(q[j + 4] & 63);
    } else {
        sc = static_cast<std::uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<std::uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/// The sixteen 6-bit signed scales (already minus 32) of a Q3_K block.
inline void scales_q3_K(const std::uint8_t* s, int (&out)[16]) noexcept {
    for (int j = 0; j < 16; ++j) {
        const int lo = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
        const int hi = (s[8 + (j % 4)] >> (2 * (j / 4))) & 3;
        out[j] = (lo | (hi << 4)) - 32;
    }
}

inline void deq_q4_0(const block_q4_0* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i, y += QK4_0) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK4_0 / 2; ++j) {
            y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + QK4_0 / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

inline void deq_q4_1(const block_q4_1* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i, y += QK4_1) {
        const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
        for (int j = 0; j < QK4_1 / 2; ++j) {
            y[j] = static_cast<float>(x[i].qs[j] & 0x0F) * d + m;
            y[j + QK4_1 / 2] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
        }
    }
}

inline void deq_q5_0(const block_q5_0* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i, y += QK5_0) {
        const float d = fp16_to_fp32(x[i].d);
        std::uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < QK5_0 / 2; ++j) {
            const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
            const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            y[j] = static_cast<float>(((x[i].qs[j] & 0x0F) | h0) - 16) * d;
            y[j + QK5_0 / 2] = static_cast<float>(((x[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

inline void deq_q5_1(const block_q5_1* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i, y += QK5_1) {
        const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
        std::uint32_t qh;
        std::memcpy(&qh, x[i].qh, sizeof qh);
        for (int j = 0; j < QK5_1 / 2; ++j) {
            const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
            const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
            y[j] = static_cast<float>((x[i].qs[j] & 0x0F) | h0) * d + m;
            y[j + QK5_1 / 2] = static_cast<float>((x[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

inline void deq_q8_0(const block_q8_0* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i, y += QK8_0) {
        const float d = fp16_to_fp32(x[i].d);
        for (int j = 0; j < QK8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
    }
}

inline void deq_q2_K(const block_q2_K* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
        const std::uint8_t* q = x[i].qs;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; ++half) {
                    const std::uint8_t sc = x[i].scales[is++];
                    const float dl = d * static_cast<float>(sc & 0xF), ml = dmin * static_cast<float>(sc >> 4);
                    for (int l = 0; l < 16; ++l)
                        *y++ = dl * static_cast<float>((q[l + 16 * half] >> shift) & 3) - ml;
                }
            }
            q += 32;
        }
    }
}

inline void deq_q3_K(const block_q3_K* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        int sc[16];
        scales_q3_K(x[i].scales, sc);
        const std::uint8_t* q = x[i].qs;
        const std::uint8_t* hm = x[i].hmask;
        std::uint8_t m = 1;
        int is = 0;
        for (int n = 0; n < QK_K; n += 128) {
            for (int shift = 0; shift < 8; shift += 2, m = static_cast<std::uint8_t>(m << 1)) {
                for (int half = 0; half < 2; ++half) {
                    const float dl = d * static_cast<float>(sc[is++]);
                    for (int l = 16 * half; l < 16 * half + 16; ++l) {
                        const int v = ((q[l] >> shift) & 3) - ((hm[l] & m) ? 0 : 4);
                        *y++ = dl * static_cast<float>(v);
                    }
                }
            }
            q += 32;
        }
    }
}

inline void deq_q4_K(const block_q4_K* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
        const std::uint8_t* q = x[i].qs;
        for (int is = 0; is < 8; is += 2, q += 32) {
            std::uint8_t sc, m;
            scale_min_k4(is, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            scale_min_k4(is + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        }
    }
}

inline void deq_q5_K(const block_q5_K* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d), dmin = fp16_to_fp32(x[i].dmin);
        const std::uint8_t* ql = x[i].qs;
        const std::uint8_t* qh = x[i].qh;
        unsigned u1 = 1, u2 = 2;
        for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
            std::uint8_t sc, m;
            scale_min_k4(is, x[i].scales, sc, m);
            const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
            scale_min_k4(is + 1, x[i].scales, sc, m);
            const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
            for (int l = 0; l < 32; ++l)
                *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l)
                *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

inline void deq_q6_K(const block_q6_K* x, float* y, std::size_t nb) noexcept {
    for (std::size_t i = 0; i < nb; ++i) {
        const float d = fp16_to_fp32(x[i].d);
        const std::uint8_t* ql = x[i].ql;
        const std::uint8_t* qh = x[i].qh;
        const std::int8_t* sc = x[i].scales;
        for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
                y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
                y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
                y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
            }
        }
    }
}

}  // namespace detail

inline bool is_dequantizable(TensorType t) noexcept {
    switch (t) {
        case TensorType::F32: case TensorType::F16: case TensorType::BF16:
        case TensorType::Q4_0: case TensorType::Q4_1: case TensorType::Q5_0: case TensorType::Q5_1:
        case TensorType::Q8_0: case TensorType::Q2_K: case TensorType::Q3_K: case TensorType::Q4_K:
        case TensorType::Q5_K: case TensorType::Q6_K:
            return true;
        default:
            return false;
    }
}

inline TensorTypeTraits dequant_traits(TensorType t) {
    auto tr = tensor_type_traits(static_cast<std::uint32_t>(t));
    if (!tr || !is_dequantizable(t))
        throw unsupported_error("dequantize: tensor type " + tensor_type_name(t) +
                                " is not supported (expected one of F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, "
                                "Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
    return *tr;
}

inline std::size_t row_size_bytes(TensorType t, std::size_t n) {
    const TensorTypeTraits tr = dequant_traits(t);
    if (n % tr.block_size != 0)
        throw invalid_argument("dequantize: " + std::string(tr.name) + " needs a multiple of " +
                               std::to_string(tr.block_size) + " elements, got " + std::to_string(n));
    return n / tr.block_size * tr.type_size;
}

inline void dequantize_row_ref(TensorType t, const std::byte* src, float* dst, std::size_t n) {
    const TensorTypeTraits tr = dequant_traits(t);
    (void)row_size_bytes(t, n);  // checks n
    const std::size_t nb = n / tr.block_size;
    using namespace detail;
    switch (t) {
        case TensorType::F32:
            if (n) std::memcpy(dst, src, n * sizeof(float));
            return;
        case TensorType::F16:
            for (std::size_t i = 0; i < n; ++i) {
                f16_bits h;
                std::memcpy(&h, src + 2 * i, 2);
                dst[i] = fp16_to_fp32(h);
            }
            return;
        case TensorType::BF16:
            for (std::size_t i = 0; i < n; ++i) {
                std::uint16_t b;
                std::memcpy(&b, src + 2 * i, 2);
                dst[i] = bf16_to_fp32(b);
            }
            return;
        case TensorType::Q4_0: return deq_q4_0(blocks_of<block_q4_0>(src), dst, nb);
        case TensorType::Q4_1: return deq_q4_1(blocks_of<block_q4_1>(src), dst, nb);
        case TensorType::Q5_0: return deq_q5_0(blocks_of<block_q5_0>(src), dst, nb);
        case TensorType::Q5_1: return deq_q5_1(blocks_of<block_q5_1>(src), dst, nb);
        case TensorType::Q8_0: return deq_q8_0(blocks_of<block_q8_0>(src), dst, nb);
        case TensorType::Q2_K: return deq_q2_K(blocks_of<block_q2_K>(src), dst, nb);
        case TensorType::Q3_K: return deq_q3_K(blocks_of<block_q3_K>(src), dst, nb);
        case TensorType::Q4_K: return deq_q4_K(blocks_of<block_q4_K>(src), dst, nb);
        case TensorType::Q5_K: return deq_q5_K(blocks_of<block_q5_K>(src), dst, nb);
        case TensorType::Q6_K: return deq_q6_K(blocks_of<block_q6_K>(src), dst, nb);
        default: break;
    }
    throw unsupported_error("dequantize: tensor type " + tensor_type_name(t) + " is not supported");  // unreachable
}

inline std::vector<float> dequantize(const TensorInfo& t) {
    return with_context("dequantize tensor '" + t.name + "'", [&] {
        const std::size_t row = t.ne.empty() ? 1 : static_cast<std::size_t>(t.ne[0]);
        const std::size_t rows = static_cast<std::size_t>(t.rows());
        const std::size_t rb = row_size_bytes(t.type, row);
        if (static_cast<std::uint64_t>(rb) * rows != t.n_bytes)
            throw format_error("shape " + t.shape_string() + " of type " + tensor_type_name(t.type) + " needs " +
                               std::to_string(static_cast<std::uint64_t>(rb) * rows) + " bytes, tensor has " +
                               std::to_string(t.n_bytes));
        if (rows * row != t.n_elements)
            throw format_error("shape " + t.shape_string() + " has " + std::to_string(rows * row) +
                               " elements, tensor claims " + std::to_string(t.n_elements));
        std::vector<float> out(rows * row);
        if (!out.empty() && t.data == nullptr) throw invalid_argument("tensor has no data pointer");
        for (std::size_t r = 0; r < rows; ++r) dequantize_row_ref(t.type, t.data + r * rb, out.data() + r * row, row);
        return out;
    });
}

}  // namespace w2s::gguf
