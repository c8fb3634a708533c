// w2s/core/memory.hpp — refusing work that would not fit in memory, before it starts.
//
//   const MemoryLimit m = available_memory();          // what this process may still allocate, and from where
//   require_memory(need, "the sweep of 1000 items", "write fewer embedding layers or use --max-items");
//
// The work whose memory grows with the data (the probe estimator's activations, the sweep's records with their
// prompt embeddings) estimates what it will hold and calls require_memory() before any forward pass, so a
// dataset that would not fit is a w2s::resource_error that says how much is needed, how much is available and
// what to change, instead of an OOM kill an hour in.
//
// available_memory() on Linux is the smallest of: MemAvailable (/proc/meminfo), the cgroup's limit less its
// usage (v2 memory.max - memory.current; v1 memory.limit_in_bytes - memory.usage_in_bytes), and RLIMIT_AS less
// the address space already mapped (VmSize). W2S_MEMORY_LIMIT (bytes, or with a K/M/G/T suffix: "512M", "8G")
// replaces it, for a user who wants a stricter bound and for tests. Where none of these can be read (other
// systems) the limit is unknown (bytes = 0) and require_memory() refuses nothing.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

#if defined(__linux__)
#include <sys/resource.h>
#endif

#include "w2s/core/error.hpp"

namespace w2s {

struct MemoryLimit {
    std::uint64_t bytes = 0;  ///< what may still be allocated; 0 = unknown
    std::string source;       ///< where the figure comes from, e.g. "MemAvailable in /proc/meminfo"
};

/// "1.5 GiB", "12.0 MiB", "812 KiB", "17 B".
inline std::string format_bytes(std::uint64_t b) {
    const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u <= 1) std::snprintf(buf, sizeof buf, "%.0f %s", v, unit[u]);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, unit[u]);
    return buf;
}

/// Parses "123", "512K", "64M", "8G", "1T" (binary units, optional trailing "B" or "iB"). invalid_argument names
/// `what` and the text otherwise (a value of 0 too: no memory at all is no limit anyone means).
inline std::uint64_t parse_bytes(std::string_view text, std::string_view what) {
    auto bad = [&] {
        return invalid_argument(std::string(what) + ": '" + std::string(text) +
                                "' is not a size (expected bytes or a number with K, M, G or T, e.g. 512M)");
    };
    std::size_t i = 0;
    std::uint64_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        const auto d = static_cast<std::uint64_t>(text[i] - '0');
        if (v > (std::numeric_limits<std::uint64_t>::max() - d) / 10) throw bad();
        v = v * 10 + d;
        ++i;
    }
    if (i == 0) throw bad();
    std::string_view rest = text.substr(i);
    int shift = 0;
    if (!rest.empty()) {
        switch (rest[0]) {
            case 'k': case 'K': shift = 10; break;
            case 'm': case 'M': shift = 20; break;
            case 'g': case 'G': shift = 30; break;
            case 't': case 'T': shift = 40; break;
            case 'b': case 'B': break;
            default: throw bad();
        }
        if (shift != 0) rest.remove_prefix(1);
        if (rest == "iB" || rest == "B" || rest == "b") rest = {};
        if (!rest.empty()) throw bad();
    }
    if (shift != 0 && v > (std::numeric_limits<std::uint64_t>::max() >> shift)) throw bad();
    v <<= shift;
    if (v == 0) throw bad();
    return v;
}

namespace detail {
/// The first number in a one-line file (cgroup files), or nothing when missing or "max".
inline bool read_u64_file(const char* path, std::uint64_t& out) {
    std::ifstream f(path);
    std::string s;
    if (!(f >> s) || s.empty() || s[0] < '0' || s[0] > '9') return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (errno != 0) return false;
    out = v;
    return true;
}
/// A "Key:   123 kB" line of a /proc file, in bytes.
inline bool read_proc_kb(const char* path, std::string_view key, std::uint64_t& out) {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
        if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
            std::istringstream in(line.substr(key.size() + 1));
            std::uint64_t kb = 0;
            if (!(in >> kb)) return false;
            out = kb * 1024;
            return true;
        }
    }
    return false;
}
inline void take_min(MemoryLimit& m, std::uint64_t bytes, std::string source) {
    if (m.bytes == 0 || bytes < m.bytes) {
        m.bytes = bytes == 0 ? 1 : bytes;  // 0 would read as "unknown"
        m.source = std::move(source);
    }
}
}  // namespace detail

/// What this process may still allocate (see the file comment). Reads a few small files; call once per job.
inline MemoryLimit available_memory() {
    MemoryLimit m;
    if (const char* env = std::getenv("W2S_MEMORY_LIMIT"); env != nullptr && *env != '\0') {
        m.bytes = parse_bytes(env, "W2S_MEMORY_LIMIT");
        m.source = "W2S_MEMORY_LIMIT";
        return m;
    }
#if defined(__linux__)
    std::uint64_t v = 0, used = 0;
    if (detail::read_proc_kb("/proc/meminfo", "MemAvailable", v)) detail::take_min(m, v, "MemAvailable in /proc/meminfo");
    if (detail::read_u64_file("/sys/fs/cgroup/memory.max", v)) {
        used = 0;
        detail::read_u64_file("/sys/fs/cgroup/memory.current", used);
        detail::take_min(m, v > used ? v - used : 0, "the cgroup's memory.max less memory.current");
    } else if (detail::read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes", v) && v < (std::uint64_t{1} << 60)) {
        used = 0;
        detail::read_u64_file("/sys/fs/cgroup/memory/memory.usage_in_bytes", used);
        detail::take_min(m, v > used ? v - used : 0, "the cgroup's memory.limit_in_bytes less its usage");
    }
    rlimit rl{};
    if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        std::uint64_t mapped = 0;
        detail::read_proc_kb("/proc/self/status", "VmSize", mapped);
        const auto lim = static_cast<std::uint64_t>(rl.rlim_cur);
        detail::take_min(m, lim > mapped ? lim - mapped : 0, "RLIMIT_AS (ulimit -v) less the mapped address space");
    }
#endif
    return m;
}

/// Throws resource_error when `need` bytes exceed what is available: "<what> needs about N, but only M is
/// available (<source>); <advice>". Does nothing when the limit is unknown.
inline void require_memory(std::uint64_t need, std::string_view what, std::string_view advice, const MemoryLimit& m = available_memory()) {
    if (m.bytes == 0 || need <= m.bytes) return;
    std::string msg = std::string(what) + " needs about " + format_bytes(need) + " of memory, but only " + format_bytes(m.bytes) +
                      " is available (" + m.source + ")";
    if (!advice.empty()) msg += "; " + std::string(advice);
    throw resource_error(msg);
}

/// a * b, saturating at the largest value instead of wrapping (sizes computed from counts a file or user gave).
inline std::uint64_t mul_sat(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return std::numeric_limits<std::uint64_t>::max();
    return a * b;
}
inline std::uint64_t add_sat(std::uint64_t a, std::uint64_t b) {
    return b > std::numeric_limits<std::uint64_t>::max() - a ? std::numeric_limits<std::uint64_t>::max() : a + b;
}

}  // namespace w2s
