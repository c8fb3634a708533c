// w2s/eval/w2s_pipeline.hpp — the W2S evaluation of PROTOCOL section 7 on sweep files.
//
// Given the sweep of a behaviour's TRAIN items (vectors fitted on the train variant) and the sweeps of its TEST
// items under one or more test variants (same vectors, same layers), it scores, per test variant:
//   fixed   the layer with the highest mean steerability on train
//   oracle  the per-item best test layer
//   random  a seeded uniform layer per item
//   W2S-<router>@<embedding>  for every router and embedding choice: the router is fitted on the train items'
//           embeddings (standardized on train) and steerability profiles, and picks a layer per test item from its
//           embedding alone. Embeddings: L<block>-<last|mean>, the residual after a block (route::ResidualEmbedding);
//           proj-<last|mean>, the projection of the residual at every swept layer onto that layer's steering vector
//           (route::ProjectionEmbedding; needs PipelineOptions::directions and residuals of every swept layer).
// A test sweep measured in both answer orders also gives the letter diagnostic (eval::LetterDiagnostic).
// Columns of the steerability matrices are the swept layers in sweep order; `PairResult::layer_ids` maps them
// back to block indices.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/eval/eval.hpp"
#include "w2s/route/profiles.hpp"
#include "w2s/route/projection_embedding.hpp"
#include "w2s/route/residual_embedding.hpp"
#include "w2s/route/route.hpp"
#include "w2s/steer/dataset.hpp"
#include "w2s/steer/vector_set.hpp"
#include "w2s/io/sweep_file.hpp"

namespace w2s::eval {

struct EmbeddingChoice {
    int block = 0;                                  ///< the residual's block (not used by the projection)
    route::Pooling pooling = route::Pooling::last;
    bool projection = false;                        ///< the projection embedding instead of the residual at `block`
    [[nodiscard]] std::string name() const {
        return (projection ? std::string("proj") : "L" + std::to_string(block)) + "-" + std::string(route::pooling_name(pooling));
    }
};

/// "L<block>-<last|mean>" (e.g. "L15-last") or "proj-<last|mean>", as EmbeddingChoice::name() writes them;
/// invalid_argument otherwise.
[[nodiscard]] inline EmbeddingChoice parse_embedding_choice(const std::string& e) {
    if (e.rfind("proj-", 0) == 0) return {0, route::parse_pooling(e.substr(5)), true};
    const auto dash = e.find('-');
    if (e.size() < 4 || e[0] != 'L' || dash == std::string::npos || dash < 2)
        throw invalid_argument("embedding '" + e + "': expected L<block>-<last|mean> or proj-<last|mean>");
    int block = 0;
    try {
        std::size_t used = 0;
        block = std::stoi(e.substr(1, dash - 1), &used);
        if (used != dash - 1) throw invalid_argument("");
    } catch (const std::exception&) {
        throw invalid_argument("embedding '" + e + "': the block is not a number");
    }
    return {block, route::parse_pooling(e.substr(dash + 1))};
}

/// A router the evaluation fits and scores, type-erased: its name and a function that fits it on the standardized
/// train embeddings X [n x d] and profiles S [n x layers] and appends one RoutedMethod (the columns it picks) per
/// test embedding matrix. router_entry<R>() makes one for any type R satisfying route::Router, yours included.
struct RouterEntry {
    std::string kind;
    std::function<void(const EmbeddingChoice&, const route::Features& Xtr, const route::Profiles& Str,
                       std::span<const route::Features> Xtests, std::vector<RoutedMethod>& out, std::uint64_t seed)>
        run;
};

template <class R>
[[nodiscard]] RouterEntry router_entry(std::string kind = std::string(R::kind));

struct PipelineOptions {
    std::vector<std::string> routers{"linear", "mlp", "knn", "profile"};  ///< router kinds to evaluate (empty: none)
    std::vector<RouterEntry> custom_routers;  ///< more routers (router_entry<R>()), evaluated after `routers`
    std::vector<EmbeddingChoice> embeddings;  ///< empty: every block stored in the train sweep x {last, mean}
    /// The steering vectors of the swept layers (eval::directions_of), for the proj-* embeddings; with them and
    /// `embeddings` empty, proj-last and proj-mean are evaluated too when the sweep stores every swept layer.
    std::optional<route::Directions> directions;
    std::uint64_t seed = 1;                   ///< router fitting and the random policy
    /// Train-size study: for each n here below the number of train items, the fixed layer and the routers are
    /// also fitted on the first n train items alone (a seeded subset: the split is shuffled) and scored on the
    /// first test sweep; the pair is named "<train variant>[n=<n>]-><test variant>". Vectors stay those of the
    /// whole train split, so the study isolates what the router and the fixed-layer choice get from more items.
    std::vector<std::size_t> train_sizes;
};

using route::order_profiles;  // S of each answer order (route/profiles.hpp)
using route::profiles;        // S [items x swept layers] of a sweep (route/profiles.hpp)

/// The steering vectors of `layers` (each present in `v`) as the directions a vector-bound embedding reads
/// (route::ProjectionEmbedding normalizes them).
[[nodiscard]] inline route::Directions directions_of(const steer::VectorSet& v, const std::vector<int>& layers) {
    route::Directions d;
    d.blocks = layers;
    d.hidden = static_cast<std::size_t>(v.hidden());
    d.rows.reserve(layers.size() * d.hidden);
    for (int l : layers) {
        const auto row = v.at(l);
        d.rows.insert(d.rows.end(), row.begin(), row.end());
    }
    return d;
}

/// Whether a sweep stores the residuals of every block of `d` (what the proj-* embeddings read).
[[nodiscard]] inline bool stores_blocks(const io::SweepHeader& h, const route::Directions& d) {
    return std::all_of(d.blocks.begin(), d.blocks.end(), [&](int b) {
        return std::find(h.embedding_layers.begin(), h.embedding_layers.end(), b) != h.embedding_layers.end();
    });
}

namespace detail {
template <class E>
route::Features embed_records(const io::SweepData& s, const E& emb) {
    route::Features X(static_cast<Eigen::Index>(s.items.size()), static_cast<Eigen::Index>(emb.dim()));
    for (std::size_t i = 0; i < s.items.size(); ++i)
        X.row(static_cast<Eigen::Index>(i)) = emb.embed(route::PromptResiduals::from_record(s.header, s.items[i])).transpose();
    return X;
}
}  // namespace detail

/// X [items x d]: the embedding `e` of every item of a sweep (d = hidden, or the directions' blocks for proj-*;
/// `directions` is needed only for those).
[[nodiscard]] inline route::Features embeddings(const io::SweepData& s, const EmbeddingChoice& e,
                                                const route::Directions* directions = nullptr) {
    if (e.projection) {
        if (!directions) throw invalid_argument("evaluate: embedding " + e.name() + " needs the steering vectors (PipelineOptions::directions)");
        return detail::embed_records(s, route::ProjectionEmbedding(e.pooling, *directions));
    }
    return detail::embed_records(s, route::ResidualEmbedding(e.block, e.pooling, static_cast<std::size_t>(s.header.hidden)));
}

namespace detail {

template <class R>
RoutedMethod routed(const std::string& kind, const EmbeddingChoice& e, const route::Features& Xtr, const route::Profiles& Str,
                    std::span<const route::Features> Xtests, std::vector<RoutedMethod>& per_test, std::uint64_t seed) {
    route::Standardizer st;
    st.fit(Xtr);
    auto standardized = [&](route::Features X) {
        for (Eigen::Index i = 0; i < X.rows(); ++i) st.transform_inplace(std::span<float>(X.row(i).data(), static_cast<std::size_t>(X.cols())));
        return X;
    };
    R r;
    const route::FitStatus status = r.fit(standardized(Xtr), Str, seed);
    std::string note = std::string(route::to_string(status));
    if constexpr (requires { r.cv().best.to_string(); }) note += "; " + r.cv().best.to_string();
    const std::string name = "W2S-" + kind + "@" + e.name();
    for (const auto& X : Xtests) per_test.push_back({name, r.predict(standardized(X)), note});
    return {};
}

}  // namespace detail

template <class R>
RouterEntry router_entry(std::string kind) {
    W2S_REQUIRE_ROUTER(R);
    return {kind, [kind](const EmbeddingChoice& e, const route::Features& Xtr, const route::Profiles& Str,
                         std::span<const route::Features> Xtests, std::vector<RoutedMethod>& out, std::uint64_t seed) {
                (void)detail::routed<R>(kind, e, Xtr, Str, Xtests, out, seed);
            }};
}

/// One behaviour's report: one pair (train variant -> test variant) per test sweep.
[[nodiscard]] inline BehaviourReport evaluate_behaviour(const std::string& behaviour, const io::SweepData& train,
                                                        std::span<const io::SweepData> tests, const PipelineOptions& opt) {
    BehaviourReport b;
    b.behaviour = behaviour;
    const route::Profiles Str = profiles(train);
    std::vector<route::Profiles> Ste;
    for (const auto& t : tests) {
        if (t.header.layers != train.header.layers)
            throw invalid_argument("evaluate: test sweep (" + t.header.variant + ") swept other layers than the train sweep");
        Ste.push_back(profiles(t));
    }
    std::vector<EmbeddingChoice> embs = opt.embeddings;
    if (embs.empty()) {
        for (int blk : train.header.embedding_layers)
            for (auto p : {route::Pooling::last, route::Pooling::mean}) embs.push_back({blk, p});
        if (opt.directions && stores_blocks(train.header, *opt.directions))
            for (auto p : {route::Pooling::last, route::Pooling::mean}) embs.push_back({0, p, true});
    }
    const route::Directions* dirs = opt.directions ? &*opt.directions : nullptr;
    std::vector<RouterEntry> entries;
    for (const auto& kind : opt.routers)
        entries.push_back(route::for_router(kind, []<class R>(std::type_identity<R>) { return router_entry<R>(); }));
    entries.insert(entries.end(), opt.custom_routers.begin(), opt.custom_routers.end());
    // routed[t] = the W2S methods for test sweep t.
    std::vector<std::vector<RoutedMethod>> routed(tests.size());
    if (train.items.size() >= 4) {
        for (const auto& e : embs) {
            const route::Features Xtr = embeddings(train, e, dirs);
            std::vector<route::Features> Xte;
            for (const auto& t : tests) Xte.push_back(embeddings(t, e, dirs));
            for (const auto& entry : entries) {
                std::vector<RoutedMethod> per_test;
                entry.run(e, Xtr, Str, Xte, per_test, opt.seed);
                if (per_test.size() != tests.size())
                    throw shape_error("evaluate: router '" + entry.kind + "' gave " + std::to_string(per_test.size()) + " results for " +
                                      std::to_string(tests.size()) + " test sweeps");
                for (std::size_t t = 0; t < tests.size(); ++t) routed[t].push_back(std::move(per_test[t]));
            }
        }
    }
    for (std::size_t t = 0; t < tests.size(); ++t) {
        PairResult p = evaluate_pair(Str, Ste[t], routed[t], opt.seed, train.header.variant, tests[t].header.variant);
        p.layer_ids = train.header.layers;
        if (tests[t].header.orders == 2) {
            const auto [g, m] = order_profiles(tests[t]);
            p.letter = letter_diagnostic(g, m);
        }
        for (auto& m : p.methods)
            if (m.method == kFixed) m.note = "block " + std::to_string(p.block(p.fixed_layer));
        b.pairs.push_back(std::move(p));
    }
    if (!tests.empty()) {
        PipelineOptions sub = opt;
        sub.train_sizes.clear();
        for (std::size_t n : opt.train_sizes) {
            if (n < 2 || n >= train.items.size()) continue;
            io::SweepData part;
            part.header = train.header;
            part.items.assign(train.items.begin(), train.items.begin() + static_cast<std::ptrdiff_t>(n));
            auto r = evaluate_behaviour(behaviour, part, std::span<const io::SweepData>(tests.data(), 1), sub);
            r.pairs.front().train_variant += "[n=" + std::to_string(n) + "]";
            b.pairs.push_back(std::move(r.pairs.front()));
        }
    }
    return b;
}

/// The evaluation of sweep files: each train sweep with the test sweeps of the same data file (the data path
/// recorded in the headers), one behaviour each. Throws invalid_argument for a train sweep without a test sweep.
[[nodiscard]] inline Report evaluate_sweep_files(const std::vector<std::string>& train_paths, const std::vector<std::string>& test_paths,
                                                 const PipelineOptions& opt) {
    std::map<std::string, std::vector<io::SweepData>> tests;
    for (const auto& t : test_paths) {
        auto d = io::read_sweep(t);
        d.sort();
        tests[d.header.data].push_back(std::move(d));
    }
    Report report;
    report.title = "w2s evaluation";
    report.meta = {{"train", train_paths}, {"test", test_paths}, {"routers", opt.routers}, {"seed", opt.seed}};
    for (const auto& tr : train_paths) {
        auto train = io::read_sweep(tr);
        train.sort();
        const auto it = tests.find(train.header.data);
        if (it == tests.end()) throw invalid_argument(tr + ": no test sweep of the same data (" + train.header.data + ")");
        report.meta["model"] = train.header.model;
        report.behaviours.push_back(evaluate_behaviour(steer::behaviour_name(train.header.data), train, it->second, opt));
    }
    return report;
}

}  // namespace w2s::eval
