// w2s/route/embedding.hpp — the Embedding policy, the Standardizer, and UserEmbedding.
//
// ---- The Embedding contract (prose) ---------------------------------------------------------------
// An Embedding turns one prompt into a fixed-size float vector that a router reads. It names what it reads:
//   typename E::input_type            what one prompt is to this embedding (an item id, a prompt string, the
//                                     unsteered prefix pass of the model, ...)
//   std::size_t dim() const           the vector length d, fixed for the object's lifetime (> 0)
//   Eigen::VectorXf embed(const input_type&) const   [d]; never of the answer, only of the prompt. Throws a
//                                     w2s::error (data_error, shape_error) when it cannot embed the input.
// The model's own embedding (residual stream after block k, at the last prompt token or averaged over the prompt
// tokens, read from the unsteered prefix pass that steering computes anyway) is one implementation of this
// concept, built on the model; UserEmbedding below takes any user-supplied vector per prompt. Standardized<E>
// wraps any Embedding with a Standardizer fitted on train, and is again an Embedding.
//
// ---- Standardizer -----------------------------------------------------------------------------------------
// Per-feature z-scores: fit(X) stores mean [d] and std [d] (population std over the rows of X; a feature whose
// std is below 1e-8 * (1 + |mean|) gets std 1, so it is centred but not blown up); transform(x) =
// (x - mean) / std. Save/load: the same versioned container as the routers (kind "standardizer").
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <cmath>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

template <class E>
concept Embedding = requires(const E e, const typename E::input_type& in) {
    typename E::input_type;
    { e.dim() } -> std::convertible_to<std::size_t>;
    { e.embed(in) } -> std::convertible_to<Eigen::VectorXf>;
};

#define W2S_REQUIRE_EMBEDDING(E)                                                                          \
    static_assert(::w2s::route::Embedding<E>,                                                             \
                  "w2s: this type is not an Embedding: it needs `typename input_type`, `std::size_t dim() " \
                  "const` and `Eigen::VectorXf embed(const input_type&) const` (see w2s/route/embedding.hpp)")

/// Embeds every input into one row: [inputs.size() x e.dim()].
template <class E>
[[nodiscard]] Features embed_all(const E& e, std::span<const typename E::input_type> inputs) {
    W2S_REQUIRE_EMBEDDING(E);
    const auto d = static_cast<Eigen::Index>(e.dim());
    Features X(static_cast<Eigen::Index>(inputs.size()), d);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Eigen::VectorXf v = e.embed(inputs[i]);
        if (v.size() != d)
            throw shape_error("embed_all: input " + std::to_string(i) + ": embedding has " + std::to_string(v.size()) +
                              " values; expected dim() = " + std::to_string(d));
        X.row(static_cast<Eigen::Index>(i)) = v.transpose();
    }
    return X;
}

class Standardizer {
public:
    static constexpr std::string_view kind = "standardizer";
    static constexpr std::uint32_t format_version = 1;

    /// Fits mean and std on X [n x d], n >= 1, finite.
    void fit(const FeaturesRef& X) {
        if (X.rows() < 1 || X.cols() < 1)
            throw shape_error("Standardizer.fit: X is " + std::to_string(X.rows()) + "x" + std::to_string(X.cols()) +
                              "; expected at least one row and column");
        if (!X.allFinite()) throw data_error("Standardizer.fit: X holds non-finite values");
        const Eigen::MatrixXd Xd = X.cast<double>();
        const Eigen::RowVectorXd mu = Xd.colwise().mean();
        const Eigen::RowVectorXd var = (Xd.rowwise() - mu).colwise().squaredNorm() / static_cast<double>(X.rows());
        mean_ = mu.transpose().cast<float>();
        std_.resize(X.cols());
        for (Eigen::Index j = 0; j < X.cols(); ++j) {
            const double sd = std::sqrt(var(j));
            std_(j) = static_cast<float>(sd < 1e-8 * (1.0 + std::abs(mu(j))) ? 1.0 : sd);
        }
    }
    /// [n x d] -> [n x d].
    [[nodiscard]] Features transform(const FeaturesRef& X) const {
        check(static_cast<std::size_t>(X.cols()));
        Features Y = X;
        Y.rowwise() -= mean_.transpose();
        Y.array().rowwise() /= std_.transpose().array();
        return Y;
    }
    /// In place on one vector [d].
    void transform_inplace(std::span<float> x) const {
        check(x.size());
        for (std::size_t j = 0; j < x.size(); ++j) {
            const auto jj = static_cast<Eigen::Index>(j);
            x[j] = (x[j] - mean_(jj)) / std_(jj);
        }
    }
    [[nodiscard]] Eigen::VectorXf transform_one(const Eigen::VectorXf& x) const {
        Eigen::VectorXf y = x;
        transform_inplace({y.data(), static_cast<std::size_t>(y.size())});
        return y;
    }
    [[nodiscard]] bool fitted() const noexcept { return mean_.size() > 0; }
    [[nodiscard]] int dim() const noexcept { return static_cast<int>(mean_.size()); }
    [[nodiscard]] const Eigen::VectorXf& mean() const noexcept { return mean_; }  // [d]
    [[nodiscard]] const Eigen::VectorXf& stddev() const noexcept { return std_; }  // [d]

    void save(std::ostream& os) const {
        check(static_cast<std::size_t>(dim()));
        RouterWriter w(os);
        w.header(kind, format_version);
        w.put_matrix(Eigen::MatrixXf(mean_));
        w.put_matrix(Eigen::MatrixXf(std_));
    }
    void load(std::istream& is) {
        RouterReader r(is, "Standardizer.load");
        r.header(kind, format_version);
        Eigen::VectorXf m = r.get_matrix<Eigen::MatrixXf>("mean", -1, 1);
        Eigen::VectorXf s = r.get_matrix<Eigen::MatrixXf>("std", m.size(), 1);
        if (m.size() == 0 || !(s.array() > 0.0f).all())
            throw format_error("Standardizer.load: empty or non-positive std");
        mean_ = std::move(m);
        std_ = std::move(s);
    }

private:
    void check(std::size_t got) const {
        if (!fitted()) throw invalid_argument("Standardizer: not fitted; call fit() or load() first");
        if (got != static_cast<std::size_t>(mean_.size()))
            throw shape_error("Standardizer: vector has " + std::to_string(got) + " values; expected " +
                              std::to_string(mean_.size()));
    }
    Eigen::VectorXf mean_;  // [d]
    Eigen::VectorXf std_;   // [d]
};

/// Any Embedding followed by a fitted Standardizer; itself an Embedding with the same input_type.
template <class E>
class Standardized {
    W2S_REQUIRE_EMBEDDING(E);

public:
    using input_type = typename E::input_type;
    Standardized(E inner, Standardizer st) : inner_(std::move(inner)), st_(std::move(st)) {
        if (static_cast<std::size_t>(st_.dim()) != inner_.dim())
            throw shape_error("Standardized: standardizer has dim " + std::to_string(st_.dim()) + ", embedding " +
                              std::to_string(inner_.dim()));
    }
    [[nodiscard]] std::size_t dim() const { return inner_.dim(); }
    [[nodiscard]] Eigen::VectorXf embed(const input_type& in) const { return st_.transform_one(inner_.embed(in)); }
    [[nodiscard]] const E& inner() const noexcept { return inner_; }
    [[nodiscard]] const Standardizer& standardizer() const noexcept { return st_; }

private:
    E inner_;
    Standardizer st_;
};

/// User-supplied embeddings: a table (key -> vector) or a callable, through the Embedding concept.
/// Key is what identifies a prompt to the user (an item id, the prompt text, ...).
template <class Key = std::string>
class UserEmbedding {
public:
    using input_type = Key;
    using Function = std::function<Eigen::VectorXf(const Key&)>;

    /// Every vector must have the same length d >= 1 and be finite.
    static UserEmbedding from_table(std::map<Key, Eigen::VectorXf> table) {
        if (table.empty()) throw invalid_argument("UserEmbedding.from_table: empty table");
        const auto d = static_cast<std::size_t>(table.begin()->second.size());
        if (d == 0) throw shape_error("UserEmbedding.from_table: zero-length vectors");
        std::size_t i = 0;
        for (const auto& [k, v] : table) {
            if (static_cast<std::size_t>(v.size()) != d)
                throw shape_error("UserEmbedding.from_table: entry " + std::to_string(i) + " has " +
                                  std::to_string(v.size()) + " values; expected " + std::to_string(d));
            if (!v.allFinite())
                throw data_error("UserEmbedding.from_table: entry " + std::to_string(i) + " holds non-finite values");
            ++i;
        }
        UserEmbedding e;
        e.dim_ = d;
        auto shared = std::make_shared<const std::map<Key, Eigen::VectorXf>>(std::move(table));
        e.f_ = [shared](const Key& k) -> Eigen::VectorXf {
            const auto it = shared->find(k);
            if (it == shared->end()) throw data_error("UserEmbedding: no vector for this prompt key");
            return it->second;
        };
        return e;
    }
    /// `f` must return [d] for every key it is given; checked at every call.
    static UserEmbedding from_function(std::size_t d, Function f) {
        if (d == 0 || !f) throw invalid_argument("UserEmbedding.from_function: need d >= 1 and a callable");
        UserEmbedding e;
        e.dim_ = d;
        e.f_ = std::move(f);
        return e;
    }
    [[nodiscard]] std::size_t dim() const noexcept { return dim_; }
    [[nodiscard]] Eigen::VectorXf embed(const Key& k) const {
        if (!f_) throw invalid_argument("UserEmbedding: empty (use from_table or from_function)");
        Eigen::VectorXf v = f_(k);
        if (static_cast<std::size_t>(v.size()) != dim_)
            throw shape_error("UserEmbedding: vector has " + std::to_string(v.size()) + " values; expected " +
                              std::to_string(dim_));
        return v;
    }

private:
    std::size_t dim_ = 0;
    Function f_;
};

static_assert(Embedding<UserEmbedding<std::string>>);
static_assert(Embedding<Standardized<UserEmbedding<int>>>);

}  // namespace w2s::route
