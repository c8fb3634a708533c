// bench_tokenize MODEL DATASETS [MB] [DUMP.json] — tokenization throughput of w2s::text::Tokenizer, one
// thread, on the questions of the behaviour datasets (CAA JSON + MWE JSONL) up to MB megabytes (default 4).
// DUMP.json, when given, receives the documents as a JSON list so another tokenizer can run on the same
// text (scripts/bench_tokenize.sh). Prints one JSON line: bytes, documents, ids, cold and best-of-3 MB/s.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <w2s/text/tokenizer.hpp>

namespace fs = std::filesystem;

static std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: bench_tokenize MODEL DATASETS [MB] [DUMP.json]\n";
        return 2;
    }
    const double mb = argc > 3 ? std::stod(argv[3]) : 4.0;
    const std::size_t limit = static_cast<std::size_t>(mb * 1e6);
    std::vector<fs::path> files;
    for (auto& e : fs::recursive_directory_iterator(argv[2]))
        if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".jsonl")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> docs;
    std::size_t bytes = 0;
    for (const auto& p : files) {
        if (bytes >= limit) break;
        std::vector<nlohmann::json> items;
        const std::string text = slurp(p);
        try {
            if (p.extension() == ".jsonl") {
                std::istringstream in(text);
                std::string line;
                while (std::getline(in, line))
                    if (!line.empty()) items.push_back(nlohmann::json::parse(line));
            } else {
                auto j = nlohmann::json::parse(text);
                if (!j.is_array()) continue;
                for (auto& x : j) items.push_back(x);
            }
        } catch (const nlohmann::json::exception&) {
            continue;
        }
        for (const auto& it : items) {
            if (bytes >= limit) break;
            if (!it.is_object()) continue;
            for (const char* key : {"question", "prompt"})
                if (it.contains(key) && it[key].is_string()) {
                    docs.push_back(it[key].get<std::string>());
                    bytes += docs.back().size();
                    break;
                }
        }
    }
    if (argc > 4) std::ofstream(argv[4]) << nlohmann::json(docs).dump();

    w2s::gguf::File f(argv[1]);
    const auto tok = w2s::text::Tokenizer::from_gguf(f);
    std::vector<w2s::text::token_id> ids;
    ids.reserve(bytes / 2);
    auto pass = [&] {
        ids.clear();
        auto t0 = std::chrono::steady_clock::now();
        for (const auto& d : docs) tok.encode_into(d, ids);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    const double cold = pass();
    double best = cold;
    for (int r = 0; r < 3; ++r) best = std::min(best, pass());
    nlohmann::json out{{"tokenizer", "w2s"}, {"bytes", bytes}, {"documents", docs.size()}, {"ids", ids.size()},
                       {"cold_mb_s", bytes / cold / 1e6}, {"mb_s", bytes / best / 1e6}};
    std::cout << out.dump() << '\n';
    return 0;
}
