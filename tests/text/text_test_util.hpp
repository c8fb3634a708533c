// Helpers shared by the tests/text executables.
#pragma once

#include <cstdint>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <boost/test/unit_test.hpp>

#include <w2s/text/chat_template.hpp>
#include <w2s/text/tokenizer.hpp>

#include "w2s_test_support.hpp"

BOOST_TEST_DONT_PRINT_LOG_VALUE(w2s::text::TokenizerKind)
BOOST_TEST_DONT_PRINT_LOG_VALUE(w2s::text::TokenType)
BOOST_TEST_DONT_PRINT_LOG_VALUE(w2s::text::ChatFamily)

namespace w2s::test {

inline nlohmann::json load_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

/// A JSON array file or a JSONL file (one object per line).
inline std::vector<nlohmann::json> load_items(const std::string& path) {
    std::vector<nlohmann::json> out;
    if (path.size() > 6 && path.substr(path.size() - 6) == ".jsonl") {
        std::istringstream in(read_file(path));
        std::string line;
        while (std::getline(in, line))
            if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(nlohmann::json::parse(line));
    } else {
        for (auto& x : load_json(path)) out.push_back(x);
    }
    return out;
}

/// FNV-1a 64 over the ids as little-endian int32 bytes, as 16 hex digits (same as the golden script).
inline std::string trim_ascii(std::string s) {
    auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && sp(s.back())) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && sp(s[i])) ++i;
    return s.substr(i);
}

/// PROTOCOL.md section 1: (user question, matching response) of item `index` of a dataset of `kind`
/// ("caa", "xrisk", "persona"). The same simple code as build_ab() in make_tokenizer_golden.py.
inline std::pair<std::string, std::string> build_ab(const nlohmann::json& item, std::size_t index, const std::string& kind) {
    std::string q = item.at("question").get<std::string>();
    if (kind == "caa") return {q, trim_ascii(item.at("answer_matching_behavior").get<std::string>())};
    if (kind == "xrisk") {
        for (std::size_t p; (p = q.find("<META_START>")) != std::string::npos;) {
            std::size_t e = q.find("<META_END>", p);
            if (e == std::string::npos) break;
            q.erase(p, e + 10 - p);
        }
        return {q, trim_ascii(item.at("answer_matching_behavior").get<std::string>())};
    }
    if (kind == "persona") {
        std::string a = item.at("answer_matching_behavior").get<std::string>();
        std::string b = item.at("answer_not_matching_behavior").get<std::string>();
        const bool swapped = (index / 2) % 2 == 0;
        if (swapped) std::swap(a, b);
        return {q + "\n\nChoices:\n(A): " + a + "\n(B): " + b, swapped ? "(B)" : "(A)"};
    }
    throw std::runtime_error("unknown item kind " + kind);
}

inline std::vector<w2s::text::token_id> ids_of(const nlohmann::json& j) { return j.get<std::vector<w2s::text::token_id>>(); }

}  // namespace w2s::test
