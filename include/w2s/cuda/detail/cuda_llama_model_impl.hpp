// w2s/cuda/detail/cuda_llama_model_impl.hpp — the implementation of w2s/cuda/cuda_llama_model.hpp (host C++).
// Include w2s/cuda/cuda_llama_model.hpp instead.
#pragma once

#ifndef W2S_CUDA_MODEL_INTERNAL
#error "include w2s/cuda/cuda_llama_model.hpp, not its implementation header"
#endif

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace w2s::cuda {
namespace detail {

namespace ml = w2s::model::llama;

inline DeviceBuffer upload_f32(const std::vector<float>& v, const Stream& s) {
    DeviceBuffer b(v.size() * sizeof(float));
    copy_to_device(b.data(), v.data(), v.size() * sizeof(float), s);
    return b;
}

/// The matrices `parts` (same n_in) stacked row-wise into one fp16 device matrix [sum n_out x n_in]: each row
/// dequantized on the host by gguf::dequantize_row_ref, uploaded to `staging`, converted to fp16 on the device.
inline DeviceBuffer upload_f16(std::initializer_list<const kernels::WeightMatrix*> parts, DeviceBuffer& staging,
                               const Stream& s) {
    std::size_t rows = 0;
    const std::size_t n_in = (*parts.begin())->n_in;
    for (const auto* w : parts) {
        if (w->n_in != n_in)
            throw shape_error("fused matrix: row lengths " + std::to_string(n_in) + " and " + std::to_string(w->n_in) + " differ");
        rows += w->n_out;
    }
    std::vector<float> host(rows * n_in);  // [rows x n_in]
    std::size_t r = 0;
    for (const auto* w : parts)
        for (std::size_t o = 0; o < w->n_out; ++o, ++r) gguf::dequantize_row_ref(w->type, w->row(o), host.data() + r * n_in, n_in);
    s.synchronize();  // the previous conversion may still read `staging`
    staging.reserve(host.size() * sizeof(float));
    copy_to_device(staging.data(), host.data(), host.size() * sizeof(float), s);
    DeviceBuffer out(host.size() * sizeof(half_bits));
    f32_to_f16(staging.as<float>(), out.as<half_bits>(), host.size(), s);
    return out;
}

inline DeviceBuffer random_f16(std::size_t n, float a, std::uint64_t seed, const Stream& s) {
    DeviceBuffer b(n * sizeof(half_bits));
    fill_uniform_f16(b.as<half_bits>(), n, -a, a, seed, s);
    return b;
}

inline DeviceBuffer random_f32(std::size_t n, float lo, float hi, std::uint64_t seed, const Stream& s) {
    DeviceBuffer b(n * sizeof(float));
    fill_uniform_f32(b.as<float>(), n, lo, hi, seed, s);
    return b;
}

}  // namespace detail

inline CudaLlamaModel CudaLlamaModel::load(const std::string& gguf_path, model::llama::LoadOptions opts) {
    namespace ml = model::llama;
    return with_context("loading " + gguf_path + " (CUDA)", [&] {
        if (device_count() == 0) throw device_error("no CUDA device is available");
        CudaLlamaModel m;
        m.file_ = std::make_shared<const gguf::File>(gguf_path);
        const auto& f = *m.file_;
        m.hp_ = ml::read_hparams(f);
        const ml::HParams& h = m.hp_;
        auto sz = [](ml::Slot s) { return static_cast<std::size_t>(s); };

        Stream s;
        DeviceBuffer staging;
        {
            std::array<kernels::WeightMatrix, ml::kSlotCount> gmat{};
            std::array<std::vector<float>, ml::kSlotCount> gvec{};
            ml::detail::load_specs(f, h, h.info->global, -1, gmat, gvec);
            const auto& emb = gmat[sz(ml::Slot::token_embd)];
            const auto& out = gmat[sz(ml::Slot::output)];
            m.embd_ = detail::upload_f16({&emb}, staging, s);
            if (out.data != emb.data) m.out_ = detail::upload_f16({&out}, staging, s);
            m.out_norm_ = detail::upload_f32(gvec[sz(ml::Slot::output_norm)], s);
            m.rope_freqs_ = gvec[sz(ml::Slot::rope_freqs)];
        }
        m.layers_.resize(static_cast<std::size_t>(h.n_layers));
        for (int l = 0; l < h.n_layers; ++l) {
            with_context("block " + std::to_string(l), [&] {
                std::array<kernels::WeightMatrix, ml::kSlotCount> mat{};
                std::array<std::vector<float>, ml::kSlotCount> vec{};
                ml::detail::load_specs(f, h, h.info->layer, l, mat, vec);
                Layer& L = m.layers_[static_cast<std::size_t>(l)];
                L.wqkv = detail::upload_f16({&mat[sz(ml::Slot::attn_q)], &mat[sz(ml::Slot::attn_k)], &mat[sz(ml::Slot::attn_v)]},
                                            staging, s);
                L.wo = detail::upload_f16({&mat[sz(ml::Slot::attn_output)]}, staging, s);
                L.wgu = detail::upload_f16({&mat[sz(ml::Slot::ffn_gate)], &mat[sz(ml::Slot::ffn_up)]}, staging, s);
                L.wdown = detail::upload_f16({&mat[sz(ml::Slot::ffn_down)]}, staging, s);
                L.attn_norm = detail::upload_f32(vec[sz(ml::Slot::attn_norm)], s);
                L.ffn_norm = detail::upload_f32(vec[sz(ml::Slot::ffn_norm)], s);
                L.post_attn_norm = detail::upload_f32(vec[sz(ml::Slot::post_attention_norm)], s);
                L.post_ffw_norm = detail::upload_f32(vec[sz(ml::Slot::post_ffw_norm)], s);
                L.q_norm = detail::upload_f32(vec[sz(ml::Slot::attn_q_norm)], s);
                L.k_norm = detail::upload_f32(vec[sz(ml::Slot::attn_k_norm)], s);
                const auto& bq = vec[sz(ml::Slot::attn_q_bias)];
                const auto& bk = vec[sz(ml::Slot::attn_k_bias)];
                const auto& bv = vec[sz(ml::Slot::attn_v_bias)];
                if (!bq.empty() || !bk.empty() || !bv.empty()) {
                    const auto qd = static_cast<std::size_t>(h.q_out()), kd = static_cast<std::size_t>(h.kv_k());
                    std::vector<float> b(qd + kd + static_cast<std::size_t>(h.kv_v()), 0.f);
                    std::copy(bq.begin(), bq.end(), b.begin());
                    std::copy(bk.begin(), bk.end(), b.begin() + static_cast<std::ptrdiff_t>(qd));
                    std::copy(bv.begin(), bv.end(), b.begin() + static_cast<std::ptrdiff_t>(qd + kd));
                    L.bqkv = detail::upload_f32(b, s);
                }
                s.synchronize();  // the host vectors of this block are freed on return
            });
        }
        s.synchronize();
        m.weight_bytes_ = m.embd_.bytes() + m.out_.bytes() + m.out_norm_.bytes();
        for (const auto& L : m.layers_)
            for (const DeviceBuffer* b : {&L.wqkv, &L.wo, &L.wgu, &L.wdown, &L.attn_norm, &L.ffn_norm, &L.post_attn_norm,
                                          &L.post_ffw_norm, &L.q_norm, &L.k_norm, &L.bqkv})
                m.weight_bytes_ += b->bytes();
        if (opts.tokenizer) {
            m.tok_ = std::make_shared<const text::Tokenizer>(text::Tokenizer::from_gguf(f));
            if (f.has("tokenizer.chat_template"))
                m.chat_ = std::make_shared<const text::ChatTemplate>(text::ChatTemplate::from_gguf(f));
        }
        return m;
    });
}

inline CudaLlamaModel CudaLlamaModel::random(model::llama::HParams h, std::uint64_t seed) {
    namespace ml = model::llama;
    if (!h.info) throw invalid_argument("CudaLlamaModel::random: HParams::info must name an architecture (find_arch)");
    if (h.n_layers <= 0 || h.hidden <= 0 || h.n_head <= 0 || h.n_head_kv <= 0 || h.n_head % h.n_head_kv != 0 ||
        h.head_k <= 0 || h.head_v <= 0 || h.ffn <= 0 || h.vocab <= 0 || h.rope_dim > h.head_k || h.rope_dim % 2 != 0)
        throw invalid_argument("CudaLlamaModel::random: inconsistent shape (layers " + std::to_string(h.n_layers) + ", hidden " +
                               std::to_string(h.hidden) + ", heads " + std::to_string(h.n_head) + "/" +
                               std::to_string(h.n_head_kv) + ", head " + std::to_string(h.head_k) + ", rope_dim " +
                               std::to_string(h.rope_dim) + ")");
    if (device_count() == 0) throw device_error("CudaLlamaModel::random: no CUDA device is available");
    h.swa.resize(static_cast<std::size_t>(h.n_layers), 0);
    CudaLlamaModel m;
    m.hp_ = h;
    const ml::ArchInfo& ai = *h.info;
    const auto D = static_cast<std::size_t>(h.hidden), F = static_cast<std::size_t>(h.ffn);
    const auto qkv = static_cast<std::size_t>(h.q_out() + h.kv_k() + h.kv_v()), od = static_cast<std::size_t>(h.o_in());
    auto a = [](std::size_t n_in) { return std::sqrt(3.0f / static_cast<float>(n_in)); };
    Stream s;
    std::uint64_t k = seed * 1000003u;
    m.embd_ = detail::random_f16(static_cast<std::size_t>(h.vocab) * D, 1.0f, ++k, s);
    m.out_norm_ = detail::random_f32(D, 0.9f, 1.1f, ++k, s);
    m.layers_.resize(static_cast<std::size_t>(h.n_layers));
    for (auto& L : m.layers_) {
        L.wqkv = detail::random_f16(qkv * D, a(D), ++k, s);
        L.wo = detail::random_f16(D * od, a(od), ++k, s);
        L.wgu = detail::random_f16(2 * F * D, a(D), ++k, s);
        L.wdown = detail::random_f16(D * F, a(F), ++k, s);
        L.attn_norm = detail::random_f32(D, 0.9f, 1.1f, ++k, s);
        L.ffn_norm = detail::random_f32(D, 0.9f, 1.1f, ++k, s);
        if (ai.sandwich_norms) {
            L.post_attn_norm = detail::random_f32(D, 0.9f, 1.1f, ++k, s);
            L.post_ffw_norm = detail::random_f32(D, 0.9f, 1.1f, ++k, s);
        }
        if (ai.qk_norm) {
            L.q_norm = detail::random_f32(static_cast<std::size_t>(h.head_k), 0.9f, 1.1f, ++k, s);
            L.k_norm = detail::random_f32(static_cast<std::size_t>(h.head_k), 0.9f, 1.1f, ++k, s);
        }
        if (ai.arch == ml::Arch::qwen2) L.bqkv = detail::random_f32(qkv, -0.1f, 0.1f, ++k, s);
        m.weight_bytes_ += L.wqkv.bytes() + L.wo.bytes() + L.wgu.bytes() + L.wdown.bytes();
    }
    m.weight_bytes_ += m.embd_.bytes();
    s.synchronize();
    return m;
}

inline const text::Tokenizer& CudaLlamaModel::tokenizer() const {
    if (!tok_)
        throw invalid_argument(std::string(file_ ? file_->path() : "CudaLlamaModel") +
                               ": the model has no tokenizer (random weights, or LoadOptions::tokenizer = false)");
    return *tok_;
}

inline const text::ChatTemplate& CudaLlamaModel::chat_template() const {
    if (!chat_)
        throw invalid_argument(std::string(file_ ? file_->path() : "CudaLlamaModel") +
                               ": the model has no chat template (metadata tokenizer.chat_template)");
    return *chat_;
}

inline CudaLlamaModel::Session CudaLlamaModel::new_session() const {
    Session s;
    s.kv_k_ = static_cast<std::size_t>(hp_.kv_k());
    s.kv_v_ = static_cast<std::size_t>(hp_.kv_v());
    s.k_.resize(static_cast<std::size_t>(hp_.n_layers));
    s.v_.resize(static_cast<std::size_t>(hp_.n_layers));
    return s;
}

inline void CudaLlamaModel::check_session(const Session& s, const char* where) const {
    if (s.k_.size() != static_cast<std::size_t>(hp_.n_layers) || s.kv_k_ != static_cast<std::size_t>(hp_.kv_k()) ||
        s.kv_v_ != static_cast<std::size_t>(hp_.kv_v()))
        throw invalid_argument(std::string(where) + ": the session was not made by this model's new_session()");
}

inline void CudaLlamaModel::prefill(Session& s, std::span<const token_id> tokens, const Hook& hook, MatrixRM* logits) const {
    check_session(s, "prefill");
    if (tokens.empty()) {
        if (logits) logits->resize(0, hp_.vocab);
        return;
    }
    const Seq seq = model::single_seq(tokens.size(), s.size());
    // The new rows are written past size() and become part of the sequence only when run() finishes, so an
    // exception leaves the session as it was.
    run(s, std::span<const Seq>(&seq, 1), tokens, {}, 0, hook, logits, &s);
}

inline void CudaLlamaModel::forward_tails(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook,
                                          MatrixRM* logits) const {
    check_session(prefix, "forward_tails");
    const model::TailBatch b = model::batch_tails(tails, prefix.size(), first_block, hp_.n_layers, static_cast<std::size_t>(hp_.hidden));
    if (tails.empty()) {
        if (logits) logits->resize(0, hp_.vocab);
        return;
    }
    run(prefix, b.seqs, b.ids, b.inputs, first_block, hook, logits, nullptr);
}

inline void CudaLlamaModel::run(const Session& prefix, std::span<const Seq> seqs, std::span<const token_id> ids,
                                std::span<const ConstMatrixView> inputs, int first_block, const Hook& hook, MatrixRM* logits,
                                Session* append) const {
    namespace ml = model::llama;
    const ml::HParams& h = hp_;
    const ml::ArchInfo& ai = *h.info;
    const std::size_t n = ids.size();
    const std::size_t D = static_cast<std::size_t>(h.hidden);
    const std::size_t P = prefix.size();
    const std::size_t nh = static_cast<std::size_t>(h.n_head);
    const std::size_t qd = static_cast<std::size_t>(h.q_out()), kd = static_cast<std::size_t>(h.kv_k()),
                      vd = static_cast<std::size_t>(h.kv_v()), od = static_cast<std::size_t>(h.o_in()),
                      F = static_cast<std::size_t>(h.ffn), V = static_cast<std::size_t>(h.vocab);
    const std::size_t qkvd = qd + kd + vd;
    const std::size_t half = static_cast<std::size_t>(h.rope_dim / 2);

    if (first_block == 0)
        for (std::size_t r = 0; r < n; ++r)
            if (ids[r] < 0 || ids[r] >= h.vocab)
                throw invalid_argument("token id " + std::to_string(ids[r]) + " at row " + std::to_string(r) +
                                       " is outside the vocabulary 0.." + std::to_string(h.vocab - 1));

    // per-row bookkeeping, as the CPU backend; metadata for the attention kernel
    std::vector<std::size_t> pos(n);
    std::vector<std::int32_t> ids32(ids.begin(), ids.end()), row_pos(n), row_seq(n), seq_row0(seqs.size()),
        anc_begin(seqs.size() + 1), anc;
    int max_anc = 0;
    for (std::size_t s = 0; s < seqs.size(); ++s) {
        seq_row0[s] = static_cast<std::int32_t>(seqs[s].row0);
        anc_begin[s] = static_cast<std::int32_t>(anc.size() / 2);
        for (const auto& [a, b] : seqs[s].ancestors) {
            anc.push_back(static_cast<std::int32_t>(a));
            anc.push_back(static_cast<std::int32_t>(b));
        }
        max_anc = std::max(max_anc, static_cast<int>(seqs[s].ancestors.size()));
        for (std::size_t j = 0; j < seqs[s].len; ++j) {
            pos[seqs[s].row0 + j] = seqs[s].pos0 + j;
            row_pos[seqs[s].row0 + j] = static_cast<std::int32_t>(seqs[s].pos0 + j);
            row_seq[seqs[s].row0 + j] = static_cast<std::int32_t>(s);
        }
    }
    anc_begin[seqs.size()] = static_cast<std::int32_t>(anc.size() / 2);
    if (P + n > static_cast<std::size_t>(INT32_MAX / 2)) throw invalid_argument("CudaLlamaModel: sequence too long");

    Lease lease(*pool_);
    Workspace& w = *lease;
    const Stream& st = w.stream;

    // scratch
    w.X.reserve(n * D * sizeof(float));
    w.XN.reserve(n * std::max({D, od, F}) * sizeof(half_bits));
    std::vector<std::int32_t> meta;
    meta.reserve(3 * n + 2 * seqs.size() + 1 + anc.size());
    auto put = [&](const std::vector<std::int32_t>& v) {
        const std::size_t off = meta.size();
        meta.insert(meta.end(), v.begin(), v.end());
        return off;
    };
    const std::size_t o_ids = put(ids32), o_pos = put(row_pos), o_seq = put(row_seq), o_row0 = put(seq_row0),
                      o_anc_begin = put(anc_begin), o_anc = put(anc);
    w.meta.reserve(std::max<std::size_t>(meta.size(), 1) * sizeof(std::int32_t));
    copy_to_device(w.meta.data(), meta.data(), meta.size() * sizeof(std::int32_t), st);
    const std::int32_t* dmeta = w.meta.as<std::int32_t>();
    float* X = w.X.as<float>();
    half_bits* XN = w.XN.as<half_bits>();

    if (first_block == 0) {
        embed(embd_.as<half_bits>(), dmeta + o_ids, n, D, ai.embed_scale ? h.embed_scale : 1.0f, X, st);
    } else {
        for (std::size_t s = 0; s < seqs.size(); ++s)
            copy_to_device(X + seqs[s].row0 * D, inputs[s].data, seqs[s].len * D * sizeof(float), st);
    }

    auto call_hook = [&](int layer) {
        if (!hook) return;
        w.host_x.resize(n * D);
        copy_to_host(w.host_x.data(), X, n * D * sizeof(float), st);
        for (std::size_t s = 0; s < seqs.size(); ++s)
            hook(BlockOutput{layer, s, seqs[s].pos0, MatrixView{w.host_x.data() + seqs[s].row0 * D, seqs[s].len, D}});
        copy_to_device(X, w.host_x.data(), n * D * sizeof(float), st);
    };

    if (first_block < h.n_layers) {
        const bool any_swa = std::any_of(h.swa.begin(), h.swa.end(), [](auto b) { return b != 0; });
        // RoPE tables on the host, exactly as the CPU backend makes them: [n x half] cos, then sin (x2 with SWA)
        {
            const ml::detail::RopeTable g = ml::detail::rope_table(pos, h.rope_dim, h.rope_base, h.rope_scale, rope_freqs_);
            std::vector<float> t(g.cos);
            t.insert(t.end(), g.sin.begin(), g.sin.end());
            if (any_swa) {
                const ml::detail::RopeTable l = ml::detail::rope_table(pos, h.rope_dim, h.rope_base_swa, 1.0f, rope_freqs_);
                t.insert(t.end(), l.cos.begin(), l.cos.end());
                t.insert(t.end(), l.sin.begin(), l.sin.end());
            }
            w.rope.reserve(std::max<std::size_t>(t.size(), 1) * sizeof(float));
            copy_to_device(w.rope.data(), t.data(), t.size() * sizeof(float), st);
        }
        const float* rope_g = w.rope.as<float>();
        const float* rope_l = any_swa ? rope_g + 2 * n * half : rope_g;

        w.QKV.reserve(n * qkvd * sizeof(float));
        w.GU.reserve(n * 2 * F * sizeof(float));
        if (ai.sandwich_norms) w.H.reserve(n * D * sizeof(float));
        const std::size_t n_keys_max = P + n;
        // attention scores: at most 32 Mi floats (128 MiB) at once; rows are processed in chunks that fit
        const std::size_t chunk = std::clamp<std::size_t>((std::size_t{32} << 20) / (nh * n_keys_max), 1, n);
        w.scores.reserve(chunk * nh * n_keys_max * sizeof(float));
        if (append) append->reserve(P + n);

        const QkvLayout lay{qkvd, 0, qd, qd + kd, h.n_head, h.n_head_kv, h.head_k, h.head_v};
        const AttentionBatch batch{dmeta + o_pos, dmeta + o_seq, dmeta + o_row0, dmeta + o_anc_begin, dmeta + o_anc, max_anc + 2};
        float* QKV = w.QKV.as<float>();
        float* GU = w.GU.as<float>();
        float* Hb = w.H.as<float>();
        auto vec = [](const DeviceBuffer& b) { return b.bytes() ? b.as<const float>() : nullptr; };

        for (int l = first_block; l < h.n_layers; ++l) {
            const Layer& L = layers_[static_cast<std::size_t>(l)];
            const bool swa = h.swa[static_cast<std::size_t>(l)] != 0;
            const float* rc = swa ? rope_l : rope_g;

            // ---- attention ----
            rms_norm_f16(X, D, L.attn_norm.as<float>(), XN, D, n, D, h.eps, st);
            gemm(L.wqkv.as<half_bits>(), qkvd, D, XN, n, QKV, qkvd, 0.f, st);
            qkv_prepare(QKV, n, lay, vec(L.bqkv), vec(L.q_norm), vec(L.k_norm), h.eps, rc, rc + n * half,
                        static_cast<int>(half), ai.rope == ml::RopeStyle::neox, st);
            const float* pk = P ? prefix.k_[static_cast<std::size_t>(l)].as<float>() : nullptr;  // [P x kd]
            const float* pv = P ? prefix.v_[static_cast<std::size_t>(l)].as<float>() : nullptr;  // [P x vd]
            const AttentionParams ap{h.attn_scale, h.attn_softcap, swa ? h.sliding_window : 0};
            attention(QKV, n, lay, pk, kd, pv, vd, P, batch, ap, XN, w.scores.as<float>(), n_keys_max, chunk, st);
            if (ai.sandwich_norms) {
                gemm(L.wo.as<half_bits>(), D, od, XN, n, Hb, D, 0.f, st);
                add_rms_norm(X, Hb, L.post_attn_norm.as<float>(), n, D, h.eps, st);
            } else {
                gemm(L.wo.as<half_bits>(), D, od, XN, n, X, D, 1.f, st);  // X += attn_out W_o^T
            }

            // ---- feed-forward ----
            rms_norm_f16(X, D, L.ffn_norm.as<float>(), XN, D, n, D, h.eps, st);
            gemm(L.wgu.as<half_bits>(), 2 * F, D, XN, n, GU, 2 * F, 0.f, st);
            glu(GU, n, F, ai.act == ml::Activation::gelu_tanh, XN, st);
            if (ai.sandwich_norms) {
                gemm(L.wdown.as<half_bits>(), D, F, XN, n, Hb, D, 0.f, st);
                add_rms_norm(X, Hb, L.post_ffw_norm.as<float>(), n, D, h.eps, st);
            } else {
                gemm(L.wdown.as<half_bits>(), D, F, XN, n, X, D, 1.f, st);  // X += glu W_down^T
            }

            if (append) {  // rows P..P+n-1 of the cache: past the session's size until the call succeeds
                copy_device_2d(append->k_[static_cast<std::size_t>(l)].as<float>() + P * kd, kd * sizeof(float), QKV + qd,
                               qkvd * sizeof(float), kd * sizeof(float), n, st);
                copy_device_2d(append->v_[static_cast<std::size_t>(l)].as<float>() + P * vd, vd * sizeof(float), QKV + qd + kd,
                               qkvd * sizeof(float), vd * sizeof(float), n, st);
            }
            call_hook(l);
        }
    }

    if (logits) {
        w.logits.reserve(n * V * sizeof(float));
        float* LG = w.logits.as<float>();
        rms_norm_f16(X, D, out_norm_.as<float>(), XN, D, n, D, h.eps, st);
        gemm((out_.bytes() ? out_ : embd_).as<half_bits>(), V, D, XN, n, LG, V, 0.f, st);
        if (h.final_softcap > 0.f) softcap(LG, n * V, h.final_softcap, st);
        logits->resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(V));
        copy_to_host(logits->data(), LG, n * V * sizeof(float), st);
    }
    st.synchronize();
    if (append) append->tokens_.insert(append->tokens_.end(), ids.begin(), ids.end());
}

}  // namespace w2s::cuda
