// w2s/model/kernels/matmul_q8.hpp — the optional faster product with 8-bit quantized activations.
//
//   Y[r][o] ~= sum_i W[o][i] * X[r][i]        X: [rows x n_in], Y: [rows x n_out], row-major (as matmul)
//
// As llama.cpp does, every block of 32 values of an X row is quantized to int8 with its own scale
// d = max|x| / 127 (q = round(x / d)), and the weights' integer quants are multiplied with integer dot
// products (AVX-512 VNNI / AVX-VNNI vpdpbusd where compiled, else AVX2 maddubs), then scaled in float.
// Weight types with an integer path: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (SmolLM2's Q4_1 layers and Q8_0 output).
// Any other type, or a build without AVX2, uses the exact matmul (so this can be called for every weight).
//
// Tolerance (what tests/kernels checks against matmul_ref): the only approximation is the rounding of each
// x_i to d_b * q_i, off by at most d_b / 2 where d_b is the scale of x_i's block, so
//   |matmul_q8 - matmul_ref| <= 0.5 * sum_i |W[o][i]| * d_b(i)  +  1e-5 * sum_i |W[o][i] * X[r][i]|.
// Measured on random data: mean |error| / sum|w x| ~2e-4; the bound is ~10x looser than the worst case seen.
// Speed: ~1.5x matmul for 1-4 X rows (generation); for many rows (prompt processing) the float tiles of
// matmul are faster (~2x), so prefer matmul there. Use it for speed, not where exactness matters.
#pragma once

#include "w2s/model/kernels/matmul.hpp"

namespace w2s::kernels {

/// True when matmul_q8 has an integer path for weights of type t in this build.
[[nodiscard]] bool has_q8_path(gguf::TensorType t) noexcept;

/// Y = X W^T with X quantized to int8 per block of 32 (see above). Shapes as matmul (shape_error otherwise).
/// n_in must be a multiple of 32 on the integer path (always true for the types above).
void matmul_q8(const WeightMatrix& W, ConstMatrixView X, MatrixView Y);

}  // namespace w2s::kernels

#define W2S_KERNELS_INTERNAL
#include "w2s/model/kernels/detail/matmul_q8_impl.hpp"
#undef W2S_KERNELS_INTERNAL
