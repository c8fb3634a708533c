// bench_serve — a load generator for OpenAI-compatible servers (w2s serve, llama.cpp's llama-server): C clients,
// each sending chat completions one after another, the same prompts for every server. Prints one JSON line per
// concurrency level: aggregate generated tokens/s (completion tokens of all requests / wall time of the level),
// request latency p50/p95 and time to first token is not measured (non-streamed requests).
//
//   bench_serve --port 8080 --concurrency 1,4,16 --requests 2 --max-tokens 64 --steering none|same|mixed
//               [--bundles a,b,c] [--label NAME]
//
// --requests R: each client sends R requests (so a level sends C*R). Requests ask for temperature 0 and
// "ignore_eos": true (both servers honour it) so that every request generates max_tokens tokens.
// Steering (w2s only): none; same = every request {"bundle": bundles[0], "alpha": 4, "layer": "auto"}; mixed =
// request i of client c gets bundles[(c + i) % n], alpha 2 + (c % 5), layer "auto" or a fixed layer 3 + 4 * (c % 6)
// in turn: every row of the batch a different bundle, layer and alpha.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <httplib.h>

namespace {

using json = nlohmann::json;

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string p;
    while (std::getline(ss, p, ','))
        if (!p.empty()) out.push_back(p);
    return out;
}

const std::vector<std::string> kPrompts = {
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Explain how a bicycle stays upright while it is moving.",
    "What are three good habits for a student preparing for exams?",
    "Describe the taste of a ripe mango to someone who has never eaten one.",
    "Give me advice on how to start learning to play the guitar.",
    "Why is the sky blue during the day and red at sunset?",
    "Write a polite email asking a colleague to review a document.",
    "What should I pack for a weekend hiking trip in the mountains?",
    "Summarize the main causes of the French Revolution in a few sentences.",
    "How do I make a simple tomato sauce for pasta?",
    "Tell me about the life cycle of a butterfly.",
    "What is the difference between weather and climate?",
    "Suggest a name for a small coffee shop near a university.",
    "How can I improve my sleep?",
    "Explain what a prime number is to a ten year old.",
    "Write a haiku about autumn leaves.",
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const double idx = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(idx);
    const auto hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (idx - static_cast<double>(lo));
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "127.0.0.1", steering = "none", label = "server", conc_s = "1,4,16", bundles_s;
    int port = 8080, requests = 2, max_tokens = 64;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "bench_serve: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--host") host = next();
        else if (a == "--port") port = std::stoi(next());
        else if (a == "--concurrency") conc_s = next();
        else if (a == "--requests") requests = std::stoi(next());
        else if (a == "--max-tokens") max_tokens = std::stoi(next());
        else if (a == "--steering") steering = next();
        else if (a == "--bundles") bundles_s = next();
        else if (a == "--label") label = next();
        else {
            std::cerr << "bench_serve: unknown option " << a << "\n";
            return 2;
        }
    }
    const auto bundles = split(bundles_s);
    if (steering != "none" && bundles.empty()) {
        std::cerr << "bench_serve: --steering " << steering << " needs --bundles\n";
        return 2;
    }
    auto body_for = [&](int client, int i) {
        json b = {{"messages", {{{"role", "user"}, {"content", kPrompts[static_cast<std::size_t>(client * 7 + i) % kPrompts.size()]}}}},
                  {"max_tokens", max_tokens}, {"temperature", 0}, {"ignore_eos", true}};
        if (steering == "same") b["steering"] = {{{"bundle", bundles[0]}, {"alpha", 4.0}, {"layer", "auto"}}};
        if (steering == "mixed") {
            json e = {{"bundle", bundles[static_cast<std::size_t>(client + i) % bundles.size()]}, {"alpha", 2.0 + client % 5}};
            e["layer"] = (client + i) % 2 == 0 ? json("auto") : json(3 + 4 * (client % 6));
            b["steering"] = {e};
        }
        return b.dump();
    };
    // One warm-up request (first-touch of the weights, thread pools).
    {
        httplib::Client c(host, port);
        c.set_read_timeout(600, 0);
        auto r = c.Post("/v1/chat/completions", body_for(0, 0), "application/json");
        if (!r || r->status != 200) {
            std::cerr << "bench_serve: warm-up failed: " << (r ? std::to_string(r->status) + " " + r->body : std::string("no answer")) << "\n";
            return 1;
        }
    }
    for (const auto& cs : split(conc_s)) {
        const int C = std::stoi(cs);
        std::mutex m;
        std::vector<double> lat;
        std::atomic<long> tokens{0};
        std::atomic<int> failed{0};
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> th;
        for (int c = 0; c < C; ++c)
            th.emplace_back([&, c] {
                httplib::Client cli(host, port);
                cli.set_read_timeout(600, 0);
                for (int i = 0; i < requests; ++i) {
                    const auto a = std::chrono::steady_clock::now();
                    auto r = cli.Post("/v1/chat/completions", body_for(c, i), "application/json");
                    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
                    if (!r || r->status != 200) {
                        ++failed;
                        continue;
                    }
                    const auto j = json::parse(r->body);
                    tokens += j["usage"]["completion_tokens"].get<long>();
                    const std::lock_guard lk(m);
                    lat.push_back(s);
                }
            });
        for (auto& t : th) t.join();
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const json out = {{"label", label},       {"steering", steering},
                          {"clients", C},         {"requests", C * requests},
                          {"failed", failed.load()}, {"tokens", tokens.load()},
                          {"wall_s", wall},       {"tok_s", static_cast<double>(tokens.load()) / wall},
                          {"p50_s", percentile(lat, 0.5)}, {"p95_s", percentile(lat, 0.95)}};
        std::cout << out.dump() << std::endl;
    }
    return 0;
}
