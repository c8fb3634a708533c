// w2s/bench/harness.hpp — the benchmark harness, templated on the backend concepts: point it at your own
// transformer and it measures what W2S spends time on, the way the project's own benchmarks measure LlamaModel.
//
//   MyModel m = ...;                                  // any w2s::model::GenerationBackend (Backend for the sweep)
//   w2s::bench::Options o;  o.prompt_tokens = 128;  o.gen_tokens = 32;
//   const auto r = w2s::bench::run(m, o);             // prefill, decode, hook cost, sweep of one item
//   std::cout << w2s::bench::markdown(r);             // or read the fields
//
// What is measured (each a list of per-repetition seconds after `warmup` untimed runs; figures are medians,
// the best (min) is kept too because on a busy machine it is the least disturbed):
//   prefill  `prompt_tokens` random ids in one prefill of an empty session, no logits           -> tokens/s
//            (and again at each of `prefill_lengths`, for the speed at every prompt length)
//   decode   `gen_tokens` single-token prefills with logits after a prompt of `decode_depth` ids -> tokens/s
//            (what generation does per step; a backend with LastLogitsPrefill is timed through it)
//   hooks    one forward of `hook_rows` ids at position `hook_pos` with no hook, again with no hook (the A/A
//            pair shows the noise floor), with an empty hook and with a steering add at `steer_layer`,
//            interleaved in rounds of 10 so that drift hits every variant alike            -> ratios to "none"
//   sweep    (Backend only) one synthetic item — a prompt of `prompt_tokens` ids, two responses of
//            `response_tokens` ids, random vectors at every block 1..L-1, the seven multipliers — through
//            sweep::sweep_item, against one forward pass of prompt + response              -> sweep / forward
//   batched  (Options::batch_rows) `gen_tokens` steps of model::decode_steps over R sequences at once (the
//            backend's decode_batch when it has one, the serving path), each after `decode_depth` ids of its
//            own, unsteered and again with every row steered differently (its own block, vector, multiplier:
//            what a server's mixed batch does)                                                -> tokens/s of all rows
//   router   (time_router<R>, any route::Router) fit on `router_items` synthetic prompts of the backend's
//            hidden size with random profiles over its layers, and predict_one per prompt    -> ms, us
//            (attach with `r.routers.push_back(bench::time_router<route::LinearRouter>(r, o))`)
// Ids are drawn uniformly from [0, vocab) with fixed seeds, so two backends of one vocabulary see the same input.
// Threads: the calls run on the caller's thread; wrap run() in a ThreadPool's run() to time a thread count.
// The harness never prints: markdown(r) formats a report, markdown(a, b, "a", "b") two backends side by side with
// the ratio b / a of each figure (run both in one process, one after the other, so that they share the machine's
// state), and to_json(r) gives every repetition's seconds with the medians and bests, for scripts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/batched_decode.hpp"
#include "w2s/route/router.hpp"
#include "w2s/steer/apply.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"
#include "w2s/sweep/engine.hpp"

namespace w2s::bench {

struct Options {
    int prompt_tokens = 128;    ///< prefill length, and the sweep item's prompt length
    int gen_tokens = 32;        ///< decode steps
    int decode_depth = 0;       ///< prompt ids before the decode steps
    int response_tokens = 4;    ///< the sweep item's response length (>= 2: A/B-shaped, letter + one)
    int reps = 5;               ///< timed repetitions of prefill, decode and the sweep
    int warmup = 1;             ///< untimed runs before them
    int hook_reps = 50;         ///< forwards per hook variant (rounded down to a multiple of 10, at least 10)
    int hook_rows = 1;          ///< rows of the hook-cost forward (1: a decode step)
    int hook_pos = 64;          ///< its position
    int steer_layer = -1;       ///< block of the steering add (-1: the middle block)
    bool sweep = true;          ///< time the sweep (needs the Backend tier)
    std::vector<int> prefill_lengths{};  ///< further prefill lengths (each timed like prompt_tokens)
    std::vector<int> batch_rows{};       ///< batched decode at these numbers of sequences (each >= 1)
    int router_items = 200;     ///< training prompts of time_router
    std::uint64_t seed = 1;
};

/// Seconds of each timed repetition.
struct Timing {
    std::vector<double> seconds;
    [[nodiscard]] double median() const {
        if (seconds.empty()) return 0.0;
        std::vector<double> v = seconds;
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    [[nodiscard]] double best() const { return seconds.empty() ? 0.0 : *std::min_element(seconds.begin(), seconds.end()); }
};

struct HookCost {
    Timing none, none_again, empty, steer;  ///< one forward each
};

struct SweepCost {
    Timing forward;  ///< one unsteered forward of prompt + response (all logits)
    Timing sweep;    ///< sweep::sweep_item of the item
    std::size_t layers = 0, multipliers = 0;
};

/// A prefill timing at one prompt length.
struct PrefillAt {
    int tokens = 0;
    Timing timing;
};

/// A batched decode at one number of rows: gen_tokens steps of `rows` sequences, each repetition's seconds.
struct BatchedAt {
    int rows = 0;
    Timing unsteered;
    Timing steered;  ///< every row steered at its own block with its own vector and multiplier
};

/// A router's fit on Options::router_items prompts and its predict_one (one Timing entry per prompt).
struct RouterCost {
    std::string kind;
    int items = 0, dim = 0, layers = 0;
    Timing fit;          ///< whole fits
    Timing predict_one;  ///< one call each
};

struct Report {
    Options options;
    int n_layers = 0, hidden = 0, vocab = 0;
    Timing prefill, decode;
    std::vector<PrefillAt> prefill_lengths;  ///< Options::prefill_lengths, in order
    std::vector<BatchedAt> batched;          ///< Options::batch_rows, in order
    std::vector<RouterCost> routers;         ///< filled by the caller with time_router (see the file comment)
    HookCost hooks;
    bool has_sweep = false;
    SweepCost sweep;
};

namespace detail {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline std::vector<model::token_id> random_ids(int n, int vocab, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    std::vector<model::token_id> t(static_cast<std::size_t>(std::max(0, n)));
    for (auto& x : t) x = static_cast<model::token_id>(g() % static_cast<std::uint64_t>(vocab));
    return t;
}

/// `warmup` untimed calls of f, then `reps` timed ones.
template <class F>
Timing repeat(int warmup, int reps, F&& f) {
    Timing t;
    for (int r = 0; r < warmup; ++r) f();
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        t.seconds.push_back(seconds_since(t0));
    }
    return t;
}

inline void check(const Options& o, int n_layers) {
    for (int n : o.prefill_lengths)
        if (n < 1) throw invalid_argument("bench::run: prefill_lengths has " + std::to_string(n) + "; expected lengths >= 1");
    for (int n : o.batch_rows)
        if (n < 1) throw invalid_argument("bench::run: batch_rows has " + std::to_string(n) + "; expected row counts >= 1");
    if (o.prompt_tokens < 1 || o.gen_tokens < 1 || o.decode_depth < 0 || o.response_tokens < 2 || o.reps < 1 || o.warmup < 0 ||
        o.hook_rows < 1 || o.hook_pos < 0 || o.hook_reps < 10)
        throw invalid_argument("bench::run: need prompt_tokens, gen_tokens, reps, hook_rows >= 1; response_tokens >= 2; "
                               "decode_depth, warmup, hook_pos >= 0; hook_reps >= 10");
    if (o.steer_layer < -1 || o.steer_layer >= n_layers)
        throw invalid_argument("bench::run: steer_layer " + std::to_string(o.steer_layer) + " out of range -1.." +
                               std::to_string(n_layers - 1));
}

/// Vectors at blocks 1..L-1 with values in [-0.5, 0.5): the cost does not depend on them.
inline steer::VectorSet random_vectors(int n_layers, int hidden, std::uint64_t seed) {
    steer::VectorSet vs(n_layers, hidden);
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    std::vector<float> v(static_cast<std::size_t>(hidden));
    for (int l = 1; l < n_layers; ++l) {
        for (auto& x : v) x = u(g);
        vs.set(l, v);
    }
    return vs;
}

}  // namespace detail

/// Prefill speed: `tokens` ids (default Options::prompt_tokens) into an empty session, no logits.
template <class B>
Timing time_prefill(const B& b, const Options& o, int tokens = -1) {
    static_assert(model::check_generation_backend<B>());
    const auto ids = detail::random_ids(tokens < 0 ? o.prompt_tokens : tokens, b.vocab_size(), o.seed);
    return detail::repeat(o.warmup, o.reps, [&] {
        auto s = b.new_session();
        b.prefill(s, ids, {}, nullptr);
    });
}

/// Decode speed: Options::gen_tokens steps of one id with logits, after decode_depth ids (not timed).
template <class B>
Timing time_decode(const B& b, const Options& o) {
    static_assert(model::check_generation_backend<B>());
    const auto depth = detail::random_ids(o.decode_depth, b.vocab_size(), o.seed + 1);
    const auto gen = detail::random_ids(o.gen_tokens, b.vocab_size(), o.seed + 2);
    auto prefix = b.new_session();
    if (!depth.empty()) b.prefill(prefix, depth, {}, nullptr);
    MatrixRM logits;
    return detail::repeat(o.warmup, o.reps, [&] {
        auto s = prefix;
        for (auto tok : gen) {
            const std::span<const model::token_id> one(&tok, 1);
            if constexpr (model::LastLogitsPrefill<B>)
                b.prefill_last_logits(s, one, {}, &logits);
            else
                b.prefill(s, one, {}, &logits);
        }
    });
}

/// Batched decode at `rows` sequences (see the file comment): Options::gen_tokens calls of model::decode_steps, one
/// token per row with logits, after decode_depth ids per row (each row its own ids; not timed). Steered: row r adds
/// (1 + r / 4) x a random vector at block 1 + r mod (L - 1), every step. Seconds per repetition of all the steps;
/// the two variants' repetitions interleaved.
template <class B>
BatchedAt time_batched_decode(const B& b, const Options& o, int rows) {
    static_assert(model::check_generation_backend<B>());
    detail::check(o, b.n_layers());
    if (rows < 1) throw invalid_argument("bench::time_batched_decode: rows " + std::to_string(rows) + "; expected >= 1");
    using Session = typename B::Session;
    const auto R = static_cast<std::size_t>(rows);
    std::vector<Session> prefix;
    std::vector<std::vector<model::token_id>> gen(R);
    prefix.reserve(R);
    for (std::size_t r = 0; r < R; ++r) {
        prefix.push_back(b.new_session());
        const auto depth = detail::random_ids(o.decode_depth, b.vocab_size(), o.seed + 100 + 2 * r);
        if (!depth.empty()) b.prefill(prefix.back(), depth, {}, nullptr);
        gen[r] = detail::random_ids(o.gen_tokens, b.vocab_size(), o.seed + 101 + 2 * r);
    }
    const auto vs = detail::random_vectors(b.n_layers(), b.hidden_size(), o.seed + 10);
    std::vector<steer::SteeringHook> per_row;
    per_row.reserve(R);
    for (std::size_t r = 0; r < R; ++r) {
        const int layer = b.n_layers() > 1 ? 1 + static_cast<int>(r % static_cast<std::size_t>(b.n_layers() - 1)) : 0;
        per_row.emplace_back(vs, layer, 1.0f + 0.25f * static_cast<float>(r), steer::Positions::all());
    }
    const model::Hook steer = [&](const model::BlockOutput& out) { per_row[out.seq](out); };
    MatrixRM logits;
    std::vector<model::BatchStep<Session>> steps(R);
    auto run_all = [&](const model::Hook& h) {
        std::vector<Session> s = prefix;
        for (int t = 0; t < o.gen_tokens; ++t) {
            for (std::size_t r = 0; r < R; ++r)
                steps[r] = {&s[r], std::span<const model::token_id>(&gen[r][static_cast<std::size_t>(t)], 1), true};
            model::decode_steps(b, std::span<const model::BatchStep<Session>>(steps), h, &logits);
        }
    };
    BatchedAt a;
    a.rows = rows;
    // interleaved, one repetition of each in turn, so that drift in the machine's speed hits both alike
    for (int r = 0; r < o.warmup; ++r) {
        run_all({});
        run_all(steer);
    }
    auto timed = [&](const model::Hook& h) {
        const auto t0 = std::chrono::steady_clock::now();
        run_all(h);
        return detail::seconds_since(t0);
    };
    for (int r = 0; r < o.reps; ++r) {
        a.unsteered.seconds.push_back(timed({}));
        a.steered.seconds.push_back(timed(steer));
    }
    return a;
}

/// The hooks' cost on one forward (see the file comment).
template <class B>
HookCost time_hooks(const B& b, const Options& o) {
    static_assert(model::check_generation_backend<B>());
    detail::check(o, b.n_layers());
    const int layer = o.steer_layer >= 0 ? o.steer_layer : b.n_layers() / 2;
    const auto prefix_ids = detail::random_ids(o.hook_pos, b.vocab_size(), o.seed + 3);
    const auto step = detail::random_ids(o.hook_rows, b.vocab_size(), o.seed + 4);
    auto prefix = b.new_session();
    if (!prefix_ids.empty()) b.prefill(prefix, prefix_ids, {}, nullptr);
    const auto vs = detail::random_vectors(b.n_layers(), b.hidden_size(), o.seed + 5);
    const steer::SteeringHook sh(vs, std::max(layer, 1), 4.0f, steer::Positions::all());
    const model::Hook none;
    const model::Hook empty = [](const model::BlockOutput&) {};
    const model::Hook steer = [&](const model::BlockOutput& out) { sh(out); };
    const model::Hook* variants[4] = {&none, &none, &empty, &steer};
    HookCost c;
    Timing* into[4] = {&c.none, &c.none_again, &c.empty, &c.steer};
    MatrixRM logits;
    auto once = [&](const model::Hook& h) {
        auto s = prefix;
        const auto t0 = std::chrono::steady_clock::now();
        b.prefill(s, step, h, &logits);
        return detail::seconds_since(t0);
    };
    for (int i = 0; i < 5; ++i) (void)once(none);
    for (int round = 0; round < o.hook_reps / 10; ++round)
        for (int k = 0; k < 4; ++k)
            for (int i = 0; i < 10; ++i) into[k]->seconds.push_back(once(*variants[k]));
    return c;
}

/// The sweep of one synthetic item against one forward of it (see the file comment).
template <class B>
SweepCost time_sweep(const B& b, const Options& o) {
    static_assert(model::check_backend<B>());
    steer::TokenizedItem item;
    item.prompt = detail::random_ids(o.prompt_tokens, b.vocab_size(), o.seed + 6);
    item.response[0] = detail::random_ids(o.response_tokens, b.vocab_size(), o.seed + 7);
    item.response[1] = item.response[0];
    item.response[1][static_cast<std::size_t>(o.response_tokens - 2)] =
        (item.response[0][static_cast<std::size_t>(o.response_tokens - 2)] + 1) % b.vocab_size();  // the other "letter"
    const auto vs = detail::random_vectors(b.n_layers(), b.hidden_size(), o.seed + 8);
    const auto opt = sweep::resolve_options(b, vs, {});
    SweepCost c;
    c.layers = opt.layers.size();
    c.multipliers = opt.multipliers.size();
    MatrixRM logits;
    const auto seq = item.sequence(0);
    c.forward = detail::repeat(o.warmup, o.reps, [&] {
        auto s = b.new_session();
        b.prefill(s, seq, {}, &logits);
    });
    c.sweep = detail::repeat(o.warmup, o.reps, [&] { (void)sweep::sweep_item(b, item, vs, opt); });
    return c;
}

/// A router's cost at `items` prompts of dimension `dim` over `layers` layers: Options::reps fits (after warm-up)
/// on synthetic standard-normal embeddings whose best layer depends on the first coordinates (so that a fit has
/// something to learn), and predict_one on every training prompt.
template <route::Router R>
RouterCost time_router(int items, int dim, int layers, const Options& o, R proto = R{}) {
    if (items < 2 || dim < 1 || layers < 1)
        throw invalid_argument("bench::time_router: need items >= 2, dim >= 1, layers >= 1; got " + std::to_string(items) +
                               ", " + std::to_string(dim) + ", " + std::to_string(layers));
    std::mt19937_64 g(o.seed + 9);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    route::Features X(items, dim);
    for (Eigen::Index i = 0; i < X.rows(); ++i)
        for (Eigen::Index j = 0; j < X.cols(); ++j) X(i, j) = nd(g);
    route::Profiles S(items, layers);
    std::normal_distribution<double> noise(0.0, 0.3);
    for (Eigen::Index i = 0; i < S.rows(); ++i) {
        const double c = X(i, 0) + (dim > 1 ? 0.5 * X(i, 1) : 0.0);
        const double peak = (layers - 1) * (0.5 + 0.5 * std::tanh(c));
        for (Eigen::Index l = 0; l < layers; ++l) S(i, l) = -std::abs(static_cast<double>(l) - peak) + noise(g);
    }
    RouterCost c;
    c.kind = std::string(R::kind);
    c.items = items;
    c.dim = dim;
    c.layers = layers;
    R fitted = proto;
    c.fit = detail::repeat(o.warmup, o.reps, [&] {
        fitted = proto;
        (void)fitted.fit(X, S, o.seed);
    });
    volatile int sink = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        sink = sink + fitted.predict_one({X.row(i).data(), static_cast<std::size_t>(dim)});
        c.predict_one.seconds.push_back(detail::seconds_since(t0));
    }
    return c;
}

/// The same for the shape of a report's backend (dim = its hidden size, layers = its blocks).
template <route::Router R>
RouterCost time_router(const Report& r, const Options& o, R proto = R{}) {
    return time_router<R>(o.router_items, r.hidden, r.n_layers, o, std::move(proto));
}

/// Everything above; the sweep only for the Backend tier and when Options::sweep.
template <class B>
Report run(const B& b, const Options& o = {}) {
    static_assert(model::check_generation_backend<B>());
    detail::check(o, b.n_layers());
    Report r;
    r.options = o;
    r.n_layers = b.n_layers();
    r.hidden = b.hidden_size();
    r.vocab = b.vocab_size();
    r.prefill = time_prefill(b, o);
    for (int n : o.prefill_lengths) r.prefill_lengths.push_back({n, time_prefill(b, o, n)});
    r.decode = time_decode(b, o);
    for (int n : o.batch_rows) r.batched.push_back(time_batched_decode(b, o, n));
    r.hooks = time_hooks(b, o);
    if constexpr (model::Backend<B>) {
        if (o.sweep) {
            r.sweep = time_sweep(b, o);
            r.has_sweep = true;
        }
    }
    return r;
}

/// A Markdown table of a report (medians, and the best of the repetitions).
inline std::string markdown(const Report& r) {
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(3);
    const auto& o = r.options;
    os << "backend: " << r.n_layers << " layers, hidden " << r.hidden << ", vocab " << r.vocab << "; " << o.reps
       << " repetitions after " << o.warmup << " warm-up\n\n| test | median | best |\n| --- | ---: | ---: |\n";
    auto tps = [](int n, double s) { return s > 0 ? n / s : 0.0; };
    os << "| prefill " << o.prompt_tokens << " (tokens/s) | " << tps(o.prompt_tokens, r.prefill.median()) << " | "
       << tps(o.prompt_tokens, r.prefill.best()) << " |\n";
    for (const auto& p : r.prefill_lengths)
        os << "| prefill " << p.tokens << " (tokens/s) | " << tps(p.tokens, p.timing.median()) << " | " << tps(p.tokens, p.timing.best())
           << " |\n";
    os << "| decode " << o.gen_tokens << " at depth " << o.decode_depth << " (tokens/s) | " << tps(o.gen_tokens, r.decode.median())
       << " | " << tps(o.gen_tokens, r.decode.best()) << " |\n";
    for (const auto& x : r.batched) {
        const int n = x.rows * o.gen_tokens;
        os << "| batched decode, " << x.rows << " rows (tokens/s) | " << tps(n, x.unsteered.median()) << " | " << tps(n, x.unsteered.best())
           << " |\n| batched decode, " << x.rows << " rows, each steered differently (tokens/s) | " << tps(n, x.steered.median())
           << " | " << tps(n, x.steered.best()) << " |\n";
    }
    const double none = r.hooks.none.median();
    auto ratio = [&](const Timing& t) { return none > 0 ? t.median() / none : 0.0; };
    os << "| forward of " << o.hook_rows << " at pos " << o.hook_pos << ", no hook (ms) | " << none * 1e3 << " | "
       << r.hooks.none.best() * 1e3 << " |\n";
    os << "| same, no hook again (x) | " << ratio(r.hooks.none_again) << " | |\n";
    os << "| same, empty hook (x) | " << ratio(r.hooks.empty) << " | |\n";
    os << "| same, steering add (x) | " << ratio(r.hooks.steer) << " | |\n";
    if (r.has_sweep) {
        const double f = r.sweep.forward.median(), s = r.sweep.sweep.median();
        os << "| forward of one item, " << o.prompt_tokens << "+" << o.response_tokens << " ids (ms) | " << f * 1e3 << " | "
           << r.sweep.forward.best() * 1e3 << " |\n";
        os << "| sweep of that item, " << r.sweep.layers << " layers x " << r.sweep.multipliers << " multipliers (ms) | " << s * 1e3
           << " | " << r.sweep.sweep.best() * 1e3 << " |\n";
        os << "| sweep / forward (x) | " << (f > 0 ? s / f : 0.0) << " | "
           << (r.sweep.forward.best() > 0 ? r.sweep.sweep.best() / r.sweep.forward.best() : 0.0) << " |\n";
    }
    for (const auto& c : r.routers) {
        os << "| " << c.kind << " router fit, " << c.items << " x " << c.dim << " -> " << c.layers << " layers (ms) | "
           << c.fit.median() * 1e3 << " | " << c.fit.best() * 1e3 << " |\n";
        os << "| " << c.kind << " router predict_one (us) | " << c.predict_one.median() * 1e6 << " | " << c.predict_one.best() * 1e6
           << " |\n";
    }
    return os.str();
}

/// One row per figure: its name, its value (median) and whether larger is better (rates) or smaller (times, ratios).
struct Figure {
    std::string name;
    double value = 0.0;
    bool higher_is_better = false;
};

/// The figures of a report, in the order markdown() prints them (medians).
inline std::vector<Figure> figures(const Report& r) {
    const auto& o = r.options;
    auto tps = [](int n, double s) { return s > 0 ? n / s : 0.0; };
    std::vector<Figure> f;
    f.push_back({"prefill " + std::to_string(o.prompt_tokens) + " (tokens/s)", tps(o.prompt_tokens, r.prefill.median()), true});
    for (const auto& p : r.prefill_lengths)
        f.push_back({"prefill " + std::to_string(p.tokens) + " (tokens/s)", tps(p.tokens, p.timing.median()), true});
    f.push_back({"decode " + std::to_string(o.gen_tokens) + " at depth " + std::to_string(o.decode_depth) + " (tokens/s)",
                 tps(o.gen_tokens, r.decode.median()), true});
    for (const auto& x : r.batched) {
        const int n = x.rows * o.gen_tokens;
        f.push_back({"batched decode, " + std::to_string(x.rows) + " rows (tokens/s)", tps(n, x.unsteered.median()), true});
        f.push_back({"batched decode, " + std::to_string(x.rows) + " rows, each steered differently (tokens/s)", tps(n, x.steered.median()), true});
    }
    const double none = r.hooks.none.median();
    f.push_back({"forward of " + std::to_string(o.hook_rows) + " at pos " + std::to_string(o.hook_pos) + ", no hook (ms)", none * 1e3, false});
    f.push_back({"steering add / no hook (x)", none > 0 ? r.hooks.steer.median() / none : 0.0, false});
    if (r.has_sweep) {
        const double fw = r.sweep.forward.median(), sw = r.sweep.sweep.median();
        f.push_back({"sweep of one item (ms)", sw * 1e3, false});
        f.push_back({"sweep / forward (x)", fw > 0 ? sw / fw : 0.0, false});
    }
    for (const auto& c : r.routers) {
        f.push_back({c.kind + " router fit (ms)", c.fit.median() * 1e3, false});
        f.push_back({c.kind + " router predict_one (us)", c.predict_one.median() * 1e6, false});
    }
    return f;
}

/// Two reports side by side (the same Options), with the ratio b / a of each figure.
inline std::string markdown(const Report& a, const Report& b, const std::string& name_a, const std::string& name_b) {
    const auto fa = figures(a), fb = figures(b);
    std::ostringstream os;
    os.setf(std::ios::fixed);
    os.precision(3);
    os << "| test | " << name_a << " | " << name_b << " | " << name_b << " / " << name_a << " |\n| --- | ---: | ---: | ---: |\n";
    for (std::size_t i = 0; i < fa.size(); ++i) {
        const Figure* other = nullptr;
        for (const auto& g : fb)
            if (g.name == fa[i].name) other = &g;
        os << "| " << fa[i].name << " | " << fa[i].value << " | ";
        if (other) os << other->value << " | " << (fa[i].value > 0 ? other->value / fa[i].value : 0.0) << " |\n";
        else os << "- | - |\n";
    }
    return os.str();
}

/// A report as JSON: the options, the backend's shape, every timing's per-repetition seconds with its median and
/// best, and the figures.
inline nlohmann::json to_json(const Report& r) {
    using nlohmann::json;
    auto t = [](const Timing& x) { return json{{"seconds", x.seconds}, {"median", x.median()}, {"best", x.best()}}; };
    const auto& o = r.options;
    json j = {{"options", {{"prompt_tokens", o.prompt_tokens}, {"gen_tokens", o.gen_tokens}, {"decode_depth", o.decode_depth},
                           {"response_tokens", o.response_tokens}, {"reps", o.reps}, {"warmup", o.warmup}, {"hook_reps", o.hook_reps},
                           {"hook_rows", o.hook_rows}, {"hook_pos", o.hook_pos}, {"steer_layer", o.steer_layer}, {"seed", o.seed},
                           {"prefill_lengths", o.prefill_lengths}, {"batch_rows", o.batch_rows}, {"router_items", o.router_items}}},
              {"backend", {{"n_layers", r.n_layers}, {"hidden", r.hidden}, {"vocab", r.vocab}}},
              {"prefill", t(r.prefill)},
              {"decode", t(r.decode)},
              {"hooks", {{"none", t(r.hooks.none)}, {"none_again", t(r.hooks.none_again)}, {"empty", t(r.hooks.empty)}, {"steer", t(r.hooks.steer)}}}};
    if (r.has_sweep)
        j["sweep"] = {{"forward", t(r.sweep.forward)}, {"sweep", t(r.sweep.sweep)}, {"layers", r.sweep.layers}, {"multipliers", r.sweep.multipliers}};
    json pl = json::array();
    for (const auto& p : r.prefill_lengths) pl.push_back({{"tokens", p.tokens}, {"timing", t(p.timing)}});
    j["prefill_lengths"] = pl;
    json bt = json::array();
    for (const auto& x : r.batched) bt.push_back({{"rows", x.rows}, {"unsteered", t(x.unsteered)}, {"steered", t(x.steered)}});
    j["batched"] = bt;
    json rs = json::array();
    for (const auto& c : r.routers)
        rs.push_back({{"kind", c.kind}, {"items", c.items}, {"dim", c.dim}, {"layers", c.layers}, {"fit", t(c.fit)},
                      {"predict_one", t(c.predict_one)}});
    j["routers"] = rs;
    json figs = json::array();
    for (const auto& f : figures(r)) figs.push_back({{"name", f.name}, {"value", f.value}, {"higher_is_better", f.higher_is_better}});
    j["figures"] = figs;
    return j;
}

}  // namespace w2s::bench
