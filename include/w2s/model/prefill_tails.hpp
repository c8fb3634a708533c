// w2s/model/prefill_tails.hpp — the sweep tier for a backend that only has prefill, and a checker for a native
// forward_tails.
//
//   MyModel m = ...;                                    // a GenerationBackend: sessions, tokenizer, prefill
//   w2s::model::PrefillTails<MyModel> b(m);             // now a Backend: vectors, sweep, AdaptiveSteerer all work
//   w2s::AdaptiveSteerer<w2s::model::PrefillTails<MyModel>> s(b);
//
//   auto c = w2s::model::check_tails(m, prefix, tails, first_block);   // m has its own forward_tails
//   // c.max_logit_diff, c.max_residual_diff: against the emulation below; float-rounding level when m is right
//
// PrefillTails<B> forwards everything to B and adds forward_tails, emulated exactly from its contract
// (backend.hpp): tail i starts from a copy of the prefix session (or of the session its parent ended with) and is
// prefilled; for first_block > 0 a hook replaces the output of block first_block-1 with the tail's `input` and
// hides the blocks below first_block from the caller's hook, which sees seq = i and the tail's absolute
// positions. Cost: one session copy and one prefill per tail (the native path batches the tails through the
// blocks and skips the blocks below first_block), so it is the slow path: correct first, then write a native
// forward_tails and check it with check_tails.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/hooks.hpp"
#include "w2s/model/tail_batch.hpp"

namespace w2s::model {

template <class B>
class PrefillTails {
    static_assert(check_generation_backend<B>());

public:
    using Session = typename B::Session;
    using base_type = B;

    /// The backend must outlive the adapter.
    explicit PrefillTails(const B& backend) : b_(&backend) {}

    [[nodiscard]] const B& base() const noexcept { return *b_; }
    [[nodiscard]] int n_layers() const { return b_->n_layers(); }
    [[nodiscard]] int hidden_size() const { return b_->hidden_size(); }
    [[nodiscard]] int vocab_size() const { return b_->vocab_size(); }
    [[nodiscard]] decltype(auto) tokenizer() const { return b_->tokenizer(); }
    [[nodiscard]] Session new_session() const { return b_->new_session(); }
    void prefill(Session& s, std::span<const token_id> tokens, const Hook& hook = {}, MatrixRM* logits = nullptr) const {
        b_->prefill(s, tokens, hook, logits);
    }
    // The optional capabilities of B pass through.
    void prefill_last_logits(Session& s, std::span<const token_id> tokens, const Hook& hook, MatrixRM* logits) const
        requires LastLogitsPrefill<B>
    {
        b_->prefill_last_logits(s, tokens, hook, logits);
    }
    [[nodiscard]] bool has_chat_template() const
        requires ChatTemplates<B>
    {
        return b_->has_chat_template();
    }
    [[nodiscard]] decltype(auto) chat_template() const
        requires ChatTemplates<B>
    {
        return b_->chat_template();
    }

    /// forward_tails by its contract (backend.hpp), one tail at a time. Throws invalid_argument for a tail with no
    /// tokens, a parent not before it, an input of the wrong shape or first_block out of 0..n_layers.
    void forward_tails(const Session& prefix, std::span<const Tail> tails, int first_block, const Hook& hook = {},
                       MatrixRM* logits = nullptr) const {
        const auto H = static_cast<std::size_t>(b_->hidden_size());
        const TailBatch plan = batch_tails(tails, prefix.size(), first_block, b_->n_layers(), H);  // the contract's checks
        std::vector<bool> is_parent(tails.size(), false);
        for (const Tail& t : tails)
            if (t.parent >= 0) is_parent[static_cast<std::size_t>(t.parent)] = true;
        std::vector<std::optional<Session>> ended(tails.size());  // the session a tail ended with, kept only for parents
        std::vector<MatrixRM> per_tail(logits ? tails.size() : 0);
        for (std::size_t i = 0; i < tails.size(); ++i) {
            const Tail& t = tails[i];
            Session s = t.parent < 0 ? prefix : *ended[static_cast<std::size_t>(t.parent)];
            const Hook h = [&](const BlockOutput& o) {
                if (first_block > 0 && o.layer == first_block - 1) {
                    for (std::size_t r = 0; r < o.residual.rows; ++r) std::copy_n(t.input.row(r), H, o.residual.row(r));
                    return;
                }
                if (o.layer < first_block || !hook) return;
                BlockOutput mine = o;
                mine.seq = i;
                hook(mine);
            };
            b_->prefill(s, t.tokens, h, logits ? &per_tail[i] : nullptr);
            if (is_parent[i]) ended[i].emplace(std::move(s));
        }
        if (logits) {
            const auto V = static_cast<Eigen::Index>(b_->vocab_size());
            logits->resize(static_cast<Eigen::Index>(plan.rows), V);
            Eigen::Index r = 0;
            for (const auto& m : per_tail) {
                logits->middleRows(r, m.rows()) = m;
                r += m.rows();
            }
        }
    }

private:
    const B* b_;
};

/// What check_tails found: the largest absolute differences between a backend's forward_tails and the emulation.
struct TailsCheck {
    double max_logit_diff = 0.0;     ///< over every logit of every tail row
    double max_residual_diff = 0.0;  ///< over every residual the hook saw (blocks >= first_block)
    std::size_t hook_calls = 0;      ///< (layer, tail) outputs compared
};

/// Runs `tails` over `prefix` through b.forward_tails and through PrefillTails<B>(b) and compares the logits and the
/// residuals their hooks saw. Throws shape_error when the two disagree on which outputs exist (a hook call missing
/// or of another shape): that is a contract break, not a rounding difference.
template <class B>
TailsCheck check_tails(const B& b, const typename B::Session& prefix, std::span<const Tail> tails, int first_block = 0) {
    static_assert(check_backend<B>());
    ResidualCapture native_res, emulated_res;  // per (layer, tail)
    MatrixRM native_logits, emulated_logits;
    b.forward_tails(prefix, tails, first_block, native_res.hook(), &native_logits);
    PrefillTails<B>(b).forward_tails(prefix, tails, first_block, emulated_res.hook(), &emulated_logits);
    if (native_logits.rows() != emulated_logits.rows() || native_logits.cols() != emulated_logits.cols())
        throw shape_error("check_tails: forward_tails gave " + std::to_string(native_logits.rows()) + "x" + std::to_string(native_logits.cols()) +
                          " logits, the emulation " + std::to_string(emulated_logits.rows()) + "x" + std::to_string(emulated_logits.cols()));
    if (native_res.at.size() != emulated_res.at.size())
        throw shape_error("check_tails: forward_tails called the hook for " + std::to_string(native_res.at.size()) +
                          " (layer, tail) outputs, the emulation for " + std::to_string(emulated_res.at.size()));
    TailsCheck c;
    if (native_logits.size()) c.max_logit_diff = (native_logits - emulated_logits).cwiseAbs().maxCoeff();
    for (const auto& [k, m] : emulated_res.at) {
        const auto it = native_res.at.find(k);
        if (it == native_res.at.end() || it->second.rows() != m.rows() || it->second.cols() != m.cols())
            throw shape_error("check_tails: the hook output of layer " + std::to_string(k.first) + ", tail " + std::to_string(k.second) +
                              " is missing or of another shape in forward_tails");
        if (m.size()) c.max_residual_diff = std::max(c.max_residual_diff, static_cast<double>((it->second - m).cwiseAbs().maxCoeff()));
        ++c.hook_calls;
    }
    return c;
}

}  // namespace w2s::model
