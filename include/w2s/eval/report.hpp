// w2s/eval/report.hpp — the evaluation report: several behaviours x several (train variant -> test variant)
// pairs x several methods (fixed, oracle, random, W2S-linear, W2S-mlp, ...).
//
//   Report
//   └─ BehaviourReport  (one per behaviour, e.g. "corrigible-neutral-HHH")
//      └─ PairResult    (one per pair: vectors/routers fitted on `train_variant`, tested on `test_variant`;
//         │              name() = "BASE->BASE" in distribution, "BASE->SYS.POS" etc. out of distribution)
//         ├─ MethodResult  (one per method: score on the test split + gap closed)
//         ├─ BestLayerStats (where the per-item best test layers lie relative to the fixed layer)
//         └─ LayerSpread    (steerability against layer over the test items: mean, std, quartiles)
//
// evaluate_pair() fills one PairResult from a train sweep S_train [n_train x L] and a test sweep
// S_test [n_test x L] plus any routed layer choices; it always adds "fixed", "oracle" and "random" first.
// averages() averages every (pair, method) over the behaviours that have it; its gap closed is computed from the
// averaged means, (avg_m - avg_fixed) / (avg_oracle - avg_fixed), not as a mean of ratios (which explodes when one
// behaviour's oracle barely beats its fixed layer).
// JSON, Markdown and SVG writers: w2s/eval/report_io.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/eval/metrics.hpp"
#include "w2s/steer/letter.hpp"
#include "w2s/steer/reply.hpp"

namespace w2s::eval {

using steer::LetterDiagnostic;
using steer::letter_diagnostic;

/// Method names evaluate_pair() always reports.
inline constexpr std::string_view kFixed = "fixed", kOracle = "oracle", kRandom = "random";

struct MethodResult {
    std::string method;  // "fixed", "oracle", "random", "W2S-linear", ...
    PolicyScore score;
    double gap_closed = std::numeric_limits<double>::quiet_NaN();  // NaN: undefined (oracle == fixed)
    std::string note;    // free text: hyperparameters chosen, fit status, ...
};

struct PairResult {
    std::string train_variant = "BASE";
    std::string test_variant = "BASE";
    std::size_t n_train = 0;
    std::size_t n_test = 0;
    int layers = 0;        // L
    int fixed_layer = -1;  // chosen on train (a column index of S)
    std::vector<int> layer_ids;  // [L] block index of each column of S (empty: column l is block l)
    std::vector<MethodResult> methods;
    BestLayerStats best_layers;  // on the test split
    LayerSpread spread;          // on the test split
    LetterDiagnostic letter;     // on the test split, when it was measured in both answer orders
    steer::ReplyDiagnostic reply;  // on the test split's (prompt, pair) cells, when prompts have several reply pairs

    [[nodiscard]] std::string name() const { return train_variant + "->" + test_variant; }
    /// Block index of column `col` of S.
    [[nodiscard]] int block(int col) const {
        return layer_ids.empty() || col < 0 || static_cast<std::size_t>(col) >= layer_ids.size() ? col : layer_ids[static_cast<std::size_t>(col)];
    }
    /// The method called `m`, or nullptr.
    [[nodiscard]] const MethodResult* find(std::string_view m) const {
        for (const auto& r : methods)
            if (r.method == m) return &r;
        return nullptr;
    }
};

struct BehaviourReport {
    std::string behaviour;
    std::vector<PairResult> pairs;
};

struct Report {
    std::string title = "w2s evaluation";
    nlohmann::json meta = nlohmann::json::object();  // model, data, settings, command line, ...
    std::vector<BehaviourReport> behaviours;
};

/// A routed layer choice to add to a pair: layers [n_test].
struct RoutedMethod {
    std::string name;
    Layers layers;
    std::string note;
};

/// Scores fixed (from S_train), oracle, random (seeded) and every routed choice on S_test.
[[nodiscard]] inline PairResult evaluate_pair(const ProfilesRef& S_train, const ProfilesRef& S_test,
                                              std::span<const RoutedMethod> routed, std::uint64_t seed,
                                              std::string train_variant = "BASE", std::string test_variant = "BASE") {
    if (S_train.cols() != S_test.cols())
        throw shape_error("eval::evaluate_pair: train sweep has " + std::to_string(S_train.cols()) +
                          " layers, test sweep " + std::to_string(S_test.cols()) + "; expected the same layers");
    if (S_test.rows() < 1) throw invalid_argument("eval::evaluate_pair: empty test sweep");
    PairResult p;
    p.train_variant = std::move(train_variant);
    p.test_variant = std::move(test_variant);
    p.n_train = static_cast<std::size_t>(S_train.rows());
    p.n_test = static_cast<std::size_t>(S_test.rows());
    p.layers = static_cast<int>(S_test.cols());
    p.fixed_layer = fixed_layer(S_train);
    const Eigen::Index n = S_test.rows();
    const PolicyScore fixed = score(S_test, constant_layers(n, p.fixed_layer));
    const PolicyScore oracle = score(S_test, oracle_layers(S_test));
    auto add = [&](std::string name, const PolicyScore& s, std::string note) {
        p.methods.push_back({std::move(name), s,
                             gap_closed(s.mean_steerability, fixed.mean_steerability, oracle.mean_steerability),
                             std::move(note)});
    };
    add(std::string(kFixed), fixed, "layer " + std::to_string(p.fixed_layer));
    add(std::string(kOracle), oracle, "");
    add(std::string(kRandom), score(S_test, random_layers(n, p.layers, seed)), "seed " + std::to_string(seed));
    for (const auto& r : routed) {
        try {
            add(r.name, score(S_test, r.layers), r.note);
        } catch (const error& e) {
            rethrow_with_context(e, "eval::evaluate_pair: method " + r.name);
        }
    }
    p.best_layers = best_layer_stats(S_test, p.fixed_layer);
    p.spread = layer_spread(S_test);
    return p;
}

/// One row of the behaviour-averaged table.
struct AverageRow {
    std::string pair;    // "BASE->SYS.POS"
    std::string method;  // "W2S-linear"
    double mean_steerability = 0.0;
    double fraction_steerable = 0.0;
    double gap_closed = std::numeric_limits<double>::quiet_NaN();
    std::size_t behaviours = 0;  // how many behaviours contributed
};

/// Pair names in first-seen order over all behaviours.
[[nodiscard]] inline std::vector<std::string> pair_names(const Report& r) {
    std::vector<std::string> out;
    for (const auto& b : r.behaviours)
        for (const auto& p : b.pairs)
            if (std::find(out.begin(), out.end(), p.name()) == out.end()) out.push_back(p.name());
    return out;
}

/// Averages over behaviours, per (pair, method), pairs and methods in first-seen order. A behaviour contributes
/// to a method's average only where it has that method; the gap closed uses the fixed and oracle averages over
/// the same behaviours.
[[nodiscard]] inline std::vector<AverageRow> averages(const Report& r) {
    std::vector<AverageRow> out;
    for (const std::string& pn : pair_names(r)) {
        std::vector<std::string> methods;
        for (const auto& b : r.behaviours)
            for (const auto& p : b.pairs)
                if (p.name() == pn)
                    for (const auto& m : p.methods)
                        if (std::find(methods.begin(), methods.end(), m.method) == methods.end())
                            methods.push_back(m.method);
        for (const std::string& mn : methods) {
            AverageRow a;
            a.pair = pn;
            a.method = mn;
            double fixed = 0.0, oracle = 0.0;
            for (const auto& b : r.behaviours)
                for (const auto& p : b.pairs) {
                    if (p.name() != pn) continue;
                    const MethodResult* m = p.find(mn);
                    const MethodResult* f = p.find(kFixed);
                    const MethodResult* o = p.find(kOracle);
                    if (!m || !f || !o) continue;
                    a.mean_steerability += m->score.mean_steerability;
                    a.fraction_steerable += m->score.fraction_steerable;
                    fixed += f->score.mean_steerability;
                    oracle += o->score.mean_steerability;
                    ++a.behaviours;
                }
            if (a.behaviours == 0) continue;
            const double k = static_cast<double>(a.behaviours);
            a.mean_steerability /= k;
            a.fraction_steerable /= k;
            a.gap_closed = gap_closed(a.mean_steerability, fixed / k, oracle / k);
            out.push_back(std::move(a));
        }
    }
    return out;
}

}  // namespace w2s::eval
