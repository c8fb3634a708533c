// w2s/model/llama/arch.hpp — the Llama-family architectures: hyperparameters and ONE tensor table each.
//
// A new architecture of the family is an entry in arch_table() (its tensor names, expected shapes, which
// tensors are optional or tied) plus a few lines of hyperparameters in read_hparams(); the loader and the
// forward pass read only these. Supported: `llama` (SmolLM2, Llama 2/3, Mistral), `qwen2`, `gemma3`.
//
// Shapes are given in GGUF order, ne[0] first (the row length): a matrix with ne = {n_in, n_out} maps
// n_in inputs to n_out outputs. Tensor names follow llama.cpp ("blk.%d.attn_q.weight"); per-layer names
// are written here without the "blk.%d." prefix.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/reader.hpp"

namespace w2s::model::llama {

enum class Arch { llama, qwen2, gemma3 };

/// How RoPE pairs the dimensions it rotates: `norm` rotates (2i, 2i+1) — llama in GGUF, whose q/k rows the
/// converter permuted; `neox` rotates (i, i + rope_dim/2) — qwen2, gemma3 (and HF's rotate_half).
enum class RopeStyle { norm, neox };
/// Gate activation of the feed-forward block: SwiGLU (silu) or GeGLU with tanh-approximated GELU.
enum class Activation { silu, gelu_tanh };
/// RoPE frequency scaling from metadata `<arch>.rope.scaling.type` (llama3-style per-frequency factors come
/// as the optional tensor rope_freqs.weight and are applied on top of any of these).
enum class RopeScaling { none, linear };

/// Symbolic sizes the tensor table refers to; resolved from HParams by dim_value().
enum class Dim : std::uint8_t { none, hidden, q_out, kv_k, kv_v, o_in, ffn, vocab, head_k, rope_half };

/// Where a loaded tensor goes: global slots index Weights::mat/vec, layer slots LayerWeights::mat/vec.
enum class Slot : std::uint8_t {
    // global
    token_embd, output_norm, output, rope_freqs,
    // per layer
    attn_norm, attn_q, attn_q_bias, attn_k, attn_k_bias, attn_v, attn_v_bias, attn_q_norm, attn_k_norm,
    attn_output, post_attention_norm, ffn_norm, ffn_gate, ffn_up, ffn_down, post_ffw_norm,
    count
};
inline constexpr std::size_t kSlotCount = static_cast<std::size_t>(Slot::count);

/// One tensor of an architecture.
struct TensorSpec {
    Slot slot;
    std::string_view name;       ///< full name (global) or suffix after "blk.%d." (per layer)
    Dim ne0, ne1;                ///< expected ne[0], ne[1]; ne1 == Dim::none for a vector
    bool optional = false;       ///< may be absent (then the weight is empty / unused)
    std::string_view tied_to{};  ///< when absent, use this (global) tensor instead (output -> token_embd)
};

/// Everything the loader and forward pass need to know about one architecture.
struct ArchInfo {
    Arch arch;
    std::string_view name;  ///< general.architecture
    RopeStyle rope;
    Activation act;
    bool embed_scale;       ///< multiply token embeddings by sqrt(hidden) (gemma)
    bool sandwich_norms;    ///< post-attention and post-ffn norms on the block outputs (gemma2/3)
    bool qk_norm;           ///< RMSNorm of each q and k head before RoPE (gemma3)
    std::span<const TensorSpec> global;
    std::span<const TensorSpec> layer;
};

namespace detail {
// clang-format off
inline constexpr std::array<TensorSpec, 3> kGlobal{{
    {Slot::token_embd, "token_embd.weight",  Dim::hidden, Dim::vocab},
    {Slot::output_norm, "output_norm.weight", Dim::hidden, Dim::none},
    {Slot::output, "output.weight",      Dim::hidden, Dim::vocab, true, "token_embd.weight"},
}};
// llama: rope_freqs.weight (llama3.x per-frequency factors) is optional.
inline constexpr std::array<TensorSpec, 4> kGlobalLlama{{
    {Slot::token_embd, "token_embd.weight",  Dim::hidden, Dim::vocab},
    {Slot::output_norm, "output_norm.weight", Dim::hidden, Dim::none},
    {Slot::output, "output.weight",      Dim::hidden, Dim::vocab, true, "token_embd.weight"},
    {Slot::rope_freqs, "rope_freqs.weight",  Dim::rope_half, Dim::none, true},
}};
inline constexpr std::array<TensorSpec, 9> kLayerLlama{{
    {Slot::attn_norm, "attn_norm.weight",   Dim::hidden, Dim::none},
    {Slot::attn_q, "attn_q.weight",      Dim::hidden, Dim::q_out},
    {Slot::attn_k, "attn_k.weight",      Dim::hidden, Dim::kv_k},
    {Slot::attn_v, "attn_v.weight",      Dim::hidden, Dim::kv_v},
    {Slot::attn_output, "attn_output.weight", Dim::o_in,   Dim::hidden},
    {Slot::ffn_norm, "ffn_norm.weight",    Dim::hidden, Dim::none},
    {Slot::ffn_gate, "ffn_gate.weight",    Dim::hidden, Dim::ffn},
    {Slot::ffn_up, "ffn_up.weight",      Dim::hidden, Dim::ffn},
    {Slot::ffn_down, "ffn_down.weight",    Dim::ffn,    Dim::hidden},
}};
inline constexpr std::array<TensorSpec, 12> kLayerQwen2{{
    {Slot::attn_norm, "attn_norm.weight",   Dim::hidden, Dim::none},
    {Slot::attn_q, "attn_q.weight",      Dim::hidden, Dim::q_out},
    {Slot::attn_q_bias, "attn_q.bias",        Dim::q_out,  Dim::none},
    {Slot::attn_k, "attn_k.weight",      Dim::hidden, Dim::kv_k},
    {Slot::attn_k_bias, "attn_k.bias",        Dim::kv_k,   Dim::none},
    {Slot::attn_v, "attn_v.weight",      Dim::hidden, Dim::kv_v},
    {Slot::attn_v_bias, "attn_v.bias",        Dim::kv_v,   Dim::none},
    {Slot::attn_output, "attn_output.weight", Dim::o_in,   Dim::hidden},
    {Slot::ffn_norm, "ffn_norm.weight",    Dim::hidden, Dim::none},
    {Slot::ffn_gate, "ffn_gate.weight",    Dim::hidden, Dim::ffn},
    {Slot::ffn_up, "ffn_up.weight",      Dim::hidden, Dim::ffn},
    {Slot::ffn_down, "ffn_down.weight",    Dim::ffn,    Dim::hidden},
}};
// gemma3: the norms are stored as (1 + w) by llama.cpp's converter, so they multiply like plain RMSNorm.
inline constexpr std::array<TensorSpec, 13> kLayerGemma3{{
    {Slot::attn_norm, "attn_norm.weight",           Dim::hidden, Dim::none},
    {Slot::attn_q, "attn_q.weight",              Dim::hidden, Dim::q_out},
    {Slot::attn_k, "attn_k.weight",              Dim::hidden, Dim::kv_k},
    {Slot::attn_v, "attn_v.weight",              Dim::hidden, Dim::kv_v},
    {Slot::attn_q_norm, "attn_q_norm.weight",         Dim::head_k, Dim::none},
    {Slot::attn_k_norm, "attn_k_norm.weight",         Dim::head_k, Dim::none},
    {Slot::attn_output, "attn_output.weight",         Dim::o_in,   Dim::hidden},
    {Slot::post_attention_norm, "post_attention_norm.weight", Dim::hidden, Dim::none},
    {Slot::ffn_norm, "ffn_norm.weight",            Dim::hidden, Dim::none},
    {Slot::ffn_gate, "ffn_gate.weight",            Dim::hidden, Dim::ffn},
    {Slot::ffn_up, "ffn_up.weight",              Dim::hidden, Dim::ffn},
    {Slot::ffn_down, "ffn_down.weight",            Dim::ffn,    Dim::hidden},
    {Slot::post_ffw_norm, "post_ffw_norm.weight",       Dim::hidden, Dim::none},
}};
// clang-format on
}  // namespace detail

/// The table of every supported architecture.
inline std::span<const ArchInfo> arch_table() {
    static const std::array<ArchInfo, 3> table{{
        {Arch::llama, "llama", RopeStyle::norm, Activation::silu, false, false, false, detail::kGlobalLlama,
         detail::kLayerLlama},
        {Arch::qwen2, "qwen2", RopeStyle::neox, Activation::silu, false, false, false, detail::kGlobal,
         detail::kLayerQwen2},
        {Arch::gemma3, "gemma3", RopeStyle::neox, Activation::gelu_tanh, true, true, true, detail::kGlobal,
         detail::kLayerGemma3},
    }};
    return table;
}

/// The entry for general.architecture `name`; unsupported_error listing the known ones otherwise.
inline const ArchInfo& find_arch(std::string_view name) {
    std::string known;
    for (const auto& a : arch_table()) {
        if (a.name == name) return a;
        known += (known.empty() ? "" : ", ") + std::string(a.name);
    }
    throw unsupported_error("architecture '" + std::string(name) + "' is not supported (supported: " + known + ")");
}

/// Hyperparameters read from GGUF metadata (`<arch>.*` keys) and tensor shapes.
struct HParams {
    const ArchInfo* info = nullptr;
    int n_layers = 0;
    int hidden = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_k = 0;        ///< key/query head size
    int head_v = 0;        ///< value head size
    int ffn = 0;
    int vocab = 0;
    int rope_dim = 0;      ///< leading dims of each head that RoPE rotates (<= head_k)
    float eps = 1e-5f;     ///< RMSNorm epsilon
    float rope_base = 10000.f;
    float rope_base_swa = 10000.f;  ///< RoPE base of sliding-window layers (gemma3: 10000)
    RopeScaling rope_scaling = RopeScaling::none;
    float rope_scale = 1.f;         ///< linear: positions are divided by this factor
    int sliding_window = 0;         ///< 0 = none
    std::vector<std::uint8_t> swa;  ///< [n_layers] 1 = this layer uses the sliding window
    float attn_scale = 1.f;         ///< scores = scale * q.k
    float attn_softcap = 0.f;       ///< 0 = none, else scores = cap * tanh(scores / cap)
    float final_softcap = 0.f;      ///< 0 = none, else logits = cap * tanh(logits / cap)
    float embed_scale = 1.f;
    std::int64_t ctx_train = 0;

    [[nodiscard]] int q_out() const noexcept { return n_head * head_k; }
    [[nodiscard]] int kv_k() const noexcept { return n_head_kv * head_k; }
    [[nodiscard]] int kv_v() const noexcept { return n_head_kv * head_v; }
    [[nodiscard]] int o_in() const noexcept { return n_head * head_v; }

    [[nodiscard]] std::uint64_t dim_value(Dim d) const noexcept {
        switch (d) {
            case Dim::none: return 1;
            case Dim::hidden: return static_cast<std::uint64_t>(hidden);
            case Dim::q_out: return static_cast<std::uint64_t>(q_out());
            case Dim::kv_k: return static_cast<std::uint64_t>(kv_k());
            case Dim::kv_v: return static_cast<std::uint64_t>(kv_v());
            case Dim::o_in: return static_cast<std::uint64_t>(o_in());
            case Dim::ffn: return static_cast<std::uint64_t>(ffn);
            case Dim::vocab: return static_cast<std::uint64_t>(vocab);
            case Dim::head_k: return static_cast<std::uint64_t>(head_k);
            case Dim::rope_half: return static_cast<std::uint64_t>(rope_dim / 2);
        }
        return 0;
    }
};

/// Reads the hyperparameters of `f` (whose architecture must be in arch_table()). Throws format_error /
/// unsupported_error naming the key and the value found.
inline HParams read_hparams(const gguf::File& f) {
    HParams h;
    const std::string arch = f.get_string("general.architecture");
    h.info = &find_arch(arch);
    const std::string p = arch + ".";
    auto positive = [&](const std::string& key, std::int64_t v) {
        if (v <= 0 || v > (std::int64_t{1} << 30))
            throw format_error("metadata key '" + key + "': expected a positive size, got " + std::to_string(v));
        return static_cast<int>(v);
    };
    auto int_key = [&](const std::string& k) { return positive(p + k, f.get_int(p + k)); };
    auto int_key_or = [&](const std::string& k, int dflt) { return f.has(p + k) ? int_key(k) : dflt; };
    // A real number the forward pass divides by, exponentiates or clamps with: finite, and > 0 (or >= 0 where 0 means
    // "off") once rounded to float, or the logits come out NaN with no error.
    auto real_key = [&](const std::string& k, double dflt, bool zero_ok) {
        const double v = f.get_double(p + k, dflt);
        const auto x = static_cast<float>(v);
        if (!std::isfinite(v) || !std::isfinite(x) || x < 0.f || (x == 0.f && !(zero_ok && v == 0.0))) {
            std::ostringstream os;
            os << "metadata key '" << p << k << "': expected a finite number " << (zero_ok ? ">= 0" : "> 0") << ", got " << v;
            throw format_error(os.str());
        }
        return x;
    };
    // A product of sizes the backend allocates by (heads x head size): computed in 64 bits, bounded like a size.
    auto product = [&](const char* what, int a, int b) {
        const std::int64_t v = static_cast<std::int64_t>(a) * b;
        if (v > (std::int64_t{1} << 30))
            throw format_error("metadata: " + p + what + " = " + std::to_string(a) + " x " + std::to_string(b) + " = " +
                               std::to_string(v) + ", beyond 2^30");
    };

    h.n_layers = int_key("block_count");
    // Every block has tensors: more blocks than the file has tensors is a damaged count, refused before anything
    // is sized by it.
    if (static_cast<std::size_t>(h.n_layers) > f.tensors().size())
        throw format_error("metadata key '" + p + "block_count': " + std::to_string(h.n_layers) + " blocks, but the file has only " +
                           std::to_string(f.tensors().size()) + " tensors");
    h.hidden = int_key("embedding_length");
    h.ffn = int_key("feed_forward_length");
    h.n_head = int_key("attention.head_count");
    h.n_head_kv = int_key_or("attention.head_count_kv", h.n_head);
    if (h.n_head % h.n_head_kv != 0)
        throw format_error("metadata: " + p + "attention.head_count " + std::to_string(h.n_head) +
                           " is not a multiple of head_count_kv " + std::to_string(h.n_head_kv));
    if (!f.has(p + "attention.key_length") && h.hidden / h.n_head == 0)
        throw format_error("metadata: " + p + "embedding_length " + std::to_string(h.hidden) + " / attention.head_count " +
                           std::to_string(h.n_head) + " gives a head size of 0 (and no attention.key_length)");
    h.head_k = int_key_or("attention.key_length", h.hidden / h.n_head);
    h.head_v = int_key_or("attention.value_length", h.head_k);
    product("attention.head_count x key_length", h.n_head, h.head_k);
    product("attention.head_count x value_length", h.n_head, h.head_v);
    h.rope_dim = int_key_or("rope.dimension_count", h.head_k);
    if (h.rope_dim > h.head_k || h.rope_dim % 2 != 0)
        throw format_error("metadata: " + p + "rope.dimension_count " + std::to_string(h.rope_dim) +
                           ": expected an even number <= the head size " + std::to_string(h.head_k));
    h.eps = real_key("attention.layer_norm_rms_epsilon", 1e-5, false);
    h.rope_base = real_key("rope.freq_base", 10000.0, false);
    h.rope_base_swa = real_key("rope.freq_base_swa", 10000.0, false);
    h.ctx_train = f.get_int(p + "context_length", 0);

    // vocabulary: metadata if present, else the embedding's row count
    const auto& emb = f.tensor("token_embd.weight");
    h.vocab = f.has(p + "vocab_size") ? int_key("vocab_size")
                                      : positive("token_embd.weight ne[1]", static_cast<std::int64_t>(emb.ne.size() > 1 ? emb.ne[1] : 0));

    const std::string scaling = f.get_string(p + "rope.scaling.type", "none");
    if (scaling == "none" || scaling.empty()) {
        h.rope_scaling = RopeScaling::none;
    } else if (scaling == "linear") {
        h.rope_scaling = RopeScaling::linear;
        h.rope_scale = real_key("rope.scaling.factor", 1.0, false);
    } else {
        throw unsupported_error("metadata: " + p + "rope.scaling.type '" + scaling +
                                "' is not supported (supported: none, linear; llama3 factors via rope_freqs.weight)");
    }

    h.attn_scale = real_key("attention.scale", 1.0 / std::sqrt(static_cast<double>(h.head_k)), false);
    h.attn_softcap = real_key("attn_logit_softcapping", 0.0, true);
    h.final_softcap = real_key("final_logit_softcapping", 0.0, true);

    h.swa.assign(static_cast<std::size_t>(h.n_layers), 0);
    if (h.info->arch == Arch::gemma3) {
        h.embed_scale = static_cast<float>(std::sqrt(static_cast<double>(h.hidden)));
        h.sliding_window = int_key_or("attention.sliding_window", 0);
        // Every `pattern`-th layer is global (layers pattern-1, 2*pattern-1, ...), the others slide; llama.cpp
        // and transformers both default to 6 for gemma3 when the file does not say.
        const int pattern = int_key_or("attention.sliding_window_pattern", 6);
        for (int l = 0; l < h.n_layers; ++l) h.swa[static_cast<std::size_t>(l)] = h.sliding_window > 0 && (l + 1) % pattern != 0;
    }
    return h;
}

}  // namespace w2s::model::llama
