// w2s/route/router_kit.hpp — what a router author needs besides the Router concept (router.hpp includes it):
//   check_fit_inputs / check_predict_inputs / check_fitted / check_dim   the input checks of fit and predict
//   Rng                                           a portable seeded RNG (std distributions differ between libraries)
//   RouterWriter / RouterReader                   the versioned binary container of router save/load
//   fit_status_from                               a FitStatus read back from a file, checked
// The project's four routers are written with exactly these; tests/route/test_user_router.cpp writes a fifth
// (nearest centroid) outside the library and runs it through fit, the evaluation and a bundle round trip.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <istream>
#include <limits>
#include <numeric>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/core/tensor.hpp"

namespace w2s::route {

// ---- checks ------------------------------------------------------------------------------------

/// Checks fit() inputs: X [n x d], S [n x L], n >= 2, d >= 1, L >= 1, all finite.
template <class XT, class ST>
inline void check_fit_inputs(std::string_view who, const XT& X, const ST& S) {
    const std::string w(who);
    if (X.rows() != S.rows())
        throw shape_error(w + ".fit: X has " + std::to_string(X.rows()) + " rows, S has " + std::to_string(S.rows()) +
                          "; expected one steerability profile per embedding");
    if (X.rows() < 2) throw invalid_argument(w + ".fit: " + std::to_string(X.rows()) + " items; expected at least 2");
    if (X.cols() < 1 || S.cols() < 1)
        throw shape_error(w + ".fit: X is " + std::to_string(X.rows()) + "x" + std::to_string(X.cols()) + ", S is " +
                          std::to_string(S.rows()) + "x" + std::to_string(S.cols()) +
                          "; expected at least one feature and one layer");
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
        for (Eigen::Index j = 0; j < X.cols(); ++j)
            if (!std::isfinite(X(i, j)))
                throw data_error(w + ".fit: X(" + std::to_string(i) + ", " + std::to_string(j) +
                                 ") is not finite; expected finite embeddings");
        for (Eigen::Index j = 0; j < S.cols(); ++j)
            if (!std::isfinite(S(i, j)))
                throw data_error(w + ".fit: S(" + std::to_string(i) + ", " + std::to_string(j) +
                                 ") is not finite; expected finite steerability");
    }
}

inline void check_fitted(std::string_view who, int dim) {
    if (dim <= 0) throw invalid_argument(std::string(who) + ": not fitted; call fit() or load() first");
}
/// Checks predict() inputs: fitted, and X with dim columns.
inline void check_predict_inputs(std::string_view who, Eigen::Index cols, int dim) {
    check_fitted(who, dim);
    if (cols != dim)
        throw shape_error(std::string(who) + ": X has " + std::to_string(cols) + " columns; expected " + std::to_string(dim));
}
inline void check_dim(std::string_view who, std::size_t got, int dim) {
    check_fitted(who, dim);
    if (got != static_cast<std::size_t>(dim))
        throw shape_error(std::string(who) + ": embedding has " + std::to_string(got) + " values; expected " +
                          std::to_string(dim));
}

namespace detail {
/// argmax over a vector (ties -> lowest index).
template <class V>
inline int argmax(const V& v) {
    Eigen::Index best = 0;
    for (Eigen::Index l = 1; l < v.size(); ++l)
        if (v(l) > v(best)) best = l;
    return static_cast<int>(best);
}

/// Short number for Params::to_string(): "%g" ("0.01", "1e-05", "100").
inline std::string short_num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}
}  // namespace detail

/// A FitStatus stored as an int32 (save: static_cast<std::int32_t>(status)); format_error when out of range.
inline FitStatus fit_status_from(std::int32_t v, std::string_view who) {
    if (v < 0 || v > static_cast<std::int32_t>(FitStatus::degenerate))
        throw format_error(std::string(who) + ": fit status " + std::to_string(v) + " out of range");
    return static_cast<FitStatus>(v);
}

// ---- RNG: portable and seeded (std distributions differ between standard libraries) -------------

/// xoshiro256** seeded with splitmix64. Same seed -> same stream on every platform.
class Rng {
public:
    explicit Rng(std::uint64_t seed) {
        for (auto& w : s_) {
            seed += 0x9E3779B97F4A7C15ull;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            w = z ^ (z >> 31);
        }
    }
    std::uint64_t next() {
        const std::uint64_t r = std::rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = std::rotl(s_[3], 45);
        return r;
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform integer in [0, n), n >= 1 (from 53 random bits; bias irrelevant for n << 2^53).
    std::uint64_t below(std::uint64_t n) {
        return std::min(n - 1, static_cast<std::uint64_t>(uniform() * static_cast<double>(n)));
    }
    /// Standard normal (Box–Muller, one value per call).
    double normal() {
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    /// Fisher–Yates permutation of 0..n-1.
    std::vector<Eigen::Index> permutation(Eigen::Index n) {
        std::vector<Eigen::Index> p(static_cast<std::size_t>(n));
        std::iota(p.begin(), p.end(), Eigen::Index{0});
        for (std::size_t i = p.size(); i > 1; --i) std::swap(p[i - 1], p[below(i)]);
        return p;
    }

private:
    std::uint64_t s_[4]{};
};

// ---- binary container -----------------------------------------------------------------------------
// Layout (little-endian, as the host; the format records nothing host-specific else):
//   char[8] "W2SROUTE" | u32 container_version (=1) | u32 len + bytes kind | u32 body_version | body...
// Body fields are written with the put/get helpers below; matrices as u64 rows, u64 cols, then row-major data.

inline constexpr char kRouterMagic[8] = {'W', '2', 'S', 'R', 'O', 'U', 'T', 'E'};
inline constexpr std::uint32_t kRouterContainerVersion = 1;

class RouterWriter {
public:
    explicit RouterWriter(std::ostream& os) : os_(os) {}
    template <class T>
        requires std::is_arithmetic_v<T>
    void put(T v) {
        os_.write(reinterpret_cast<const char*>(&v), sizeof v);
        check();
    }
    void put_string(std::string_view s) {
        put(static_cast<std::uint32_t>(s.size()));
        os_.write(s.data(), static_cast<std::streamsize>(s.size()));
        check();
    }
    template <class M>
    void put_matrix(const M& m) {
        using T = typename M::Scalar;
        put(static_cast<std::uint64_t>(m.rows()));
        put(static_cast<std::uint64_t>(m.cols()));
        const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm = m;
        os_.write(reinterpret_cast<const char*>(rm.data()), static_cast<std::streamsize>(sizeof(T) * rm.size()));
        check();
    }
    void header(std::string_view kind, std::uint32_t body_version) {
        os_.write(kRouterMagic, sizeof kRouterMagic);
        put(kRouterContainerVersion);
        put_string(kind);
        put(body_version);
    }

private:
    void check() {
        if (!os_) throw io_error("router save: write failed");
    }
    std::ostream& os_;
};

class RouterReader {
public:
    RouterReader(std::istream& is, std::string who) : is_(is), who_(std::move(who)) {}
    template <class T>
        requires std::is_arithmetic_v<T>
    T get(std::string_view field) {
        T v{};
        is_.read(reinterpret_cast<char*>(&v), sizeof v);
        if (!is_) truncated(field);
        return v;
    }
    std::string get_string(std::string_view field, std::uint32_t max_len = 1u << 16) {
        const auto n = get<std::uint32_t>(field);
        if (n > max_len)
            throw format_error(who_ + ": field " + std::string(field) + ": string length " + std::to_string(n) +
                               " exceeds " + std::to_string(max_len));
        std::string s(n, '\0');
        is_.read(s.data(), n);
        if (!is_) truncated(field);
        return s;
    }
    /// Reads a matrix; rows/cols < 0 mean "any", otherwise they must match.
    template <class M>
    M get_matrix(std::string_view field, Eigen::Index rows = -1, Eigen::Index cols = -1) {
        using T = typename M::Scalar;
        const auto r = get<std::uint64_t>(field), c = get<std::uint64_t>(field);
        constexpr std::uint64_t kMax = std::uint64_t{1} << 31;
        if (r > kMax || c > kMax || (r && c > kMax / r) || (rows >= 0 && r != static_cast<std::uint64_t>(rows)) ||
            (cols >= 0 && c != static_cast<std::uint64_t>(cols)))
            throw format_error(who_ + ": field " + std::string(field) + ": shape " + std::to_string(r) + "x" +
                               std::to_string(c) + " found; expected " + (rows >= 0 ? std::to_string(rows) : "?") + "x" +
                               (cols >= 0 ? std::to_string(cols) : "?"));
        // Read in chunks, so that memory follows the bytes the stream holds, not the shape a damaged file declares
        // (a 40-byte file may declare 2^31 elements).
        const std::uint64_t n = r * c;
        std::vector<T> buf;
        constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;
        for (std::uint64_t done = 0; done < n;) {
            const std::uint64_t k = std::min(kChunk, n - done);
            buf.resize(static_cast<std::size_t>(done + k));
            is_.read(reinterpret_cast<char*>(buf.data() + done), static_cast<std::streamsize>(sizeof(T) * k));
            if (!is_) truncated(field);
            done += k;
        }
        if constexpr (std::is_floating_point_v<T>) {
            for (std::uint64_t i = 0; i < n; ++i)
                if (!std::isfinite(buf[static_cast<std::size_t>(i)]))
                    throw format_error(who_ + ": field " + std::string(field) + ": value " + std::to_string(i) + " (row " +
                                       std::to_string(i / c) + ", column " + std::to_string(i % c) + ") is not finite");
        }
        // An empty matrix is made at its shape directly: converting an empty 0 x 2^31 row-major matrix to a
        // column-major M walks every empty column (seconds for a 70-byte file).
        if (n == 0) return M(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
        Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(static_cast<Eigen::Index>(r),
                                                                             static_cast<Eigen::Index>(c));
        std::copy(buf.begin(), buf.end(), rm.data());
        return M(rm);
    }
    /// Reads and checks the container header; returns the body version, which must be in [1, max_body_version].
    std::uint32_t header(std::string_view kind, std::uint32_t max_body_version) {
        const std::string found = read_kind();
        if (found != kind)
            throw format_error(who_ + ": the stream holds a '" + found + "' router; expected '" + std::string(kind) +
                               "'");
        const auto v = get<std::uint32_t>("body version");
        if (v < 1 || v > max_body_version)
            throw format_error(who_ + ": format version " + std::to_string(v) + " found; this build reads versions 1.." +
                               std::to_string(max_body_version));
        return v;
    }
    /// Reads magic + container version + kind.
    std::string read_kind() {
        char m[8]{};
        is_.read(m, sizeof m);
        if (!is_) truncated("magic");
        if (std::memcmp(m, kRouterMagic, sizeof m) != 0)
            throw format_error(who_ + ": bad magic; expected \"W2SROUTE\" (not a w2s router file)");
        const auto cv = get<std::uint32_t>("container version");
        if (cv != kRouterContainerVersion)
            throw format_error(who_ + ": container version " + std::to_string(cv) + " found; expected " +
                               std::to_string(kRouterContainerVersion));
        return get_string("kind", 256);
    }
    [[noreturn]] void truncated(std::string_view field) {
        throw format_error(who_ + ": stream ends inside field " + std::string(field) + " (truncated file?)");
    }

private:
    std::istream& is_;
    std::string who_;
};

/// The kind() of the router saved at the current position of `is` ("linear", "mlp", ...); the stream position
/// is restored. Lets a tool at the edge pick the right type before load(). Throws format_error on a bad header.
[[nodiscard]] inline std::string peek_kind(std::istream& is) {
    const auto pos = is.tellg();
    RouterReader r(is, "peek_kind");
    std::string k = r.read_kind();
    is.clear();
    is.seekg(pos);
    return k;
}
}  // namespace w2s::route
