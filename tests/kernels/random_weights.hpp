// tests/kernels/random_weights.hpp — random but valid GGUF weight rows for kernel tests and benchmarks.
//
// Quantized blocks get random bytes everywhere, then their fp16 scale fields are overwritten with sane
// values (|d| in [1e-3, 4e-2], random sign), so every weight is finite and the products are well scaled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include <w2s/gguf/blocks.hpp>
#include <w2s/gguf/quants.hpp>
#include <w2s/gguf/types.hpp>

namespace w2s::test {

/// Byte offsets of the fp16 scale fields inside one block of `t` (empty for float types).
inline std::vector<std::size_t> fp16_scale_offsets(gguf::TensorType t) {
    using namespace gguf;
    switch (t) {
        case TensorType::Q4_0: return {offsetof(block_q4_0, d)};
        case TensorType::Q4_1: return {offsetof(block_q4_1, d), offsetof(block_q4_1, m)};
        case TensorType::Q5_0: return {offsetof(block_q5_0, d)};
        case TensorType::Q5_1: return {offsetof(block_q5_1, d), offsetof(block_q5_1, m)};
        case TensorType::Q8_0: return {offsetof(block_q8_0, d)};
        case TensorType::Q2_K: return {offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)};
        case TensorType::Q3_K: return {offsetof(block_q3_K, d)};
        case TensorType::Q4_K: return {offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)};
        case TensorType::Q5_K: return {offsetof(block_q5_K, d), offsetof(block_q5_K, dmin)};
        case TensorType::Q6_K: return {offsetof(block_q6_K, d)};
        default: return {};
    }
}

/// n_out rows of n_in random weights of type t, laid out as in a GGUF file. n_in must suit the block size.
inline std::vector<std::byte> random_weights(gguf::TensorType t, std::size_t n_in, std::size_t n_out, std::uint32_t seed) {
    using gguf::TensorType;
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    std::uniform_real_distribution<float> mag(1e-3f, 4e-2f);
    const std::size_t rb = gguf::row_size_bytes(t, n_in);
    std::vector<std::byte> out(rb * n_out);
    const std::size_t n = n_in * n_out;
    if (t == TensorType::F32) {
        for (std::size_t i = 0; i < n; ++i) {
            const float v = normal(rng);
            std::memcpy(out.data() + 4 * i, &v, 4);
        }
    } else if (t == TensorType::F16 || t == TensorType::BF16) {
        for (std::size_t i = 0; i < n; ++i) {
            const float v = normal(rng);
            const std::uint16_t h = t == TensorType::F16 ? gguf::fp32_to_fp16(v)
                                                         : static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v) >> 16);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
    } else {
        for (auto& b : out) b = static_cast<std::byte>(byte(rng));
        const auto tr = gguf::dequant_traits(t);
        const auto offs = fp16_scale_offsets(t);
        for (std::size_t blk = 0; blk < out.size() / tr.type_size; ++blk) {
            for (std::size_t off : offs) {
                const float v = (byte(rng) & 1 ? -1.0f : 1.0f) * mag(rng);
                const std::uint16_t h = gguf::fp32_to_fp16(v);
                std::memcpy(out.data() + blk * tr.type_size + off, &h, 2);
            }
        }
    }
    return out;
}

/// rows x n random activations in [-1, 1).
inline std::vector<float> random_activations(std::size_t rows, std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> x(rows * n);
    for (auto& v : x) v = u(rng);
    return x;
}

}  // namespace w2s::test
