// Small helpers shared by the CLI's subcommands: parsing layer lists and number lists, the prompt options.
#pragma once

#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <w2s/core/error.hpp>
#include <w2s/steer/dataset.hpp>
#include <w2s/steer/load.hpp>
#include <w2s/steer/tokenized.hpp>
#include <w2s/text/chat_template.hpp>

namespace w2s::cli {

/// "all" -> 0..n-1; "a-b" -> a..b; "a,b,c" -> that list. Throws invalid_argument naming the text.
inline std::vector<int> parse_layers(const std::string& text, int n_layers) {
    std::vector<int> out;
    if (text.empty() || text == "all") {
        for (int l = 0; l < n_layers; ++l) out.push_back(l);
        return out;
    }
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
        try {
            const auto dash = part.find('-', 1);
            if (dash != std::string::npos) {
                const int a = std::stoi(part.substr(0, dash)), b = std::stoi(part.substr(dash + 1));
                if (a > b) throw invalid_argument("");
                for (int l = a; l <= b; ++l) out.push_back(l);
            } else {
                out.push_back(std::stoi(part));
            }
        } catch (const std::exception&) {
            throw invalid_argument("--layers '" + text + "': expected all, a-b or a comma list of layers");
        }
    }
    for (int l : out)
        if (l < 0 || l >= n_layers)
            throw invalid_argument("--layers '" + text + "': layer " + std::to_string(l) + " out of range 0.." + std::to_string(n_layers - 1));
    return out;
}

/// "a,b,c" -> {"a", "b", "c"} (empty parts dropped).
inline std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ','))
        if (!part.empty()) out.push_back(part);
    return out;
}

inline std::vector<double> parse_doubles(const std::string& text) {
    std::vector<double> out;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
        try {
            out.push_back(std::stod(part));
        } catch (const std::exception&) {
            throw invalid_argument("'" + text + "': expected a comma list of numbers");
        }
    }
    return out;
}

/// The options every subcommand that turns items into prompts shares: answer orders, prompt format, free-text
/// scoring and activation position.
struct PromptArgs {
    std::string orders = "mirrored", tmpl = "auto", score = "logprob-sum", position = "last";
    bool parse_special = false;
    void add(CLI::App& app) {
        app.add_flag("--parse-special", parse_special,
                     "special-token text in the data (e.g. <|im_start|>) becomes control tokens (default: plain text)");
        app.add_option("--orders", orders, "A/B items: mirrored (both answer orders, the default) or as-given (single order)");
        app.add_option("--template", tmpl, "prompt format: auto (the model's chat template), plain, chatml, llama2, llama3, gemma");
        app.add_option("--score", score, "free-text pairs: logprob-sum (default) or logprob-mean");
        app.add_option("--position", position, "free-text pairs: activations at the reply's last token (last) or its mean");
    }
    [[nodiscard]] steer::TokenizeOptions options() const {
        return {steer::parse_orders(orders), steer::parse_scoring(score), steer::parse_read_at(position), parse_special};
    }
};

/// The data options of the subcommands that read one data file (vectors, sweep, steerability, fit): the file, the
/// part of the split, a subset, the prompt variant and persona file, and the prompt options; spec() is the
/// library's steer::DataSpec.
struct DataArgs {
    PromptArgs prompt;
    std::string data, variant = "BASE", personas, split = "train";
    std::size_t max_items = 0;
    void add(CLI::App& app, bool with_split = true) {
        app.add_option("--data", data, "A/B items (CAA JSON or MWE JSONL) or free-text pairs (JSONL)")->required()->check(CLI::ExistingFile);
        prompt.add(app);
        app.add_option("--variant", variant, "prompt variant: BASE, SYS.POS, SYS.NEG, USER.POS, USER.NEG");
        app.add_option("--personas", personas, "persona_prompts.json (for SYS/USER variants; default: beside the data)");
        if (with_split) app.add_option("--split", split, "which items: train, test or all (the protocol's seeded 50/50 split)");
        app.add_option("--max-items", max_items, "use at most N items of the split (seeded subset)");
    }
    [[nodiscard]] steer::DataSpec spec() const {
        return {data, split, max_items, steer::parse_variant(variant), personas, prompt.tmpl, prompt.options()};
    }
};

}  // namespace w2s::cli
