// w2s/eval/protocol.hpp — the whole protocol for one behaviour, from a data file to its report.
//
//   w2s::eval::ProtocolOptions opt;                       // mirrored A/B orders, CAA, BASE, all routers
//   auto tmpl = w2s::text::select_template(model, "auto");
//   auto rep  = w2s::eval::run_behaviour(model, tmpl, "corrigibility.jsonl", "out/corrigibility", opt, pool);
//
// Steps (PROTOCOL.md sections 1-7, with the project's two extensions):
//  1. load the items (A/B: CAA JSON / MWE JSONL; free-text contrast pairs: JSONL {prompt, positive, negative}),
//     the seeded 50/50 split, optional seeded subsets (max_train / max_test: the first items of each shuffled half);
//  2. tokenize: train under BASE, test under every requested variant; A/B items in both answer orders unless
//     `tokenize.orders == as_given` (steer::Orders); free-text pairs score log-probabilities (steer::Scoring);
//  3. vectors at every swept layer from the train items (the estimator named by `estimator`; with two orders
//     the mean over both, so the answer letter cancels);
//  4. the sweep of the train items (BASE) and of the test items under each variant (sweep::run_sweep);
//  5. routers on the train sweep, the evaluation per test variant (evaluate_behaviour): fixed, oracle, random,
//     W2S per router x embedding (the residual at each embedding block, last token and mean; with `projection`
//     the projection onto the vectors, proj-last and proj-mean), and the letter diagnostic where both orders
//     were measured.
// Free-text prompts with several reply pairs ({prompt, pairs: [...]}): the split is by prompt; vectors come from
// every pair; steps 4-5 sweep every (prompt, pair) cell, and the routers and scores see the prompt level (the mean
// over a prompt's pairs, eval/pairs.hpp); the report's reply diagnostic comes from the test cells.
// Every step's product is a file in `dir` named by the settings that produced it (orders, estimator, position,
// train size), so a rerun resumes where an interrupted one stopped and never mixes the products of other
// settings: vectors_<tag>.gguf, train_BASE_<tag>.w2ssweep, test_<VARIANT>_<tag>.w2ssweep (the sweeps' tag ends in
// "-proj" when they store every swept layer's residuals for the projection embedding).
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/progress.hpp"
#include "w2s/eval/pairs.hpp"
#include "w2s/eval/w2s_pipeline.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/steer/activations.hpp"
#include "w2s/steer/control_vector.hpp"
#include "w2s/steer/dataset.hpp"
#include "w2s/steer/estimators.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/sweep/engine.hpp"

namespace w2s::eval {

struct ProtocolOptions {
    std::vector<steer::Variant> variants{steer::Variant::base};  ///< test variants (vectors and routers fit on BASE)
    std::size_t max_train = 0, max_test = 0;  ///< at most this many items per split (0 = all)
    steer::TokenizeOptions tokenize;          ///< answer orders; free-text scoring and activation position
    std::string estimator = "mean";           ///< "mean" (CAA), "pca" or "probe" (steer::for_estimator)
    std::vector<int> layers;                  ///< swept layers (empty: 1..L-1, every layer a control vector expresses)
    std::vector<int> embedding_blocks;        ///< blocks whose residuals embed prompts (empty: L/3, L/2, 2L/3)
    /// Also the projection embeddings proj-last / proj-mean (the prompt's residual at each swept layer projected
    /// onto that layer's vector, route::ProjectionEmbedding): the sweeps then store the residuals of every swept
    /// layer too (their files are tagged "-proj").
    bool projection = true;
    PipelineOptions pipeline;                 ///< routers, embeddings, seed
    std::string personas;                     ///< persona_prompts.json (empty: found beside the data)
    std::string model_name;                   ///< recorded in the sweep headers
    std::uint64_t split_seed = steer::kSplitSeed;
};

/// The seeded split of a data file with the subsets of `opt` applied.
[[nodiscard]] inline steer::Split load_split(const std::string& data, const ProtocolOptions& opt) {
    auto split = steer::split_items(steer::load_items(data), opt.split_seed);
    if (opt.max_train && split.train.size() > opt.max_train) split.train.resize(opt.max_train);
    if (opt.max_test && split.test.size() > opt.max_test) split.test.resize(opt.max_test);
    if (split.train.size() < 2 || split.test.empty())
        throw invalid_argument(data + ": " + std::to_string(split.train.size()) + " train and " + std::to_string(split.test.size()) +
                               " test items after the split; the protocol needs at least 2 and 1");
    return split;
}

/// The file-name tag of a run's products: what changes them (orders, estimator, position, scoring, train size).
[[nodiscard]] inline std::string product_tag(const ProtocolOptions& opt, steer::ItemKind kind, std::size_t n_train) {
    std::string t;
    if (kind == steer::ItemKind::ab) t = std::string(steer::orders_name(opt.tokenize.orders));
    else
        t = "free-" + std::string(steer::read_at_name(opt.tokenize.free_text_read)) + "-" +
            std::string(steer::scoring_name(opt.tokenize.free_text_scoring));
    return t + "_" + opt.estimator + "_n" + std::to_string(n_train);
}

/// Runs the protocol for the behaviour in `data` (see the file comment); products go to `dir` (created).
template <class B, steer::PromptTemplate T>
BehaviourReport run_behaviour(const B& model, const T& tmpl, const std::string& data, const std::filesystem::path& dir,
                              const ProtocolOptions& opt, ThreadPool& pool, const ProgressFn& progress = {}) {
    static_assert(model::check_backend<B>());
    namespace fs = std::filesystem;
    const int L = model.n_layers();
    // Everything that can be checked is checked before any work.
    std::vector<int> emb_blocks = opt.embedding_blocks;
    if (emb_blocks.empty()) emb_blocks = {L / 3, L / 2, 2 * L / 3};
    for (int b : emb_blocks)
        if (b < 0 || b >= L) throw invalid_argument("embedding block " + std::to_string(b) + " out of range 0.." + std::to_string(L - 1));
    for (int l : opt.layers)
        if (l < 1 || l >= L) throw invalid_argument("swept layer " + std::to_string(l) + " out of range 1.." + std::to_string(L - 1));
    for (const auto& r : opt.pipeline.routers) route::for_router(r, [](auto) {});
    steer::for_estimator(opt.estimator, [](auto) {});
    std::optional<steer::PersonaPrompts> personas;
    for (auto v : opt.variants)
        if (v != steer::Variant::base && !personas) personas = steer::find_persona_prompts(data, opt.personas);

    const std::string beh = steer::behaviour_name(data);
    const auto split = load_split(data, opt);
    const steer::ItemKind kind = split.train.front().kind;
    if (personas) (void)personas->at(beh);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw io_error(dir.string() + ": cannot create the output folder: " + ec.message());
    const auto& tok = model.tokenizer();
    // Free-text prompts with several reply pairs: one sweep cell per (prompt, pair), averaged to the prompt level
    // (eval/pairs.hpp) for the routers and the scores; the cells feed the reply diagnostic.
    bool multi_pair = false;
    for (const auto* part : {&split.train, &split.test})
        for (const auto& it : *part) multi_pair = multi_pair || it.pairs.size() > 1;
    const auto train_items = steer::expand_pairs(split.train);  // single-pair items pass unchanged
    const auto test_items = steer::expand_pairs(split.test);
    auto groups_of = [](const std::vector<steer::Item>& items) {
        std::vector<std::size_t> g;
        for (const auto& it : items) g.push_back(it.index);  // the record: one per prompt
        return g;
    };
    const auto train_groups = groups_of(train_items), test_groups = groups_of(test_items);
    const auto test_templates = steer::reply_template_ids(test_items);
    const std::string tag = product_tag(opt, kind, split.train.size()) + (multi_pair ? "-cells" + std::to_string(train_items.size()) : "");
    const auto train = steer::tokenize_items(tok, tmpl, train_items, steer::Variant::base, nullptr, opt.tokenize);

    // Vectors on train (BASE).
    steer::VectorSet vectors;
    const std::string vec_path = (dir / ("vectors_" + tag + ".gguf")).string();
    // What the vectors are made from: the model's contents, the train items' token ids (split, subset, seed,
    // template, data), the estimator and the layers. A vectors file in the folder is reused only when it was made
    // from the same.
    Fingerprint source;
    const std::string model_fp = sweep::model_fingerprint(model);
    source.add(std::string_view(model_fp)).add(steer::fingerprint_of(train)).add(std::string_view(opt.estimator)).add(std::span<const int>(opt.layers));
    if (fs::exists(vec_path)) {
        vectors = steer::load_control_vector(vec_path, L);
        if (vectors.source != source.hex())
            throw invalid_argument(vec_path + " was made from other inputs (source " + (vectors.source.empty() ? "unrecorded" : vectors.source) +
                                   ", this run " + source.hex() + ": another model, train split, seed, subset, prompt template, data file or "
                                   "estimator); remove the folder's products or use another output folder");
    } else {
        steer::ExtractOptions eo;
        eo.layers = opt.layers;
        vectors = steer::for_estimator(opt.estimator, [&]<class E>(std::type_identity<E>) {
            return steer::extract_vectors(model, train, E{}, eo, pool, progress).vectors;
        });
        vectors.source = source.hex();
        steer::save_control_vector(vectors, vec_path);  // whole or not at all (gguf::Writer::write)
    }
    sweep::SweepOptions so;
    so.layers = opt.layers;
    so.embedding_layers = emb_blocks;
    so = sweep::resolve_options(model, vectors, so);
    PipelineOptions popt = opt.pipeline;
    std::string sweep_tag = tag;
    if (opt.projection) {
        if (popt.embeddings.empty()) {  // the residual blocks as before, then the projections
            for (int b : emb_blocks)
                for (auto p : {route::Pooling::last, route::Pooling::mean}) popt.embeddings.push_back({b, p});
            for (auto p : {route::Pooling::last, route::Pooling::mean}) popt.embeddings.push_back({0, p, true});
        }
        popt.directions = directions_of(vectors, so.layers);
        for (int l : so.layers)
            if (std::find(so.embedding_layers.begin(), so.embedding_layers.end(), l) == so.embedding_layers.end()) so.embedding_layers.push_back(l);
        std::sort(so.embedding_layers.begin(), so.embedding_layers.end());
        sweep_tag += "-proj";
    }
    auto sweep_of = [&](const std::vector<steer::TokenizedItem>& items, const std::string& split_name, steer::Variant v) {
        const std::string vname(steer::variant_name(v));
        auto h = sweep::make_header(model, so, opt.model_name, data, vname, vec_path);
        h.settings = {{"split", split_name}, {"items", split_name == "train" ? split.train.size() : split.test.size()},
                      {"split_seed", opt.split_seed}, {"estimator", opt.estimator}};
        if (multi_pair) h.settings["cells"] = split_name == "train" ? train_items.size() : test_items.size();
        return sweep::run_sweep(model, items, vectors, so, h, (dir / (split_name + "_" + vname + "_" + sweep_tag + ".w2ssweep")).string(),
                                pool, progress);
    };
    auto train_sweep = sweep_of(train, "train", steer::Variant::base);
    if (multi_pair) train_sweep = prompt_level(train_sweep, train_groups);
    std::vector<io::SweepData> tests;
    std::vector<steer::ReplyDiagnostic> replies;
    for (auto v : opt.variants) {
        const auto test = steer::tokenize_items(tok, tmpl, test_items, v, personas ? &*personas : nullptr, opt.tokenize);
        auto cells = sweep_of(test, "test", v);
        if (multi_pair) {
            replies.push_back(reply_diagnostic_of(cells, test_groups, test_templates));
            cells = prompt_level(cells, test_groups);
        }
        tests.push_back(std::move(cells));
    }
    auto report = evaluate_behaviour(beh, train_sweep, tests, popt);
    for (std::size_t t = 0; t < replies.size() && t < report.pairs.size(); ++t) report.pairs[t].reply = std::move(replies[t]);
    return report;
}

/// The settings of a protocol run as report metadata.
[[nodiscard]] inline nlohmann::json protocol_meta(const ProtocolOptions& opt) {
    std::vector<std::string> variants;
    for (auto v : opt.variants) variants.emplace_back(steer::variant_name(v));
    return {{"variants", variants},
            {"max_train", opt.max_train},
            {"max_test", opt.max_test},
            {"orders", std::string(steer::orders_name(opt.tokenize.orders))},
            {"free_text_scoring", std::string(steer::scoring_name(opt.tokenize.free_text_scoring))},
            {"free_text_position", std::string(steer::read_at_name(opt.tokenize.free_text_read))},
            {"estimator", opt.estimator},
            {"layers", opt.layers},
            {"embedding_blocks", opt.embedding_blocks},
            {"projection", opt.projection},
            {"routers", opt.pipeline.routers},
            {"router_train_sizes", opt.pipeline.train_sizes},
            {"split_seed", opt.split_seed},
            {"seed", opt.pipeline.seed}};
}

}  // namespace w2s::eval
