// w2s/route/cv.hpp — hyperparameters by k-fold cross-validation on the TRAIN split only.
//
// cross_validate<R>(X, S, grid, folds, seed): the rows are split into `folds` folds by a seeded permutation
// (fold f = positions [f*n/folds, (f+1)*n/folds) of it); for every grid entry and fold, R(params) is fitted on
// the other folds (with `seed`) and scored on the held-out fold by the objective
//     mean over held-out rows i of S(i, predicted_i)      (mean steerability of the chosen layers).
// The score of a grid entry is the mean over all held-out rows (folds weighted by size). The best entry is the
// highest score; ties go to the earlier grid entry. Fits run in parallel (w2s::parallel_for, so a caller's
// ThreadPool bounds the threads) and the result does not depend on the thread count.
//
// CrossValidated<R> wraps a TunableRouter into a Router: fit() runs cross_validate over its grid, then refits
// R(best) on all of (X, S). It saves and loads as the inner router (same file), so a bundle does not care
// whether the model was tuned. Aliases: LinearCV, MlpCV, KnnCV, ProfileCV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <limits>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/route/config.hpp"
#include "w2s/route/router.hpp"
#if W2S_ROUTE_BODIES
#include "w2s/core/parallel.hpp"
#endif

namespace w2s::route {

namespace detail {
/// Runs job(0), ..., job(n - 1) in parallel (w2s::parallel_for, one index per task, inside the caller's
/// ThreadPool). A function and not a template so that, compiled (w2s/route/config.hpp), this header does not
/// parse oneTBB; one job is a whole router fit, so the call through std::function costs nothing measurable.
#if W2S_ROUTE_BODIES
W2S_ROUTE_FUNC void run_jobs(std::size_t n, const std::function<void(std::size_t)>& job) {
    parallel_for(0, n, 1, job);
}
#else
void run_jobs(std::size_t n, const std::function<void(std::size_t)>& job);
#endif
}  // namespace detail

/// One row of the cross-validation table.
struct CvEntry {
    std::string params;               // Params::to_string()
    double score = 0.0;               // mean S(i, predicted_i) over all held-out rows
    std::vector<double> fold_scores;  // [folds]
    std::vector<FitStatus> statuses;  // [folds] fit status per fold
};

template <class R>
struct CvResult {
    typename R::Params best{};
    std::size_t best_index = 0;
    std::vector<CvEntry> table;  // one per grid entry, in grid order
};

/// Held-out row indices per fold (each sorted ascending), from a seeded permutation of 0..n-1.
[[nodiscard]] inline std::vector<std::vector<Eigen::Index>> kfold(Eigen::Index n, int folds, std::uint64_t seed) {
    if (folds < 2 || n < folds)
        throw invalid_argument("kfold: " + std::to_string(folds) + " folds over " + std::to_string(n) +
                               " items; expected 2 <= folds <= items");
    Rng rng(seed ^ 0xC5C5C5C5C5C5C5C5ull);
    const auto perm = rng.permutation(n);
    std::vector<std::vector<Eigen::Index>> out(static_cast<std::size_t>(folds));
    for (int f = 0; f < folds; ++f) {
        const Eigen::Index lo = n * f / folds, hi = n * (f + 1) / folds;
        out[static_cast<std::size_t>(f)].assign(perm.begin() + lo, perm.begin() + hi);
        std::sort(out[static_cast<std::size_t>(f)].begin(), out[static_cast<std::size_t>(f)].end());
    }
    return out;
}

template <class R>
    requires TunableRouter<R>
[[nodiscard]] CvResult<R> cross_validate(const FeaturesRef& X, const ProfilesRef& S,
                                         const std::vector<typename R::Params>& grid, int folds, std::uint64_t seed) {
    check_fit_inputs("cross_validate", X, S);
    if (grid.empty()) throw invalid_argument("cross_validate: empty hyperparameter grid");
    const Eigen::Index n = X.rows();
    const auto held = kfold(n, folds, seed);
    const std::size_t F = held.size(), G = grid.size();
    std::vector<double> sums(G * F, 0.0);
    std::vector<FitStatus> stats(G * F, FitStatus::success);
    detail::run_jobs(G * F, [&](std::size_t job) {
        const std::size_t g = job / F, f = job % F;
        std::vector<char> is_test(static_cast<std::size_t>(n), 0);
        for (auto i : held[f]) is_test[static_cast<std::size_t>(i)] = 1;
        const Eigen::Index nt = static_cast<Eigen::Index>(held[f].size());
        Features Xtr(n - nt, X.cols()), Xte(nt, X.cols());
        Eigen::MatrixXd Str(n - nt, S.cols()), Ste(nt, S.cols());
        for (Eigen::Index i = 0, a = 0, b = 0; i < n; ++i) {
            if (is_test[static_cast<std::size_t>(i)]) {
                Xte.row(b) = X.row(i);
                Ste.row(b++) = S.row(i);
            } else {
                Xtr.row(a) = X.row(i);
                Str.row(a++) = S.row(i);
            }
        }
        R r(grid[g]);
        stats[job] = r.fit(Xtr, Str, seed);
        sums[job] = mean_chosen(Ste, r.predict(Xte)) * static_cast<double>(nt);
    });
    CvResult<R> out;
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t g = 0; g < G; ++g) {
        CvEntry e;
        e.params = grid[g].to_string();
        double tot = 0.0;
        for (std::size_t f = 0; f < F; ++f) {
            tot += sums[g * F + f];
            e.fold_scores.push_back(sums[g * F + f] / static_cast<double>(held[f].size()));
            e.statuses.push_back(stats[g * F + f]);
        }
        e.score = tot / static_cast<double>(n);
        if (e.score > best) best = e.score, out.best_index = g;
        out.table.push_back(std::move(e));
    }
    out.best = grid[out.best_index];
    return out;
}

/// A TunableRouter tuned by k-fold cross-validation at fit time; itself a Router.
template <class R>
class CrossValidated {
    static_assert(TunableRouter<R>,
                  "w2s: CrossValidated<R> needs a TunableRouter: a Router with a Params struct (with to_string()), "
                  "a constructor R(Params), params() and static default_grid() (see w2s/route/router.hpp)");

public:
    using Inner = R;
    struct Params {
        std::vector<typename R::Params> grid = R::default_grid();
        int folds = 5;
    };
    static constexpr std::string_view kind = R::kind;

    CrossValidated() = default;
    explicit CrossValidated(Params p) : p_(std::move(p)) {}

    /// Cross-validates over the grid (folds reduced to n when n is smaller), then refits the best on all rows.
    /// With fewer than 3 rows (no fold would keep 2 to fit on) it fits the grid's first entry, untuned.
    FitStatus fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed = 0);
    [[nodiscard]] Layers predict(const FeaturesRef& X) const { return model_.predict(X); }
    [[nodiscard]] int predict_one(std::span<const float> x) const { return model_.predict_one(x); }
    void save(std::ostream& os) const { model_.save(os); }
    void load(std::istream& is) {
        model_.load(is);
        cv_ = {};
        cv_.best = model_.params();
    }
    [[nodiscard]] FitStatus info() const { return model_.info(); }
    [[nodiscard]] int layers() const { return model_.layers(); }
    [[nodiscard]] int dim() const { return model_.dim(); }

    [[nodiscard]] const R& model() const noexcept { return model_; }
    /// The cross-validation table of the last fit (empty after load()).
    [[nodiscard]] const CvResult<R>& cv() const noexcept { return cv_; }
    [[nodiscard]] const Params& params() const noexcept { return p_; }

private:
    Params p_{};
    R model_{};
    CvResult<R> cv_{};
};

// Out of the class, so not inline: an `extern template class CrossValidated<R>;` (route.hpp, compiled mode) then
// keeps it, and cross_validate<R> with it, out of the including file.
template <class R>
FitStatus CrossValidated<R>::fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed) {
    if (X.rows() < 3 && X.rows() == S.rows()) {
        // Every fold must leave at least 2 rows to fit on (a router's minimum): with 2 rows no split does, so the
        // first grid entry is fitted on both, untuned (cv() has an empty table). The inner fit checks the rest.
        cv_ = {};
        if (!p_.grid.empty()) cv_.best = p_.grid.front();
        model_ = R(cv_.best);
        return model_.fit(X, S, seed);
    }
    const int folds = static_cast<int>(std::min<Eigen::Index>(p_.folds, X.rows()));
    cv_ = cross_validate<R>(X, S, p_.grid, folds, seed);
    model_ = R(cv_.best);
    return model_.fit(X, S, seed);
}

}  // namespace w2s::route
