// Support of the libFuzzer targets (tests/<area>/fuzz/fuzz_*.cpp; built and run by tests/support/run_fuzz.cmake,
// one CTest test each, label "fuzz"; scripts/fuzz.sh runs them all for longer with a kept corpus).
//
// The contract every target checks: a w2s::error is the expected answer to bad bytes; any other exception, a crash,
// a sanitizer report, a leak, or a broken promise (w2s::fuzz::require: a round trip that must hold, a result out of
// its documented range) is a bug. A target's body runs inside w2s::fuzz::run, which lets w2s::error through as
// "refused" and turns anything else into an abort with the exception's text, so libFuzzer saves the input.
//
// Seeds: a target writes its small valid inputs with write_seed() from LLVMFuzzerInitialize; they land in
// $W2S_FUZZ_SEEDS (run_fuzz.cmake sets it to the target's seed folder before the run) and nowhere when it is unset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

#include <fuzzer/FuzzedDataProvider.h>

#include "w2s/core/error.hpp"

namespace w2s::fuzz {

/// Aborts (a finding) with `what` when `ok` is false: for promises of the parser under test, not for bad input.
inline void require(bool ok, std::string_view what) {
    if (ok) return;
    std::fprintf(stderr, "w2s fuzz: broken promise: %.*s\n", static_cast<int>(what.size()), what.data());
    std::abort();
}

/// Runs `body`; a w2s::error is the expected refusal of bad input, any other exception a finding.
template <class F>
void run(F&& body) {
    try {
        body();
    } catch (const w2s::error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "w2s fuzz: an exception that is not a w2s::error escaped: %s\n", e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "w2s fuzz: a non-std exception escaped\n");
        std::abort();
    }
}

/// The folder seeds go to ($W2S_FUZZ_SEEDS), or "" when seeds are not wanted.
inline std::string seed_dir() {
    const char* d = std::getenv("W2S_FUZZ_SEEDS");
    return d ? d : "";
}

/// Writes one seed input `name` (a file name) when seeds are wanted.
inline void write_seed(const std::string& name, std::string_view bytes) {
    const std::string dir = seed_dir();
    if (dir.empty()) return;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// A private scratch folder of this process (for parsers that read only from a path), made once and removed at exit.
inline const std::string& scratch_dir() {
    struct Dir {
        std::string path;
        Dir() : path((std::filesystem::temp_directory_path() / ("w2s_fuzz_" + std::to_string(::getpid()))).string()) {
            std::filesystem::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

/// Writes `bytes` to `path` (whole; throws std::runtime_error when it cannot: a broken set-up, not a finding).
inline void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("w2s fuzz: cannot write " + path);
}

/// A file of tests/golden (the source tree from $W2S_SOURCE_DIR, which run_fuzz.cmake sets).
inline std::string golden_path(const std::string& name) {
    const char* d = std::getenv("W2S_SOURCE_DIR");
    if (!d || !*d) throw std::runtime_error("w2s fuzz: W2S_SOURCE_DIR is not set (run through tests/support/run_fuzz.cmake)");
    return std::string(d) + "/tests/golden/" + name;
}

/// The input as a string.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace w2s::fuzz
