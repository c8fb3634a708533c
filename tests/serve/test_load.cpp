// tests/serve — a bounded load test over real HTTP on loopback: 2,000 requests from 32 clients at once, a mix of
// valid requests (greedy completions and chat completions, streamed and not, unsteered, steered at a fixed layer,
// routed by a bundle, two bundles together) and invalid ones (malformed JSON, bad fields, an unknown bundle, a
// prompt beyond the context, a body beyond the limit, an unknown route). It ends with every valid request answered
// with exactly the text it gives alone, every invalid one refused with its status and field, nothing left in the
// scheduler, and the process's memory flat between the first quarter of the run and its end.
#define BOOST_TEST_MODULE serve_load
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <w2s/serve/http_server.hpp>

#include <nlohmann/json.hpp>

#include "serve_fixture.hpp"

using namespace w2s;
using json = nlohmann::json;
using Model = model::LlamaModel;

namespace {

/// Resident set size of this process in KiB (/proc/self/status VmRSS).
long rss_kib() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

struct Case {
    std::string path, body;
    bool stream = false;
    int status = 200;
    std::string param;     ///< the field an error must name ("" for none)
    std::string expected;  ///< a valid case's text (filled by running it alone)
};

/// The text of a reply: the choice's text (completions) or message content (chat); for a stream, the deltas joined.
std::string text_of(const Case& c, const std::string& raw) {
    const bool chat = c.path == "/v1/chat/completions";
    if (!c.stream) {
        const auto j = json::parse(raw);
        return chat ? j["choices"][0]["message"]["content"].get<std::string>() : j["choices"][0]["text"].get<std::string>();
    }
    std::string out, line;
    std::istringstream in(raw);
    bool done = false;
    while (std::getline(in, line)) {
        if (line.rfind("data: ", 0) != 0) continue;
        const std::string payload = line.substr(6);
        if (payload == "[DONE]") {
            done = true;
            continue;
        }
        const auto j = json::parse(payload);
        const auto& ch = j["choices"][0];
        if (chat) {
            if (ch["delta"].contains("content")) out += ch["delta"]["content"].get<std::string>();
        } else {
            out += ch["text"].get<std::string>();
        }
    }
    if (!done) throw std::runtime_error("stream without [DONE]");
    return out;
}

Case valid(std::string path, std::string body, bool stream) { return {std::move(path), std::move(body), stream, 200, "", ""}; }
Case invalid(std::string path, std::string body, int status, std::string param) {
    return {std::move(path), std::move(body), false, status, std::move(param), ""};
}

std::vector<Case> make_cases() {
    std::vector<Case> v;
    const auto P = [](std::size_t n, std::uint64_t seed) { return json(test::ServeFixture::prompt(n, seed)); };
    const json steer_auto = {{{"bundle", "alpha"}, {"alpha", 2.0}, {"layer", "auto"}}};
    const json steer_fixed = {{{"bundle", "beta"}, {"alpha", -1.5}, {"layer", 3}}};
    const json steer_two = {{{"bundle", "alpha"}, {"alpha", 1.0}, {"layer", 4}, {"positions", "all"}},
                            {{"bundle", "beta"}, {"alpha", 2.0}, {"layer", "auto"}}};
    const std::string comp = "/v1/completions", chat = "/v1/chat/completions";
    // valid
    for (int s = 0; s < 2; ++s) {
        const bool stream = s == 1;
        v.push_back(valid(comp, json{{"prompt", P(6, 1)}, {"max_tokens", 4}, {"temperature", 0}, {"stream", stream}}.dump(), stream));
        v.push_back(valid(comp, json{{"prompt", P(17, 2)}, {"max_tokens", 3}, {"temperature", 0}, {"stream", stream}, {"steering", steer_auto}}.dump(), stream));
        v.push_back(valid(comp, json{{"prompt", P(9, 3)}, {"max_tokens", 5}, {"temperature", 0}, {"stream", stream}, {"steering", steer_fixed}}.dump(), stream));
        v.push_back(valid(comp, json{{"prompt", P(30, 4)}, {"max_tokens", 2}, {"temperature", 0}, {"stream", stream}, {"steering", steer_two}}.dump(), stream));
        v.push_back(valid(chat, json{{"messages", {{{"role", "user"}, {"content", "hello there"}}}}, {"max_tokens", 4}, {"temperature", 0},
                                {"stream", stream}, {"steering", steer_auto}}.dump(), stream));
    }
    // invalid
    v.push_back(invalid(comp, "{\"prompt\": [1, 2", 400, ""));
    v.push_back(invalid(comp, R"({"prompt": [1, 99999], "max_tokens": 2})", 400, "prompt[1]"));
    v.push_back(invalid(comp, R"({"prompt": [1, 5], "max_tokens": -3})", 400, "max_tokens"));
    v.push_back(invalid(comp, R"({"prompt": [1, 5], "max_tokens": 2, "temperature": "warm"})", 400, "temperature"));
    v.push_back(invalid(comp, R"({"prompt": [1, 5], "max_tokens": 2, "steering": [{"bundle": "gamma"}]})", 404, "steering[0].bundle"));
    v.push_back(invalid(comp, R"({"prompt": [1, 5], "max_tokens": 2, "steering": [{"bundle": "alpha", "alpha": "NaN"}]})", 400, "steering[0].alpha"));
    v.push_back(invalid(comp, json{{"prompt", P(200, 5)}, {"max_tokens", 100}}.dump(), 400, "max_tokens"));  // beyond ctx 256
    v.push_back(invalid(chat, R"({"messages": [{"role": "user"}], "max_tokens": 2})", 400, "messages[0].content"));
    v.push_back(invalid(comp, R"({"prompt": ")" + std::string(300'000, 'x') + R"("})", 413, ""));
    v.push_back(invalid("/v1/nothing", "{}", 404, ""));
    return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_thousand_requests_from_32_clients) {
    static test::ServeFixture fx;
    serve::Scheduler<Model> sched(fx.model, {.parallel = 8, .ctx = 256, .max_queue = 64, .prefill_chunk = 32, .threads = 2});
    serve::BundleRegistry<Model> bundles(fx.model, fx.bundles);
    bundles.load_all();
    serve::HttpServer<Model> http(sched, bundles, {.model_id = "tiny", .max_body_bytes = 256 * 1024});
    const int port = http.bind("127.0.0.1", 0);
    http.start();

    auto cases = make_cases();
    auto send = [&](httplib::Client& c, const Case& k) { return c.Post(k.path.c_str(), k.body, "application/json"); };
    {  // each valid case alone gives its expected text
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(60, 0);
        for (auto& k : cases) {
            if (k.status != 200) continue;
            auto r = send(c, k);
            BOOST_REQUIRE(r);
            BOOST_REQUIRE_MESSAGE(r->status == 200, k.body.substr(0, 200) << " -> " << r->body);
            k.expected = text_of(k, r->body);
        }
    }

    constexpr int kClients = 32, kRequests = 2000;
    std::atomic<int> next{0}, valid_ok{0}, invalid_ok{0}, wrong{0};
    std::atomic<long> rss_quarter{-1};
    std::mutex m;
    std::vector<std::string> failures;
    auto fail = [&](std::string msg) {
        ++wrong;
        const std::lock_guard lk(m);
        if (failures.size() < 20) failures.push_back(std::move(msg));
    };
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t)
        clients.emplace_back([&] {
            httplib::Client c("127.0.0.1", port);
            c.set_read_timeout(120, 0);
            for (int i; (i = next.fetch_add(1)) < kRequests;) {
                if (i == kRequests / 4) rss_quarter = rss_kib();
                // a fixed interleaving: request i is case (i * 7) mod n
                const Case& k = cases[static_cast<std::size_t>(i * 7) % cases.size()];
                auto r = send(c, k);
                if (!r) {
                    fail("request " + std::to_string(i) + ": no response (" + httplib::to_string(r.error()) + ") to " + k.path + " " + k.body.substr(0, 120));
                    continue;
                }
                if (r->status != k.status) {
                    fail("request " + std::to_string(i) + ": status " + std::to_string(r->status) + ", expected " + std::to_string(k.status) +
                         ": " + r->body.substr(0, 200));
                    continue;
                }
                try {
                    if (k.status == 200) {
                        const auto got = text_of(k, r->body);
                        if (got == k.expected) ++valid_ok;
                        else fail("request " + std::to_string(i) + ": text " + json(got).dump() + ", alone " + json(k.expected).dump());
                    } else {
                        const auto j = json::parse(r->body);
                        const bool named = k.param.empty() || (j["error"]["param"].is_string() && j["error"]["param"] == k.param);
                        if (j.contains("error") && named) ++invalid_ok;
                        else fail("request " + std::to_string(i) + ": error body " + r->body.substr(0, 200));
                    }
                } catch (const std::exception& e) {
                    fail("request " + std::to_string(i) + ": unreadable reply (" + e.what() + "): " + r->body.substr(0, 200));
                }
            }
        });
    for (auto& t : clients) t.join();
    const long rss_end = rss_kib();

    for (const auto& f : failures) BOOST_TEST_MESSAGE(f);
    BOOST_TEST(wrong.load() == 0);
    BOOST_TEST(valid_ok.load() + invalid_ok.load() == kRequests);
    BOOST_TEST(invalid_ok.load() > 0);
    // nothing left behind: no sequence running or queued, and the server still answers
    // (a finished sequence leaves its slot at the scheduler's next step, which may come just after its reply)
    bool idle = false;
    for (int i = 0; i < 200 && !idle; ++i) {
        idle = sched.active() == 0 && sched.queued() == 0;
        if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    BOOST_TEST(idle);
    httplib::Client c("127.0.0.1", port);
    BOOST_TEST(c.Get("/health")->status == 200);
    // memory flat: at most 16 MiB more at the end than after the first 500 requests (the 1,500 requests after that
    // move about 25 MB of bodies through the process; a leak of requests' buffers or sessions would show)
    BOOST_TEST_MESSAGE("RSS after 500 requests " << rss_quarter.load() << " KiB, after 2000 " << rss_end << " KiB");
    BOOST_TEST(rss_quarter.load() > 0);
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer keeps freed memory in its quarantine (256 MiB by default), so RSS grows by design: the bound
    // is a release-build check; leaks are LeakSanitizer's job here.
    BOOST_TEST_MESSAGE("RSS bound not checked under AddressSanitizer (its quarantine holds freed memory)");
#else
    BOOST_TEST(rss_end - rss_quarter.load() <= 16 * 1024);
#endif
    http.stop();
    sched.stop();
}
