// w2s/model/kernels/matmul.hpp — matrix products of activations with GGUF weight matrices (any quant type).
//
// Axis convention (see w2s/core/tensor.hpp): a weight tensor with ne = {n_in, n_out} stores n_out rows of
// n_in values; activations are row-major, one row per position.
//
//   Y[r][o] = sum_i W[o][i] * X[r][i]      X: [rows x n_in], Y: [rows x n_out], both row-major
//
// Two implementations of the same product, and an embedding lookup:
//   matmul      — the fast path: each weight row is decoded once by a SIMD dequantizer (bit-identical to the
//                 reference dequantizer) into a small float tile that is reused against every X row, with a
//                 register-blocked xsimd micro-kernel (4 X rows x 4 W rows, 16 accumulators; AVX-512 or AVX2 as
//                 compiled), parallel over chunks of output rows with oneTBB (so a caller inside a
//                 w2s::ThreadPool arena gets its thread count). Activations stay float32 (the exact path).
//   matmul_ref  — its scalar twin: gguf::dequantize_row_ref of each row, then a plain sequential float dot.
//   get_rows    — out[k] = dequantized row ids[k] (token embedding lookup).
// The two products differ only in the order of float additions. tests/kernels checks, for every type,
//   |matmul - matmul_ref| <= 1e-5 * sum_i |W[o][i] * X[r][i]|   (+1e-30)  per output.
// Types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (Q2_K/Q3_K are decoded by
// the scalar reference decoder inside the fast path). X and Y must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/gguf/quants.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/gguf/types.hpp"

namespace w2s::kernels {

/// A non-owning view of a 2-D weight tensor: n_out rows of n_in elements of `type`, each row `row_bytes`
/// bytes long, rows contiguous from `data` (which must outlive the view; for a gguf::File, keep the File).
struct WeightMatrix {
    gguf::TensorType type = gguf::TensorType::F32;
    const std::byte* data = nullptr;
    std::size_t n_in = 0;       ///< row length (ne[0])
    std::size_t n_out = 0;      ///< number of rows (ne[1])
    std::size_t row_bytes = 0;  ///< bytes per row

    /// View of a 2-D tensor (ne = {n_in, n_out}, trailing dims of 1 allowed). Throws shape_error for another
    /// rank, unsupported_error for a type the kernels do not know, format_error when the byte size disagrees.
    static WeightMatrix from(const gguf::TensorInfo& t);
    /// View of raw rows (checks type and n_in against the block size).
    static WeightMatrix from_raw(gguf::TensorType type, const std::byte* data, std::size_t n_in, std::size_t n_out);

    [[nodiscard]] const std::byte* row(std::size_t o) const noexcept { return data + o * row_bytes; }
};

/// Fast product Y = X W^T (see top of file). Shapes: X [rows x n_in], Y [rows x n_out]; shape_error otherwise.
void matmul(const WeightMatrix& W, ConstMatrixView X, MatrixView Y);

/// The inner path of a product. `automatic` is what matmul(W, X, Y) does: the fused path (each weight row decoded in
/// registers straight into the dot products) for up to 4 X rows, the tiled path (weight panels decoded to floats,
/// 4x4 register tiles) beyond. `fused` and `tiled` force one path for any number of rows.
/// Row independence: on either path a row's result depends on that row and W only, never on the other rows or
/// their number, bit for bit; the two paths differ only in the order of float additions. Hence
///   matmul(W, X, Y, Path::fused) row r == matmul(W, X.row(r), y) bit for bit (one row takes the fused path),
///   matmul(W, X, Y, Path::tiled) row r == row r of matmul(W, X', Y') for any X' of more than 4 rows holding X.row(r).
/// This is what lets a batched forward give each sequence exactly what it gets alone (model/backend.hpp,
/// BatchedDecode). tests/kernels checks both identities.
enum class Path { automatic, fused, tiled };
void matmul(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, Path path);

/// The path `automatic` takes for a product of `rows` X rows (fused up to 4, tiled beyond).
[[nodiscard]] Path automatic_path(std::size_t rows) noexcept;

/// Scalar reference twin of matmul.
void matmul_ref(const WeightMatrix& W, ConstMatrixView X, MatrixView Y);

/// Embedding lookup: out[k] = dequantized row ids[k] of W. out: [ids.size() x n_in] (shape_error otherwise);
/// an id outside [0, n_out) gives invalid_argument naming the id and position. Values equal
/// gguf::dequantize_row_ref bit for bit.
void get_rows(const WeightMatrix& W, std::span<const std::int32_t> ids, MatrixView out);

}  // namespace w2s::kernels

#define W2S_KERNELS_INTERNAL
#include "w2s/model/kernels/detail/decode.hpp"
#include "w2s/model/kernels/detail/matmul_impl.hpp"
#undef W2S_KERNELS_INTERNAL
