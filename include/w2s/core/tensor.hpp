// w2s/core/tensor.hpp — the one axis convention of the library.
//
// Activations are row-major: one row per position (token), `hidden` columns. A batch of sequences is a
// list of such matrices. Residual views handed to hooks are [positions x hidden], contiguous rows.
// Weight matrices follow GGUF/ggml: a tensor with ne = {n_in, n_out} stores n_out rows of n_in values,
// so y[n_out] = W x[n_in] is a dot product per row.
// Layers are 0-based block indices; "at layer l" means at the output of block l.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

namespace w2s {

/// Row-major float matrix, the library's activation type: [rows x cols].
using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixXd = Eigen::MatrixXd;
using VectorXf = Eigen::VectorXf;
using VectorXd = Eigen::VectorXd;

/// Non-owning view of a row-major [rows x cols] float block (a residual stream, a batch of logits).
struct MatrixView {
    float* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    [[nodiscard]] float* row(std::size_t r) const noexcept { return data + r * cols; }
    [[nodiscard]] std::span<float> row_span(std::size_t r) const noexcept { return {row(r), cols}; }
};

struct ConstMatrixView {
    const float* data = nullptr;
    std::size_t rows = 0;
    std::size_t cols = 0;
    ConstMatrixView() = default;
    ConstMatrixView(const float* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
    ConstMatrixView(MatrixView v) : data(v.data), rows(v.rows), cols(v.cols) {}  // NOLINT(implicit)
    [[nodiscard]] const float* row(std::size_t r) const noexcept { return data + r * cols; }
    [[nodiscard]] std::span<const float> row_span(std::size_t r) const noexcept { return {row(r), cols}; }
};

}  // namespace w2s
