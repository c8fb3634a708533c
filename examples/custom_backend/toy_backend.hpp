// examples/custom_backend/toy_backend.hpp — how to plug your own transformer into w2s.
//
// ToyTransformer is a complete, small w2s::model::Backend: a pre-norm decoder-only transformer (RMSNorm,
// multi-head causal attention with a KV cache, a ReLU MLP, sinusoidal positions) with random weights from a
// seed, and a byte tokenizer (ids 0..255 = bytes, 256 = BOS, 257 = EOS). It is written for reading, not
// speed: every member below says what the Backend contract (w2s/model/backend.hpp) asks of it, so you can
// copy this file and replace the maths with calls into your own model.
//
// The three things that make a backend work with w2s:
//   1. A Session type holding one sequence's KV cache; copying it forks the sequence.
//   2. prefill(): append tokens to a session and call the hook after EVERY block with the new rows of the
//      residual stream — in place, before the next block reads them, so that a hook that adds a vector
//      steers everything downstream. This is the only place steering exists.
//   3. forward_tails() (optional): run several short continuations of one read-only prefix as a batch, optionally
//      starting at block `first_block` from a residual the caller stored. This is what makes a layer sweep
//      cheap. Without it the type is a GenerationBackend (generation, steering), and
//      w2s::model::PrefillTails<YourModel> (w2s/model/prefill_tails.hpp) supplies an exact, slower one for the
//      sweep and AdaptiveSteerer; w2s::model::check_tails compares yours against it.
//
// Shapes: activations are row-major [positions x hidden] (w2s::MatrixRM), one row per token.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <w2s/core/error.hpp>
#include <w2s/core/tensor.hpp>
#include <w2s/model/backend.hpp>
#include <w2s/model/hooks.hpp>
#include <w2s/model/tail_batch.hpp>

namespace w2s::examples {

using w2s::model::token_id;

/// Bytes in, bytes out. Satisfies w2s::model::TokenizerLike (encode + decode); eos_id() lets
/// w2s::model::generate stop at EOS by itself.
class ByteTokenizer {
public:
    static constexpr token_id bos = 256;
    static constexpr token_id eos = 257;
    static constexpr int vocab = 258;

    /// One id per byte of `text`; no BOS is added (prepend ByteTokenizer::bos yourself if you want one).
    [[nodiscard]] std::vector<token_id> encode(std::string_view text) const {
        std::vector<token_id> ids;
        ids.reserve(text.size());
        for (unsigned char c : text) ids.push_back(static_cast<token_id>(c));
        return ids;
    }
    /// The bytes of the byte ids; BOS and EOS decode to nothing. Throws invalid_argument on an id >= vocab.
    [[nodiscard]] std::string decode(std::span<const token_id> ids) const {
        std::string s;
        for (token_id id : ids) {
            if (id < 0 || id >= vocab)
                throw invalid_argument("ByteTokenizer::decode: id " + std::to_string(id) + " is outside [0, 258)");
            if (id < 256) s.push_back(static_cast<char>(id));
        }
        return s;
    }
    [[nodiscard]] token_id eos_id() const noexcept { return eos; }
};

struct ToyConfig {
    int n_layers = 4;
    int hidden = 32;
    int n_heads = 4;  ///< hidden must be a multiple of n_heads
    int ffn = 64;
    std::uint64_t seed = 1;
};

class ToyTransformer {
public:
    /// Contract: copyable; a copy is an independent fork (writes to one never show in the other). Ours copies
    /// the cache; a real backend may share the prefix storage copy-on-write.
    struct Session {
        std::vector<MatrixRM> k, v;  ///< per layer: [size() x hidden] keys and values of every cached position
        std::size_t n = 0;           ///< tokens in the session
        [[nodiscard]] std::size_t size() const noexcept { return n; }
    };

    explicit ToyTransformer(ToyConfig cfg = {});

    // ---- sizes (contract: blocks are 0..n_layers()-1) ---------------------------------------------------
    [[nodiscard]] int n_layers() const noexcept { return cfg_.n_layers; }
    [[nodiscard]] int hidden_size() const noexcept { return cfg_.hidden; }
    [[nodiscard]] int vocab_size() const noexcept { return ByteTokenizer::vocab; }
    [[nodiscard]] const ByteTokenizer& tokenizer() const noexcept { return tok_; }

    /// Contract: an empty session (no tokens).
    [[nodiscard]] Session new_session() const;

    /// Contract: append `tokens` to `s`, running every block; after block l call hook({l, 0, pos0, rows})
    /// where rows is the [tokens x hidden] block output of the new tokens and pos0 = s.size() before the call;
    /// the hook may write to it. If `logits` is non-null, resize it to [tokens x vocab] and fill it.
    void prefill(Session& s, std::span<const token_id> tokens, const model::Hook& hook, MatrixRM* logits) const;

    /// Contract: see w2s/model/backend.hpp. Each tail runs on top of the read-only `prefix` and its parent
    /// chain; with first_block > 0 the tail's `input` is the residual entering block first_block.
    void forward_tails(const Session& prefix, std::span<const model::Tail> tails, int first_block,
                       const model::Hook& hook, MatrixRM* logits) const;

private:
    struct Block {
        VectorXf attn_norm;      ///< [hidden]
        MatrixRM wq, wk, wv, wo; ///< [hidden x hidden] each; linear(x, W) = x W^T
        VectorXf ffn_norm;       ///< [hidden]
        MatrixRM w_up;           ///< [ffn x hidden]
        MatrixRM w_down;         ///< [hidden x ffn]
    };

    /// x: [rows x hidden] residual entering the block; becomes its output. past_k/past_v: [m x hidden] keys and
    /// values of the m positions every row of x may attend to (they come before x). new_k/new_v receive x's
    /// own keys and values [rows x hidden].
    void block(int l, MatrixRM& x, const MatrixRM& past_k, const MatrixRM& past_v, MatrixRM& new_k,
               MatrixRM& new_v) const;
    /// [rows x hidden] token embedding plus the sinusoidal encoding of positions pos0, pos0+1, ...
    [[nodiscard]] MatrixRM embed(std::span<const token_id> tokens, std::size_t pos0) const;
    /// [rows x vocab] logits of a [rows x hidden] final residual.
    [[nodiscard]] MatrixRM head(const MatrixRM& x) const;
    [[nodiscard]] MatrixRM rms_norm(const MatrixRM& x, const VectorXf& w) const;
    /// [rows x n_out] = x [rows x n_in] times w^T, w [n_out x n_in] (one dot product per output, as in ggml).
    [[nodiscard]] static MatrixRM linear(const MatrixRM& x, const MatrixRM& w);

    ToyConfig cfg_;
    ByteTokenizer tok_;
    MatrixRM embed_;   ///< [vocab x hidden]
    std::vector<Block> blocks_;
    VectorXf out_norm_; ///< [hidden]
    MatrixRM out_;     ///< [vocab x hidden]
};

// A type that breaks the contract is refused here, with one readable message (see check_backend).
static_assert(model::check_backend<ToyTransformer>());

// ------------------------------------------------------------------------------------------------------------
// Implementation.

inline ToyTransformer::ToyTransformer(ToyConfig cfg) : cfg_(cfg) {
    if (cfg_.n_layers < 1 || cfg_.hidden < 2 || cfg_.n_heads < 1 || cfg_.hidden % cfg_.n_heads != 0 || cfg_.ffn < 1)
        throw invalid_argument("ToyTransformer: bad config (n_layers " + std::to_string(cfg_.n_layers) + ", hidden " +
                               std::to_string(cfg_.hidden) + ", n_heads " + std::to_string(cfg_.n_heads) + ", ffn " +
                               std::to_string(cfg_.ffn) + "); hidden must be a multiple of n_heads");
    std::mt19937_64 rng(cfg_.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);  // fixed per standard library; fine for an example
    auto random = [&](int rows, int cols, float scale) {
        MatrixRM m(rows, cols);
        for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = scale * normal(rng);
        return m;
    };
    const int h = cfg_.hidden;
    const float s_in = 1.0f / std::sqrt(static_cast<float>(h));
    embed_ = random(ByteTokenizer::vocab, h, 1.0f);
    for (int l = 0; l < cfg_.n_layers; ++l) {
        Block b;
        b.attn_norm = VectorXf::Ones(h);
        b.ffn_norm = VectorXf::Ones(h);
        b.wq = random(h, h, s_in);
        b.wk = random(h, h, s_in);
        b.wv = random(h, h, s_in);
        b.wo = random(h, h, s_in);
        b.w_up = random(cfg_.ffn, h, s_in);
        b.w_down = random(h, cfg_.ffn, 1.0f / std::sqrt(static_cast<float>(cfg_.ffn)));
        blocks_.push_back(std::move(b));
    }
    out_norm_ = VectorXf::Ones(h);
    out_ = random(ByteTokenizer::vocab, h, 2.0f * s_in);
}

inline ToyTransformer::Session ToyTransformer::new_session() const {
    Session s;
    s.k.assign(static_cast<std::size_t>(cfg_.n_layers), MatrixRM(0, cfg_.hidden));
    s.v.assign(static_cast<std::size_t>(cfg_.n_layers), MatrixRM(0, cfg_.hidden));
    return s;
}

inline MatrixRM ToyTransformer::rms_norm(const MatrixRM& x, const VectorXf& w) const {
    MatrixRM y(x.rows(), x.cols());
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
        const float ms = x.row(r).squaredNorm() / static_cast<float>(x.cols());
        y.row(r) = x.row(r).cwiseProduct(w.transpose()) / std::sqrt(ms + 1e-5f);
    }
    return y;
}

inline MatrixRM ToyTransformer::linear(const MatrixRM& x, const MatrixRM& w) {
    MatrixRM y(x.rows(), w.rows());
    for (Eigen::Index r = 0; r < x.rows(); ++r)
        for (Eigen::Index o = 0; o < w.rows(); ++o) y(r, o) = w.row(o).dot(x.row(r));
    return y;
}

inline MatrixRM ToyTransformer::embed(std::span<const token_id> tokens, std::size_t pos0) const {
    const int h = cfg_.hidden;
    MatrixRM x(static_cast<Eigen::Index>(tokens.size()), h);
    for (std::size_t r = 0; r < tokens.size(); ++r) {
        const token_id id = tokens[r];
        if (id < 0 || id >= ByteTokenizer::vocab)
            throw invalid_argument("ToyTransformer: token id " + std::to_string(id) + " at row " + std::to_string(r) +
                                   " is outside [0, " + std::to_string(ByteTokenizer::vocab) + ")");
        const auto row = static_cast<Eigen::Index>(r);
        x.row(row) = embed_.row(id);
        const double pos = static_cast<double>(pos0 + r);
        for (int j = 0; j + 1 < h; j += 2) {
            const double freq = std::pow(10000.0, -static_cast<double>(j) / h);
            x(row, j) += static_cast<float>(std::sin(pos * freq));
            x(row, j + 1) += static_cast<float>(std::cos(pos * freq));
        }
    }
    return x;
}

inline void ToyTransformer::block(int l, MatrixRM& x, const MatrixRM& past_k, const MatrixRM& past_v,
                                  MatrixRM& new_k, MatrixRM& new_v) const {
    const Block& b = blocks_[static_cast<std::size_t>(l)];
    const Eigen::Index rows = x.rows(), m = past_k.rows(), h = cfg_.hidden, nh = cfg_.n_heads, hd = h / nh;
    // attention
    const MatrixRM a = rms_norm(x, b.attn_norm);
    const MatrixRM q = linear(a, b.wq);       // [rows x hidden]
    new_k = linear(a, b.wk);                  // [rows x hidden]
    new_v = linear(a, b.wv);                  // [rows x hidden]
    const MatrixRM& own_k = new_k;
    const MatrixRM& own_v = new_v;
    MatrixRM attn(rows, h);
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    std::vector<float> score;
    for (Eigen::Index r = 0; r < rows; ++r) {
        const Eigen::Index visible = m + r + 1;  // all past rows, then own rows 0..r (causal)
        auto key = [&](Eigen::Index j) { return j < m ? past_k.row(j) : own_k.row(j - m); };
        auto val = [&](Eigen::Index j) { return j < m ? past_v.row(j) : own_v.row(j - m); };
        for (Eigen::Index hh = 0; hh < nh; ++hh) {
            score.assign(static_cast<std::size_t>(visible), 0.0f);
            float mx = -INFINITY;
            for (Eigen::Index j = 0; j < visible; ++j) {
                const float s = scale * q.row(r).segment(hh * hd, hd).dot(key(j).segment(hh * hd, hd));
                score[static_cast<std::size_t>(j)] = s;
                mx = std::max(mx, s);
            }
            float sum = 0.0f;
            for (float& s : score) sum += (s = std::exp(s - mx));
            attn.row(r).segment(hh * hd, hd).setZero();
            for (Eigen::Index j = 0; j < visible; ++j)
                attn.row(r).segment(hh * hd, hd) += (score[static_cast<std::size_t>(j)] / sum) * val(j).segment(hh * hd, hd);
        }
    }
    x += linear(attn, b.wo);
    // MLP
    const MatrixRM f = rms_norm(x, b.ffn_norm);
    MatrixRM up = linear(f, b.w_up);  // [rows x ffn]
    for (Eigen::Index i = 0; i < up.size(); ++i) up.data()[i] = std::max(up.data()[i], 0.0f);  // ReLU
    x += linear(up, b.w_down);
}

inline MatrixRM ToyTransformer::head(const MatrixRM& x) const { return linear(rms_norm(x, out_norm_), out_); }

inline void ToyTransformer::prefill(Session& s, std::span<const token_id> tokens, const model::Hook& hook,
                                    MatrixRM* logits) const {
    if (s.k.size() != static_cast<std::size_t>(cfg_.n_layers))
        throw invalid_argument("ToyTransformer::prefill: the session was not made by new_session()");
    const std::size_t pos0 = s.size();
    MatrixRM x = embed(tokens, pos0);  // [tokens x hidden]
    const auto rows = static_cast<Eigen::Index>(tokens.size());
    for (int l = 0; l < cfg_.n_layers; ++l) {
        auto& K = s.k[static_cast<std::size_t>(l)];
        auto& V = s.v[static_cast<std::size_t>(l)];
        MatrixRM nk, nv;
        block(l, x, K, V, nk, nv);
        K.conservativeResize(K.rows() + rows, Eigen::NoChange);
        V.conservativeResize(V.rows() + rows, Eigen::NoChange);
        K.bottomRows(rows) = nk;
        V.bottomRows(rows) = nv;
        // THE hook point: after block l, before block l+1 reads x. Steering writes into x here.
        if (hook) hook(model::BlockOutput{l, 0, pos0, MatrixView{x.data(), tokens.size(), static_cast<std::size_t>(x.cols())}});
    }
    s.n += tokens.size();
    if (logits) *logits = head(x);
}

inline void ToyTransformer::forward_tails(const Session& prefix, std::span<const model::Tail> tails, int first_block,
                                          const model::Hook& hook, MatrixRM* logits) const {
    const int L = cfg_.n_layers;
    // The contract's checks and each tail's position come from the library's backend-neutral bookkeeping.
    const model::TailBatch plan = model::batch_tails(tails, prefix.size(), first_block, L, static_cast<std::size_t>(cfg_.hidden));
    const std::size_t nt = tails.size();
    std::vector<MatrixRM> x(nt);                  // per tail: [rows_i x hidden] residual
    std::vector<std::vector<MatrixRM>> k(nt), v(nt);  // per tail, per layer: [rows_i x hidden]
    for (std::size_t i = 0; i < nt; ++i) {
        const model::Tail& t = tails[i];
        if (first_block == 0)
            x[i] = embed(t.tokens, plan.seqs[i].pos0);
        else
            x[i] = Eigen::Map<const MatrixRM>(t.input.data, static_cast<Eigen::Index>(t.input.rows),
                                              static_cast<Eigen::Index>(t.input.cols));
        k[i].resize(static_cast<std::size_t>(L));
        v[i].resize(static_cast<std::size_t>(L));
    }
    for (int l = first_block; l < L; ++l) {
        const auto li = static_cast<std::size_t>(l);
        for (std::size_t i = 0; i < nt; ++i) {
            // Visible past of tail i at block l: the prefix, then its parent chain from the root down.
            std::vector<std::size_t> chain;
            for (int p = tails[i].parent; p >= 0; p = tails[static_cast<std::size_t>(p)].parent)
                chain.insert(chain.begin(), static_cast<std::size_t>(p));
            MatrixRM pk = prefix.k[li], pv = prefix.v[li];
            for (std::size_t p : chain) {
                const auto r = k[p][li].rows();
                pk.conservativeResize(pk.rows() + r, Eigen::NoChange);
                pv.conservativeResize(pv.rows() + r, Eigen::NoChange);
                pk.bottomRows(r) = k[p][li];
                pv.bottomRows(r) = v[p][li];
            }
            block(l, x[i], pk, pv, k[i][li], v[i][li]);
            if (hook)
                hook(model::BlockOutput{l, i, plan.seqs[i].pos0,
                                        MatrixView{x[i].data(), static_cast<std::size_t>(x[i].rows()),
                                                   static_cast<std::size_t>(x[i].cols())}});
        }
    }
    if (logits) {
        Eigen::Index total = 0;
        for (const auto& xi : x) total += xi.rows();
        logits->resize(total, ByteTokenizer::vocab);
        Eigen::Index r = 0;
        for (const auto& xi : x) {
            if (xi.rows() == 0) continue;
            logits->middleRows(r, xi.rows()) = head(xi);
            r += xi.rows();
        }
    }
}

}  // namespace w2s::examples
