// Test support: where the model, datasets and golden files are. A missing model or dataset throws, so a
// model/data test fails with a message saying how to provide it, never skips silently.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <span>
#include <string>
#include <utility>
#include <unistd.h>

namespace w2s::test {

/// The repository's root and tests/golden (absolute; compiled once in w2s_test_paths.cpp, see there why).
std::string source_dir();
std::string golden_dir();

/// Sets (value non-null) or removes an environment variable for one scope, restoring the old value after.
struct ScopedEnv {
    std::string name, old;
    bool had = false;
    ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
        if (const char* o = std::getenv(name.c_str())) {
            had = true;
            old = o;
        }
        if (value) ::setenv(name.c_str(), value, 1);
        else ::unsetenv(name.c_str());
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
    ~ScopedEnv() {
        if (had) ::setenv(name.c_str(), old.c_str(), 1);
        else ::unsetenv(name.c_str());
    }
};

inline std::string env_or(const char* name, const std::string& dflt) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : dflt;
}

/// The folder the model cache lives in: $W2S_CACHE_DIR, else $XDG_CACHE_HOME/w2s, else ~/.cache/w2s.
inline std::string cache_dir() {
    if (const char* c = std::getenv("W2S_CACHE_DIR"); c && *c) return c;
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/w2s";
    return env_or("HOME", "/root") + "/.cache/w2s";
}

/// Path of SmolLM2-135M-Instruct Q4_1 ($W2S_MODEL overrides). Throws when the file is absent.
inline std::string model_path() {
    std::string p = env_or("W2S_MODEL", cache_dir() + "/SmolLM2-135M-Instruct.Q4_1.gguf");
    if (!std::filesystem::exists(p))
        throw std::runtime_error("model not found at " + p + ": run scripts/fetch_model.sh (or set W2S_MODEL)");
    return p;
}

/// Path of the behaviour datasets ($W2S_DATASETS, else <source>/../shared/datasets). Throws when absent.
inline std::string datasets_dir() {
    std::string p = env_or("W2S_DATASETS", source_dir() + "/../shared/datasets");
    if (!std::filesystem::exists(p))
        throw std::runtime_error("datasets not found at " + p + ": place shared/ beside the repository (or set W2S_DATASETS)");
    return p;
}

inline std::string golden_path(const std::string& name) { return golden_dir() + "/" + name; }

inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// A folder of this test process's own under the system temp folder (made once per name): <tmp>/w2s_<name>_<pid>.
inline std::string temp_dir(const std::string& name) {
    auto p = std::filesystem::temp_directory_path() / ("w2s_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    return p.string();
}

/// FNV-1a 64 over token ids as little-endian int32, hex (the golden scripts' fnv1a of tests/reference/).
inline std::string fnv1a64_ids(std::span<const std::int32_t> ids) {
    std::uint64_t h = 0xCBF29CE484222325ULL;
    for (auto id : ids) {
        const auto u = static_cast<std::uint32_t>(id);
        for (int k = 0; k < 4; ++k) {
            h ^= (u >> (8 * k)) & 0xFFu;
            h *= 0x100000001B3ULL;
        }
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace w2s::test
