// libFuzzer target: the router files (the W2SROUTE container of w2s/route/router_kit.hpp) on arbitrary bytes, through
// the load() of each router and of the Standardizer. The first byte picks the reader:
//   0 Standardizer, 1 LinearRouter, 2 MlpRouter, 3 KnnRouter, 4 ProfileRouter, 5 peek_kind,
//   6.. a bundle's router.bin: a Standardizer followed by the router (first byte - 6) % 4.
// Seeds: each router's file written field by field (bundle form too). Promises: what loads is
// usable: dim() >= 1, layers() >= 1, predict_one() of a vector of dim() values gives a layer in [0, layers()), and a
// save() of it loads back to the same predictions; a Standardizer's std is positive. A w2s::error is the expected
// answer to bad bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <w2s/route/route.hpp>

#include "w2s_fuzz.hpp"

using namespace w2s;

namespace {

template <class R>
void check_router(const R& r, const char* kind) {
    const std::string k(kind);
    fuzz::require(r.dim() >= 1 && r.layers() >= 1, k + ": loaded with dim " + std::to_string(r.dim()) + ", layers " + std::to_string(r.layers()));
    std::vector<float> x(static_cast<std::size_t>(r.dim()), 0.0f), y(x.size());
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<float>(i % 3) - 1.0f;
    const int a = r.predict_one(x), b = r.predict_one(y);
    fuzz::require(a >= 0 && a < r.layers() && b >= 0 && b < r.layers(), k + ": predict_one gave a layer outside [0, layers())");
    std::stringstream ss;
    r.save(ss);
    R back;
    back.load(ss);
    fuzz::require(back.predict_one(x) == a && back.predict_one(y) == b, k + ": save/load changed the predictions");
}

void check_standardizer(const route::Standardizer& s) {
    fuzz::require(s.dim() >= 1 && (s.stddev().array() > 0.0f).all(), "standardizer: loaded with no values or a std <= 0");
    Eigen::VectorXf x = Eigen::VectorXf::Ones(s.dim());
    (void)s.transform_one(x);
}

template <class R>
void load_router(std::istream& is, const char* kind) {
    R r;
    r.load(is);
    check_router(r, kind);
}

void load_kind(int k, std::istream& is) {
    switch (k) {
        case 0: load_router<route::LinearRouter>(is, "linear"); break;
        case 1: load_router<route::MlpRouter>(is, "mlp"); break;
        case 2: load_router<route::KnnRouter>(is, "knn"); break;
        default: load_router<route::ProfileRouter>(is, "profile"); break;
    }
}

// Seeds are written field by field with the kit's RouterWriter, in the layout each save() writes (the target then
// checks that save() of what loads reads back): fitting the routers here would compile their fits into the target,
// doubling its build for nothing the loader reads.
Eigen::MatrixXf mat(int r, int c, float scale) {
    Eigen::MatrixXf m(r, c);
    for (int i = 0; i < r; ++i)
        for (int j = 0; j < c; ++j) m(i, j) = scale * static_cast<float>(((i * 7 + j * 3) % 11) - 5) / 5.0f;
    return m;
}

template <class R, class F>
std::string body(F&& fields, bool with_standardizer) {
    std::stringstream ss;
    route::RouterWriter w(ss);
    if (with_standardizer) {
        w.header(route::Standardizer::kind, route::Standardizer::format_version);
        w.put_matrix(mat(3, 1, 1.0f));
        w.put_matrix(Eigen::MatrixXf::Constant(3, 1, 0.5f));
    }
    w.header(R::kind, R::format_version);
    fields(w);
    return ss.str();
}

std::string linear(bool st) {
    return body<route::LinearRouter>([](route::RouterWriter& w) {
        w.put(1e-3); w.put(std::int32_t{100}); w.put(1e-6); w.put(std::int32_t{0}); w.put(std::int32_t{12}); w.put(0.5);
        w.put_matrix(mat(4, 3, 1.0f));
        w.put_matrix(mat(4, 1, 0.1f));
    }, st);
}
std::string mlp(bool st) {
    return body<route::MlpRouter>([](route::RouterWriter& w) {
        w.put(std::int32_t{5}); w.put(std::int32_t{0}); w.put(1e-2); w.put(1e-4); w.put(std::int32_t{50}); w.put(std::int32_t{8});
        w.put(0.2); w.put(std::int32_t{5}); w.put(std::int32_t{0}); w.put(std::int32_t{7}); w.put(0.9);
        w.put(std::uint32_t{2});
        w.put_matrix(mat(5, 3, 1.0f));
        w.put_matrix(mat(5, 1, 0.1f));
        w.put_matrix(mat(4, 5, 1.0f));
        w.put_matrix(mat(4, 1, 0.1f));
    }, st);
}
std::string knn(bool st) {
    return body<route::KnnRouter>([](route::RouterWriter& w) {
        w.put(std::int32_t{3});
        w.put_matrix(mat(6, 3, 1.0f));
        w.put_matrix(Eigen::MatrixXd(mat(6, 4, 1.0f).cast<double>()));
    }, st);
}
std::string profile(bool st) {
    return body<route::ProfileRouter>([](route::RouterWriter& w) {
        w.put(1.0); w.put(std::int32_t{0});
        w.put_matrix(mat(4, 3, 1.0f));
        w.put_matrix(mat(4, 1, 0.1f));
    }, st);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (fuzz::seed_dir().empty()) return 0;
    std::stringstream ss;
    route::RouterWriter w(ss);
    w.header(route::Standardizer::kind, route::Standardizer::format_version);
    w.put_matrix(mat(3, 1, 1.0f));
    w.put_matrix(Eigen::MatrixXf::Constant(3, 1, 0.5f));
    fuzz::write_seed("standardizer", std::string(1, '\0') + ss.str());
    fuzz::write_seed("linear", "\x01" + linear(false));
    fuzz::write_seed("mlp", "\x02" + mlp(false));
    fuzz::write_seed("knn", "\x03" + knn(false));
    fuzz::write_seed("profile", "\x04" + profile(false));
    fuzz::write_seed("peek", "\x05" + knn(false));
    fuzz::write_seed("bundle_linear", "\x06" + linear(true));
    fuzz::write_seed("bundle_mlp", "\x07" + mlp(true));
    fuzz::write_seed("bundle_knn", "\x08" + knn(true));
    fuzz::write_seed("bundle_profile", "\x09" + profile(true));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int which = data[0];
    std::istringstream is(std::string(fuzz::as_text(data + 1, size - 1)), std::ios::binary);
    fuzz::run([&] {
        if (which == 0) {
            route::Standardizer s;
            s.load(is);
            check_standardizer(s);
        } else if (which <= 4) {
            load_kind(which - 1, is);
        } else if (which == 5) {
            (void)route::peek_kind(is);
        } else {
            route::Standardizer s;
            s.load(is);
            check_standardizer(s);
            load_kind((which - 6) % 4, is);
        }
    });
    return 0;
}
