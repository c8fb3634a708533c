// w2s/cuda/cuda_llama_model.hpp — the optional CUDA backend: Llama-family GGUF models on an NVIDIA GPU.
//
//   auto m = w2s::cuda::CudaLlamaModel::load("SmolLM2-135M-Instruct.Q4_1.gguf");   // link w2s::cuda
//   auto s = m.new_session();
//   w2s::MatrixRM logits;                                                          // [tokens x vocab]
//   m.prefill(s, m.tokenizer().encode("Hello"), {}, &logits);
//
// The same w2s::model::Backend as the CPU reference (w2s/model/llama/llama_model.hpp), for the same
// architectures (llama, qwen2, gemma3: one tensor table, w2s/model/llama/arch.hpp, read by the same loader
// code), so the sweep engine, the steering code and generation run on it unchanged.
//
// Weights: expanded to fp16 on the device when loading (dequantized on the host by the scalar reference
// w2s::gguf::dequantize_row_ref, uploaded, converted to fp16 by a kernel), and every matrix product is a cuBLAS
// GEMM with fp16 inputs and fp32 accumulation and output (cublasGemmEx). Why fp16 rather than quantized
// weights on the device: one GEMM path for every GGUF type instead of a kernel per quantization, and tensor
// cores for the batched tails of the sweep; the memory is affordable on the GPUs this targets (a 7B model is
// 13.5 GB in fp16, an H100/H200 has 80/141 GB). The cost: 2-4x the memory of a 4-bit model, and generation
// reads 2-4x more bytes per token than a quantized kernel would.
//
// Activations stay float32 (the residual stream, q/k/v, attention scores, the KV cache); only the inputs of the
// GEMMs are rounded to fp16. Against the CPU backend the logits agree to about 1e-2..5e-2 (see tests/cuda).
//
// Hooks: the residual stream lives on the device. When a hook is set, after each block the block's rows are
// copied to a host buffer ([rows x hidden] floats), the hook is called for each sequence, and the rows are
// copied back (two synchronous PCIe transfers of rows*hidden*4 bytes and a stream sync per block: for the
// 24-row tails of a 7B sweep about 0.4 MB per block, tens of microseconds). No hook = no copy and no sync.
//
// Threads: a CudaLlamaModel is immutable after load(); any number of threads may run calls on it at once. Each
// call takes a workspace (a CUDA stream with its cuBLAS handle and scratch buffers) from a pool and returns
// it, so concurrent calls run on separate streams. Sessions are values: copying one copies its KV cache on
// the device.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/cuda/runtime.hpp"
#include "w2s/gguf/quants.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/tail_batch.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/model/llama/arch.hpp"
#include "w2s/model/llama/llama_model.hpp"
#include "w2s/text/chat_template.hpp"
#include "w2s/text/tokenizer.hpp"

namespace w2s::cuda {

using model::BlockOutput;
using model::Hook;
using model::Tail;
using model::token_id;

/// One sequence's state on the device: its tokens and per-layer K/V cache. A value type: copying forks the
/// sequence (a device-to-device copy of the cache).
class CudaSession {
public:
    CudaSession() = default;
    /// Number of tokens in the sequence (= positions in the cache).
    [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
    [[nodiscard]] std::span<const token_id> tokens() const noexcept { return tokens_; }
    /// Drops every token after the first n (n > size() is an invalid_argument). The device memory is kept.
    void truncate(std::size_t n) {
        if (n > size())
            throw invalid_argument("CudaSession::truncate: " + std::to_string(n) + " exceeds the session size " +
                                   std::to_string(size()));
        tokens_.resize(n);
    }

private:
    friend class CudaLlamaModel;
    /// Capacity for at least n positions, keeping the first size() rows of every layer.
    void reserve(std::size_t n) {
        if (n <= cap_) return;
        const std::size_t cap = std::max({n, 2 * cap_, std::size_t{64}});
        for (auto& k : k_) k.reserve(cap * kv_k_ * sizeof(float), size() * kv_k_ * sizeof(float));
        for (auto& v : v_) v.reserve(cap * kv_v_ * sizeof(float), size() * kv_v_ * sizeof(float));
        cap_ = cap;
    }

    std::vector<token_id> tokens_;        ///< [size()]
    std::size_t kv_k_ = 0, kv_v_ = 0;     ///< row sizes: n_head_kv * head_k, n_head_kv * head_v
    std::size_t cap_ = 0;                 ///< rows allocated per layer
    std::vector<DeviceBuffer> k_, v_;     ///< [n_layers] x fp32 [cap_ x kv_k_] / [cap_ x kv_v_], row = position,
                                          ///< K after RoPE (and q/k-norm), V as projected
};

class CudaLlamaModel {
public:
    using Session = CudaSession;

    /// Loads `gguf_path` onto the current CUDA device: hyperparameters and tensors through the architecture's
    /// table (the CPU backend's loader code), weights expanded to fp16. Errors carry the file and tensor, as
    /// the CPU backend's; device_error when the device is missing or out of memory.
    static CudaLlamaModel load(const std::string& gguf_path, model::llama::LoadOptions opts = {});

    /// A model with random weights in the shape `h` (h.info names the architecture; h.swa may be empty), for
    /// benchmarks: weights uniform with variance 1/n_in (the activations keep their size through the blocks),
    /// norms near 1, tied output. It has no tokenizer (tokenizer() throws).
    static CudaLlamaModel random(model::llama::HParams h, std::uint64_t seed = 1);

    [[nodiscard]] int n_layers() const noexcept { return hp_.n_layers; }
    [[nodiscard]] int hidden_size() const noexcept { return hp_.hidden; }
    [[nodiscard]] int vocab_size() const noexcept { return hp_.vocab; }
    [[nodiscard]] const model::llama::HParams& hparams() const noexcept { return hp_; }
    [[nodiscard]] const text::Tokenizer& tokenizer() const;
    [[nodiscard]] bool has_chat_template() const noexcept { return chat_ != nullptr; }
    [[nodiscard]] const text::ChatTemplate& chat_template() const;
    /// Bytes of device memory the weights take.
    [[nodiscard]] std::size_t weight_bytes() const noexcept { return weight_bytes_; }

    [[nodiscard]] Session new_session() const;

    /// Appends `tokens` to `s`, running every block; hook at every block output (seq 0, pos0 = old size);
    /// `logits` (optional) becomes [tokens x vocab]. On an exception (e.g. from the hook) `s` keeps its tokens.
    void prefill(Session& s, std::span<const token_id> tokens, const Hook& hook = {}, MatrixRM* logits = nullptr) const;

    /// The batched continuations of a read-only prefix: see w2s/model/backend.hpp. Throws invalid_argument for
    /// a tail with no tokens, a parent not before it, an input of the wrong shape, first_block out of range.
    void forward_tails(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook = {},
                       MatrixRM* logits = nullptr) const;

    CudaLlamaModel(CudaLlamaModel&&) noexcept = default;
    CudaLlamaModel& operator=(CudaLlamaModel&&) noexcept = default;
    ~CudaLlamaModel() = default;

private:
    CudaLlamaModel() = default;

    /// Device weights of one block. fp16 matrices in GGUF order ([n_out x n_in], one row per output).
    struct Layer {
        DeviceBuffer wqkv;   ///< fp16 [(q_out + kv_k + kv_v) x hidden]: attn_q rows, then attn_k, then attn_v
        DeviceBuffer wo;     ///< fp16 [hidden x o_in]
        DeviceBuffer wgu;    ///< fp16 [2*ffn x hidden]: ffn_gate rows, then ffn_up
        DeviceBuffer wdown;  ///< fp16 [hidden x ffn]
        DeviceBuffer attn_norm, ffn_norm;             ///< fp32 [hidden]
        DeviceBuffer post_attn_norm, post_ffw_norm;   ///< fp32 [hidden] (sandwich norms; else empty)
        DeviceBuffer q_norm, k_norm;                  ///< fp32 [head_k] (q/k norm; else empty)
        DeviceBuffer bqkv;                            ///< fp32 [q_out + kv_k + kv_v] biases (zeros where absent; empty: none)
    };

    /// Scratch of one call (grown on demand, reused through the pool).
    struct Workspace {
        Stream stream;
        DeviceBuffer X;       ///< fp32 [n x hidden] the residual stream
        DeviceBuffer XN;      ///< fp16 [n x max(hidden, o_in, ffn)] GEMM inputs: normed rows, attention output, GLU output
        DeviceBuffer QKV;     ///< fp32 [n x (q_out + kv_k + kv_v)]
        DeviceBuffer GU;      ///< fp32 [n x 2*ffn]
        DeviceBuffer H;       ///< fp32 [n x hidden] block-part outputs before a sandwich norm
        DeviceBuffer logits;  ///< fp32 [n x vocab]
        DeviceBuffer scores;  ///< fp32 [chunk x n_head x n_keys_max] attention scores
        DeviceBuffer meta;    ///< int32: ids [n], row_pos [n], row_seq [n], seq_row0 [S], anc_begin [S+1], anc [2A]
        DeviceBuffer rope;    ///< fp32: cos, sin [n x rope_dim/2] (global), then cos, sin (sliding-window layers)
        std::vector<float> host_x;  ///< [n x hidden] the hook's view
    };
    struct Pool {
        std::mutex mu;
        std::vector<std::unique_ptr<Workspace>> free;
    };
    /// A workspace for the duration of one call, returned to the pool (after its stream drains) on scope exit.
    class Lease {
    public:
        explicit Lease(Pool& p) : pool_(&p) {
            {
                std::lock_guard<std::mutex> lock(p.mu);
                if (!p.free.empty()) {
                    ws_ = std::move(p.free.back());
                    p.free.pop_back();
                }
            }
            if (!ws_) ws_ = std::make_unique<Workspace>();
        }
        ~Lease() {
            try {
                ws_->stream.synchronize();
            } catch (...) {
                return;  // a failed stream is dropped, not reused
            }
            std::lock_guard<std::mutex> lock(pool_->mu);
            pool_->free.push_back(std::move(ws_));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Workspace& operator*() const noexcept { return *ws_; }
        Workspace* operator->() const noexcept { return ws_.get(); }

    private:
        Pool* pool_;
        std::unique_ptr<Workspace> ws_;
    };

    using Seq = model::TailBatch::Seq;  // tail_batch.hpp: the backend-neutral tail bookkeeping
    void check_session(const Session& s, const char* where) const;
    void run(const Session& prefix, std::span<const Seq> seqs, std::span<const token_id> ids,
             std::span<const ConstMatrixView> inputs, int first_block, const Hook& hook, MatrixRM* logits,
             Session* append) const;

    model::llama::HParams hp_;
    std::shared_ptr<const gguf::File> file_;
    std::vector<float> rope_freqs_;  ///< [rope_dim/2] llama3 frequency factors, or empty
    DeviceBuffer embd_;              ///< fp16 [vocab x hidden]
    DeviceBuffer out_;               ///< fp16 [vocab x hidden]; empty when the output is tied to embd_
    DeviceBuffer out_norm_;          ///< fp32 [hidden]
    std::vector<Layer> layers_;      ///< [n_layers]
    std::size_t weight_bytes_ = 0;
    std::shared_ptr<const text::Tokenizer> tok_;
    std::shared_ptr<const text::ChatTemplate> chat_;
    std::unique_ptr<Pool> pool_ = std::make_unique<Pool>();
};

static_assert(model::check_backend<CudaLlamaModel>(), "CudaLlamaModel must satisfy w2s::model::Backend");

}  // namespace w2s::cuda

#define W2S_CUDA_MODEL_INTERNAL
#include "w2s/cuda/detail/cuda_llama_model_impl.hpp"
#undef W2S_CUDA_MODEL_INTERNAL
