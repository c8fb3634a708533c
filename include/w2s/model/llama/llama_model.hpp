// w2s/model/llama/llama_model.hpp — the reference backend: Llama-family GGUF models on the CPU.
//
//   auto m = w2s::model::llama::LlamaModel::load("SmolLM2-135M-Instruct.Q4_1.gguf");
//   auto s = m.new_session();
//   w2s::MatrixRM logits;                                      // [tokens x vocab]
//   m.prefill(s, m.tokenizer().encode("Hello"), {}, &logits);
//
// A LlamaModel is immutable after load(): any number of threads may run sessions on one model at once
// (share it by const reference). Weights stay quantized in the memory-mapped file and are used in place by
// w2s::model::kernels::matmul; activations are float32. It satisfies w2s::model::Backend (see backend.hpp
// for the contract of prefill and forward_tails); architectures: see arch.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/gguf/quants.hpp"
#include "w2s/gguf/reader.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/batched_decode.hpp"
#include "w2s/model/config.hpp"
#include "w2s/model/tail_batch.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/model/kernels/attention.hpp"
#include "w2s/model/kernels/isa.hpp"
#include "w2s/model/kernels/matmul.hpp"
#include "w2s/model/kernels/matmul_q8.hpp"
#include "w2s/model/llama/arch.hpp"
#include "w2s/text/chat_template.hpp"
#include "w2s/text/tokenizer.hpp"

namespace w2s::model::llama {

struct LoadOptions {
    /// Build the tokenizer and chat template from the file's metadata. false: tokenizer() and
    /// chat_template() throw (for files that carry only weights).
    bool tokenizer = true;
    /// The attention kernel (model/kernels/attention.hpp): tiled (streams over the keys with an online softmax, the
    /// default) or reference (one row and head at a time: the definition, for checking the fast one).
    enum class Attention { tiled, reference } attention = Attention::tiled;
    /// The activations of the weight products. exact (the default): float activations, every product as
    /// kernels::matmul computes it. q8: the products of generation (the rows of a step of at most 4 tokens, the
    /// fused kernel path, and their logits) quantize each activation row to int8 per block of 32 and use integer dot
    /// products (kernels/matmul_q8.hpp: AVX-512 VNNI / AVX-VNNI where compiled, else AVX2), as llama.cpp does for
    /// every product; prompts of more than 4 tokens keep the exact float products. Faster decoding, at the cost of
    /// matmul_q8's documented error (about 2e-4 of sum |w x| per output); a build without AVX2, and weight types
    /// without an integer path, compute exactly whatever this says.
    enum class Activations { exact, q8 } activations = Activations::exact;
};

/// One sequence's state: its tokens and per-layer K/V cache. A value type; copying it forks the sequence
/// (a deep copy: the two never see each other's later tokens).
class Session {
public:
    Session() = default;
    /// Number of tokens in the sequence (= positions in the cache).
    [[nodiscard]] std::size_t size() const noexcept { return tokens_.size(); }
    [[nodiscard]] std::span<const token_id> tokens() const noexcept { return tokens_; }
    /// Drops every token after the first n (n > size() is an invalid_argument).
    void truncate(std::size_t n) {
        if (n > size())
            throw invalid_argument("Session::truncate: " + std::to_string(n) + " exceeds the session size " +
                                   std::to_string(size()));
        tokens_.resize(n);
        for (auto& k : k_) k.resize(n * kv_k_);
        for (auto& v : v_) v.resize(n * kv_v_);
    }

private:
    friend class LlamaModel;
    std::vector<token_id> tokens_;              ///< [size()]
    std::size_t kv_k_ = 0, kv_v_ = 0;           ///< row sizes: n_head_kv * head_k, n_head_kv * head_v
    std::vector<std::vector<float>> k_, v_;     ///< [n_layers] x ([size() x kv_k_] / [size() x kv_v_]), row = position,
                                                ///< K after RoPE (and q/k-norm), V as projected
};

/// Weights of one block; matrices in mat[slot], vectors (norms, biases) dequantized to float in vec[slot].
struct LayerWeights {
    std::array<kernels::WeightMatrix, kSlotCount> mat{};
    std::array<std::vector<float>, kSlotCount> vec{};
    [[nodiscard]] const kernels::WeightMatrix& m(Slot s) const { return mat[static_cast<std::size_t>(s)]; }
    [[nodiscard]] const std::vector<float>& v(Slot s) const { return vec[static_cast<std::size_t>(s)]; }
};

namespace detail {
struct RopeTable;
}

class LlamaModel {
public:
    using Session = llama::Session;

    /// Loads `gguf_path`: hyperparameters, weights (via the architecture's tensor table), tokenizer and chat
    /// template. Errors carry the file and tensor: "loading m.gguf: tensor blk.3.attn_q.weight: expected
    /// 576x576, got 576x192".
    static LlamaModel load(const std::string& gguf_path, LoadOptions opts = {});

    [[nodiscard]] int n_layers() const noexcept { return hp_.n_layers; }
    [[nodiscard]] int hidden_size() const noexcept { return hp_.hidden; }
    [[nodiscard]] int vocab_size() const noexcept { return hp_.vocab; }
    [[nodiscard]] const HParams& hparams() const noexcept { return hp_; }
    /// The context the model was trained for (GGUF <arch>.context_length; 0 when the file does not say).
    /// prefill and forward_tails refuse positions beyond it.
    /// The instruction sets of the kernels where LlamaModel's bodies were compiled (w2s::model when linked, else
    /// the caller's own flags) against this CPU's best (kernels/isa.hpp): uses_best() false means a slow build.
    [[nodiscard]] static kernels::KernelIsa kernel_isa();
    /// The activations of the weight products it was loaded with (LoadOptions::Activations).
    [[nodiscard]] LoadOptions::Activations activations() const noexcept { return activations_; }
    [[nodiscard]] std::size_t context_length() const noexcept { return hp_.ctx_train > 0 ? static_cast<std::size_t>(hp_.ctx_train) : 0; }
    [[nodiscard]] const gguf::File& file() const noexcept { return *file_; }
    [[nodiscard]] const text::Tokenizer& tokenizer() const;
    [[nodiscard]] bool has_chat_template() const noexcept { return chat_ != nullptr; }
    /// The file's chat template; invalid_argument when the file has none (e.g. a base model).
    [[nodiscard]] const text::ChatTemplate& chat_template() const;

    [[nodiscard]] Session new_session() const;

    /// Appends `tokens` to `s`, running every block; hook at every block output (seq 0, pos0 = old size);
    /// `logits` (optional) becomes [tokens x vocab]. On an exception (e.g. from the hook) `s` is unchanged.
    void prefill(Session& s, std::span<const token_id> tokens, const Hook& hook = {}, MatrixRM* logits = nullptr) const;

    /// prefill that computes the logits of the last new token only (`logits` becomes [1 x vocab]): generation
    /// needs nothing else, and a long prompt's full [tokens x vocab] logits would dominate peak memory.
    void prefill_last_logits(Session& s, std::span<const token_id> tokens, const Hook& hook, MatrixRM* logits) const;

    /// The batched continuations of a read-only prefix: see backend.hpp. Throws invalid_argument for a
    /// tail with no tokens, a parent not before it, an input of the wrong shape, first_block out of range.
    void forward_tails(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook = {},
                       MatrixRM* logits = nullptr) const;

    /// forward_tails computing only the requested logits: out[i] = logit(queries[i].row, queries[i].token)
    /// (the SelectiveLogits capability of backend.hpp). Throws invalid_argument for a query out of range.
    void forward_tails_logits(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook,
                              std::span<const LogitQuery> queries, std::span<float> out) const;

    /// Several sequences, each in its own session, advanced by one forward pass (the BatchedDecode capability of
    /// backend.hpp): the matrix products run once over every step's rows, attention reads each step's own cache.
    /// Step i's rows and logits are bit for bit what prefill_last_logits(*steps[i].session, steps[i].tokens) gives
    /// alone: each step's rows take the kernel path their number would take alone (kernels::Path; put the steps of
    /// one token first and longer chunks after, so that each weight matrix is read once per path). `logits` becomes
    /// [steps x vocab] (zero rows for steps with logits == false). Throws invalid_argument (check_batch_steps; a
    /// session not made by this model); on an exception every session is unchanged.
    void decode_batch(std::span<const BatchStep<Session>> steps, const Hook& hook = {}, MatrixRM* logits = nullptr) const;

    /// The output head, the one place it is written: logits = softcap(W_out · rms_norm(x) ⊙ g_out) for the
    /// final block's residual rows x ([rows x hidden], not modified). Fills `logits` ([rows x vocab]) when given,
    /// and qout[i] = logit(queries[i].row, queries[i].token) for each query (only those rows of W_out are read);
    /// both may be asked for in one call. Throws invalid_argument for a query out of range or a wrong width.
    void output_head(ConstMatrixView x, MatrixRM* logits, std::span<const LogitQuery> queries = {}, std::span<float> qout = {}) const;

private:
    using Seq = TailBatch::Seq;  // tail_batch.hpp: the backend-neutral tail bookkeeping
    /// Batch rows [row0, row0 + rows) go through the matrix products on kernel path `path`.
    struct RowPath {
        std::size_t row0 = 0, rows = 0;
        kernels::Path path = kernels::Path::automatic;
    };
    /// The blocks over a batch: returns the last block's output X [n x D] (after the hooks). Sequence s attends to
    /// the cache of *prefixes[s] (or of *prefixes[0] for all when there is one); with `appends` (one per sequence),
    /// each sequence's K/V rows and tokens are appended to its session. `plan` (empty: automatic for all rows)
    /// chooses the kernel path per row range.
    MatrixRM run(std::span<const Session* const> prefixes, std::span<const Seq> seqs, std::span<const token_id> ids,
                 std::span<const ConstMatrixView> inputs, int first_block, const Hook& hook,
                 std::span<Session* const> appends, std::span<const RowPath> plan = {}) const;
    /// output_head with the head's product on kernel path `path`.
    void head(ConstMatrixView x, MatrixRM* logits, std::span<const LogitQuery> queries, std::span<float> qout, kernels::Path path) const;
    void check_session(const Session& s, const char* who) const;
    void tails_impl(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook, MatrixRM* logits,
                    std::span<const LogitQuery> queries, std::span<float> qout) const;

    // The steps of run(), in the order of the equations (n = batch rows, D = hidden):
    struct Rows;     ///< per batch row: absolute position, sequence index
    struct Scratch;  ///< the per-call buffers of one block: normed input, Q, K, V, attention output, gate, up
    /// x0 = E[ids] (· sqrt(D) for Gemma) when first_block == 0, else the given inputs: X [n x D].
    void embed(std::span<const Seq> seqs, std::span<const token_id> ids, std::span<const ConstMatrixView> inputs, int first_block,
               MatrixView X) const;
    /// S.H = attn_l(rms_norm(X)) [n x D] (post-normed for sandwich-norm models); S.K, S.V hold the rows' own keys
    /// and values [n x kv] for the KV append. Each row sees the prefix, its sequence's ancestors and its own earlier
    /// rows, within the sliding window on SWA blocks.
    void attention(int l, std::span<const Session* const> prefixes, std::span<const Seq> seqs, const Rows& rows,
                   const detail::RopeTable& rope, ConstMatrixView X, Scratch& S) const;
    /// S.H = W_down (act(W_gate x) ⊙ W_up x) with x = rms_norm(X) [n x D] (post-normed for sandwich-norm models).
    void feed_forward(int l, ConstMatrixView X, Scratch& S) const;

    std::shared_ptr<const gguf::File> file_;
    HParams hp_;
    std::array<kernels::WeightMatrix, kSlotCount> gmat_{};  ///< global matrices by slot
    std::array<std::vector<float>, kSlotCount> gvec_{};     ///< global vectors by slot
    std::vector<LayerWeights> layers_;                       ///< [n_layers]
    std::shared_ptr<const text::Tokenizer> tok_;
    std::shared_ptr<const text::ChatTemplate> chat_;
    LoadOptions::Attention attention_ = LoadOptions::Attention::tiled;
    LoadOptions::Activations activations_ = LoadOptions::Activations::exact;
};

static_assert(check_backend<LlamaModel>(), "LlamaModel must satisfy w2s::model::Backend");

// ================================================================================================
// implementation
// ================================================================================================
namespace detail {

/// Every weight product of the model goes through here: Y = X W^T on kernel path `path` (automatic: the path
/// kernels::automatic_path(X.rows) picks), with int8 activations (kernels::matmul_q8) when `q8` and that path is the
/// fused one (steps of at most 4 rows: generation) and W's type has an integer path, else exactly (kernels::matmul on
/// `path`, so that a batch of one-token steps takes the path each step takes alone). See LoadOptions::Activations.
inline void weight_product(const kernels::WeightMatrix& W, ConstMatrixView X, MatrixView Y, kernels::Path path, bool q8) {
    const kernels::Path p = path == kernels::Path::automatic ? kernels::automatic_path(X.rows) : path;
    if (q8 && p == kernels::Path::fused && kernels::has_q8_path(W.type) && W.n_in % 32 == 0) kernels::matmul_q8(W, X, Y);
    else kernels::matmul(W, X, Y, path);
}

inline bool is_vector_shape(const gguf::TensorInfo& t) {
    for (std::size_t i = 1; i < t.ne.size(); ++i)
        if (t.ne[i] != 1) return false;
    return true;
}

/// Loads the tensors of `specs` (one layer's, or the global ones) into mat/vec by slot.
inline void load_specs(const gguf::File& f, const HParams& h, std::span<const TensorSpec> specs, int layer,
                       std::array<kernels::WeightMatrix, kSlotCount>& mat,
                       std::array<std::vector<float>, kSlotCount>& vec) {
    for (const auto& s : specs) {
        std::string name = layer < 0 ? std::string(s.name) : "blk." + std::to_string(layer) + "." + std::string(s.name);
        const gguf::TensorInfo* t = f.find_tensor(name);
        std::string used = name;
        if (!t && !s.tied_to.empty()) {
            t = f.find_tensor(std::string(s.tied_to));
            used = std::string(s.tied_to);
        }
        if (!t) {
            if (s.optional) continue;
            throw format_error("tensor " + name + " is missing (architecture " + std::string(h.info->name) + ")");
        }
        const std::uint64_t e0 = h.dim_value(s.ne0), e1 = h.dim_value(s.ne1);
        const bool vector = s.ne1 == Dim::none;
        const bool ok = vector ? (t->ne.size() >= 1 && t->ne[0] == e0 && is_vector_shape(*t))
                               : (t->ne.size() >= 2 && t->ne[0] == e0 && t->ne[1] == e1 && t->rows() == e1);
        if (!ok) {
            std::string want = vector ? std::to_string(e0) : std::to_string(e0) + "x" + std::to_string(e1);
            throw shape_error("tensor " + used + ": expected " + want + ", got " + t->shape_string());
        }
        const auto slot = static_cast<std::size_t>(s.slot);
        with_context("tensor " + used, [&] {
            if (vector) vec[slot] = gguf::dequantize(*t);
            else mat[slot] = kernels::WeightMatrix::from(*t);
        });
    }
}

/// y = x / rms(x) * w over rows of length n (HF order: normalise, then scale). x and y may alias.
inline void rms_norm_row(const float* x, const float* w, float* y, std::size_t n, float eps) {
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(n)) + eps);
    for (std::size_t i = 0; i < n; ++i) y[i] = (x[i] * inv) * w[i];
}

inline void rms_norm_rows(ConstMatrixView x, const std::vector<float>& w, MatrixView y, float eps) {
    parallel_for(0, x.rows, 16, [&](std::size_t r) { rms_norm_row(x.row(r), w.data(), y.row(r), x.cols, eps); });
}

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float gelu_tanh(float x) {
    constexpr float k = 0.7978845608028654f;  // sqrt(2/pi)
    return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

/// cos/sin of every (row, frequency): [rows x rope_dim/2] each.
/// Queries of selected logits: as many outputs as queries, each (row, token) inside [rows x vocab].
inline void check_logit_queries(const char* who, std::span<const LogitQuery> queries, std::size_t n_out, std::size_t rows,
                                std::size_t vocab) {
    if (n_out != queries.size())
        throw invalid_argument(std::string(who) + ": " + std::to_string(queries.size()) + " queries, output of " + std::to_string(n_out));
    for (const auto& q : queries)
        if (q.row >= rows || q.token < 0 || static_cast<std::size_t>(q.token) >= vocab)
            throw invalid_argument(std::string(who) + ": query (row " + std::to_string(q.row) + ", token " + std::to_string(q.token) +
                                   ") outside " + std::to_string(rows) + " rows x " + std::to_string(vocab) + " tokens");
}

struct RopeTable {
    std::vector<float> cos, sin;
    std::size_t half = 0;
};

inline RopeTable rope_table(std::span<const std::size_t> pos, int rope_dim, float base, float pos_scale,
                            const std::vector<float>& freq_factors) {
    RopeTable t;
    t.half = static_cast<std::size_t>(rope_dim / 2);
    std::vector<float> inv(t.half);
    for (std::size_t i = 0; i < t.half; ++i) {
        // as transformers: inv_freq = 1 / base^(2i/dim) in float32, divided by the scaling factors
        float f = 1.0f / std::pow(base, static_cast<float>(2 * i) / static_cast<float>(rope_dim));
        if (!freq_factors.empty()) f /= freq_factors[i];
        inv[i] = f / pos_scale;
    }
    t.cos.resize(pos.size() * t.half);
    t.sin.resize(pos.size() * t.half);
    for (std::size_t r = 0; r < pos.size(); ++r)
        for (std::size_t i = 0; i < t.half; ++i) {
            const float a = static_cast<float>(pos[r]) * inv[i];
            t.cos[r * t.half + i] = std::cos(a);
            t.sin[r * t.half + i] = std::sin(a);
        }
    return t;
}

/// Rotates the first 2*half dims of each of `n_heads` heads (size head) of row `r` of x in place.
inline void apply_rope(float* x, std::size_t n_heads, std::size_t head, const RopeTable& t, std::size_t r, RopeStyle style) {
    const float* c = t.cos.data() + r * t.half;
    const float* s = t.sin.data() + r * t.half;
    for (std::size_t h = 0; h < n_heads; ++h) {
        float* v = x + h * head;
        for (std::size_t i = 0; i < t.half; ++i) {
            float* a = style == RopeStyle::norm ? v + 2 * i : v + i;
            float* b = style == RopeStyle::norm ? v + 2 * i + 1 : v + i + t.half;
            const float x0 = *a, x1 = *b;
            *a = x0 * c[i] - x1 * s[i];
            *b = x1 * c[i] + x0 * s[i];
        }
    }
}

inline float dot(const float* a, const float* b, std::size_t n) {
    return Eigen::Map<const Eigen::VectorXf>(a, static_cast<Eigen::Index>(n))
        .dot(Eigen::Map<const Eigen::VectorXf>(b, static_cast<Eigen::Index>(n)));
}

}  // namespace detail

// LlamaModel's member functions: inline here, or compiled once into w2s_model (w2s/model/config.hpp).
#if W2S_MODEL_BODIES

W2S_MODEL_FUNC kernels::KernelIsa LlamaModel::kernel_isa() { return kernels::compiled_kernel_isa(); }

W2S_MODEL_FUNC LlamaModel LlamaModel::load(const std::string& gguf_path, LoadOptions opts) {
    return with_context("loading " + gguf_path, [&] {
        LlamaModel m;
        m.file_ = std::make_shared<const gguf::File>(gguf_path);
        const auto& f = *m.file_;
        m.hp_ = read_hparams(f);
        detail::load_specs(f, m.hp_, m.hp_.info->global, -1, m.gmat_, m.gvec_);
        // llama3 frequency factors divide RoPE's frequencies: a zero or a non-finite one makes every logit NaN.
        const auto& ff = m.gvec_[static_cast<std::size_t>(Slot::rope_freqs)];
        for (std::size_t i = 0; i < ff.size(); ++i)
            if (!std::isfinite(ff[i]) || !(ff[i] > 0.f))
                throw format_error("tensor rope_freqs.weight: factor " + std::to_string(i) + " is " + std::to_string(ff[i]) +
                                   "; expected finite factors > 0");
        m.layers_.resize(static_cast<std::size_t>(m.hp_.n_layers));
        for (int l = 0; l < m.hp_.n_layers; ++l)
            detail::load_specs(f, m.hp_, m.hp_.info->layer, l, m.layers_[static_cast<std::size_t>(l)].mat,
                               m.layers_[static_cast<std::size_t>(l)].vec);
        m.attention_ = opts.attention;
        m.activations_ = opts.activations;
        if (opts.tokenizer) {
            m.tok_ = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_gguf(f));
            if (f.has("tokenizer.chat_template"))
                m.chat_ = std::make_shared<const text::ChatTemplate>(text::ChatTemplate::from_gguf(f));
        }
        return m;
    });
}

W2S_MODEL_FUNC const text::Tokenizer& LlamaModel::tokenizer() const {
    if (!tok_) throw invalid_argument(file_->path() + ": the model was loaded without its tokenizer (LoadOptions::tokenizer)");
    return *tok_;
}

W2S_MODEL_FUNC const text::ChatTemplate& LlamaModel::chat_template() const {
    if (!chat_) throw invalid_argument(file_->path() + ": the model has no chat template (metadata tokenizer.chat_template)");
    return *chat_;
}

W2S_MODEL_FUNC LlamaModel::Session LlamaModel::new_session() const {
    Session s;
    s.kv_k_ = static_cast<std::size_t>(hp_.kv_k());
    s.kv_v_ = static_cast<std::size_t>(hp_.kv_v());
    s.k_.resize(static_cast<std::size_t>(hp_.n_layers));
    s.v_.resize(static_cast<std::size_t>(hp_.n_layers));
    return s;
}

W2S_MODEL_FUNC void LlamaModel::check_session(const Session& s, const char* who) const {
    if (s.k_.size() != static_cast<std::size_t>(hp_.n_layers) || s.kv_k_ != static_cast<std::size_t>(hp_.kv_k()))
        throw invalid_argument(std::string(who) + ": the session was not made by this model's new_session()");
}

W2S_MODEL_FUNC void LlamaModel::prefill(Session& s, std::span<const token_id> tokens, const Hook& hook, MatrixRM* logits) const {
    check_session(s, "prefill");
    if (tokens.empty()) {
        if (logits) logits->resize(0, hp_.vocab);
        return;
    }
    if (const std::size_t ctx = context_length(); ctx && s.size() + tokens.size() > ctx)
        throw invalid_argument("prefill: " + std::to_string(tokens.size()) + " tokens after the " + std::to_string(s.size()) +
                               " already in the session make " + std::to_string(s.size() + tokens.size()) +
                               " positions, beyond the model's context of " + std::to_string(ctx) + " (context_length in the GGUF)");
    const Seq seq = single_seq(tokens.size(), s.size());
    const std::size_t old = s.size();
    try {
        const Session* pre = &s;
        Session* app = &s;
        const MatrixRM X = run(std::span<const Session* const>(&pre, 1), std::span<const Seq>(&seq, 1), tokens, {}, 0, hook,
                               std::span<Session* const>(&app, 1));
        output_head(ConstMatrixView{X.data(), tokens.size(), static_cast<std::size_t>(hp_.hidden)}, logits);
    } catch (...) {
        s.truncate(old);
        throw;
    }
}

W2S_MODEL_FUNC void LlamaModel::prefill_last_logits(Session& s, std::span<const token_id> tokens, const Hook& hook,
                                            MatrixRM* logits) const {
    if (!logits || tokens.empty()) {
        prefill(s, tokens, hook, logits);
        return;
    }
    const auto D = static_cast<std::size_t>(hp_.hidden);
    std::vector<float> last(D);  // [hidden] output of the last block at the last new token (after the hook)
    const int top = hp_.n_layers - 1;
    const Hook grab = [&](const BlockOutput& o) {
        if (hook) hook(o);
        if (o.layer == top && o.residual.rows) std::copy_n(o.residual.row(o.residual.rows - 1), D, last.data());
    };
    prefill(s, tokens, grab, nullptr);
    output_head(ConstMatrixView{last.data(), 1, D}, logits);
}

W2S_MODEL_FUNC void LlamaModel::decode_batch(std::span<const BatchStep<Session>> steps, const Hook& hook, MatrixRM* logits) const {
    check_batch_steps(steps, context_length());
    for (std::size_t i = 0; i < steps.size(); ++i) check_session(*steps[i].session, ("decode_batch: step " + std::to_string(i)).c_str());
    const auto D = static_cast<std::size_t>(hp_.hidden);
    if (steps.empty()) {
        if (logits) logits->resize(0, hp_.vocab);
        return;
    }
    // The batch: step i's rows [row0, row0 + len) at its session's positions; its kernel path is the one its row
    // count takes alone, and neighbouring steps of the same path share one product per weight matrix.
    std::vector<Seq> seqs(steps.size());
    std::vector<const Session*> prefixes(steps.size());
    std::vector<Session*> appends(steps.size());
    std::vector<std::size_t> old(steps.size());
    std::vector<token_id> ids;
    std::vector<RowPath> plan;
    std::size_t n = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto& st = steps[i];
        seqs[i] = Seq{n, st.tokens.size(), st.session->size(), {}};
        prefixes[i] = appends[i] = st.session;
        old[i] = st.session->size();
        ids.insert(ids.end(), st.tokens.begin(), st.tokens.end());
        const kernels::Path path = kernels::automatic_path(st.tokens.size());
        if (!plan.empty() && plan.back().path == path) plan.back().rows += st.tokens.size();
        else plan.push_back(RowPath{n, st.tokens.size(), path});
        n += st.tokens.size();
    }
    try {
        const MatrixRM X = run(prefixes, seqs, ids, {}, 0, hook, appends, plan);
        if (logits) {
            // The last row of every step that wants logits, through the head on the fused path (what one row takes:
            // prefill_last_logits' head), scattered back to the step's row.
            std::vector<std::size_t> want;
            for (std::size_t i = 0; i < steps.size(); ++i)
                if (steps[i].logits) want.push_back(i);
            MatrixRM last(static_cast<Eigen::Index>(want.size()), static_cast<Eigen::Index>(D));
            for (std::size_t k = 0; k < want.size(); ++k)
                last.row(static_cast<Eigen::Index>(k)) = X.row(static_cast<Eigen::Index>(seqs[want[k]].row0 + seqs[want[k]].len - 1));
            MatrixRM part;
            head(ConstMatrixView{last.data(), want.size(), D}, &part, {}, {}, kernels::Path::fused);
            *logits = MatrixRM::Zero(static_cast<Eigen::Index>(steps.size()), hp_.vocab);
            for (std::size_t k = 0; k < want.size(); ++k)
                logits->row(static_cast<Eigen::Index>(want[k])) = part.row(static_cast<Eigen::Index>(k));
        }
    } catch (...) {
        for (std::size_t i = 0; i < steps.size(); ++i) steps[i].session->truncate(old[i]);  // drops rows appended to any layer
        throw;
    }
}

W2S_MODEL_FUNC void LlamaModel::output_head(ConstMatrixView x, MatrixRM* logits, std::span<const LogitQuery> queries,
                                    std::span<float> qout) const {
    head(x, logits, queries, qout, kernels::Path::automatic);
}

W2S_MODEL_FUNC void LlamaModel::head(ConstMatrixView x, MatrixRM* logits, std::span<const LogitQuery> queries, std::span<float> qout,
                             kernels::Path path) const {
    const auto D = static_cast<std::size_t>(hp_.hidden);
    const auto V = static_cast<std::size_t>(hp_.vocab);
    if (x.cols != D) throw invalid_argument("output_head: rows of " + std::to_string(x.cols) + " values, hidden size " + std::to_string(D));
    detail::check_logit_queries("output_head", queries, qout.size(), x.rows, V);
    if (!logits && queries.empty()) return;
    const float c = hp_.final_softcap;
    const auto softcap = [c](float y) { return c > 0.f ? c * std::tanh(y / c) : y; };
    // [rows x hidden] normalised once, into a buffer of its own: x stays as the caller (and the hooks) saw it.
    std::vector<float> normed(x.rows * D);
    const MatrixView nv{normed.data(), x.rows, D};
    detail::rms_norm_rows(x, gvec_[static_cast<std::size_t>(Slot::output_norm)], nv, hp_.eps);
    const kernels::WeightMatrix& W = gmat_[static_cast<std::size_t>(Slot::output)];
    for (std::size_t i = 0; i < queries.size(); ++i) {
        // only the head's row for the query's token, dotted with the normed row
        const auto one = kernels::WeightMatrix::from_raw(W.type, W.row(static_cast<std::size_t>(queries[i].token)), W.n_in, 1);
        float y = 0.f;
        kernels::matmul(one, ConstMatrixView(nv.row(queries[i].row), 1, W.n_in), MatrixView{&y, 1, 1});
        qout[i] = softcap(y);
    }
    if (logits) {
        logits->resize(static_cast<Eigen::Index>(x.rows), static_cast<Eigen::Index>(V));
        detail::weight_product(W, nv, MatrixView{logits->data(), x.rows, V}, path, activations_ == LoadOptions::Activations::q8);
        if (c > 0.f) {
            float* p = logits->data();
            for (Eigen::Index i = 0; i < logits->size(); ++i) p[i] = softcap(p[i]);
        }
    }
}

W2S_MODEL_FUNC void LlamaModel::forward_tails(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook,
                                      MatrixRM* logits) const {
    tails_impl(prefix, tails, first_block, hook, logits, {}, {});
}

W2S_MODEL_FUNC void LlamaModel::forward_tails_logits(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook,
                                             std::span<const LogitQuery> queries, std::span<float> out) const {
    tails_impl(prefix, tails, first_block, hook, nullptr, queries, out);
}

W2S_MODEL_FUNC void LlamaModel::tails_impl(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook,
                                   MatrixRM* logits, std::span<const LogitQuery> queries, std::span<float> qout) const {
    check_session(prefix, "forward_tails: the prefix");
    const TailBatch b = batch_tails(tails, prefix.size(), first_block, hp_.n_layers, static_cast<std::size_t>(hp_.hidden), context_length());
    if (tails.empty()) {
        if (logits) logits->resize(0, hp_.vocab);
        return;
    }
    detail::check_logit_queries("forward_tails_logits", queries, qout.size(), b.rows, static_cast<std::size_t>(hp_.vocab));  // before the work
    const Session* pre = &prefix;
    const MatrixRM X = run(std::span<const Session* const>(&pre, 1), b.seqs, b.ids, b.inputs, first_block, hook, {});
    output_head(ConstMatrixView{X.data(), b.rows, static_cast<std::size_t>(hp_.hidden)}, logits, queries, qout);
}

struct LlamaModel::Rows {
    std::vector<std::size_t> pos, seq_of;  ///< [n] absolute position and sequence of every batch row
    Rows(std::span<const Seq> seqs, std::size_t n) : pos(n), seq_of(n) {
        for (std::size_t s = 0; s < seqs.size(); ++s)
            for (std::size_t j = 0; j < seqs[s].len; ++j) {
                pos[seqs[s].row0 + j] = seqs[s].pos0 + j;
                seq_of[seqs[s].row0 + j] = s;
            }
    }
};

struct LlamaModel::Scratch {
    MatrixRM H, Q, K, V, A, G, U;  // [n x D], [n x heads*head_k], [n x kv_heads*head_k], [n x kv_heads*head_v],
                                   // [n x heads*head_v], [n x ffn], [n x ffn]
    std::span<const RowPath> plan;  // the kernel path per row range (empty: automatic)
    bool q8 = false;                // LoadOptions::Activations::q8 (detail::weight_product)
    Scratch(const HParams& h, std::size_t n) {
        const auto N = static_cast<Eigen::Index>(n);
        H.resize(N, h.hidden);
        Q.resize(N, static_cast<Eigen::Index>(h.n_head) * h.head_k);
        K.resize(N, static_cast<Eigen::Index>(h.n_head_kv) * h.head_k);
        V.resize(N, static_cast<Eigen::Index>(h.n_head_kv) * h.head_v);
        A.resize(N, static_cast<Eigen::Index>(h.n_head) * h.head_v);
        G.resize(N, h.ffn);
        U.resize(N, h.ffn);
    }
    static MatrixView view(MatrixRM& m) { return {m.data(), static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())}; }
    /// Y = X W^T over the batch, each row range of the plan on its kernel path.
    void mm(const kernels::WeightMatrix& W, ConstMatrixView X, MatrixView Y) const {
        if (plan.empty()) {
            detail::weight_product(W, X, Y, kernels::Path::automatic, q8);
            return;
        }
        for (const RowPath& p : plan)
            detail::weight_product(W, ConstMatrixView{X.row(p.row0), p.rows, X.cols}, MatrixView{Y.row(p.row0), p.rows, Y.cols},
                                   p.path, q8);
    }
};

W2S_MODEL_FUNC MatrixRM LlamaModel::run(std::span<const Session* const> prefixes, std::span<const Seq> seqs, std::span<const token_id> ids,
                                std::span<const ConstMatrixView> inputs, int first_block, const Hook& hook,
                                std::span<Session* const> appends, std::span<const RowPath> plan) const {
    const HParams& h = hp_;
    const std::size_t n = ids.size();
    const std::size_t D = static_cast<std::size_t>(h.hidden);
    const std::size_t kd = static_cast<std::size_t>(h.n_head_kv * h.head_k), vd = static_cast<std::size_t>(h.n_head_kv * h.head_v);

    MatrixRM X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(D));  // [n x D] the residual stream of every row
    const MatrixView xv{X.data(), n, D};
    embed(seqs, ids, inputs, first_block, xv);

    auto call_hook = [&](int layer) {
        if (!hook) return;
        for (std::size_t s = 0; s < seqs.size(); ++s)
            hook(BlockOutput{layer, s, seqs[s].pos0, MatrixView{xv.row(seqs[s].row0), seqs[s].len, D}});
    };

    if (first_block < h.n_layers) {
        const Rows rows(seqs, n);
        const bool any_swa = std::any_of(h.swa.begin(), h.swa.end(), [](auto b) { return b != 0; });
        const auto& ff = gvec_[static_cast<std::size_t>(Slot::rope_freqs)];
        const detail::RopeTable rope_global = detail::rope_table(rows.pos, h.rope_dim, h.rope_base, h.rope_scale, ff);
        const detail::RopeTable rope_local =
            any_swa ? detail::rope_table(rows.pos, h.rope_dim, h.rope_base_swa, 1.0f, ff) : detail::RopeTable{};
        Scratch S(h, n);  // one allocation per call
        S.plan = plan;
        S.q8 = activations_ == LoadOptions::Activations::q8;
        for (int l = first_block; l < h.n_layers; ++l) {
            const bool swa = h.swa[static_cast<std::size_t>(l)] != 0;
            attention(l, prefixes, seqs, rows, swa ? rope_local : rope_global, xv, S);  // x += attn(x)
            X += S.H;
            feed_forward(l, xv, S);                                                      // x += ffn(x)
            X += S.H;
            for (std::size_t s = 0; s < appends.size(); ++s) {
                auto& ck = appends[s]->k_[static_cast<std::size_t>(l)];
                auto& cv = appends[s]->v_[static_cast<std::size_t>(l)];
                ck.insert(ck.end(), S.K.data() + seqs[s].row0 * kd, S.K.data() + (seqs[s].row0 + seqs[s].len) * kd);
                cv.insert(cv.end(), S.V.data() + seqs[s].row0 * vd, S.V.data() + (seqs[s].row0 + seqs[s].len) * vd);
            }
            call_hook(l);
        }
    }
    for (std::size_t s = 0; s < appends.size(); ++s)
        appends[s]->tokens_.insert(appends[s]->tokens_.end(), ids.begin() + static_cast<std::ptrdiff_t>(seqs[s].row0),
                                   ids.begin() + static_cast<std::ptrdiff_t>(seqs[s].row0 + seqs[s].len));
    return X;
}

W2S_MODEL_FUNC void LlamaModel::embed(std::span<const Seq> seqs, std::span<const token_id> ids, std::span<const ConstMatrixView> inputs,
                              int first_block, MatrixView X) const {
    const HParams& h = hp_;
    if (first_block == 0) {
        for (std::size_t r = 0; r < ids.size(); ++r)
            if (ids[r] < 0 || ids[r] >= h.vocab)
                throw invalid_argument("token id " + std::to_string(ids[r]) + " at row " + std::to_string(r) +
                                       " is outside the vocabulary 0.." + std::to_string(h.vocab - 1));
        kernels::get_rows(gmat_[static_cast<std::size_t>(Slot::token_embd)], ids, X);
        if (h.info->embed_scale) Eigen::Map<MatrixRM>(X.data, static_cast<Eigen::Index>(X.rows), static_cast<Eigen::Index>(X.cols)) *= h.embed_scale;
    } else {
        for (std::size_t s = 0; s < seqs.size(); ++s)
            for (std::size_t j = 0; j < seqs[s].len; ++j) std::copy_n(inputs[s].row(j), X.cols, X.row(seqs[s].row0 + j));
    }
}

W2S_MODEL_FUNC void LlamaModel::attention(int l, std::span<const Session* const> prefixes, std::span<const Seq> seqs, const Rows& rows,
                                  const detail::RopeTable& rope, ConstMatrixView X, Scratch& S) const {
    const HParams& h = hp_;
    const ArchInfo& ai = *h.info;
    const LayerWeights& w = layers_[static_cast<std::size_t>(l)];
    const std::size_t n = X.rows;
    const std::size_t nh = static_cast<std::size_t>(h.n_head), nkv = static_cast<std::size_t>(h.n_head_kv);
    const std::size_t hk = static_cast<std::size_t>(h.head_k), hv = static_cast<std::size_t>(h.head_v);
    const MatrixView hv_ = Scratch::view(S.H), qv = Scratch::view(S.Q), kv = Scratch::view(S.K), vv = Scratch::view(S.V),
                     av = Scratch::view(S.A);
    auto add_bias = [&](MatrixRM& M, const std::vector<float>& b) {
        if (b.empty()) return;
        M.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b.data(), static_cast<Eigen::Index>(b.size()));
    };

    // q, k, v = W_{q,k,v} rms_norm(x) (+ bias), per-head q/k norm (Qwen3/Gemma 3), RoPE at each row's position
    detail::rms_norm_rows(X, w.v(Slot::attn_norm), hv_, h.eps);
    S.mm(w.m(Slot::attn_q), hv_, qv);
    S.mm(w.m(Slot::attn_k), hv_, kv);
    S.mm(w.m(Slot::attn_v), hv_, vv);
    add_bias(S.Q, w.v(Slot::attn_q_bias));
    add_bias(S.K, w.v(Slot::attn_k_bias));
    add_bias(S.V, w.v(Slot::attn_v_bias));
    parallel_for(0, n, 4, [&](std::size_t r) {
        if (ai.qk_norm) {
            for (std::size_t hh = 0; hh < nh; ++hh)
                detail::rms_norm_row(qv.row(r) + hh * hk, w.v(Slot::attn_q_norm).data(), qv.row(r) + hh * hk, hk, h.eps);
            for (std::size_t hh = 0; hh < nkv; ++hh)
                detail::rms_norm_row(kv.row(r) + hh * hk, w.v(Slot::attn_k_norm).data(), kv.row(r) + hh * hk, hk, h.eps);
        }
        detail::apply_rope(qv.row(r), nh, hk, rope, r, ai.rope);
        detail::apply_rope(kv.row(r), nkv, hk, rope, r, ai.rope);
    });

    // a = softmax(q k^T · scale [softcapped]) v over the keys each row sees; grouped-query heads share k, v
    const bool swa = h.swa[static_cast<std::size_t>(l)] != 0;
    const kernels::AttentionShape sh{nh, nkv, hk, hv, h.attn_scale, h.attn_softcap, swa ? static_cast<std::size_t>(h.sliding_window) : 0};
    std::vector<kernels::AttendSeq> as(seqs.size());
    for (std::size_t s = 0; s < seqs.size(); ++s) {
        const Session& pre = *prefixes[prefixes.size() == 1 ? 0 : s];  // the cache this sequence continues
        const std::size_t P = pre.size();
        as[s] = {seqs[s].row0, seqs[s].len, P ? pre.k_[static_cast<std::size_t>(l)].data() : nullptr,
                 P ? pre.v_[static_cast<std::size_t>(l)].data() : nullptr, P, seqs[s].ancestors};
    }
    if (attention_ == LoadOptions::Attention::reference)
        kernels::attend_reference(sh, as, rows.pos, qv, kv, vv, av);
    else
        kernels::attend_tiled(sh, as, rows.pos, qv, kv, vv, av);
    // h = W_o a (post-attention norm on sandwich-norm models)
    S.mm(w.m(Slot::attn_output), av, hv_);
    if (ai.sandwich_norms) detail::rms_norm_rows(hv_, w.v(Slot::post_attention_norm), hv_, h.eps);
}

W2S_MODEL_FUNC void LlamaModel::feed_forward(int l, ConstMatrixView X, Scratch& S) const {
    const HParams& h = hp_;
    const ArchInfo& ai = *h.info;
    const LayerWeights& w = layers_[static_cast<std::size_t>(l)];
    const std::size_t F = static_cast<std::size_t>(h.ffn);
    const MatrixView hv_ = Scratch::view(S.H), gv = Scratch::view(S.G), uv = Scratch::view(S.U);
    detail::rms_norm_rows(X, w.v(Slot::ffn_norm), hv_, h.eps);
    S.mm(w.m(Slot::ffn_gate), hv_, gv);
    S.mm(w.m(Slot::ffn_up), hv_, uv);
    parallel_for(0, X.rows, 4, [&](std::size_t r) {
        float* gr = gv.row(r);
        const float* ur = uv.row(r);
        if (ai.act == Activation::silu)
            for (std::size_t i = 0; i < F; ++i) gr[i] = detail::silu(gr[i]) * ur[i];
        else
            for (std::size_t i = 0; i < F; ++i) gr[i] = detail::gelu_tanh(gr[i]) * ur[i];
    });
    S.mm(w.m(Slot::ffn_down), gv, hv_);
    if (ai.sandwich_norms) detail::rms_norm_rows(hv_, w.v(Slot::post_ffw_norm), hv_, h.eps);
}

#endif  // W2S_MODEL_BODIES

}  // namespace w2s::model::llama
