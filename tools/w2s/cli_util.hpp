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
    void add(CLI::App& app) {
        app.add_option("--orders", orders, "A/B items: mirrored (both answer orders, the default) or as-given (single order)");
        app.add_option("--template", tmpl, "prompt format: auto (the model's chat template), plain, chatml, llama2, llama3, gemma");
        app.add_option("--score", score, "free-text pairs: logprob-sum (default) or logprob-mean");
        app.add_option("--position", position, "free-text pairs: activations at the reply's last token (last) or its mean");
    }
    [[nodiscard]] steer::TokenizeOptions options() const {
        return {steer::parse_orders(orders), steer::parse_scoring(score), steer::parse_read_at(position)};
    }
    /// Items as token ids with the model's tokenizer and the chosen prompt format.
    template <class Model>
    std::vector<steer::TokenizedItem> tokenize(const Model& m, const std::vector<steer::Item>& items, steer::Variant v,
                                               const steer::PersonaPrompts* personas) const {
        const auto t = text::select_template(m, tmpl);
        return steer::tokenize_items(m.tokenizer(), t, items, v, personas, options());
    }
};

}  // namespace w2s::cli
