// w2s — command-line tool. Errors from the library arrive as w2s::error and are printed here, once.
#include <algorithm>
#include <iostream>
#include <map>

#include <w2s/core/error.hpp>

#include "command.hpp"

int main(int argc, char** argv) {
    CLI::App app{"w2s: input-adaptive activation steering (Where to Steer)"};
    app.require_subcommand(1);
    auto& reg = w2s::cli::registry();
    std::sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    std::map<std::string, w2s::cli::Runner> runners;
    std::map<CLI::App*, std::string> names;
    for (auto& c : reg) {
        CLI::App* sub = app.add_subcommand(c.name, c.help);
        runners[c.name] = c.setup(*sub);
        names[sub] = c.name;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (auto* sub : app.get_subcommands()) {
        try {
            return runners.at(names.at(sub))();
        } catch (const w2s::error& e) {
            std::cerr << "w2s " << names.at(sub) << ": error (" << e.kind() << "): " << e.what() << '\n';
            return 1;
        } catch (const std::exception& e) {
            std::cerr << "w2s " << names.at(sub) << ": error: " << e.what() << '\n';
            return 1;
        }
    }
    return 0;
}
