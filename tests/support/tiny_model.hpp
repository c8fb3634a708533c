// Test support: a tiny random-weight Llama-family GGUF for unit tests that need a real model but no download.
//
//   std::string path = w2s::test::make_tiny_llama(dir);        // llama, 3 blocks, hidden 64, vocab 262
//   auto m = w2s::model::LlamaModel::load(path);
//
// The model: arch `llama`, 3 blocks, hidden 64, 4 query heads / 2 kv heads (head 16), ffn 128, RoPE base
// 10000, tied output (no output.weight). Weights: attention Q8_0, feed-forward Q4_1, token_embd Q8_0,
// norms F32, so the quantized paths run. Tokenizer: gpt2-style byte-level BPE ("tokenizer.ggml.model" =
// "gpt2", pre "smollm") with ids 0..2 = <|endoftext|>, <|im_start|>, <|im_end|> (control tokens; bos 1,
// eos 2), ids 3..258 = the 256 bytes in GPT-2's byte-to-unicode spelling (byte b is id 3 + b), and three
// merges ("Ġ t" -> 259, "h e" -> 260, "Ġt he" -> 261). A ChatML chat template is in tokenizer.chat_template.
// The same seed gives the same file, byte for byte. The weights are random: the model says nothing useful,
// but every forward-pass identity (caching, batching, hooks) holds for it as for a real one.
//
// make_tiny_model(dir, opts) builds the variants the model tests use (qwen2 with q/k/v biases, gemma3 with
// q/k norms, sandwich norms and a sliding window, separate output matrix).
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "w2s/gguf/blocks.hpp"
#include "w2s/gguf/types.hpp"
#include "w2s/gguf/value.hpp"
#include "w2s/gguf/writer.hpp"

namespace w2s::test {

struct TinyModelOptions {
    std::string arch = "llama";   ///< llama | qwen2 | gemma3
    std::uint64_t seed = 1;
    int n_layers = 3;
    bool tied_output = true;      ///< false: write a separate output.weight (Q8_0)
    int sliding_window = 4;       ///< gemma3 only: window of the sliding layers
    int swa_pattern = 2;          ///< gemma3 only: every swa_pattern-th block is global
};

namespace detail {

/// Deterministic uniform in [-1, 1) from a 64-bit generator (same on every platform).
inline float tiny_uniform(std::mt19937_64& g) {
    return static_cast<float>(static_cast<double>(g() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
}

/// ggml's quantize_row_q8_0_ref.
inline std::vector<std::byte> quantize_q8_0(std::span<const float> x) {
    const std::size_t nb = x.size() / 32;
    std::vector<gguf::block_q8_0> b(nb);
    for (std::size_t i = 0; i < nb; ++i) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[i * 32 + j]));
        const float d = amax / 127.f, id = d ? 1.f / d : 0.f;
        b[i].d = gguf::fp32_to_fp16(d);
        for (int j = 0; j < 32; ++j) b[i].qs[j] = static_cast<std::int8_t>(std::lround(x[i * 32 + j] * id));
    }
    std::vector<std::byte> out(nb * sizeof(gguf::block_q8_0));
    std::memcpy(out.data(), b.data(), out.size());
    return out;
}

/// ggml's quantize_row_q4_1_ref.
inline std::vector<std::byte> quantize_q4_1(std::span<const float> x) {
    const std::size_t nb = x.size() / 32;
    std::vector<gguf::block_q4_1> b(nb);
    for (std::size_t i = 0; i < nb; ++i) {
        float mn = x[i * 32], mx = x[i * 32];
        for (int j = 1; j < 32; ++j) {
            mn = std::min(mn, x[i * 32 + j]);
            mx = std::max(mx, x[i * 32 + j]);
        }
        const float d = (mx - mn) / 15.f, id = d ? 1.f / d : 0.f;
        b[i].d = gguf::fp32_to_fp16(d);
        b[i].m = gguf::fp32_to_fp16(mn);
        for (int j = 0; j < 16; ++j) {
            const auto q0 = static_cast<std::uint8_t>(std::min(15, static_cast<int>((x[i * 32 + j] - mn) * id + 0.5f)));
            const auto q1 = static_cast<std::uint8_t>(std::min(15, static_cast<int>((x[i * 32 + 16 + j] - mn) * id + 0.5f)));
            b[i].qs[j] = static_cast<std::uint8_t>(q0 | (q1 << 4));
        }
    }
    std::vector<std::byte> out(nb * sizeof(gguf::block_q4_1));
    std::memcpy(out.data(), b.data(), out.size());
    return out;
}

/// GPT-2's byte-to-unicode map: the printable spelling of byte b as UTF-8.
inline std::string gpt2_byte_token(int b) {
    int cp;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (printable) {
        cp = b;
    } else {
        int n = 0;  // index among the non-printable bytes, in byte order
        for (int c = 0; c < b; ++c)
            if (!((c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255))) ++n;
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

}  // namespace detail

/// Writes a tiny model per `o` to `dir` and returns its path (dir/tiny_<arch>_<seed>[...].gguf).
inline std::string make_tiny_model(const std::string& dir, const TinyModelOptions& o) {
    using gguf::Value;
    constexpr int hidden = 64, n_head = 4, n_head_kv = 2, head = 16, ffn = 128;
    const std::vector<std::string> specials{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    std::vector<std::string> tokens = specials;
    std::vector<std::int32_t> types(specials.size(), 3);  // control
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(detail::gpt2_byte_token(b));
        types.push_back(1);
    }
    const std::vector<std::string> merges{"Ġ t", "h e", "Ġt he"};
    for (const auto& m : merges) {
        tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
        types.push_back(1);
    }
    const int vocab = static_cast<int>(tokens.size());

    gguf::Writer w;
    const std::string a = o.arch + ".";
    w.set("general.architecture", Value::from_string(o.arch));
    w.set("general.name", Value::from_string("w2s tiny " + o.arch));
    w.set(a + "block_count", Value::from_u32(static_cast<std::uint32_t>(o.n_layers)));
    w.set(a + "context_length", Value::from_u32(2048));
    w.set(a + "embedding_length", Value::from_u32(hidden));
    w.set(a + "feed_forward_length", Value::from_u32(ffn));
    w.set(a + "attention.head_count", Value::from_u32(n_head));
    w.set(a + "attention.head_count_kv", Value::from_u32(n_head_kv));
    w.set(a + "attention.layer_norm_rms_epsilon", Value::from_f32(1e-5f));
    w.set(a + "rope.freq_base", Value::from_f32(10000.f));
    w.set(a + "rope.dimension_count", Value::from_u32(head));
    if (o.arch == "gemma3") {
        w.set(a + "attention.key_length", Value::from_u32(head));
        w.set(a + "attention.value_length", Value::from_u32(head));
        w.set(a + "attention.sliding_window", Value::from_u32(static_cast<std::uint32_t>(o.sliding_window)));
        w.set(a + "attention.sliding_window_pattern", Value::from_u32(static_cast<std::uint32_t>(o.swa_pattern)));
    }
    w.set("tokenizer.ggml.model", Value::from_string("gpt2"));
    w.set("tokenizer.ggml.pre", Value::from_string("smollm"));
    w.set("tokenizer.ggml.tokens", Value::from_strings(tokens));
    w.set("tokenizer.ggml.token_type", Value::from_i32s(types));
    w.set("tokenizer.ggml.merges", Value::from_strings(merges));
    w.set("tokenizer.ggml.bos_token_id", Value::from_u32(1));
    w.set("tokenizer.ggml.eos_token_id", Value::from_u32(2));
    w.set("tokenizer.ggml.unknown_token_id", Value::from_u32(0));
    w.set("tokenizer.ggml.padding_token_id", Value::from_u32(2));
    w.set("tokenizer.ggml.add_bos_token", Value::from_bool(false));
    w.set("tokenizer.chat_template",
          Value::from_string("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
                             "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}"
                             "{{ '<|im_start|>assistant\\n' }}{% endif %}"));

    std::mt19937_64 g(o.seed);
    auto rand = [&](std::size_t n, float scale, float offset = 0.f) {
        std::vector<float> v(n);
        for (auto& x : v) x = offset + scale * detail::tiny_uniform(g);
        return v;
    };
    using gguf::TensorType;
    auto mat = [&](const std::string& name, int n_in, int n_out, TensorType t) {
        // uniform with variance 1/n_in (scale sqrt(3/n_in)): activations keep their size through the blocks
        auto v = rand(static_cast<std::size_t>(n_in) * static_cast<std::size_t>(n_out),
                      std::sqrt(3.f / static_cast<float>(n_in)));
        auto bytes = t == TensorType::Q8_0 ? detail::quantize_q8_0(v) : detail::quantize_q4_1(v);
        w.add_tensor(name, t, {static_cast<std::uint64_t>(n_in), static_cast<std::uint64_t>(n_out)}, bytes);
    };
    auto vec = [&](const std::string& name, int n, float scale, float offset) {
        auto v = rand(static_cast<std::size_t>(n), scale, offset);
        w.add_tensor_f32(name, {static_cast<std::uint64_t>(n)}, v);
    };

    {  // token embedding: entries of size ~1
        auto v = rand(static_cast<std::size_t>(hidden) * static_cast<std::size_t>(vocab), 1.f);
        w.add_tensor("token_embd.weight", TensorType::Q8_0,
                     {static_cast<std::uint64_t>(hidden), static_cast<std::uint64_t>(vocab)}, detail::quantize_q8_0(v));
    }
    vec("output_norm.weight", hidden, 0.1f, 1.f);
    if (!o.tied_output) mat("output.weight", hidden, vocab, TensorType::Q8_0);
    const bool qwen = o.arch == "qwen2", gemma = o.arch == "gemma3";
    for (int l = 0; l < o.n_layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        vec(p + "attn_norm.weight", hidden, 0.1f, 1.f);
        mat(p + "attn_q.weight", hidden, n_head * head, TensorType::Q8_0);
        mat(p + "attn_k.weight", hidden, n_head_kv * head, TensorType::Q8_0);
        mat(p + "attn_v.weight", hidden, n_head_kv * head, TensorType::Q8_0);
        if (qwen) {
            vec(p + "attn_q.bias", n_head * head, 0.2f, 0.f);
            vec(p + "attn_k.bias", n_head_kv * head, 0.2f, 0.f);
            vec(p + "attn_v.bias", n_head_kv * head, 0.2f, 0.f);
        }
        if (gemma) {
            vec(p + "attn_q_norm.weight", head, 0.1f, 1.f);
            vec(p + "attn_k_norm.weight", head, 0.1f, 1.f);
        }
        mat(p + "attn_output.weight", n_head * head, hidden, TensorType::Q8_0);
        if (gemma) vec(p + "post_attention_norm.weight", hidden, 0.1f, 1.f);
        vec(p + "ffn_norm.weight", hidden, 0.1f, 1.f);
        mat(p + "ffn_gate.weight", hidden, ffn, TensorType::Q4_1);
        mat(p + "ffn_up.weight", hidden, ffn, TensorType::Q4_1);
        mat(p + "ffn_down.weight", ffn, hidden, TensorType::Q4_1);
        if (gemma) vec(p + "post_ffw_norm.weight", hidden, 0.1f, 1.f);
    }
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/tiny_" + o.arch + "_" + std::to_string(o.seed) + (o.tied_output ? "" : "_untied") +
                             "_L" + std::to_string(o.n_layers) + ".gguf";
    w.write(path);
    return path;
}

/// The default tiny llama (see top of file) in `dir`; returns its path.
inline std::string make_tiny_llama(const std::string& dir, std::uint64_t seed = 1) {
    TinyModelOptions o;
    o.seed = seed;
    return make_tiny_model(dir, o);
}

}  // namespace w2s::test
