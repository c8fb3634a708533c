// w2s/model/sampling.hpp — choosing the next token from a row of logits.
//
// Greedy (argmax) and sampled decoding with temperature, top-k and top-p (nucleus), deterministic for a
// seed on every platform: the generator is std::mt19937_64 and the uniform draw is made from its bits here
// (not by std::uniform_real_distribution, whose algorithm differs between standard libraries).
//
// The order of the filters follows Hugging Face transformers: logits / temperature -> top-k -> softmax ->
// top-p -> renormalise -> draw. Ties between equal logits are broken by the lower token id, so the order of
// candidates (and thus every draw) is fully determined by the logits and the seed.
//
//   w2s::model::Sampler s({.temperature = 0.7f, .top_k = 40, .top_p = 0.9f, .seed = 42});
//   token_id next = s.sample(logits_row);   // logits_row: [vocab] raw logits of one position
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/model/backend.hpp"

namespace w2s::model {

/// How to choose the next token. temperature <= 0 means greedy (argmax); top_k, top_p and seed then do nothing.
struct SamplingParams {
    float temperature = 0.0f;  ///< logits are divided by it before the softmax; <= 0: greedy
    int top_k = 0;             ///< keep only the k most likely tokens; 0 (or >= vocab): no limit
    float top_p = 1.0f;        ///< keep the smallest set of most likely tokens whose mass reaches top_p; in (0, 1]
    std::uint64_t seed = 0;    ///< seed of the std::mt19937_64 behind every draw

    [[nodiscard]] bool greedy() const noexcept { return !(temperature > 0.0f); }
};

/// One token of the distribution a sampler draws from.
struct Candidate {
    token_id id = 0;
    float logit = 0.0f;  ///< raw logit divided by the temperature
    float p = 0.0f;      ///< probability after top-k / top-p filtering and renormalisation (the kept p sum to 1)
};

/// Index of the largest logit; ties go to the lowest id. NaN logits are never chosen unless all are NaN.
/// Throws invalid_argument on an empty row.
[[nodiscard]] token_id argmax(std::span<const float> logits);

/// The distribution Sampler::sample draws from for this row: the kept candidates, most likely first (ties:
/// lower id first), with renormalised probabilities. For greedy params: the argmax alone with p = 1.
/// Throws invalid_argument on an empty row or on params outside their ranges (top_k < 0, top_p not in (0, 1]).
[[nodiscard]] std::vector<Candidate> candidates(std::span<const float> logits, const SamplingParams& params);

/// Checks the ranges of params (see SamplingParams); throws invalid_argument naming the field.
void validate(const SamplingParams& params);

/// A seeded sampler. Not thread-safe (it owns a random generator); use one per generation.
class Sampler {
public:
    explicit Sampler(SamplingParams params = {});

    /// Chooses a token from one row of raw logits [vocab].
    [[nodiscard]] token_id sample(std::span<const float> logits);

    /// A uniform double in [0, 1) from the next 53 bits of the generator (portable across standard libraries).
    [[nodiscard]] double uniform();

    [[nodiscard]] const SamplingParams& params() const noexcept { return params_; }

private:
    SamplingParams params_;
    std::mt19937_64 rng_;
};

// ------------------------------------------------------------------------------------------------------------
// Details.

namespace detail {

/// Orders candidates: larger logit first, then lower id. NaN sorts last.
inline bool candidate_before(const Candidate& a, const Candidate& b) noexcept {
    const bool an = std::isnan(a.logit), bn = std::isnan(b.logit);
    if (an != bn) return bn;
    if (!an && a.logit != b.logit) return a.logit > b.logit;
    return a.id < b.id;
}

}  // namespace detail

inline void validate(const SamplingParams& p) {
    if (p.top_k < 0)
        throw invalid_argument("sampling: top_k must be >= 0 (0 = off), got " + std::to_string(p.top_k));
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
        throw invalid_argument("sampling: top_p must be in (0, 1], got " + std::to_string(p.top_p));
    if (std::isnan(p.temperature) || std::isinf(p.temperature))
        throw invalid_argument("sampling: temperature must be finite, got " + std::to_string(p.temperature));
}

inline token_id argmax(std::span<const float> logits) {
    if (logits.empty()) throw invalid_argument("sampling: argmax of an empty logits row");
    std::size_t best = 0;
    for (std::size_t i = 1; i < logits.size(); ++i) {
        const float v = logits[i], b = logits[best];
        if (std::isnan(b) ? !std::isnan(v) : v > b) best = i;
    }
    return static_cast<token_id>(best);
}

inline std::vector<Candidate> candidates(std::span<const float> logits, const SamplingParams& params) {
    validate(params);
    if (logits.empty()) throw invalid_argument("sampling: empty logits row");
    if (params.greedy()) {
        const token_id id = argmax(logits);
        return {Candidate{id, logits[static_cast<std::size_t>(id)], 1.0f}};
    }
    const std::size_t n = logits.size();
    const float inv_t = 1.0f / params.temperature;
    std::vector<Candidate> c(n);
    for (std::size_t i = 0; i < n; ++i) c[i] = Candidate{static_cast<token_id>(i), logits[i] * inv_t, 0.0f};

    // top-k: keep the k best (in candidate order), sorted.
    std::size_t keep = n;
    if (params.top_k > 0 && static_cast<std::size_t>(params.top_k) < n) keep = static_cast<std::size_t>(params.top_k);

    // Sort only as much as needed: the top `keep` when top-p is off; otherwise grow a sorted head until its
    // mass reaches top_p (most rows of a language model put that mass on a few hundred tokens).
    const float max_logit = [&] {
        float m = -std::numeric_limits<float>::infinity();
        for (const auto& x : c)
            if (!std::isnan(x.logit)) m = std::max(m, x.logit);
        return m;
    }();
    if (std::isinf(max_logit) && max_logit < 0) {
        // every logit is -inf or NaN: fall back to the argmax (lowest id among the best)
        const token_id id = argmax(logits);
        return {Candidate{id, logits[static_cast<std::size_t>(id)], 1.0f}};
    }
    auto weight = [&](const Candidate& x) -> double {
        return std::isnan(x.logit) ? 0.0 : std::exp(static_cast<double>(x.logit) - max_logit);
    };
    // Total softmax mass over the top-k set, computed before any sorting of the full row.
    double total = 0.0;
    if (keep == n) {
        for (const auto& x : c) total += weight(x);
    }

    std::size_t sorted = 0;  // c[0, sorted) is sorted and holds the best `sorted` candidates
    auto sort_head = [&](std::size_t want) {
        want = std::min(want, keep);
        if (want <= sorted) return;
        if (want < n) std::nth_element(c.begin() + static_cast<std::ptrdiff_t>(sorted),
                                       c.begin() + static_cast<std::ptrdiff_t>(want) - 1, c.end(),
                                       detail::candidate_before);
        std::sort(c.begin() + static_cast<std::ptrdiff_t>(sorted), c.begin() + static_cast<std::ptrdiff_t>(want),
                  detail::candidate_before);
        sorted = want;
    };

    if (keep < n) {
        sort_head(keep);
        for (std::size_t i = 0; i < keep; ++i) total += weight(c[i]);
    }

    std::size_t cut = keep;  // number of candidates kept after top-p
    if (params.top_p < 1.0f) {
        const double target = static_cast<double>(params.top_p) * total;
        double acc = 0.0;
        std::size_t i = 0;
        std::size_t chunk = std::min<std::size_t>(keep, 256);
        sort_head(chunk);
        cut = 0;
        while (true) {
            for (; i < sorted; ++i) {
                acc += weight(c[i]);
                if (acc >= target) break;
            }
            if (i < sorted) {
                cut = i + 1;
                break;
            }
            if (sorted >= keep) {
                cut = keep;
                break;
            }
            chunk = std::min(keep, sorted * 4);
            sort_head(chunk);
        }
    } else {
        sort_head(keep);
    }

    c.resize(cut);
    double kept = 0.0;
    for (const auto& x : c) kept += weight(x);
    for (auto& x : c) x.p = static_cast<float>(weight(x) / kept);
    return c;
}

inline Sampler::Sampler(SamplingParams params) : params_(params), rng_(params.seed) { validate(params_); }

inline double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

inline token_id Sampler::sample(std::span<const float> logits) {
    if (params_.greedy()) return argmax(logits);
    const std::vector<Candidate> c = candidates(logits, params_);
    const double u = uniform();
    double acc = 0.0;
    for (const auto& x : c) {
        acc += static_cast<double>(x.p);
        if (u < acc) return x.id;
    }
    return c.back().id;  // u within rounding of 1
}

}  // namespace w2s::model
