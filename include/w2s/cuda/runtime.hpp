// w2s/cuda/runtime.hpp — the device layer of the optional CUDA backend, as plain C++.
//
// This header includes no CUDA header: host code compiled by the ordinary C++ compiler (the model in
// cuda_llama_model.hpp, tests, tools) calls these functions, and their definitions live in the compiled
// library target w2s::cuda (cuda/*.cu, built with nvcc from include/w2s/cuda/detail/*.cuh). Link w2s::cuda
// (CMake option W2S_CUDA=ON) to use it.
//
// Conventions: every pointer named d_* (or documented as "device") is device memory; matrices are row-major
// with a leading dimension `ld` (elements between row starts, >= the row length); fp16 values travel as their
// IEEE binary16 bit patterns (half_bits) so that no CUDA type leaks into host code. The kernel launchers are
// asynchronous on the Stream they are given; copy_to_host and Stream::synchronize() wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "w2s/core/error.hpp"

namespace w2s::cuda {

/// A CUDA runtime or cuBLAS call failed (message: the call, the error name and string, where).
struct device_error : error {
    explicit device_error(const std::string& m) : error("device_error", m) {}
};

/// Number of usable CUDA devices; 0 when there is none or no driver. Never throws.
[[nodiscard]] int device_count() noexcept;

/// One line about device `dev`: "NVIDIA H200, sm_90, 139.8 GiB". device_error for a bad index.
[[nodiscard]] std::string device_description(int dev = 0);

/// IEEE binary16 bit pattern (the device's __half).
using half_bits = std::uint16_t;

/// A stream and its cuBLAS handle: the unit of work of one forward call. Use from one thread at a time.
class Stream {
public:
    Stream();
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    /// Waits until all work queued on the stream is done; device_error if any of it failed.
    void synchronize() const;
    [[nodiscard]] void* native() const noexcept { return stream_; }  ///< cudaStream_t
    [[nodiscard]] void* blas() const noexcept { return blas_; }      ///< cublasHandle_t bound to native()

private:
    void* stream_ = nullptr;
    void* blas_ = nullptr;
};

/// Owning device allocation. Copying makes a device-to-device copy of the whole allocation (synchronous);
/// moving transfers ownership.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(const DeviceBuffer& o);
    DeviceBuffer& operator=(const DeviceBuffer& o);
    DeviceBuffer(DeviceBuffer&& o) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;

    [[nodiscard]] void* data() const noexcept { return ptr_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    template <class T>
    [[nodiscard]] T* as() const noexcept { return static_cast<T*>(ptr_); }
    /// Makes the allocation at least `bytes` long; when it must grow, the first `keep` bytes are copied into
    /// the new allocation (synchronous) and the rest is uninitialised. Never shrinks.
    void reserve(std::size_t bytes, std::size_t keep = 0);

private:
    void* ptr_ = nullptr;
    std::size_t bytes_ = 0;
};

// ---- copies ------------------------------------------------------------------------------------------
/// Host -> device. Returns once `src` may be reused (the copy is ordered on `s`).
void copy_to_device(void* d_dst, const void* src, std::size_t bytes, const Stream& s);
/// Device -> host. Waits for the work queued on `s` and for the copy.
void copy_to_host(void* dst, const void* d_src, std::size_t bytes, const Stream& s);
/// Device -> device, rows of `width` bytes: dst row r at d_dst + r*dpitch, src row r at d_src + r*spitch.
void copy_device_2d(void* d_dst, std::size_t dpitch, const void* d_src, std::size_t spitch, std::size_t width,
                    std::size_t rows, const Stream& s);

// ---- kernels (asynchronous on s) ------------------------------------------------------------------------
/// y[i] = fp16(x[i]) (round to nearest even), n elements.
void f32_to_f16(const float* d_x, half_bits* d_y, std::size_t n, const Stream& s);
/// y[i] = uniform in [lo, hi) from a counter-based hash of (seed, i): the same seed gives the same values.
void fill_uniform_f16(half_bits* d_y, std::size_t n, float lo, float hi, std::uint64_t seed, const Stream& s);
void fill_uniform_f32(float* d_y, std::size_t n, float lo, float hi, std::uint64_t seed, const Stream& s);

/// Embedding lookup: X[r] = scale * table[ids[r]]. table: [vocab x D] fp16; ids: [n] device; X: [n x D].
/// The ids must already be checked against the vocabulary.
void embed(const half_bits* d_table, const std::int32_t* d_ids, std::size_t n, std::size_t D, float scale, float* d_X,
           const Stream& s);

/// RMSNorm of `rows` rows of length n: y = x / sqrt(mean(x^2) + eps) * w (normalise, then scale, as the
/// CPU backend). x: [rows x n] (ldx); w: [n]; y: [rows x n] (ldy) in fp16 (the input of a GEMM).
void rms_norm_f16(const float* d_x, std::size_t ldx, const float* d_w, half_bits* d_y, std::size_t ldy, std::size_t rows,
                  std::size_t n, float eps, const Stream& s);
/// X += rms_norm(H) * w (gemma's post-attention / post-ffn norm, then the residual add). X, H: [rows x n].
void add_rms_norm(float* d_X, const float* d_H, const float* d_w, std::size_t rows, std::size_t n, float eps,
                  const Stream& s);

/// Y = X W^T + beta * Y with cuBLAS (cublasGemmEx: fp16 inputs, fp32 accumulation and output; tensor cores).
/// W: [n_out x n_in] fp16 (GGUF order: one row of n_in per output); X: [rows x n_in] fp16 (contiguous);
/// Y: [rows x n_out] fp32 with leading dimension ldy. beta = 1 adds the product to Y (the residual add).
void gemm(const half_bits* d_W, std::size_t n_out, std::size_t n_in, const half_bits* d_X, std::size_t rows, float* d_Y,
          std::size_t ldy, float beta, const Stream& s);

/// The fused q|k|v projection output of `rows` rows: row r at qkv + r*ld holds q [n_head*head_k] at q_off,
/// k [n_head_kv*head_k] at k_off, v [n_head_kv*head_v] at v_off.
struct QkvLayout {
    std::size_t ld = 0, q_off = 0, k_off = 0, v_off = 0;
    int n_head = 0, n_head_kv = 0, head_k = 0, head_v = 0;
};

/// In place on the q|k|v rows: adds `bias` ([ld] over the whole row, or null), RMS-normalises each q and k head
/// with q_norm / k_norm ([head_k] each, or null: no q/k norm), then rotates the first 2*rope_half dims of each q
/// and k head by RoPE with the per-row tables cos/sin ([rows x rope_half], made on the host). neox: pairs
/// (i, i + rope_half); else (2i, 2i + 1).
void qkv_prepare(float* d_qkv, std::size_t rows, const QkvLayout& L, const float* d_bias, const float* d_q_norm,
                 const float* d_k_norm, float eps, const float* d_cos, const float* d_sin, int rope_half, bool neox,
                 const Stream& s);

/// Which keys each query row of a batch sees (all arrays on the device).
///  - prefix keys: rows 0..P-1 of pk / pv (the session's cache: [P x ldpk] / [P x ldpv]);
///  - batch keys: rows of the q|k|v buffer (layout L) of the same call.
/// Row r (absolute position row_pos[r], in sequence row_seq[r]) sees the prefix, the batch rows of the ancestor
/// ranges of its sequence (anc[2*i], anc[2*i+1]) for i in anc_begin[seq]..anc_begin[seq+1]-1, and its own
/// sequence's rows seq_row0[seq]..r; with window > 0 only keys at positions > row_pos[r] - window.
struct AttentionBatch {
    const std::int32_t* row_pos = nullptr;    ///< [n]
    const std::int32_t* row_seq = nullptr;    ///< [n]
    const std::int32_t* seq_row0 = nullptr;   ///< [S]
    const std::int32_t* anc_begin = nullptr;  ///< [S + 1]
    const std::int32_t* anc = nullptr;        ///< [2 * A] half-open batch row ranges
    int max_segments = 0;                     ///< 2 + the longest ancestor list (bounds the per-row key list)
};

struct AttentionParams {
    float scale = 1.f;    ///< scores = scale * q.k
    float softcap = 0.f;  ///< 0 = none, else cap * tanh(score / cap)
    int window = 0;       ///< 0 = no sliding window
};

/// Grouped-query attention: one thread block per (head, row). out: [n x n_head*head_v] fp16 (the input of the
/// output projection); scores: device scratch of at least n_keys_max floats per (row, head) for the rows of one
/// chunk — the launcher runs the rows in chunks of `chunk_rows` (scores: chunk_rows*n_head*n_keys_max floats).
void attention(const float* d_qkv, std::size_t n, const QkvLayout& L, const float* d_pk, std::size_t ldpk, const float* d_pv,
               std::size_t ldpv, std::size_t P, const AttentionBatch& b, const AttentionParams& p, half_bits* d_out,
               float* d_scores, std::size_t n_keys_max, std::size_t chunk_rows, const Stream& s);

/// Gated feed-forward activation: out[r][i] = act(gu[r][i]) * gu[r][F + i], act = silu or tanh-GELU.
/// gu: [rows x 2F] (gate | up, the fused GEMM output); out: [rows x F] fp16.
void glu(const float* d_gu, std::size_t rows, std::size_t F, bool gelu, half_bits* d_out, const Stream& s);

/// x = cap * tanh(x / cap), n elements.
void softcap(float* d_x, std::size_t n, float cap, const Stream& s);

}  // namespace w2s::cuda
