// The CLI's edge: subcommands register themselves here; main() builds the CLI11 app from the registry.
// Each cmd_*.cpp defines `static const w2s::cli::Registrar reg{"name", "help", setup};` where setup adds
// options to its CLI::App and returns the function to run (returning the exit code).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace w2s::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct CommandEntry {
    std::string name;
    std::string help;
    Setup setup;
};

inline std::vector<CommandEntry>& registry() {
    static std::vector<CommandEntry> r;
    return r;
}

struct Registrar {
    Registrar(std::string name, std::string help, Setup setup) {
        registry().push_back({std::move(name), std::move(help), std::move(setup)});
    }
};

}  // namespace w2s::cli
