// w2s/route/mlp.hpp — MlpRouter: a small multi-layer perceptron classifier over layers (one or two ReLU hidden
// layers, softmax output), trained with Adam on the best-layer labels argmax_l S(i, l), with early stopping on a
// validation slice of the training data.
//
// Training (float): the seed fixes the validation slice (a seeded permutation; val_fraction of the rows, none
// when n < 10 — then the training loss is monitored), the He-normal initial weights and the minibatch order.
// Loss: mean cross-entropy + (l2/2) sum ||W||^2 (biases unpenalised). After every epoch the validation
// cross-entropy is measured; the weights with the lowest one are kept. Training stops when it has not improved
// (by > 1e-6) for `patience` epochs: info() = success. Reaching max_epochs first: no_convergence (the best
// weights are kept and usable). A non-finite loss: numerical_issue (best weights so far are kept).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
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

namespace w2s::route {

class MlpRouter {
public:
    struct Params {
        int hidden = 64;            // units of the first hidden layer (>= 1)
        int hidden2 = 0;            // units of a second hidden layer; 0 = one hidden layer
        double lr = 1e-3;           // Adam step size
        double l2 = 1e-4;           // weight decay (coupled, on weights only)
        int max_epochs = 200;       // epoch limit
        int batch = 32;             // minibatch size
        double val_fraction = 0.2;  // share of train held out for early stopping
        int patience = 15;          // epochs without validation improvement before stopping
        [[nodiscard]] std::string to_string() const {
            return "hidden=" + std::to_string(hidden) + (hidden2 > 0 ? "x" + std::to_string(hidden2) : "") +
                   " l2=" + detail::short_num(l2) + " lr=" + detail::short_num(lr);
        }
    };
    static constexpr std::string_view kind = "mlp";
    static constexpr std::uint32_t format_version = 1;

    MlpRouter() = default;
    explicit MlpRouter(Params p) : p_(p) {}
    [[nodiscard]] static std::vector<Params> default_grid() {
        std::vector<Params> g;
        for (int h : {32, 128})
            for (double l2 : {1e-4, 1e-2}) {
                Params p;
                p.hidden = h;
                p.l2 = l2;
                g.push_back(p);
            }
        return g;
    }
    [[nodiscard]] const Params& params() const noexcept { return p_; }

    FitStatus fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed = 0);
    [[nodiscard]] Layers predict(const FeaturesRef& X) const;
    [[nodiscard]] int predict_one(std::span<const float> x) const;

    void save(std::ostream& os) const;
    void load(std::istream& is);
    [[nodiscard]] FitStatus info() const noexcept { return info_; }
    [[nodiscard]] int epochs() const noexcept { return epochs_; }
    [[nodiscard]] double best_val_loss() const noexcept { return best_val_; }
    [[nodiscard]] int layers() const noexcept { return net_.empty() ? 0 : static_cast<int>(net_.back().b.size()); }
    [[nodiscard]] int dim() const noexcept { return net_.empty() ? 0 : static_cast<int>(net_.front().W.cols()); }

private:
    struct Dense {
        Eigen::MatrixXf W;  // [out x in]
        Eigen::VectorXf b;  // [out]
    };
    /// Logits for a batch of column vectors A0 [d x B] -> [L x B]; keeps activations when acts != nullptr.
    Eigen::MatrixXf forward(const Eigen::MatrixXf& A0, std::vector<Eigen::MatrixXf>* acts) const;

    Params p_{};
    FitStatus info_ = FitStatus::success;
    int epochs_ = 0;
    double best_val_ = 0.0;
    std::vector<Dense> net_;  // hidden layer(s), then the output layer [L x h]
};

// ================================================================================================
// The bodies (w2s/route/config.hpp: inline here, or compiled once into w2s::route).
#if W2S_ROUTE_BODIES

namespace detail {
/// Mean softmax cross-entropy of logits Z [L x B] against labels y[B]; overwrites Z with (P - Y) / B.
W2S_ROUTE_FUNC double softmax_xent(Eigen::MatrixXf& Z, std::span<const int> y) {
    double loss = 0.0;
    const float inv_b = 1.0f / static_cast<float>(Z.cols());
    for (Eigen::Index j = 0; j < Z.cols(); ++j) {
        auto z = Z.col(j);
        const float m = z.maxCoeff();
        z.array() = (z.array() - m).exp();
        const float s = z.sum();
        z /= s;
        const int yj = y[static_cast<std::size_t>(j)];
        loss -= std::log(std::max(static_cast<double>(z(yj)), 1e-30));
        z(yj) -= 1.0f;
        z *= inv_b;
    }
    return loss / static_cast<double>(Z.cols());
}
}  // namespace detail

W2S_ROUTE_FUNC Eigen::MatrixXf MlpRouter::forward(const Eigen::MatrixXf& A0, std::vector<Eigen::MatrixXf>* acts) const {
    Eigen::MatrixXf A = A0;
    if (acts) acts->clear(), acts->push_back(A0);
    for (std::size_t k = 0; k < net_.size(); ++k) {
        Eigen::MatrixXf Z = net_[k].W * A;
        Z.colwise() += net_[k].b;
        if (k + 1 < net_.size()) Z = Z.cwiseMax(0.0f);
        A = std::move(Z);
        if (acts && k + 1 < net_.size()) acts->push_back(A);
    }
    return A;
}

W2S_ROUTE_FUNC FitStatus MlpRouter::fit(const FeaturesRef& X, const ProfilesRef& S, std::uint64_t seed) {
    check_fit_inputs("MlpRouter", X, S);
    if (p_.hidden < 1 || p_.hidden2 < 0 || p_.batch < 1 || p_.max_epochs < 1 || !(p_.lr > 0) || !(p_.l2 >= 0) ||
        !(p_.val_fraction >= 0 && p_.val_fraction < 1) || p_.patience < 1)
        throw invalid_argument("MlpRouter.fit: bad parameters (" + p_.to_string() + ", batch=" + std::to_string(p_.batch) +
                               ", max_epochs=" + std::to_string(p_.max_epochs) + ", val_fraction=" +
                               std::to_string(p_.val_fraction) + ", patience=" + std::to_string(p_.patience) + ")");
    const Eigen::Index n = X.rows(), d = X.cols(), L = S.cols();
    const Layers y = best_layers(S);
    Rng rng(seed);

    // Validation slice.
    const auto perm = rng.permutation(n);
    const Eigen::Index n_val =
        (n >= 10 && p_.val_fraction > 0) ? std::max<Eigen::Index>(1, static_cast<Eigen::Index>(std::lround(p_.val_fraction * static_cast<double>(n)))) : 0;
    std::vector<Eigen::Index> tr(perm.begin() + n_val, perm.end()), va(perm.begin(), perm.begin() + n_val);
    if (va.empty()) va = tr;
    const Eigen::MatrixXf Xt = X.transpose();  // [d x n], column per item
    auto gather = [&](const std::vector<Eigen::Index>& idx, std::size_t lo, std::size_t hi, Eigen::MatrixXf& A,
                      std::vector<int>& lab) {
        A.resize(d, static_cast<Eigen::Index>(hi - lo));
        lab.resize(hi - lo);
        for (std::size_t j = lo; j < hi; ++j) {
            A.col(static_cast<Eigen::Index>(j - lo)) = Xt.col(idx[j]);
            lab[j - lo] = y(idx[j]);
        }
    };
    Eigen::MatrixXf Aval;
    std::vector<int> yval;
    gather(va, 0, va.size(), Aval, yval);

    // He-normal init.
    // Layer widths: d, hidden, [hidden2,] L.
    const std::array<int, 4> sizes{static_cast<int>(d), p_.hidden, p_.hidden2 > 0 ? p_.hidden2 : static_cast<int>(L),
                                   static_cast<int>(L)};
    const std::size_t n_sizes = p_.hidden2 > 0 ? 4 : 3;
    net_.clear();
    for (std::size_t k = 0; k + 1 < n_sizes; ++k) {
        Dense D{Eigen::MatrixXf(sizes[k + 1], sizes[k]), Eigen::VectorXf::Zero(sizes[k + 1])};
        const double sd = std::sqrt(2.0 / sizes[k]);
        for (Eigen::Index c = 0; c < D.W.cols(); ++c)
            for (Eigen::Index r = 0; r < D.W.rows(); ++r) D.W(r, c) = static_cast<float>(rng.normal() * sd);
        net_.push_back(std::move(D));
    }
    std::vector<Dense> mom = net_, vel = net_, best = net_;
    for (auto& D : mom) D.W.setZero(), D.b.setZero();
    for (auto& D : vel) D.W.setZero(), D.b.setZero();

    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, lr = static_cast<float>(p_.lr), l2 = static_cast<float>(p_.l2);
    long step = 0;
    double best_loss = std::numeric_limits<double>::infinity();
    int since = 0;
    info_ = FitStatus::no_convergence;
    epochs_ = 0;
    std::vector<Eigen::MatrixXf> acts;
    Eigen::MatrixXf A;
    std::vector<int> lab;
    std::vector<Eigen::MatrixXf> dW(net_.size());
    std::vector<Eigen::VectorXf> db(net_.size());
    for (int epoch = 1; epoch <= p_.max_epochs; ++epoch) {
        epochs_ = epoch;
        for (std::size_t i = tr.size(); i > 1; --i) std::swap(tr[i - 1], tr[rng.below(i)]);
        for (std::size_t lo = 0; lo < tr.size(); lo += static_cast<std::size_t>(p_.batch)) {
            const std::size_t hi = std::min(tr.size(), lo + static_cast<std::size_t>(p_.batch));
            gather(tr, lo, hi, A, lab);
            Eigen::MatrixXf G = forward(A, &acts);  // logits -> dLoss/dZ
            const double loss = detail::softmax_xent(G, lab);
            if (!std::isfinite(loss)) {
                net_ = best;
                return info_ = FitStatus::numerical_issue;
            }
            for (std::size_t k = net_.size(); k-- > 0;) {
                dW[k] = G * acts[k].transpose() + l2 * net_[k].W;
                db[k] = G.rowwise().sum();
                if (k > 0) {
                    Eigen::MatrixXf Gp = net_[k].W.transpose() * G;
                    G = (acts[k].array() > 0.0f).select(Gp, 0.0f);
                }
            }
            ++step;
            const float c1 = 1.0f - std::pow(b1, static_cast<float>(step)), c2 = 1.0f - std::pow(b2, static_cast<float>(step));
            for (std::size_t k = 0; k < net_.size(); ++k) {
                mom[k].W = b1 * mom[k].W + (1 - b1) * dW[k];
                vel[k].W = b2 * vel[k].W + (1 - b2) * dW[k].cwiseAbs2();
                net_[k].W.array() -= lr * (mom[k].W.array() / c1) / ((vel[k].W.array() / c2).sqrt() + eps);
                mom[k].b = b1 * mom[k].b + (1 - b1) * db[k];
                vel[k].b = b2 * vel[k].b + (1 - b2) * db[k].cwiseAbs2();
                net_[k].b.array() -= lr * (mom[k].b.array() / c1) / ((vel[k].b.array() / c2).sqrt() + eps);
            }
        }
        Eigen::MatrixXf Zv = forward(Aval, nullptr);
        const double vloss = detail::softmax_xent(Zv, yval);
        if (!std::isfinite(vloss)) {
            net_ = best;
            return info_ = FitStatus::numerical_issue;
        }
        if (vloss < best_loss - 1e-6) {
            best_loss = vloss;
            best = net_;
            since = 0;
        } else if (++since >= p_.patience) {
            info_ = FitStatus::success;
            break;
        }
    }
    net_ = std::move(best);
    best_val_ = best_loss;
    return info_;
}

W2S_ROUTE_FUNC Layers MlpRouter::predict(const FeaturesRef& X) const {
    check_predict_inputs("MlpRouter.predict", X.cols(), dim());
    const Eigen::MatrixXf Z = forward(X.transpose(), nullptr);  // [L x n]
    Layers y(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) y(i) = detail::argmax(Z.col(i));
    return y;
}

W2S_ROUTE_FUNC int MlpRouter::predict_one(std::span<const float> x) const {
    check_dim("MlpRouter.predict_one", x.size(), dim());
    Eigen::VectorXf a = Eigen::Map<const Eigen::VectorXf>(x.data(), static_cast<Eigen::Index>(x.size()));
    for (std::size_t k = 0; k < net_.size(); ++k) {
        Eigen::VectorXf z = net_[k].W * a + net_[k].b;
        if (k + 1 < net_.size()) z = z.cwiseMax(0.0f);
        a = std::move(z);
    }
    return detail::argmax(a);
}

W2S_ROUTE_FUNC void MlpRouter::save(std::ostream& os) const {
    check_fitted("MlpRouter.save", dim());
    RouterWriter w(os);
    w.header(kind, format_version);
    w.put(static_cast<std::int32_t>(p_.hidden));
    w.put(static_cast<std::int32_t>(p_.hidden2));
    w.put(p_.lr);
    w.put(p_.l2);
    w.put(static_cast<std::int32_t>(p_.max_epochs));
    w.put(static_cast<std::int32_t>(p_.batch));
    w.put(p_.val_fraction);
    w.put(static_cast<std::int32_t>(p_.patience));
    w.put(static_cast<std::int32_t>(info_));
    w.put(static_cast<std::int32_t>(epochs_));
    w.put(best_val_);
    w.put(static_cast<std::uint32_t>(net_.size()));
    for (const auto& D : net_) {
        w.put_matrix(D.W);
        w.put_matrix(Eigen::MatrixXf(D.b));
    }
}

W2S_ROUTE_FUNC void MlpRouter::load(std::istream& is) {
    RouterReader r(is, "MlpRouter.load");
    r.header(kind, format_version);
    MlpRouter m;
    m.p_.hidden = r.get<std::int32_t>("hidden");
    m.p_.hidden2 = r.get<std::int32_t>("hidden2");
    m.p_.lr = r.get<double>("lr");
    m.p_.l2 = r.get<double>("l2");
    m.p_.max_epochs = r.get<std::int32_t>("max_epochs");
    m.p_.batch = r.get<std::int32_t>("batch");
    m.p_.val_fraction = r.get<double>("val_fraction");
    m.p_.patience = r.get<std::int32_t>("patience");
    m.info_ = fit_status_from(r.get<std::int32_t>("info"), "MlpRouter.load");
    m.epochs_ = r.get<std::int32_t>("epochs");
    m.best_val_ = r.get<double>("best_val_loss");
    const auto count = r.get<std::uint32_t>("layer count");
    if (count < 2 || count > 3)
        throw format_error("MlpRouter.load: " + std::to_string(count) + " dense layers; expected 2 or 3");
    Eigen::Index in = -1;
    for (std::uint32_t k = 0; k < count; ++k) {
        Dense D;
        D.W = r.get_matrix<Eigen::MatrixXf>("W", -1, in);
        D.b = r.get_matrix<Eigen::MatrixXf>("b", D.W.rows(), 1);
        in = D.W.rows();
        m.net_.push_back(std::move(D));
    }
    if (m.net_.front().W.size() == 0) throw format_error("MlpRouter.load: empty model");
    *this = std::move(m);
}

#endif  // W2S_ROUTE_BODIES

}  // namespace w2s::route
