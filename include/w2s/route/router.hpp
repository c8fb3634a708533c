// w2s/route/router.hpp — the Router concept: learn from steerability profiles which layer to steer a prompt at.
//
// Inputs (the shapes every router uses):
//   X  [n x d]  float, row-major (w2s::MatrixRM): one embedding per prompt (route/embedding.hpp), ideally
//               standardized with a route::Standardizer fitted on train.
//   S  [n x L]  double (Eigen::MatrixXd): the steerability profile of each training prompt, S(i, l) = s(x_i, l)
//               (PROTOCOL section 6); column l is layer l (0-based block index: "at layer l" = added to the
//               output of block l). A router picks layers in [0, L).
//   the label of row i is argmax_l S(i, l) (ties -> the lowest layer), see best_layers().
//
// ---- The Router contract (prose) -----------------------------------------------------------------
// A Router R is a default-constructible, copyable value type with
//   FitStatus fit(X, S, seed)  learns from (X, S); same inputs and seed -> bit-identical model on the same
//                              build. Misuse (shape mismatch, n < 2, non-finite values) throws a w2s::error
//                              (shape_error / data_error); numerical trouble does NOT throw: it is returned and
//                              kept as info() (Eigen's style): success, no_convergence, numerical_issue. A model
//                              that did not converge is still usable (the last iterate).
//   Eigen::VectorXi predict(X) [n] -> layer per row, each in [0, L).
//   int predict_one(std::span<const float> x)  x: [d]; the same layer predict() gives for that row. Cheap:
//                              no allocation beyond a few small vectors (target: well under 20 us at d=576,
//                              L=30).
//   void save(std::ostream&) const / void load(std::istream&)  versioned binary format: magic "W2SROUTE",
//                              container version, the router's kind() string and its own format version, then
//                              its body. load() refuses (format_error) a wrong magic, another router kind or an
//                              unknown version, and a truncated stream; after load() predict() gives exactly
//                              what the saved model gave.
//   FitStatus info() const, int layers() const (L, 0 before fit), int dim() const (d, 0 before fit).
//   static constexpr std::string_view kind  a stable short name ("linear", "mlp", "knn", "profile").
// predict before fit/load is an invalid_argument.
// A TunableRouter additionally has a `Params` struct (hyperparameters, with to_string()), a constructor
// R(Params), params(), and `static std::vector<Params> default_grid()`; route/cv.hpp tunes those by k-fold
// cross-validation.
#pragma once
#define W2S_ROUTE_ROUTER_HPP 1

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <istream>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/core/fit_status.hpp"
#include "w2s/core/tensor.hpp"

namespace w2s::route {

/// The outcome of a router's fit (w2s/core/fit_status.hpp: one type for estimators and routers).
using w2s::FitStatus;
using w2s::to_string;

/// Embeddings, one row per prompt: [n x d], float, row-major.
using Features = MatrixRM;
/// Read-only view of features (accepts MatrixRM, blocks of it, and — by a copy — column-major matrices).
using FeaturesRef = Eigen::Ref<const Features>;
/// Steerability profiles: [n x L], double.
using Profiles = Eigen::MatrixXd;
using ProfilesRef = Eigen::Ref<const Eigen::MatrixXd>;
/// One layer per prompt: [n].
using Layers = Eigen::VectorXi;

template <class R>
concept Router = std::default_initializable<R> && std::copyable<R> &&
                 requires(R r, const R cr, const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed,
                          std::span<const float> x, std::ostream& os, std::istream& is) {
                     { R::kind } -> std::convertible_to<std::string_view>;
                     { r.fit(X, S, seed) } -> std::same_as<FitStatus>;
                     { cr.predict(X) } -> std::same_as<Layers>;
                     { cr.predict_one(x) } -> std::same_as<int>;
                     { cr.save(os) } -> std::same_as<void>;
                     { r.load(is) } -> std::same_as<void>;
                     { cr.info() } -> std::same_as<FitStatus>;
                     { cr.layers() } -> std::same_as<int>;
                     { cr.dim() } -> std::same_as<int>;
                 };

template <class R>
concept TunableRouter = Router<R> && requires(const R cr, const typename R::Params& p) {
    typename R::Params;
    requires std::copyable<typename R::Params>;
    { R(p) };
    { cr.params() } -> std::convertible_to<typename R::Params>;
    { p.to_string() } -> std::convertible_to<std::string>;
    { R::default_grid() } -> std::convertible_to<std::vector<typename R::Params>>;
};

/// Use at the top of a class template taking a router: one readable error instead of a page of template noise.
#define W2S_REQUIRE_ROUTER(R)                                                                                     \
    static_assert(::w2s::route::Router<R>,                                                                        \
                  "w2s: this type is not a Router: it needs default construction, copying, static kind, "        \
                  "FitStatus fit(FeaturesRef, ProfilesRef, uint64_t), Layers predict(FeaturesRef) const, "       \
                  "int predict_one(std::span<const float>) const, save(std::ostream&) const, load(std::istream&), " \
                  "FitStatus info() const, int layers() const, int dim() const (see w2s/route/router.hpp)")

/// Per-row argmax of S [n x L] (ties -> lowest layer): the per-item best ("oracle") layer.
[[nodiscard]] inline Layers best_layers(const ProfilesRef& S) {
    Layers y(S.rows());
    for (Eigen::Index i = 0; i < S.rows(); ++i) {
        Eigen::Index best = 0;
        for (Eigen::Index l = 1; l < S.cols(); ++l)
            if (S(i, l) > S(i, best)) best = l;
        y(i) = static_cast<int>(best);
    }
    return y;
}

/// Mean of S(i, layers(i)) over rows: the objective routers are tuned on (mean steerability of chosen layers).
[[nodiscard]] inline double mean_chosen(const ProfilesRef& S, const Layers& layers) {
    if (layers.size() != S.rows())
        throw shape_error("mean_chosen: " + std::to_string(layers.size()) + " layers for " + std::to_string(S.rows()) +
                          " profiles; expected one per row");
    if (S.rows() == 0) return 0.0;
    double acc = 0.0;
    for (Eigen::Index i = 0; i < S.rows(); ++i) {
        const int l = layers(i);
        if (l < 0 || l >= S.cols())
            throw invalid_argument("mean_chosen: row " + std::to_string(i) + ": layer " + std::to_string(l) +
                                   " outside [0, " + std::to_string(S.cols()) + ")");
        acc += S(i, l);
    }
    return acc / static_cast<double>(S.rows());
}

}  // namespace w2s::route

#include "w2s/route/router_kit.hpp"
