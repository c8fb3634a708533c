// A scratch folder per test process under the system temp dir, removed at exit.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace w2s::test {

inline const std::filesystem::path& scratch_dir() {
    struct Dir {
        std::filesystem::path p;
        Dir() {
            p = std::filesystem::temp_directory_path() / ("w2s_steer_" + std::to_string(::getpid()));
            std::filesystem::create_directories(p);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(p, ec);
        }
    };
    static Dir d;
    return d.p;
}

inline std::string write_scratch(const std::string& name, const std::string& text) {
    const auto path = scratch_dir() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

}  // namespace w2s::test
