// w2s/model/kernels/detail/matmul_impl.hpp — implementation of w2s/model/kernels/matmul.hpp.
#pragma once

#ifndef W2S_KERNELS_INTERNAL
#error "w2s/model/kernels/detail/matmul_impl.hpp is internal: include w2s/model/kernels/matmul.hpp"
#endif

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <xsimd/xsimd.hpp>

#include "w2s/model/kernels/detail/decode.hpp"

// See decode.hpp: GCC 12 false positives inside its AVX-512 intrinsic headers.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace w2s::kernels {

namespace detail {

inline std::string dims(std::size_t r, std::size_t c) { return std::to_string(r) + "x" + std::to_string(c); }

inline void check_product_shapes(const char* fn, const WeightMatrix& W, ConstMatrixView X, MatrixView Y) {
    if (X.cols != W.n_in || Y.cols != W.n_out || X.rows != Y.rows)
        throw shape_error(std::string(fn) + ": weight " + dims(W.n_out, W.n_in) + " (" + gguf::tensor_type_name(W.type) +
                          ") needs X [rows x " + std::to_string(W.n_in) + "] and Y [rows x " +
                          std::to_string(W.n_out) + "], got X " + dims(X.rows, X.cols) + " and Y " +
                          dims(Y.rows, Y.cols));
    if (X.rows != 0 && (X.data == nullptr || Y.data == nullptr))
        throw invalid_argument(std::string(fn) + ": X or Y has no data");
}

/// Aligned scratch of at least n floats, one per thread, reused across calls.
inline float* scratch(std::size_t n) {
    thread_local std::vector<float, xsimd::aligned_allocator<float, 64>> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

inline constexpr std::size_t kNR = 4;      ///< weight rows per register tile
inline constexpr std::size_t kMR = 4;      ///< activation rows per register tile
inline constexpr std::size_t kPanel = 16;  ///< weight rows decoded together (one 64-byte line of Y per X row)
inline constexpr std::size_t kFusedMaxRows = 4;  ///< up to this many X rows: fused decode-and-dot path

/// Register tile: Y[i][j] = dot(X[i], w[j]) for i < MR, j < n_valid (<= kNR).
/// x: MR rows, stride ldx; w: kNR decoded weight rows (64-byte aligned), stride ldw; n = n_in; y: stride ldy.
template <std::size_t MR>
inline void tile(const float* x, std::size_t ldx, const float* w, std::size_t ldw, std::size_t n, float* y,
                 std::size_t ldy, std::size_t n_valid) noexcept {
    fbatch acc[MR][kNR];
    for (std::size_t i = 0; i < MR; ++i)
        for (std::size_t j = 0; j < kNR; ++j) acc[i][j] = fbatch(0.0f);
    const std::size_t n_main = n - n % kLanes;
    for (std::size_t k = 0; k < n_main; k += kLanes) {
        fbatch wv[kNR];
        for (std::size_t j = 0; j < kNR; ++j) wv[j] = fbatch::load_aligned(w + j * ldw + k);
        for (std::size_t i = 0; i < MR; ++i) {
            const fbatch xv = fbatch::load_unaligned(x + i * ldx + k);
            for (std::size_t j = 0; j < kNR; ++j) acc[i][j] = xsimd::fma(xv, wv[j], acc[i][j]);
        }
    }
    for (std::size_t i = 0; i < MR; ++i) {
        for (std::size_t j = 0; j < n_valid; ++j) {
            float s = xsimd::hadd(acc[i][j]);
            for (std::size_t k = n_main; k < n; ++k) s += x[i * ldx + k] * w[j * ldw + k];
            y[i * ldy + j] = s;
        }
    }
}

/// Matrix-matrix path for output rows [o_begin, o_end) and all X rows: kPanel weight rows are decoded into a
/// thread-local float panel [kPanel x ldw] once per block of X rows (about 512 KiB of X, kept in L2) and
/// reused against every X row of the block through 4x4 register tiles.
inline void matmul_tiled(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, std::size_t o_begin,
                         std::size_t o_end) {
    const std::size_t n = W.n_in;
    const std::size_t ldw = (n + 15) / 16 * 16;
    float* wt = scratch(kPanel * ldw);
    const std::size_t xb = std::max<std::size_t>(kMR, (512 * 1024 / (n * sizeof(float))) / kMR * kMR);
    for (std::size_t r0 = 0; r0 < X.rows; r0 += xb) {
        const std::size_t r1 = std::min(X.rows, r0 + xb);
        for (std::size_t o = o_begin; o < o_end; o += kPanel) {
            const std::size_t np = std::min(kPanel, o_end - o);
            const std::size_t np_pad = (np + kNR - 1) / kNR * kNR;
            for (std::size_t j = 0; j < np_pad; ++j) {
                float* dst = wt + j * ldw;
                if (j < np) {
                    decode_row(W.type, W.row(o + j), dst, n);
                    std::fill(dst + n, dst + ldw, 0.0f);
                } else {
                    std::fill(dst, dst + ldw, 0.0f);
                }
            }
            auto run = [&]<std::size_t MR>(std::size_t r) {
                for (std::size_t g = 0; g < np_pad; g += kNR)
                    tile<MR>(X.row(r), X.cols, wt + g * ldw, ldw, n, Y.row(r) + o + g, Y.cols, std::min(kNR, np - g));
            };
            std::size_t r = r0;
            for (; r + kMR <= r1; r += kMR) run.template operator()<kMR>(r);
            switch (r1 - r) {
                case 3: run.template operator()<3>(r); break;
                case 2: run.template operator()<2>(r); break;
                case 1: run.template operator()<1>(r); break;
                default: break;
            }
        }
    }
}

/// Sink of the fused path: multiplies each decoded weight batch into R activation rows, two accumulator
/// chains per row. x[r]: row r of X, [n_in] floats.
template <std::size_t R>
struct DotSink {
    const float* x[R];
    fbatch acc[R][2];
    float tail[R];
    DotSink() noexcept {
        for (std::size_t r = 0; r < R; ++r) {
            acc[r][0] = acc[r][1] = fbatch(0.0f);
            tail[r] = 0.0f;
        }
    }
    template <int S>
    void put(std::size_t off, const fbatch& w) noexcept {
        for (std::size_t r = 0; r < R; ++r) acc[r][S] = xsimd::fma(w, fbatch::load_unaligned(x[r] + off), acc[r][S]);
    }
    void scalar(std::size_t off, float w) noexcept {
        for (std::size_t r = 0; r < R; ++r) tail[r] += w * x[r][off];
    }
    [[nodiscard]] float result(std::size_t r) const noexcept { return xsimd::hadd(acc[r][0] + acc[r][1]) + tail[r]; }
};

/// Fused path for R (<= kFusedMaxRows) X rows starting at r0: each weight row is decoded batch by batch in
/// registers and multiplied straight into the R dot products (no float copy of the weights).
template <std::size_t R>
inline void matmul_fused(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, std::size_t r0, std::size_t o_begin,
                         std::size_t o_end) {
    const std::size_t n = W.n_in;
    const bool simd = has_simd_decoder(W.type);
    float* buf = simd ? nullptr : scratch(n);
    for (std::size_t o = o_begin; o < o_end; ++o) {
        DotSink<R> s;
        for (std::size_t r = 0; r < R; ++r) s.x[r] = X.row(r0 + r);
        if (simd) {
            visit_row(W.type, W.row(o), n, s);
        } else {
            gguf::dequantize_row_ref(W.type, W.row(o), buf, n);
            visit_f32(reinterpret_cast<const std::byte*>(buf), n, s);
        }
        for (std::size_t r = 0; r < R; ++r) Y.row(r0 + r)[o] = s.result(r);
    }
}

/// Rows per group of the fused path on many rows: 8 rows x 2 accumulator chains fill half of AVX-512's 32 vector
/// registers; AVX2 (16 registers) keeps 4.
#if XSIMD_WITH_AVX512F
inline constexpr std::size_t kFusedGroup = 8;
#else
inline constexpr std::size_t kFusedGroup = 4;
#endif

/// Fused path for any number of X rows: for each output row, the weight row (in L1 after its first group) is
/// decoded once per group of kFusedGroup X rows. Every row gets exactly what matmul_fused<1> gives it.
inline void matmul_fused_any(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, std::size_t o_begin, std::size_t o_end) {
    const std::size_t n = W.n_in;
    const bool simd = has_simd_decoder(W.type);
    float* buf = simd ? nullptr : scratch(n);
    auto group = [&]<std::size_t R>(std::size_t o, std::size_t r0, const std::byte* row) {
        DotSink<R> s;
        for (std::size_t r = 0; r < R; ++r) s.x[r] = X.row(r0 + r);
        if (simd) visit_row(W.type, row, n, s);
        else visit_f32(row, n, s);
        for (std::size_t r = 0; r < R; ++r) Y.row(r0 + r)[o] = s.result(r);
    };
    for (std::size_t o = o_begin; o < o_end; ++o) {
        const std::byte* row = W.row(o);
        if (!simd) {
            gguf::dequantize_row_ref(W.type, row, buf, n);
            row = reinterpret_cast<const std::byte*>(buf);
        }
        std::size_t r = 0;
        for (; r + kFusedGroup <= X.rows; r += kFusedGroup) group.template operator()<kFusedGroup>(o, r, row);
        for (; r + 4 <= X.rows; r += 4) group.template operator()<4>(o, r, row);
        switch (X.rows - r) {
            case 3: group.template operator()<3>(o, r, row); break;
            case 2: group.template operator()<2>(o, r, row); break;
            case 1: group.template operator()<1>(o, r, row); break;
            default: break;
        }
    }
}

/// Output rows [o_begin, o_end) for all X rows, on the path `path` asks for (automatic: by the number of X rows).
inline void matmul_rows(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, std::size_t o_begin,
                        std::size_t o_end, Path path = Path::automatic) {
    if (path == Path::tiled || (path == Path::automatic && X.rows > kFusedMaxRows)) {
        matmul_tiled(W, X, Y, o_begin, o_end);
        return;
    }
    if (X.rows > kFusedMaxRows) {
        matmul_fused_any(W, X, Y, o_begin, o_end);
        return;
    }
    switch (X.rows) {
        case 4: matmul_fused<4>(W, X, Y, 0, o_begin, o_end); break;
        case 3: matmul_fused<3>(W, X, Y, 0, o_begin, o_end); break;
        case 2: matmul_fused<2>(W, X, Y, 0, o_begin, o_end); break;
        case 1: matmul_fused<1>(W, X, Y, 0, o_begin, o_end); break;
        default: break;
    }
}

}  // namespace detail

inline WeightMatrix WeightMatrix::from_raw(gguf::TensorType type, const std::byte* data, std::size_t n_in,
                                           std::size_t n_out) {
    WeightMatrix w;
    w.type = type;
    w.data = data;
    w.n_in = n_in;
    w.n_out = n_out;
    w.row_bytes = gguf::row_size_bytes(type, n_in);  // unsupported_error / invalid_argument
    if (n_in * n_out != 0 && data == nullptr) throw invalid_argument("weight matrix has no data");
    return w;
}

inline WeightMatrix WeightMatrix::from(const gguf::TensorInfo& t) {
    return with_context("weight matrix '" + t.name + "'", [&] {
        bool two_d = t.ne.size() >= 2;
        for (std::size_t i = 2; i < t.ne.size(); ++i) two_d = two_d && t.ne[i] == 1;
        if (!two_d) throw shape_error("expected a 2-D tensor {n_in, n_out}, got shape " + t.shape_string());
        WeightMatrix w = from_raw(t.type, t.data, static_cast<std::size_t>(t.ne[0]), static_cast<std::size_t>(t.ne[1]));
        if (static_cast<std::uint64_t>(w.row_bytes) * w.n_out != t.n_bytes)
            throw format_error("shape " + t.shape_string() + " of type " + gguf::tensor_type_name(t.type) + " needs " +
                               std::to_string(w.row_bytes * w.n_out) + " bytes, tensor has " + std::to_string(t.n_bytes));
        return w;
    });
}

inline void matmul_ref(const WeightMatrix& W, ConstMatrixView X, MatrixView Y) {
    detail::check_product_shapes("matmul_ref", W, X, Y);
    std::vector<float> w(W.n_in);
    for (std::size_t o = 0; o < W.n_out; ++o) {
        gguf::dequantize_row_ref(W.type, W.row(o), w.data(), W.n_in);
        for (std::size_t r = 0; r < X.rows; ++r) {
            const float* x = X.row(r);
            float s = 0.0f;
            for (std::size_t i = 0; i < W.n_in; ++i) s += w[i] * x[i];
            Y.row(r)[o] = s;
        }
    }
}

inline void matmul(const WeightMatrix& W, ConstMatrixView X, MatrixView Y) { matmul(W, X, Y, Path::automatic); }

inline Path automatic_path(std::size_t rows) noexcept { return rows > detail::kFusedMaxRows ? Path::tiled : Path::fused; }

inline void matmul(const WeightMatrix& W, ConstMatrixView X, MatrixView Y, Path path) {
    detail::check_product_shapes("matmul", W, X, Y);
    (void)gguf::row_size_bytes(W.type, W.n_in);  // validates the type once, outside the parallel region
    if (X.rows == 0 || W.n_out == 0) return;
    if (W.n_in == 0) {
        for (std::size_t r = 0; r < Y.rows; ++r) std::fill(Y.row(r), Y.row(r) + Y.cols, 0.0f);
        return;
    }
    // Tasks own whole panels of kPanel output rows; at least ~128k multiply-adds per task.
    const std::size_t groups = (W.n_out + detail::kPanel - 1) / detail::kPanel;
    const std::size_t per_group = detail::kPanel * W.n_in * X.rows;
    const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 17) / per_group);
    if (groups <= grain) {
        detail::matmul_rows(W, X, Y, 0, W.n_out, path);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, groups, grain), [&](const tbb::blocked_range<std::size_t>& g) {
        detail::matmul_rows(W, X, Y, g.begin() * detail::kPanel, std::min(W.n_out, g.end() * detail::kPanel), path);
    });
}

inline void get_rows(const WeightMatrix& W, std::span<const std::int32_t> ids, MatrixView out) {
    if (out.rows != ids.size() || out.cols != W.n_in)
        throw shape_error("get_rows: " + std::to_string(ids.size()) + " ids from a " + detail::dims(W.n_out, W.n_in) +
                          " weight need out [" + detail::dims(ids.size(), W.n_in) + "], got " +
                          detail::dims(out.rows, out.cols));
    (void)gguf::row_size_bytes(W.type, W.n_in);
    for (std::size_t k = 0; k < ids.size(); ++k) {
        if (ids[k] < 0 || static_cast<std::size_t>(ids[k]) >= W.n_out)
            throw invalid_argument("get_rows: id " + std::to_string(ids[k]) + " at position " + std::to_string(k) +
                                   " is outside [0, " + std::to_string(W.n_out) + ")");
    }
    for (std::size_t k = 0; k < ids.size(); ++k)
        detail::decode_row(W.type, W.row(static_cast<std::size_t>(ids[k])), out.row(k), W.n_in);
}

}  // namespace w2s::kernels

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
