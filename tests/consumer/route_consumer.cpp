// A user of the compiled routers (w2s::route, w2s/route/config.hpp): this file sees only their declarations.
// Checks that the library's ProfileCV and LinearCV fit, predict and round-trip through save/load, and that a
// user's own TunableRouter still gets CrossValidated<R> (instantiated here: cv.hpp keeps its template bodies).
#include <cstdio>
#include <sstream>
#include <vector>

#include <w2s/route/route.hpp>

#ifndef W2S_ROUTE_COMPILED
#error "route_consumer links w2s::route, which defines W2S_ROUTE_COMPILED"
#endif
static_assert(W2S_ROUTE_BODIES == 0, "the compiled mode sees declarations only");

namespace {
// The user's router: always the layer with the best mean profile on train (a constant), tunable by a dummy knob.
struct MeanRouter {
    struct Params {
        int knob = 0;
        [[nodiscard]] std::string to_string() const { return "knob=" + std::to_string(knob); }
    };
    static constexpr std::string_view kind = "mean";
    MeanRouter() = default;
    explicit MeanRouter(Params p) : p_(p) {}
    static std::vector<Params> default_grid() { return {{0}, {1}}; }
    [[nodiscard]] const Params& params() const { return p_; }
    w2s::route::FitStatus fit(const w2s::route::FeaturesRef& X, const w2s::route::ProfilesRef& S, std::uint64_t) {
        Eigen::Index best = 0;
        S.colwise().mean().maxCoeff(&best);
        layer_ = static_cast<int>(best), L_ = static_cast<int>(S.cols()), d_ = static_cast<int>(X.cols());
        return w2s::route::FitStatus::success;
    }
    [[nodiscard]] w2s::route::Layers predict(const w2s::route::FeaturesRef& X) const {
        return w2s::route::Layers::Constant(X.rows(), layer_);
    }
    [[nodiscard]] int predict_one(std::span<const float>) const { return layer_; }
    void save(std::ostream& os) const { os << layer_ << ' ' << L_ << ' ' << d_; }
    void load(std::istream& is) { is >> layer_ >> L_ >> d_; }
    [[nodiscard]] w2s::route::FitStatus info() const { return w2s::route::FitStatus::success; }
    [[nodiscard]] int layers() const { return L_; }
    [[nodiscard]] int dim() const { return d_; }
    Params p_{};
    int layer_ = 0, L_ = 0, d_ = 0;
};

int fails = 0;
void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "route_consumer: FAILED: %s\n", what);
        ++fails;
    }
}

template <class R>
void round_trip(const char* name, const w2s::route::Features& X, const w2s::route::Profiles& S) {
    R r;
    r.fit(X, S, 7);
    const auto y = r.predict(X);
    int right = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) right += y(i) == (X(i, 0) > 0 ? 2 : 0);
    std::printf("%s: %d of %d rows at their best layer\n", name, right, static_cast<int>(X.rows()));
    check(right >= 9 * X.rows() / 10, name);
    std::stringstream ss;
    r.save(ss);
    R back;
    back.load(ss);
    check((back.predict(X).array() == y.array()).all(), "predictions after load");
    check(back.predict_one({X.data(), static_cast<std::size_t>(X.cols())}) == y(0), "predict_one after load");
}
}  // namespace

int main() {
    // 80 prompts, d = 6; the best of 3 layers is 2 when feature 0 is positive, else 0.
    w2s::route::Features X = w2s::route::Features::Random(80, 6);
    w2s::route::Profiles S(80, 3);
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        const double a = X(i, 0);
        S.row(i) << -a, 0.1 * X(i, 1), a;
    }
    round_trip<w2s::route::ProfileCV>("ProfileCV", X, S);
    round_trip<w2s::route::LinearCV>("LinearCV", X, S);
    w2s::route::CrossValidated<MeanRouter> m;
    m.fit(X, S, 1);
    check(m.cv().table.size() == 2, "CrossValidated<user router>: one row per grid entry");
    check(m.layers() == 3 && m.dim() == 6, "CrossValidated<user router>: shape");
    return fails == 0 ? 0 : 1;
}
