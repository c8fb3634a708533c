// tests/serve — the HTTP server on a loopback port, talked to over real HTTP (httplib::Client): every endpoint,
// streaming, the errors, bundles loaded and unloaded while requests run, a client that goes away, and concurrent
// requests that each give exactly what they give alone (and what the library's one-sequence paths give).
#define BOOST_TEST_MODULE serve_http
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <w2s/serve/http_server.hpp>
#include <w2s/text/prompt_format.hpp>

#include <nlohmann/json.hpp>

#include "serve_fixture.hpp"

using namespace w2s;
using json = nlohmann::json;
using Model = model::LlamaModel;

namespace {

test::ServeFixture& fx() {
    static test::ServeFixture f;
    return f;
}

/// A server on 127.0.0.1:<any port> with its scheduler and registry.
struct Server {
    serve::Scheduler<Model> sched;
    serve::BundleRegistry<Model> bundles;
    serve::HttpServer<Model> http;
    int port;
    Server(serve::SchedulerOptions so, serve::ServerOptions ho = {})
        : sched(fx().model, so), bundles(fx().model, fx().bundles), http(sched, bundles, std::move(ho)) {
        bundles.load_all();
        port = http.bind("127.0.0.1", 0);
        http.start();
    }
    ~Server() {
        http.stop();
        sched.stop();
    }
    [[nodiscard]] httplib::Client client() const {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(60, 0);
        return c;
    }
};

Server& shared_server() {
    static Server s({.parallel = 4, .ctx = 256, .max_queue = 64, .prefill_chunk = 16, .threads = 2}, {.model_id = "tiny"});
    return s;
}

struct Reply {
    int status = 0;
    json body;
    std::string raw;
    std::string retry_after;
};

Reply post(const Server& s, const std::string& path, const std::string& body) {
    auto c = s.client();
    auto r = c.Post(path.c_str(), body, "application/json");
    BOOST_REQUIRE_MESSAGE(r, "no response from " << path);
    Reply out{r->status, json(), r->body, r->get_header_value("Retry-After")};
    try {
        out.body = json::parse(r->body);
    } catch (...) {
    }
    return out;
}

Reply get(const Server& s, const std::string& path) {
    auto c = s.client();
    auto r = c.Get(path.c_str());
    BOOST_REQUIRE(r);
    Reply out{r->status, json(), r->body, ""};
    try {
        out.body = json::parse(r->body);
    } catch (...) {
    }
    return out;
}

/// A streamed POST: every "data: " payload in order (the last is "[DONE]"); on_event may return false to hang up.
std::vector<std::string> post_stream(const Server& s, const std::string& path, const std::string& body,
                                     const std::function<bool(const std::string&)>& on_event = {}) {
    httplib::Client c("127.0.0.1", s.port);
    c.set_read_timeout(60, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = path;
    req.body = body;
    req.set_header("Content-Type", "application/json");
    std::string buf;
    std::vector<std::string> events;
    req.content_receiver = [&](const char* d, std::size_t n, std::uint64_t, std::uint64_t) {
        buf.append(d, n);
        std::size_t p;
        while ((p = buf.find("\n\n")) != std::string::npos) {
            const std::string ev = buf.substr(0, p);
            buf.erase(0, p + 2);
            if (ev.rfind("data: ", 0) != 0) continue;  // ": ping" comments
            events.push_back(ev.substr(6));
            if (on_event && !on_event(events.back())) return false;
        }
        return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    c.send(req, res, err);
    return events;
}

std::string ids_json(const std::vector<model::token_id>& ids) { return json(ids).dump(); }

/// The library's text for a generation, as the server's JSON carries it (invalid UTF-8 replaced).
std::string as_json_text(const std::string& s) { return json::parse(serve::openai::dump(json(s))).get<std::string>(); }

}  // namespace

BOOST_AUTO_TEST_CASE(health_models_metrics_bundles) {
    auto& s = shared_server();
    const auto h = get(s, "/health");
    BOOST_TEST(h.status == 200);
    BOOST_TEST(h.body["status"] == "ok");
    BOOST_TEST(h.body["slots_idle"].get<int>() + h.body["slots_processing"].get<int>() == 4);
    const auto m = get(s, "/v1/models");
    BOOST_TEST(m.status == 200);
    BOOST_TEST(m.body["object"] == "list");
    BOOST_TEST(m.body["data"][0]["id"] == "tiny");
    const auto b = get(s, "/v1/steering/bundles");
    BOOST_TEST(b.status == 200);
    BOOST_REQUIRE(b.body["data"].size() == 2u);
    BOOST_TEST(b.body["data"][0]["name"] == "alpha");
    BOOST_TEST(b.body["data"][0]["router"] == "profile");
    BOOST_TEST(b.body["data"][1]["router"] == "knn");
    BOOST_TEST(!b.body["data"][0]["layers"].empty());
    BOOST_TEST(get(s, "/v1/steering/bundles/beta").body["name"] == "beta");
    BOOST_TEST(get(s, "/v1/steering/bundles/nope").status == 404);
    (void)post(s, "/v1/completions", R"({"prompt": [1, 50, 60], "max_tokens": 3, "temperature": 0})");
    const auto mt = get(s, "/metrics");
    BOOST_TEST(mt.status == 200);
    for (const char* name : {"w2s_generated_tokens_total", "w2s_prompt_tokens_total", "w2s_queue_length", "w2s_batch_rows_bucket",
                             "w2s_request_seconds_bucket", "w2s_first_token_seconds_count", "w2s_http_requests_total{", "w2s_step_seconds_sum"})
        BOOST_TEST(mt.raw.find(name) != std::string::npos, name);
}

BOOST_AUTO_TEST_CASE(completions_equal_the_library_generation) {
    auto& s = shared_server();
    const auto prompt = test::ServeFixture::prompt(20, 3);
    const auto r = post(s, "/v1/completions", R"({"prompt": )" + ids_json(prompt) + R"(, "max_tokens": 7, "temperature": 0, "logprobs": 2})");
    BOOST_REQUIRE(r.status == 200);
    BOOST_TEST(r.body["object"] == "text_completion");
    BOOST_TEST(r.body["model"] == "tiny");
    model::GenerateOptions go;
    go.max_tokens = 7;
    const auto ref = model::generate(fx().model, std::span<const model::token_id>(prompt), go);
    BOOST_TEST(r.body["choices"][0]["text"].get<std::string>() == as_json_text(ref.text));
    BOOST_TEST(r.body["choices"][0]["finish_reason"] == (ref.reason == model::StopReason::max_tokens ? "length" : "stop"));
    BOOST_TEST(r.body["usage"]["prompt_tokens"] == prompt.size());
    BOOST_TEST(r.body["usage"]["completion_tokens"] == ref.tokens.size());
    BOOST_TEST(r.body["choices"][0]["logprobs"]["token_logprobs"].size() == ref.tokens.size());
    BOOST_TEST(r.body["choices"][0]["logprobs"]["top_logprobs"][0].size() >= 1u);
}

BOOST_AUTO_TEST_CASE(chat_with_auto_steering_equals_the_adaptive_steerer) {
    auto& s = shared_server();
    const auto bundle = s.bundles.find("alpha");
    const std::string system = bundle->options().format.system, user = "how are you";
    const auto r = post(s, "/v1/chat/completions",
                        json({{"messages", {{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", user}}}},
                              {"max_tokens", 6}, {"temperature", 0}, {"steering", {{{"bundle", "alpha"}, {"alpha", 2.5}, {"layer", "auto"}}}}})
                            .dump());
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.raw);
    BOOST_TEST(r.body["object"] == "chat.completion");
    BOOST_TEST(r.body["choices"][0]["message"]["role"] == "assistant");
    model::GenerateOptions go;
    go.max_tokens = 6;
    const auto ref = with_bundle(fx().model, bundle->path(), [&](const auto& st) {
        const auto g = st.generate(user, 2.5f, go);
        return std::make_pair(g.layer, g.result);
    });
    BOOST_TEST(r.body["steering"][0]["layer"] == ref.first);
    BOOST_TEST(r.body["steering"][0]["requested"] == "auto");
    BOOST_TEST(r.body["steering"][0]["bundle"] == "alpha");
    BOOST_TEST(r.body["choices"][0]["message"]["content"].get<std::string>() == as_json_text(ref.second.text));
}

BOOST_AUTO_TEST_CASE(streaming_gives_the_same_text_in_chunks) {
    auto& s = shared_server();
    const json req = {{"messages", {{{"role", "user"}, {"content", "tell me"}}}}, {"max_tokens", 9}, {"temperature", 0},
                      {"steering", {{{"bundle", "beta"}, {"alpha", 1.5}, {"layer", 3}}}}};
    const auto whole = post(s, "/v1/chat/completions", req.dump());
    BOOST_REQUIRE(whole.status == 200);
    json sreq = req;
    sreq["stream"] = true;
    sreq["stream_options"] = {{"include_usage", true}};
    const auto ev = post_stream(s, "/v1/chat/completions", sreq.dump());
    BOOST_REQUIRE(ev.size() >= 3u);
    BOOST_TEST(ev.back() == "[DONE]");
    std::string text;
    json finish, usage;
    for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
        const json c = json::parse(ev[i]);
        BOOST_TEST(c["id"] == json::parse(ev[0])["id"]);
        if (c["choices"].empty()) {
            usage = c["usage"];
            continue;
        }
        BOOST_TEST(c["object"] == "chat.completion.chunk");
        if (i == 0) BOOST_TEST(c["choices"][0]["delta"]["role"] == "assistant");
        if (c["choices"][0]["delta"].contains("content")) text += c["choices"][0]["delta"]["content"].get<std::string>();
        if (!c["choices"][0]["finish_reason"].is_null()) finish = c;
    }
    BOOST_TEST(text == whole.body["choices"][0]["message"]["content"].get<std::string>());
    BOOST_TEST(finish["choices"][0]["finish_reason"] == whole.body["choices"][0]["finish_reason"]);
    BOOST_TEST(finish["steering"][0]["layer"] == 3);
    BOOST_TEST(usage["completion_tokens"] == whole.body["usage"]["completion_tokens"]);
    // completions stream too
    const auto ce = post_stream(s, "/v1/completions", R"({"prompt": [1, 9, 8, 7], "max_tokens": 4, "temperature": 0, "stream": true})");
    BOOST_TEST(ce.back() == "[DONE]");
    BOOST_TEST(json::parse(ce.front())["object"] == "text_completion");
}

BOOST_AUTO_TEST_CASE(errors_answer_with_their_status_and_field) {
    auto& s = shared_server();
    auto expect = [&](const std::string& path, const std::string& body, int status, const std::string& param) {
        const auto r = post(s, path, body);
        BOOST_TEST(r.status == status, body << " -> " << r.raw);
        BOOST_TEST(r.body.contains("error"), r.raw);
        if (!param.empty()) BOOST_TEST(r.body["error"]["param"] == param, body << " -> " << r.raw);
        BOOST_TEST(r.body["error"]["message"].get<std::string>().size() > 5u);
    };
    const std::string chat = "/v1/chat/completions", comp = "/v1/completions";
    expect(chat, "{not json", 400, "");
    expect(chat, "[1, 2]", 400, "");
    expect(chat, R"({"max_tokens": 4})", 400, "messages");
    expect(chat, R"({"messages": []})", 400, "messages");
    expect(chat, R"({"messages": [{"role": "robot", "content": "x"}]})", 400, "messages[0].role");
    expect(chat, R"({"messages": [{"role": "user", "content": 5}]})", 400, "messages[0].content");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})", 400, "temperature");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})", 400, "temperature");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 2.5})", 400, "max_tokens");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 250})", 400, "max_tokens");  // + prompt > ctx 256
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "n": 2})", 400, "n");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "stream": "yes"})", 400, "stream");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": [{"bundle": "gamma"}]})", 404, "steering[0].bundle");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": [{"bundle": "alpha", "alpha": 1e9}]})", 400, "steering[0].alpha");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": [{"bundle": "alpha", "layer": "best"}]})", 400, "steering[0].layer");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": [{"bundle": "alpha", "layer": 0}]})", 400, "steering[0].layer");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": [{"bundle": "alpha", "colour": 1}]})", 400, "steering[0].colour");
    expect(chat, R"({"messages": [{"role": "user", "content": "x"}], "steering": {"bundle": "alpha"}})", 400, "steering");
    expect(comp, R"({"prompt": [1, 99999]})", 400, "prompt[1]");
    expect(comp, R"({"prompt": ["a", "b"]})", 400, "prompt");
    expect(comp, R"({"prompt": "hello", "max_tokens": 0})", 400, "max_tokens");
    // a body beyond the limit, an unknown route
    const std::string big = R"({"prompt": ")" + std::string(2 << 20, 'a') + R"("})";
    const auto r413 = post(s, comp, big);
    BOOST_TEST(r413.status == 413);
    BOOST_TEST(r413.body.contains("error"));
    const auto r404 = get(s, "/v2/nothing");
    BOOST_TEST(r404.status == 404);
    BOOST_TEST(r404.body.contains("error"));
    // the server is still fine
    BOOST_TEST(post(s, comp, R"({"prompt": [1, 5], "max_tokens": 2, "temperature": 0})").status == 200);
}

BOOST_AUTO_TEST_CASE(a_full_queue_answers_503_with_retry_after) {
    Server s({.parallel = 1, .max_queue = 1, .threads = 2});
    const std::string longreq = R"({"prompt": [1, 5, 6], "max_tokens": 1500, "temperature": 0})";
    std::atomic<int> n503{0}, n200{0};
    std::string retry;
    std::mutex m;
    std::vector<std::thread> th;
    for (int i = 0; i < 5; ++i)
        th.emplace_back([&] {
            const auto r = post(s, "/v1/completions", longreq);
            if (r.status == 503) {
                ++n503;
                const std::lock_guard lk(m);
                retry = r.retry_after;
            } else if (r.status == 200) {
                ++n200;
            }
        });
    for (auto& t : th) t.join();
    BOOST_TEST(n503.load() >= 3);
    BOOST_TEST(n200.load() >= 1);
    BOOST_TEST(retry == "1");
}

BOOST_AUTO_TEST_CASE(bundles_load_and_unload_while_requests_run) {
    Server s({.parallel = 4, .ctx = 2048, .threads = 2});
    const json req = {{"prompt", test::ServeFixture::prompt(12, 7)}, {"max_tokens", 300}, {"temperature", 0},
                      {"steering", {{{"bundle", "alpha"}, {"alpha", 2.0}, {"layer", "auto"}}}}};
    const auto before = post(s, "/v1/completions", req.dump());
    BOOST_REQUIRE(before.status == 200);
    // Stream the same request; unload alpha after its first chunk, then reload it, while it runs.
    std::atomic<bool> unloaded{false};
    json sreq = req;
    sreq["stream"] = true;
    std::thread churn;
    const auto ev = post_stream(s, "/v1/completions", sreq.dump(), [&](const std::string&) {
        if (!unloaded.exchange(true)) {
            churn = std::thread([&] {
                auto c = s.client();
                auto d = c.Delete("/v1/steering/bundles/alpha");
                BOOST_TEST(d->status == 200);
                BOOST_TEST(c.Delete("/v1/steering/bundles/alpha")->status == 404);
                const auto r = post(s, "/v1/completions", req.dump());  // alpha is gone for new requests
                BOOST_TEST(r.status == 404);
                BOOST_TEST(r.body["error"]["param"] == "steering[0].bundle");
                BOOST_TEST(post(s, "/v1/steering/bundles", R"({"name": "alpha"})").status == 201);
            });
        }
        return true;
    });
    churn.join();
    std::string text;
    for (std::size_t i = 0; i + 1 < ev.size(); ++i) text += json::parse(ev[i])["choices"][0]["text"].get<std::string>();
    BOOST_TEST(text == before.body["choices"][0]["text"].get<std::string>());
    BOOST_TEST(post(s, "/v1/completions", req.dump()).body["choices"][0]["text"] == before.body["choices"][0]["text"]);
    BOOST_TEST(post(s, "/v1/steering/bundles", R"({"name": "../alpha"})").status == 400);
    BOOST_TEST(post(s, "/v1/steering/bundles", R"({"name": "nothere"})").status == 404);
    BOOST_TEST(post(s, "/v1/steering/bundles", R"({"nom": "alpha"})").status == 400);
}

BOOST_AUTO_TEST_CASE(a_client_that_goes_away_cancels_its_request) {
    Server s({.parallel = 2, .ctx = 2048, .threads = 2}, {.heartbeat = std::chrono::milliseconds(100), .commit_after = std::chrono::milliseconds(100)});
    // streamed: hang up after three chunks
    int seen = 0;
    (void)post_stream(s, "/v1/completions", R"({"prompt": [1, 5, 6], "max_tokens": 2000, "temperature": 0, "stream": true})",
                      [&](const std::string&) { return ++seen < 3; });
    // not streamed: the client hangs up while it waits (its socket is shut down from another thread)
    for (int i = 0; i < 5000 && (s.sched.active() || s.sched.queued()); ++i)  // the streamed one gone first
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    {
        httplib::Client c("127.0.0.1", s.port);
        c.set_read_timeout(60, 0);
        bool answered = true;
        std::thread waiter([&] {
            auto r = c.Post("/v1/completions", R"({"prompt": [1, 7, 8], "max_tokens": 2000, "temperature": 0})", "application/json");
            answered = static_cast<bool>(r);
        });
        // hang up as soon as the request runs (a fixed wait raced the tiny model, which can finish 2,000 tokens in it)
        for (int i = 0; i < 5000 && s.sched.active() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        c.stop();
        waiter.join();
        BOOST_TEST(!answered);
    }
    bool freed = false;
    for (int i = 0; i < 200 && !freed; ++i) {
        freed = s.sched.active() == 0 && s.sched.queued() == 0;
        if (!freed) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    BOOST_TEST(freed);
    BOOST_TEST(s.sched.metrics().value("w2s_requests_finished_total", {{"reason", "cancelled"}}) == 2.0);
    BOOST_TEST(s.sched.metrics().value("w2s_http_disconnects_total") == 2.0);
}

BOOST_AUTO_TEST_CASE(concurrent_http_requests_give_exactly_what_each_gives_alone) {
    auto& s = shared_server();
    std::vector<json> reqs;
    const std::vector<json> steer{json::array(),
                                  {{{"bundle", "alpha"}, {"alpha", 2.0}, {"layer", "auto"}}},
                                  {{{"bundle", "beta"}, {"alpha", -1.5}, {"layer", 2}}},
                                  {{{"bundle", "beta"}, {"alpha", 3.0}, {"layer", "auto"}}},
                                  {{{"bundle", "alpha"}, {"alpha", 1.0}, {"layer", 4}, {"positions", "all"}}},
                                  {{{"bundle", "alpha"}, {"alpha", 1.0}, {"layer", 5}}, {{"bundle", "beta"}, {"alpha", 2.0}, {"layer", "auto"}}}};
    for (std::size_t i = 0; i < 12; ++i)
        reqs.push_back({{"prompt", test::ServeFixture::prompt(3 + 7 * i % 40, 100 + i)}, {"max_tokens", 6 + i % 5}, {"temperature", 0},
                        {"steering", steer[i % steer.size()]}});
    std::vector<std::string> alone;
    for (const auto& r : reqs) {
        const auto x = post(s, "/v1/completions", r.dump());
        BOOST_REQUIRE_MESSAGE(x.status == 200, x.raw);
        alone.push_back(x.body["choices"][0]["text"].dump() + (x.body.contains("steering") ? x.body["steering"].dump() : ""));
    }
    std::vector<std::string> together(reqs.size());
    std::vector<std::thread> th;
    for (std::size_t i = 0; i < reqs.size(); ++i)
        th.emplace_back([&, i] {
            const auto x = post(s, "/v1/completions", reqs[i].dump());
            together[i] = x.body["choices"][0]["text"].dump() + (x.body.contains("steering") ? x.body["steering"].dump() : "");
        });
    for (auto& t : th) t.join();
    for (std::size_t i = 0; i < reqs.size(); ++i) BOOST_TEST(together[i] == alone[i], "request " << i);
}
