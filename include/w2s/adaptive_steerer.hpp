// w2s/adaptive_steerer.hpp — W2S composed: per-prompt layer choice, then steering at that layer.
//
//   using Steerer = w2s::AdaptiveSteerer<w2s::model::LlamaModel>;          // ProfileCV router, residual embedding
//   Steerer s(model);                           // options: AdaptiveOptions (layers, embedding, prompt format, ...)
//   s.fit(train_items, pool);                   // vectors (CAA by default) at every candidate layer, the sweep, the router
//   int l = s.choose_layer("user message");     // the layer W2S picks for this prompt (formatted as fit formatted its own)
//   auto out = s.generate("user message", /*alpha=*/1.0f, {});   // steered generation at that layer
//   s.save("bundle/");  auto t = Steerer::load(model, "bundle/");
//   w2s::with_bundle(model, "bundle/", [&](const auto& t) { ... });   // any bundle of residual embedding, whatever its router
//
// Policy slots, in the order users change them (each checked by its concept with a written message):
//   Router     w2s::route::Router          — embedding -> layer (class parameter: LinearCV, MlpCV, KnnCV, ProfileCV, yours)
//   Embedding  w2s::route::PromptEmbedding — prompt -> vector (class parameter, default route::ResidualEmbedding: the
//                                            model's residual after block `embedding_block`, at the last prompt token
//                                            or averaged over the prompt, captured from the unsteered pass over the
//                                            prompt that steering runs anyway: no extra forward pass). Yours may read
//                                            the prompt's ids as well (input_type route::PromptInput); it is handed to
//                                            the constructor and again to load(). An embedding may read the steering
//                                            vectors (route::VectorBoundEmbedding: bind(Directions), blocks()), e.g.
//                                            route::ProjectionEmbedding, the projection of the prompt's residual at
//                                            each candidate layer onto that layer's vector: fit binds it to the vectors
//                                            it makes, load to the bundle's, and the residuals of blocks() are what
//                                            the sweep stores and the steerer captures. One with settings() /
//                                            from_settings() has them recorded in the bundle and restored on load.
//   Estimator  w2s::steer::Estimator       — how vectors are made: an argument of fit() (MeanDifference = CAA by
//                                            default, PCA, LogisticProbe); the bundle records which one made them
//   Backend    w2s::model::Backend         — the transformer (w2s/model/backend.hpp)
// Whatever the embedding, its vectors are standardized with statistics fitted on train before the router sees them.
// Aliases for the common combinations: w2s::ProfileSteerer<B> (the default), KnnSteerer<B>, LinearSteerer<B>, MlpSteerer<B>,
// ProjectionSteerer<B> (ProfileCV on route::ProjectionEmbedding).
//
// Prompts: the steerer owns one text::PromptFormat (chat format + system prompt; AdaptiveOptions::format). fit()
// on raw items, choose_layer(text) and generate(text) all format with it, and the bundle stores it, so a prompt is
// always routed in the format the router was trained on. The id-level calls (fit on TokenizedItems,
// choose_layer / generate on ids) are for callers who format prompts themselves and take that on.
//
// A bundle is a folder: vectors.gguf (llama.cpp control vector: direction.N is added to the output of block N),
// router.bin (standardizer + router, versioned), bundle.json (format version, settings, prompt format, candidate
// layers, embedding kind). Version 2 added the prompt format, version 3 the embedding kind; version 1 bundles load
// with the protocol's default format, versions 1 and 2 as residual-embedding bundles.
#pragma once

#include <algorithm>
#include <concepts>
#include <filesystem>
#include <optional>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/durable.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/core/progress.hpp"
#include "w2s/io/json_fields.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/generate.hpp"
#include "w2s/route/embedding.hpp"
#include "w2s/route/profiles.hpp"
#include "w2s/route/projection_embedding.hpp"
#include "w2s/route/residual_embedding.hpp"
#include "w2s/route/route.hpp"
#include "w2s/steer/activations.hpp"
#include "w2s/steer/apply.hpp"
#include "w2s/steer/control_vector.hpp"
#include "w2s/steer/estimators.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/eval/pairs.hpp"
#include "w2s/eval/w2s_pipeline.hpp"
#include "w2s/sweep/engine.hpp"
#include "w2s/text/prompt_format.hpp"

namespace w2s {

inline constexpr int kBundleVersion = 3;

struct AdaptiveOptions {
    std::vector<int> layers;            ///< candidate layers (empty: every layer the vector set has, 1..L-1)
    std::vector<double> multipliers{steer::kMultipliers.begin(), steer::kMultipliers.end()};
    int embedding_block = -1;           ///< block whose residual embeds the prompt (-1, and only -1: the middle block, L/2)
    route::Pooling pooling = route::Pooling::last;
    std::uint64_t seed = 1;             ///< router fitting seed
    /// How a user message becomes prompt ids: the model's chat template and the protocol's default system
    /// prompt, as the evaluation formats its items (steer::make_turns). A base model needs {"plain", ...}.
    text::PromptFormat format{"auto", std::string(steer::kDefaultSystemPrompt)};
    /// Where the train items came from, recorded in the sweep header and the bundle (free text, optional).
    std::string model_name, data_name, variant_name;
};

/// How fit() on raw items turns them into prompts (beyond the steerer's prompt format).
struct ItemFitOptions {
    /// Answer orders; free-text scoring and activation position. tokenize.parse_special should match the
    /// steerer's format.parse_special, so that a prompt is routed as its train prompts were encoded.
    steer::TokenizeOptions tokenize;
    steer::Variant variant = steer::Variant::base;  ///< prompt variant of the train prompts (non-BASE: needs personas)
    const steer::PersonaPrompts* personas = nullptr;
};

struct FitSummary {
    std::size_t n_items = 0;
    std::vector<int> layers;            ///< candidate layers (router column c = layers[c])
    int fixed_layer = -1;               ///< best fixed layer on train (mean steerability)
    double fixed_mean = 0.0;            ///< its mean steerability on train
    route::FitStatus router_status = route::FitStatus::success;
};

namespace detail {
/// The name a bundle records for an embedding type: its `kind`, or "user" for a type that names none.
template <class Emb>
constexpr std::string_view embedding_kind() {
    if constexpr (requires { Emb::kind; })
        return Emb::kind;
    else
        return "user";
}
}  // namespace detail

template <class B, class R = route::DefaultRouter, class Emb = route::ResidualEmbedding>
class AdaptiveSteerer {
    static_assert(model::check_backend<B>());
    W2S_REQUIRE_ROUTER(R);
    W2S_REQUIRE_PROMPT_EMBEDDING(Emb);
    static constexpr bool kResidual = std::same_as<Emb, route::ResidualEmbedding>;
    static constexpr bool kNeedsIds = std::same_as<typename Emb::input_type, route::PromptInput>;
    static constexpr bool kBound = route::VectorBoundEmbedding<Emb>;
    static constexpr bool kSettings = requires(const Emb e) {
        { e.settings() } -> std::convertible_to<std::string>;
    };

public:
    using backend_type = B;
    using router_type = R;
    using embedding_type = Emb;

    /// The router arrives built (or default-constructed); the backend must outlive the steerer. The embedding is
    /// ResidualEmbedding(opts.embedding_block, opts.pooling), or a default-constructed Emb for another type.
    explicit AdaptiveSteerer(const B& backend, R router = {}, AdaptiveOptions opts = {})
        requires(kResidual || std::default_initializable<Emb>)
        : AdaptiveSteerer(backend, std::move(router), std::move(opts), std::nullopt) {}

    /// With an embedding of one's own (for ResidualEmbedding, opts.embedding_block and opts.pooling follow it).
    AdaptiveSteerer(const B& backend, R router, AdaptiveOptions opts, Emb embedding)
        : AdaptiveSteerer(backend, std::move(router), std::move(opts), std::optional<Emb>(std::move(embedding))) {}

private:
    AdaptiveSteerer(const B& backend, R router, AdaptiveOptions opts, std::optional<Emb> embedding)
        : backend_(&backend), router_(std::move(router)), opts_(std::move(opts)) {
        if constexpr (kResidual) {
            if (embedding) {
                opts_.embedding_block = embedding->block();
                opts_.pooling = embedding->pooling();
            }
        }
        // Every option is checked here, before any work.
        const int L = backend.n_layers();
        if (opts_.embedding_block == -1) opts_.embedding_block = L / 2;
        if (opts_.embedding_block < 0 || opts_.embedding_block >= L)
            throw invalid_argument("AdaptiveSteerer: embedding block " + std::to_string(opts_.embedding_block) + " out of range 0.." +
                                   std::to_string(L - 1) + " (-1 chooses the middle block)");
        for (int l : opts_.layers)
            if (l < 1 || l >= L)
                throw invalid_argument("AdaptiveSteerer: candidate layer " + std::to_string(l) + " out of range 1.." + std::to_string(L - 1) +
                                       " (block 0 cannot be written to a control vector)");
        if (opts_.multipliers.size() < 2) throw invalid_argument("AdaptiveSteerer: need at least two multipliers");
        for (double m : opts_.multipliers) steer::check_multiplier(m, "AdaptiveSteerer: multiplier");
        if constexpr (kResidual)
            emb_ = route::ResidualEmbedding(opts_.embedding_block, opts_.pooling, static_cast<std::size_t>(backend.hidden_size()));
        else
            emb_ = embedding ? std::move(*embedding) : Emb{};
        if (!kBound && emb_.dim() == 0) throw invalid_argument("AdaptiveSteerer: the embedding has dim() = 0");
    }

    /// The blocks whose prompt residuals the embedding reads: a vector-bound embedding's blocks() (once bound),
    /// else the embedding block.
    [[nodiscard]] std::vector<int> residual_blocks() const {
        if constexpr (kBound)
            return emb_.blocks();
        else
            return {opts_.embedding_block};
    }
    /// Binds a vector-bound embedding to the vectors of `layers` (nothing for other embeddings).
    void bind_embedding(const steer::VectorSet& v, const std::vector<int>& layers) {
        if constexpr (kBound) {
            emb_.bind(eval::directions_of(v, layers));
            if (emb_.dim() == 0) throw invalid_argument("AdaptiveSteerer: the embedding has dim() = 0 after binding the vectors");
        } else {
            (void)v;
            (void)layers;
        }
    }

    /// The sweep of the train items at `layers` with the steerer's multipliers, storing the embedding block.
    io::SweepData sweep_train(std::span<const steer::TokenizedItem> train, const steer::VectorSet& vectors, const std::vector<int>& layers,
                              ThreadPool& pool, const ProgressFn& progress) const {
        sweep::SweepOptions so;
        so.layers = layers;
        so.multipliers = opts_.multipliers;
        so.embedding_layers = residual_blocks();
        so = sweep::resolve_options(*backend_, vectors, so);
        auto header = sweep::make_header(*backend_, so, opts_.model_name, opts_.data_name, opts_.variant_name, "");
        return sweep::run_sweep(*backend_, train, vectors, so, header, "", pool, progress);
    }
    /// How many cells steer::expand_pairs makes of an item.
    static std::size_t expand_count(const steer::Item& it) {
        return it.kind == steer::ItemKind::free_text && it.pairs.size() > 1 ? it.pairs.size() : 1;
    }

public:

    /// Everything from train items (token ids, formatted by the caller): vectors at every candidate layer made by
    /// `estimator`, the sweep, the router.
    template <class E = steer::MeanDifference>
    FitSummary fit(std::span<const steer::TokenizedItem> train, ThreadPool& pool, const ProgressFn& progress = {}, const E& estimator = {}) {
        static_assert(steer::check_estimator<E>());
        if (steer::count_items(train) < 2)
            throw invalid_argument("AdaptiveSteerer::fit: need at least 2 train items, got " + std::to_string(steer::count_items(train)));
        steer::ExtractOptions eo;
        eo.layers = opts_.layers;
        auto ext = steer::extract_vectors(*backend_, train, estimator, eo, pool, progress);
        bind_embedding(ext.vectors, ext.layers);
        const auto sw = sweep_train(train, ext.vectors, ext.layers, pool, progress);
        return fit(std::move(ext.vectors), sw, train);
    }

    /// Everything from raw items (A/B or free text), formatted with the steerer's prompt format: its system prompt
    /// where an item brings none, the BASE variant and both answer orders for A/B items unless `io` says otherwise.
    /// Needs a backend with a tokenizer and chat templates (text::select_template's requirements).
    template <class E = steer::MeanDifference>
    FitSummary fit(std::span<const steer::Item> train, ThreadPool& pool, const ProgressFn& progress = {}, const E& estimator = {},
                   const ItemFitOptions& io = {}) {
        std::vector<steer::Item> items(train.begin(), train.end());
        for (auto& it : items)
            if (it.system.empty()) it.system = opts_.format.system;
        const text::ChatTemplate t = text::select_template(*backend_, opts_.format.tmpl);
        // Free-text prompts with several reply pairs (issue "Whose layer is it"): every (prompt, pair) cell makes
        // the vectors and is swept; the router learns each prompt's steerability, the mean over its pairs
        // (eval::prompt_level), since a prompt is what it routes. Other items are one cell each.
        const auto cells = steer::expand_pairs(items);  // record order, then pair order
        if (cells.size() == items.size()) {
            const auto tok = steer::tokenize_items(backend_->tokenizer(), t, items, io.variant, io.personas, io.tokenize);
            return fit(std::span<const steer::TokenizedItem>(tok), pool, progress, estimator);
        }
        if (items.size() < 2)
            throw invalid_argument("AdaptiveSteerer::fit: need at least 2 train items, got " + std::to_string(items.size()));
        std::vector<std::size_t> prompt_of;  // [cells] the prompt (position in `train`) of each cell
        for (std::size_t j = 0; j < items.size(); ++j)
            prompt_of.insert(prompt_of.end(), std::max<std::size_t>(1, expand_count(items[j])), j);
        const auto tok = steer::tokenize_items(backend_->tokenizer(), t, cells, io.variant, io.personas, io.tokenize);
        steer::ExtractOptions eo;
        eo.layers = opts_.layers;
        auto ext = steer::extract_vectors(*backend_, std::span<const steer::TokenizedItem>(tok), estimator, eo, pool, progress);
        bind_embedding(ext.vectors, ext.layers);
        const auto sw = sweep_train(std::span<const steer::TokenizedItem>(tok), ext.vectors, ext.layers, pool, progress);
        const auto prompts = eval::prompt_level(sw, prompt_of);  // record g = prompt g
        std::vector<steer::TokenizedItem> views;  // one per prompt (its first cell's), item = the prompt, for embeddings that read ids
        for (const auto& v : tok)
            if (views.size() == prompt_of[v.item] && v.order == 0) {
                views.push_back(v);
                views.back().item = prompt_of[v.item];
            }
        return fit(std::move(ext.vectors), prompts, std::span<const steer::TokenizedItem>(views));
    }

    /// From precomputed pieces: a vector set and the sweep of the train items made with it. `train` (the items the
    /// sweep was run on; record r's prompt is the first entry with item == r.item) is needed only by an embedding
    /// that reads prompt ids.
    FitSummary fit(steer::VectorSet vectors, const io::SweepData& train_sweep, std::span<const steer::TokenizedItem> train = {}) {
        const auto& h = train_sweep.header;
        if (train_sweep.items.size() < 2) throw invalid_argument("AdaptiveSteerer::fit: need at least 2 swept items");
        if (kNeedsIds && train.empty())
            throw invalid_argument("AdaptiveSteerer::fit: this embedding reads prompt ids; pass the swept train items");
        for (int l : h.layers) (void)vectors.at(l);
        bind_embedding(vectors, h.layers);
        for (int b : residual_blocks())
            if (std::find(h.embedding_layers.begin(), h.embedding_layers.end(), b) == h.embedding_layers.end())
                throw invalid_argument("AdaptiveSteerer::fit: the sweep stores no residuals of block " + std::to_string(b) +
                                       ", which the embedding reads");
        vectors_ = std::move(vectors);
        layers_ = h.layers;
        const std::size_t n = train_sweep.items.size();
        const route::Profiles S = route::profiles(train_sweep);  // [n x layers]
        route::Features X(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(emb_.dim()));
        for (std::size_t i = 0; i < n; ++i) {
            const auto& r = train_sweep.items[i];
            const auto res = route::PromptResiduals::from_record(h, r);
            std::span<const model::token_id> ids;
            if (kNeedsIds) {
                const auto it = std::find_if(train.begin(), train.end(), [&](const steer::TokenizedItem& t) { return t.item == r.item; });
                if (it == train.end())
                    throw invalid_argument("AdaptiveSteerer::fit: swept item " + std::to_string(r.item) + " is not among the train items");
                ids = it->prompt;
            }
            X.row(static_cast<Eigen::Index>(i)) = embed_checked({ids, res}).transpose();
        }
        std_.fit(X);
        for (Eigen::Index i = 0; i < X.rows(); ++i) std_.transform_inplace(std::span<float>(X.row(i).data(), static_cast<std::size_t>(X.cols())));
        FitSummary s;
        s.n_items = n;
        s.layers = layers_;
        s.router_status = router_.fit(X, S, opts_.seed);
        const Eigen::VectorXd mean = S.colwise().mean().transpose();
        Eigen::Index best = 0;
        mean.maxCoeff(&best);
        fixed_layer_ = layers_[static_cast<std::size_t>(best)];
        s.fixed_layer = fixed_layer_;
        s.fixed_mean = mean(best);
        fitted_ = true;
        return s;
    }

    /// The router's column for a prompt whose ids and residuals are known: layers()[column] is the layer
    /// (evaluations that index steerability by column want this).
    [[nodiscard]] int choose_column(const route::PromptInput& in) const {
        require_fitted("choose_column");
        Eigen::VectorXf x = embed_checked(in);
        std_.transform_inplace(std::span<float>(x.data(), static_cast<std::size_t>(x.size())));
        const int c = router_.predict_one(std::span<const float>(x.data(), static_cast<std::size_t>(x.size())));
        if (c < 0 || static_cast<std::size_t>(c) >= layers_.size())
            throw invalid_argument("AdaptiveSteerer: the router predicted column " + std::to_string(c) + " of " +
                                   std::to_string(layers_.size()));
        return c;
    }

    /// The layer W2S picks for a prompt whose ids and residuals are known.
    [[nodiscard]] int choose_layer(const route::PromptInput& in) const { return layers_[static_cast<std::size_t>(choose_column(in))]; }

    /// The layer for a prompt whose residuals are known (e.g. a sweep record); for embeddings that need no ids.
    [[nodiscard]] int choose_layer(const route::PromptResiduals& in) const
        requires(!kNeedsIds)
    {
        return choose_layer(route::PromptInput{{}, in});
    }

    /// The prompt's residuals at the blocks the embedding reads (residual_blocks()), from an unsteered pass over
    /// the prompt (appended to `s`, all but the last token; the last token runs as a read-only tail, so `s` ends
    /// one token short, ready for generation to feed the last token with steering on).
    route::PromptResiduals prompt_residuals(typename B::Session& s, std::span<const model::token_id> prompt) const {
        if (prompt.empty()) throw invalid_argument("AdaptiveSteerer: empty prompt");
        const std::size_t H = static_cast<std::size_t>(backend_->hidden_size()), P = prompt.size();
        const std::vector<int> blocks = residual_blocks();
        const std::size_t E = blocks.size();
        route::PromptResiduals pr{blocks, H, std::vector<float>(E * H), std::vector<float>(E * H, 0.0f)};
        std::vector<int> slot(static_cast<std::size_t>(backend_->n_layers()), -1);  // block -> row of pr
        for (std::size_t e = 0; e < E; ++e) slot[static_cast<std::size_t>(blocks[e])] = static_cast<int>(e);
        std::vector<double> sum(E * H, 0.0);
        const model::Hook acc = [&](const model::BlockOutput& o) {
            const int e = slot[static_cast<std::size_t>(o.layer)];
            if (e < 0) return;
            double* dst = sum.data() + static_cast<std::size_t>(e) * H;
            for (std::size_t r = 0; r < o.residual.rows; ++r)
                for (std::size_t c = 0; c < H; ++c) dst[c] += o.residual.row(r)[c];
            const float* last = o.residual.row(o.residual.rows - 1);
            std::copy_n(last, H, pr.last.data() + static_cast<std::size_t>(e) * H);
        };
        if (P > 1) backend_->prefill(s, prompt.first(P - 1), acc, nullptr);
        const model::Tail t{prompt.last(1), {}, -1};  // read-only: no copy of the session's cache
        backend_->forward_tails(s, std::span<const model::Tail>(&t, 1), 0, acc, nullptr);
        for (std::size_t i = 0; i < E * H; ++i) pr.mean[i] = static_cast<float>(sum[i] / static_cast<double>(P));
        return pr;
    }

    /// The layer W2S picks for a prompt (token ids of the chat-formatted prompt).
    [[nodiscard]] int choose_layer(std::span<const model::token_id> prompt) const {
        require_fitted("choose_layer");
        auto s = backend_->new_session();
        return choose_layer(route::PromptInput{prompt, prompt_residuals(s, prompt)});
    }

    /// The ids of a user message in the steerer's prompt format (the format fit() on raw items used).
    [[nodiscard]] std::vector<model::token_id> prompt_ids(std::string_view user) const {
        return text::prompt_ids(*backend_, opts_.format, user);
    }

    /// The layer W2S picks for a user message, formatted with the steerer's prompt format.
    [[nodiscard]] int choose_layer(std::string_view user) const {
        return choose_layer(std::span<const model::token_id>(prompt_ids(user)));
    }

    /// The steering hook at `layer` with multiplier alpha, from absolute position `from` on.
    [[nodiscard]] steer::SteeringHook hook(int layer, float alpha, std::size_t from) const {
        require_fitted("hook");
        return steer::SteeringHook(vectors_, layer, alpha, steer::Positions::from(from));
    }

    struct SteeredGeneration {
        int layer = -1;
        model::GenerateResult result;
    };

    /// Picks the layer for `prompt`, then generates with alpha·v added at that layer from the last prompt token
    /// on (the prompt prefix is computed once and serves both the embedding and the generation).
    SteeredGeneration generate(std::span<const model::token_id> prompt, float alpha, const model::GenerateOptions& go = {},
                               const model::TokenCallback& on_token = {}) const {
        require_fitted("generate");
        steer::check_multiplier(alpha, "AdaptiveSteerer::generate: alpha");
        if (prompt.empty()) throw invalid_argument("AdaptiveSteerer::generate: empty prompt");
        auto s = backend_->new_session();
        const int layer = choose_layer(route::PromptInput{prompt, prompt_residuals(s, prompt)});
        const auto h = hook(layer, alpha, prompt.size() - 1);
        const model::Hook hk = [&](const model::BlockOutput& o) { h(o); };
        SteeredGeneration out;
        out.layer = layer;
        out.result = model::generate(*backend_, s, prompt.last(1), go, hk, on_token);
        return out;
    }

    /// generate() for a user message, formatted with the steerer's prompt format.
    SteeredGeneration generate(std::string_view user, float alpha, const model::GenerateOptions& go = {},
                               const model::TokenCallback& on_token = {}) const {
        const auto ids = prompt_ids(user);
        return generate(std::span<const model::token_id>(ids), alpha, go, on_token);
    }

    /// Writes the bundle folder. The three files are written complete into a sibling folder (DIR.w2s-partial-PID),
    /// flushed to the disk, and that folder is swapped in for DIR with one rename (w2s/core/durable.hpp): a reader,
    /// or a crash at any moment, sees the old bundle or the new one, never a mix of the two or a half-written file.
    /// A staged folder left by an interrupted save is never read and is replaced by the next save. DIR must be new or
    /// hold a bundle (nothing else: it is replaced whole). Throws io_error naming the file that could not be written.
    void save(const std::string& dir) const {
        require_fitted("save");
        namespace fs = std::filesystem;
        std::error_code ec;
        std::string target = dir;
        while (target.size() > 1 && target.back() == '/') target.pop_back();
        if (target.empty()) throw invalid_argument("AdaptiveSteerer::save: empty folder name");
        const std::string parent = fs::path(target).parent_path().string();
        if (!parent.empty()) {
            fs::create_directories(parent, ec);
            if (ec) throw io_error(parent + ": cannot create the folder for the bundle: " + ec.message());
        }
        // The swap replaces DIR whole: refuse a folder that holds anything but a bundle's files (someone's own files,
        // or a folder that is not a bundle at all, would be deleted).
        if (fs::is_directory(target, ec))
            for (const auto& e : fs::directory_iterator(target, ec)) {
                const std::string f = e.path().filename().string();
                const bool ours = f == "bundle.json" || f == "router.bin" || f == "vectors.gguf" ||
                                  (f.size() > 8 && f.compare(f.size() - 8, 8, ".partial") == 0);
                if (!ours)
                    throw io_error(target + ": holds '" + f + "', which is not a bundle file; save() replaces the whole folder, "
                                   "so it saves only into a new folder or over a bundle");
            }
        const std::string staged = target + ".w2s-partial-" + std::to_string(::getpid());
        fs::remove_all(staged, ec);
        fs::create_directory(staged, ec);
        if (ec) throw io_error(staged + ": cannot create the staging folder: " + ec.message());
        // each file whole (durable::write_file: temporary name, fsync, rename, folder fsync), then the folder swapped in
        steer::save_control_vector(vectors_, staged + "/vectors.gguf");
        {
            std::ostringstream os(std::ios::binary);
            std_.save(os);
            router_.save(os);
            if (!os) throw io_error(staged + "/router.bin: the router could not be serialised");
            durable::write_file(staged + "/router.bin", os.str());
        }
        nlohmann::json j = {{"format", "w2s-bundle"}, {"format_version", kBundleVersion}, {"router", std::string(R::kind)},
                                  {"embedding", std::string(detail::embedding_kind<Emb>())},
                                  {"estimator", vectors_.estimator}, {"layers", layers_}, {"fixed_layer", fixed_layer_},
                                  {"embedding_block", opts_.embedding_block}, {"pooling", std::string(route::pooling_name(opts_.pooling))},
                                  {"multipliers", opts_.multipliers}, {"n_layers", backend_->n_layers()}, {"hidden", backend_->hidden_size()},
                                  {"template", opts_.format.tmpl}, {"system", opts_.format.system},
                                  {"model", opts_.model_name}, {"data", opts_.data_name}, {"variant", opts_.variant_name}};
        if constexpr (kSettings) j["embedding_settings"] = std::string(emb_.settings());
        if (opts_.format.parse_special) j["parse_special"] = true;  // absent = false (bundles before the option)
        durable::write_file(staged + "/bundle.json", j.dump(2) + "\n");
        durable::replace_dir(staged, target);
    }

    /// Loads a bundle saved by save() for the same kinds of router and embedding, checking it fits `backend`.
    static AdaptiveSteerer load(const B& backend, const std::string& dir)
        requires(kResidual || std::default_initializable<Emb>)
    {
        return load(backend, dir, std::optional<Emb>{});
    }

    /// load() with an embedding of one's own (the bundle records only its kind; the embedding itself is the
    /// caller's, and must be the one the bundle was fitted with).
    static AdaptiveSteerer load(const B& backend, const std::string& dir, Emb embedding)
        requires(!kResidual)
    {
        return load(backend, dir, std::optional<Emb>(std::move(embedding)));
    }

private:
    static AdaptiveSteerer load(const B& backend, const std::string& dir, std::optional<Emb> embedding) {
        std::ifstream jf(dir + "/bundle.json");
        if (!jf) throw io_error(dir + "/bundle.json: cannot open (not a w2s bundle?)");
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(jf);
        } catch (const nlohmann::json::exception& e) {
            throw format_error(dir + "/bundle.json: " + e.what());
        }
        try {
            return load_from(backend, dir, j, std::move(embedding));
        } catch (const nlohmann::json::exception& e) {
            throw format_error(dir + "/bundle.json: " + e.what());
        }
    }

public:
    [[nodiscard]] const steer::VectorSet& vectors() const noexcept { return vectors_; }

private:
    static AdaptiveSteerer load_from(const B& backend, const std::string& dir, const nlohmann::json& j, std::optional<Emb> embedding) {
        if (!j.is_object() || j.value("format", "") != "w2s-bundle") throw format_error(dir + "/bundle.json: not a w2s bundle");
        const std::string where = dir + "/bundle.json";
        const int version = io::json_int_or(j, "format_version", 0, where);
        if (version < 1 || version > kBundleVersion)
            throw format_error(dir + "/bundle.json: bundle version " + std::to_string(version) + ", this build reads 1.." +
                               std::to_string(kBundleVersion));
        if (j.value("router", "") != std::string(R::kind))
            throw invalid_argument(dir + ": bundle holds a '" + j.value("router", "") + "' router, this steerer uses '" + std::string(R::kind) + "'");
        const int n_layers = io::json_int(j, "n_layers", where), hidden = io::json_int(j, "hidden", where);
        if (n_layers != backend.n_layers() || hidden != backend.hidden_size())
            throw shape_error(dir + ": bundle made for " + std::to_string(n_layers) + " layers x " + std::to_string(hidden) +
                              ", the model has " + std::to_string(backend.n_layers()) + " x " + std::to_string(backend.hidden_size()));
        const std::string emb_kind = version >= 3 ? j.at("embedding").get<std::string>() : std::string("residual");
        if (emb_kind != detail::embedding_kind<Emb>())
            throw invalid_argument(dir + ": bundle was fitted with a '" + emb_kind + "' embedding, this steerer uses '" +
                                   std::string(detail::embedding_kind<Emb>()) + "'");
        AdaptiveOptions o;
        o.layers = io::json_ints(j, "layers", where);
        // What the router indexes and the steering uses: checked against the model before anything is read by it.
        const int L = backend.n_layers();
        if (o.layers.empty()) throw format_error(dir + "/bundle.json: 'layers' is empty, expected the candidate blocks");
        for (std::size_t i = 0; i < o.layers.size(); ++i) {
            if (o.layers[i] < 1 || o.layers[i] >= L)
                throw format_error(dir + "/bundle.json: 'layers' holds block " + std::to_string(o.layers[i]) + ", expected blocks 1.." +
                                   std::to_string(L - 1) + " of this model");
            if (std::find(o.layers.begin(), o.layers.begin() + static_cast<std::ptrdiff_t>(i), o.layers[i]) !=
                o.layers.begin() + static_cast<std::ptrdiff_t>(i))
                throw format_error(dir + "/bundle.json: 'layers' holds block " + std::to_string(o.layers[i]) + " twice");
        }
        const int fixed = io::json_int(j, "fixed_layer", where);
        if (std::find(o.layers.begin(), o.layers.end(), fixed) == o.layers.end())
            throw format_error(dir + "/bundle.json: 'fixed_layer' " + std::to_string(fixed) + " is not one of 'layers'");
        o.multipliers = j.at("multipliers").get<std::vector<double>>();
        o.embedding_block = io::json_int(j, "embedding_block", where);
        o.pooling = route::parse_pooling(j.at("pooling").get<std::string>());
        if (version >= 2) {
            o.format = {j.at("template").get<std::string>(), j.at("system").get<std::string>(), j.value("parse_special", false)};
            o.model_name = j.value("model", "");
            o.data_name = j.value("data", "");
            o.variant_name = j.value("variant", "");
        }
        if constexpr (kSettings) {
            // The embedding's settings travel with the bundle: restored when the caller gives no embedding and
            // the type can read them back, and checked against the one the caller gives.
            const std::string saved = j.value("embedding_settings", "");
            if constexpr (requires { Emb::from_settings(std::string_view{}); }) {
                if (!embedding && !saved.empty()) embedding = Emb::from_settings(saved);
            }
            if (embedding && !saved.empty() && std::string(embedding->settings()) != saved)
                throw invalid_argument(dir + ": bundle's embedding has settings '" + saved + "', the one given has '" +
                                       std::string(embedding->settings()) + "'");
        }
        AdaptiveSteerer s(backend, R{}, o, kResidual ? std::nullopt : std::move(embedding));
        s.vectors_ = steer::load_control_vector(dir + "/vectors.gguf", backend.n_layers());
        s.layers_ = o.layers;
        for (int l : s.layers_) (void)s.vectors_.at(l);
        s.bind_embedding(s.vectors_, s.layers_);
        s.fixed_layer_ = fixed;
        std::ifstream is(dir + "/router.bin", std::ios::binary);
        if (!is) throw io_error(dir + "/router.bin: cannot open");
        with_context(dir + "/router.bin", [&] {
            s.std_.load(is);
            s.router_.load(is);
        });
        if (s.router_.layers() != static_cast<int>(s.layers_.size()))
            throw format_error(dir + "/router.bin: the router picks among " + std::to_string(s.router_.layers()) +
                               " layers, bundle.json lists " + std::to_string(s.layers_.size()));
        if (s.std_.dim() != static_cast<int>(s.emb_.dim()))
            throw format_error(dir + "/router.bin: the standardizer holds " + std::to_string(s.std_.dim()) +
                               " values, the bundle's embedding gives " + std::to_string(s.emb_.dim()));
        if (s.router_.dim() != static_cast<int>(s.emb_.dim()))
            throw format_error(dir + "/router.bin: the router reads embeddings of " + std::to_string(s.router_.dim()) +
                               " values, the bundle's embedding gives " + std::to_string(s.emb_.dim()));
        s.fitted_ = true;
        return s;
    }

public:
    [[nodiscard]] const std::vector<int>& layers() const noexcept { return layers_; }
    [[nodiscard]] const Emb& embedding() const noexcept { return emb_; }
    [[nodiscard]] int fixed_layer() const noexcept { return fixed_layer_; }
    [[nodiscard]] const R& router() const noexcept { return router_; }
    [[nodiscard]] const AdaptiveOptions& options() const noexcept { return opts_; }

private:
    /// The embedding of one prompt, checked against dim().
    [[nodiscard]] Eigen::VectorXf embed_checked(const route::PromptInput& in) const {
        Eigen::VectorXf v = route::embed_prompt(emb_, in);
        if (static_cast<std::size_t>(v.size()) != emb_.dim())
            throw shape_error("AdaptiveSteerer: the embedding gave " + std::to_string(v.size()) + " values; dim() is " +
                              std::to_string(emb_.dim()));
        return v;
    }

    void require_fitted(const char* what) const {
        if (!fitted_) throw invalid_argument(std::string("AdaptiveSteerer::") + what + ": fit() or load() first");
    }

    const B* backend_;
    R router_;
    AdaptiveOptions opts_;
    Emb emb_{};
    route::Standardizer std_;
    steer::VectorSet vectors_;
    std::vector<int> layers_;
    int fixed_layer_ = -1;
    bool fitted_ = false;
};

/// Readable names for the common combinations (residual embedding; the router named).
template <class B>
using ProfileSteerer = AdaptiveSteerer<B, route::ProfileCV>;
template <class B>
using KnnSteerer = AdaptiveSteerer<B, route::KnnCV>;
template <class B>
using LinearSteerer = AdaptiveSteerer<B, route::LinearCV>;
template <class B>
using MlpSteerer = AdaptiveSteerer<B, route::MlpCV>;
/// The profile router on the projection embedding (the prompt's residual at each candidate layer projected onto
/// that layer's steering vector: route::ProjectionEmbedding).
template <class B>
using ProjectionSteerer = AdaptiveSteerer<B, route::ProfileCV, route::ProjectionEmbedding>;

/// The router kind recorded in a bundle's bundle.json ("linear", "mlp", "knn", "profile"). Throws io_error for
/// a folder without bundle.json, format_error for one that does not parse or names no router.
inline std::string bundle_router_kind(const std::string& dir) {
    std::ifstream f(dir + "/bundle.json");
    if (!f) throw io_error(dir + "/bundle.json: cannot open (not a w2s bundle?)");
    try {
        return nlohmann::json::parse(f).at("router").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw format_error(dir + "/bundle.json: " + e.what());
    }
}

/// Loads any bundle of the project's routers and calls f(steerer) with an AdaptiveSteerer<B, R> of the router
/// kind the bundle holds (route::for_router); returns what f returns.
template <class B, class F>
decltype(auto) with_bundle(const B& backend, const std::string& dir, F&& f) {
    return route::for_router(bundle_router_kind(dir), [&]<class R>(std::type_identity<R>) {
        const auto s = AdaptiveSteerer<B, R>::load(backend, dir);
        return f(s);
    });
}

}  // namespace w2s
