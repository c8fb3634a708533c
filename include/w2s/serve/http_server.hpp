// w2s/serve/http_server.hpp — the OpenAI-compatible HTTP server over a Scheduler (cpp-httplib; link w2s::serve).
//
//   w2s::serve::Scheduler<Model> sched(model, {.parallel = 8});
//   w2s::serve::BundleRegistry<Model> bundles(model, "bundles/");  bundles.load_all();
//   w2s::serve::HttpServer<Model> http(sched, bundles, {.model_id = "SmolLM2-135M-Instruct"});
//   int port = http.bind("127.0.0.1", 0);      // 0: any free port
//   http.start();                              // serves on its own thread (or run(): serves on this one)
//   ...  http.stop();
//
// Routes:
//   POST   /v1/chat/completions, /v1/completions   OpenAI shapes (openai.hpp), streamed as server-sent events
//                                                  ("data: {chunk}\n\n" ..., "data: [DONE]\n\n") with "stream": true
//   GET    /v1/models                              the one model
//   GET    /health                                 {"status": "ok", slots, queue}
//   GET    /metrics                                Prometheus text (requests, tokens, queue, batch sizes, latency)
//   GET    /v1/steering/bundles[/NAME]             the loaded bundles (router, layers, embedding block, format)
//   POST   /v1/steering/bundles {"name": N}        loads (or reloads) the folder N of the bundle directory
//   DELETE /v1/steering/bundles/NAME               unloads; requests that use it finish with it
// Errors are OpenAI's error object with the status of the request_error (400 naming the field, 404, 413 body too
// large, 503 queue full with Retry-After); anything unexpected is a 500 with its message, and the server goes on.
//
// A client that goes away cancels its request: while a request runs its connection is written to at least every
// `heartbeat` (a token, or an SSE comment ": ping" / a JSON whitespace byte while there is nothing to send), and the
// first write that fails cancels the request, which frees its slot before the next step. A non-streamed request
// first waits up to `commit_after` without sending anything, so that a request that ends by then gets its true
// status (an error during the generation is a 500); a longer one is then answered as chunked JSON (status 200) with
// whitespace before the object (valid JSON), and a failure at its end becomes an error object in that body.
//
// The server sets SIGPIPE to ignored when it is at its default (a write to a closed socket would otherwise end the
// process); the library does nothing else to the process, prints nothing and never exits.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <signal.h>
#include <sys/socket.h>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"
#include "w2s/serve/bundles.hpp"
#include "w2s/serve/errors.hpp"
#include "w2s/serve/metrics.hpp"
#include "w2s/serve/openai.hpp"
#include "w2s/serve/scheduler.hpp"

// cpp-httplib listens with a backlog of 5 unless told otherwise: a burst of more clients than that connecting at once
// (32 clients starting together in tests/serve/test_load.cpp) overflows the accept queue and some of them read a
// reset instead of a reply. A server for many clients wants the kernel's limit (net.core.somaxconn caps the value).
// This takes effect when this header is the first in its translation unit to include httplib.h.
#ifndef CPPHTTPLIB_LISTEN_BACKLOG
#define CPPHTTPLIB_LISTEN_BACKLOG 1024
#endif
#include <httplib.h>
// httplib.h includes <resolv.h>, whose `#define _res (*__res_state())` rewrites Eigen's parameters named _res in
// any Eigen header parsed after it. Nothing here (nor httplib's header) uses the resolver state: drop the macro.
#ifdef _res
#undef _res
#endif

namespace w2s::serve {

struct ServerOptions {
    std::string model_id = "w2s";                    ///< the model's name in /v1/models and every response
    std::size_t max_body_bytes = 1 << 20;            ///< larger request bodies are refused with 413
    int http_threads = 0;                            ///< connection threads (0: parallel + max_queue + 8, at most 256)
    std::chrono::milliseconds heartbeat{250};        ///< see the file comment
    std::chrono::milliseconds commit_after{2000};    ///< a non-streamed request answers with its true status up to this
    int retry_after_s = 1;                           ///< Retry-After of a 503
    int keep_alive_s = 5;                            ///< idle keep-alive connections close after this
    int listen_backlog = 512;                        ///< connections waiting to be accepted (see bind())
    openai::Defaults defaults{};
};

template <class B>
class HttpServer {
public:
    HttpServer(Scheduler<B>& sched, BundleRegistry<B>& bundles, ServerOptions o = {})
        : sched_(&sched), bundles_(&bundles), opt_(std::move(o)), svr_(std::make_unique<httplib::Server>()) {
        struct sigaction sa {};
        if (::sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
        describe_metrics();
        setup();
    }
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    ~HttpServer() { stop(); }

    /// Binds host:port (0 = any free port) and returns the port. Throws io_error when it cannot.
    /// Debian's cpp-httplib 0.11 listens with a backlog of 5 (compiled into the library): 32 clients connecting at
    /// once overflow the accept queue, and Linux then drops handshakes whose clients already sent their request,
    /// which they see as a connection closed without a reply. listen() again on the bound socket raises the backlog
    /// (Linux updates it in place); the socket is the one httplib hands to its socket-options hook.
    int bind(const std::string& host, int port) {
        listen_fd_ = -1;
        svr_->set_socket_options([this](::socket_t sock) {
            httplib::default_socket_options(sock);
            listen_fd_ = sock;
        });
        if (port == 0) port_ = svr_->bind_to_any_port(host);
        else port_ = svr_->bind_to_port(host, port) ? port : -1;
        if (port_ < 0) throw io_error("serve: cannot listen on " + host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
        if (listen_fd_ >= 0 && ::listen(listen_fd_, std::max(opt_.listen_backlog, 1)) != 0)
            throw io_error("serve: cannot set the listen backlog of " + host + ":" + std::to_string(port_) + " to " +
                           std::to_string(opt_.listen_backlog) + ": " + std::strerror(errno));
        return port_;
    }
    [[nodiscard]] int port() const noexcept { return port_; }

    /// Serves until stop() (after bind()). Returns false when the listening socket failed.
    bool run() { return svr_->listen_after_bind(); }
    /// run() on a thread of the server's own.
    void start() {
        thread_ = std::thread([this] { run(); });
        while (!svr_->is_running() && thread_.joinable()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    /// Stops accepting and waits for the serving thread (requests in flight are cancelled by their failed writes or
    /// finish; the scheduler is not stopped).
    void stop() {
        svr_->stop();
        if (thread_.joinable()) thread_.join();
    }

private:
    using json = nlohmann::json;
    using Clock = std::chrono::steady_clock;

    void describe_metrics() {
        auto& m = sched_->metrics();
        m.describe("w2s_http_requests_total", Metrics::Kind::counter, "HTTP requests answered, by route and status.");
        m.describe("w2s_http_disconnects_total", Metrics::Kind::counter, "Requests cancelled because the client went away.");
        m.describe("w2s_bundles_loaded", Metrics::Kind::gauge, "Steering bundles loaded.");
    }

    void count(const std::string& route, int status) {
        sched_->metrics().count("w2s_http_requests_total", {{"route", route}, {"status", std::to_string(status)}});
    }

    void send_json(httplib::Response& res, int status, const json& j) {
        res.status = status;
        res.set_content(openai::dump(j), "application/json");
    }

    void send_error(httplib::Response& res, const std::string& route, int status, const std::string& type, const std::string& param,
                    const std::string& message) {
        if (status == 503) res.set_header("Retry-After", std::to_string(opt_.retry_after_s));
        send_json(res, status, openai::error_json(message, type, param));
        count(route, status);
    }

    void setup() {
        auto& s = *svr_;
        s.set_payload_max_length(opt_.max_body_bytes);
        s.set_keep_alive_timeout(opt_.keep_alive_s);
        const int threads = opt_.http_threads > 0 ? opt_.http_threads
                                                  : static_cast<int>(std::min<std::size_t>(256, static_cast<std::size_t>(sched_->options().parallel) +
                                                                                                    sched_->options().max_queue + 8));
        s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
        // Every error status leaves with OpenAI's error object (httplib's own 404 / 413 included).
        s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            const std::string msg = res.status == 404 ? "no route " + req.method + " " + req.path
                                  : res.status == 413 ? "the request body is larger than " + std::to_string(opt_.max_body_bytes) + " bytes"
                                                      : "HTTP " + std::to_string(res.status);
            res.set_content(openai::dump(openai::error_json(msg, request_error::type_for(res.status), "")), "application/json");
            count(res.status == 404 ? "unknown" : req.path, res.status);
        });
        s.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            std::string msg = "internal error";
            try {
                if (ep) std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                msg = e.what();
            } catch (...) {
            }
            res.status = 500;
            res.set_content(openai::dump(openai::error_json(msg, "server_error", "")), "application/json");
            count(req.path, 500);
        });

        s.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { generate(openai::Endpoint::chat, req, res); });
        s.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { generate(openai::Endpoint::completion, req, res); });
        s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
            send_json(res, 200, {{"object", "list"}, {"data", json::array({{{"id", opt_.model_id}, {"object", "model"}, {"created", created_}, {"owned_by", "w2s"}}})}});
            count("/v1/models", 200);
        });
        s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            const auto par = static_cast<std::size_t>(sched_->options().parallel), act = sched_->active();
            send_json(res, 200, {{"status", "ok"}, {"slots_idle", par > act ? par - act : 0}, {"slots_processing", act}, {"queue", sched_->queued()}});
            count("/health", 200);
        });
        s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
            sched_->metrics().set("w2s_bundles_loaded", static_cast<double>(bundles_->list().size()));
            sched_->metrics().set("w2s_queue_length", static_cast<double>(sched_->queued()));
            count("/metrics", 200);
            res.set_content(sched_->metrics().prometheus(), "text/plain; version=0.0.4");
        });
        s.Get("/v1/steering/bundles", [this](const httplib::Request&, httplib::Response& res) {
            json data = json::array();
            for (const auto& b : bundles_->list()) data.push_back(bundle_json(*b));
            send_json(res, 200, {{"object", "list"}, {"data", data}});
            count("/v1/steering/bundles", 200);
        });
        s.Get(R"(/v1/steering/bundles/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            const auto b = bundles_->find(req.matches[1].str());
            if (!b) return send_error(res, "/v1/steering/bundles", 404, "not_found_error", "name", "no bundle '" + req.matches[1].str() + "' is loaded");
            send_json(res, 200, bundle_json(*b));
            count("/v1/steering/bundles", 200);
        });
        s.Post("/v1/steering/bundles", [this](const httplib::Request& req, httplib::Response& res) {
            const std::string route = "/v1/steering/bundles";
            try {
                json j;
                try {
                    j = json::parse(req.body);
                } catch (const json::exception& e) {
                    throw bad_field("", std::string("the body is not valid JSON: ") + e.what());
                }
                if (!j.is_object() || !j.contains("name") || !j["name"].is_string())
                    throw bad_field("name", "expected {\"name\": \"BUNDLE\"} (a folder of the server's bundle directory)");
                const auto b = bundles_->load(j["name"].get<std::string>());
                send_json(res, 201, bundle_json(*b));
                count(route, 201);
            } catch (const request_error& e) {
                send_error(res, route, e.status(), e.kind(), e.param(), e.what());
            } catch (const error& e) {
                send_error(res, route, 400, "invalid_request_error", "name", std::string("the bundle does not load: ") + e.what());
            }
        });
        s.Delete(R"(/v1/steering/bundles/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
            const std::string name = req.matches[1].str();
            if (!bundles_->unload(name)) return send_error(res, "/v1/steering/bundles", 404, "not_found_error", "name", "no bundle '" + name + "' is loaded");
            send_json(res, 200, {{"name", name}, {"object", "steering.bundle"}, {"deleted", true}});
            count("/v1/steering/bundles", 200);
        });
    }

    static json bundle_json(const Bundle<B>& b) {
        const auto& o = b.options();
        return {{"name", b.name()},
                {"object", "steering.bundle"},
                {"router", std::string(b.router_kind())},
                {"layers", b.layers()},
                {"vector_layers", b.vectors().layers()},
                {"fixed_layer", b.fixed_layer()},
                {"embedding_block", o.embedding_block},
                {"pooling", std::string(route::pooling_name(o.pooling))},
                {"template", o.format.tmpl},
                {"system", o.format.system},
                {"estimator", b.vectors().estimator},
                {"data", o.data_name}};
    }

    /// The state of one generation between the handler and httplib's content provider.
    struct Live {
        openai::Parsed<B> p;
        std::shared_ptr<Ticket> t;
        std::string id, route;
        std::int64_t created = 0;
        bool first = true, finished = false, sent_any = false;
        std::size_t text_offset = 0;
        Result collected;  // non-streamed: the tokens so far
    };

    void generate(openai::Endpoint ep, const httplib::Request& req, httplib::Response& res) {
        const std::string route = ep == openai::Endpoint::chat ? "/v1/chat/completions" : "/v1/completions";
        auto live = std::make_shared<Live>();
        try {
            live->p = openai::parse(ep, req.body, sched_->model(), *bundles_, sched_->ctx(), opt_.defaults);
            live->t = sched_->submit(live->p.req);
        } catch (const request_error& e) {
            return send_error(res, route, e.status(), e.kind(), e.param(), e.what());
        } catch (const error& e) {
            return send_error(res, route, 400, "invalid_request_error", "", e.what());
        }
        live->id = std::string(ep == openai::Endpoint::chat ? "chatcmpl-" : "cmpl-") + std::to_string(live->t->id());
        live->route = route;
        live->created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        if (live->p.stream) {
            count(route, 200);
            res.set_header("Cache-Control", "no-cache");
            res.set_chunked_content_provider(
                "text/event-stream", [this, live](std::size_t, httplib::DataSink& sink) { return stream_events(*live, sink); },
                [this, live](bool ok) { gone(*live, ok); });
            return;
        }
        // Not streamed: wait up to commit_after for a true status; then chunked JSON with whitespace heartbeats.
        if (collect(*live, opt_.commit_after)) return answer(*live, res);
        count(route, 200);
        res.set_chunked_content_provider(
            "application/json", [this, live](std::size_t, httplib::DataSink& sink) { return stream_json(*live, sink); },
            [this, live](bool ok) { gone(*live, ok); });
    }

    /// Cancels the request when its connection ended before the answer was complete.
    void gone(Live& l, bool ok) {
        if (!ok || !l.finished) {
            if (!l.t->finished()) sched_->metrics().count("w2s_http_disconnects_total");
            l.t->cancel();
        }
    }

    /// Takes events for at most `wait`; true when the request has finished (collected holds everything).
    bool collect(Live& l, std::chrono::milliseconds wait) {
        const auto end = Clock::now() + wait;
        while (true) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
            auto e = l.t->next(std::max(left, std::chrono::milliseconds(0)));
            if (!e) return false;
            if (auto* tk = std::get_if<TokenEvent>(&*e)) l.collected.tokens.push_back(std::move(*tk));
            else {
                l.collected.finish = std::move(std::get<Finish>(*e));
                l.finished = true;
                return true;
            }
            if (Clock::now() >= end) return false;
        }
    }

    json final_json(Live& l) {
        const auto& f = l.collected.finish;
        if (f.reason == FinishReason::error || f.reason == FinishReason::cancelled)
            return openai::error_json(f.reason == FinishReason::error ? f.error : "the request was cancelled", "server_error", "");
        return openai::response(l.p, l.id, l.created, opt_.model_id, l.collected, sched_->model().tokenizer());
    }

    void answer(Live& l, httplib::Response& res) {
        const auto& f = l.collected.finish;
        const int status = f.reason == FinishReason::error ? 500 : f.reason == FinishReason::cancelled ? 503 : 200;
        if (status == 503) res.set_header("Retry-After", std::to_string(opt_.retry_after_s));
        send_json(res, status, final_json(l));
        count(l.route, status);
    }

    bool stream_json(Live& l, httplib::DataSink& sink) {
        while (!collect(l, opt_.heartbeat))
            if (!sink.write(" ", 1)) return false;  // the client is gone: the releaser cancels
        const std::string body = openai::dump(final_json(l));
        if (!sink.write(body.data(), body.size())) return false;
        sink.done();
        return true;
    }

    bool stream_events(Live& l, httplib::DataSink& sink) {
        auto send = [&](const json& j) {
            const std::string s = "data: " + openai::dump(j) + "\n\n";
            return sink.write(s.data(), s.size());
        };
        const auto& tok = sched_->model().tokenizer();
        while (true) {
            auto e = l.t->next(opt_.heartbeat);
            if (!e) {
                static constexpr char ping[] = ": ping\n\n";
                if (!sink.write(ping, sizeof ping - 1)) return false;
                continue;
            }
            if (auto* tk = std::get_if<TokenEvent>(&*e)) {
                if (!send(openai::chunk(l.p, l.id, l.created, opt_.model_id, tk->piece, tk, nullptr, l.first, l.t->layers(), tok, l.text_offset)))
                    return false;
                l.text_offset += tk->piece.size();
                l.first = false;
                continue;
            }
            Finish f = std::move(std::get<Finish>(*e));
            l.finished = true;
            if (f.reason == FinishReason::error || f.reason == FinishReason::cancelled) {
                if (!send(openai::error_json(f.reason == FinishReason::error ? f.error : "the request was cancelled", "server_error", ""))) return false;
            } else {
                if (!f.flush.empty() &&
                    !send(openai::chunk(l.p, l.id, l.created, opt_.model_id, f.flush, nullptr, nullptr, l.first, f.layers, tok, l.text_offset)))
                    return false;
                l.first = l.first && f.flush.empty();
                if (!send(openai::chunk(l.p, l.id, l.created, opt_.model_id, "", nullptr, &f, l.first, f.layers, tok, l.text_offset))) return false;
                if (l.p.include_usage) {
                    json u = {{"id", l.id},
                              {"object", l.p.endpoint == openai::Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
                              {"created", l.created},
                              {"model", opt_.model_id},
                              {"choices", json::array()},
                              {"usage", openai::usage_json(f)}};
                    if (!send(u)) return false;
                }
            }
            static constexpr char done[] = "data: [DONE]\n\n";
            if (!sink.write(done, sizeof done - 1)) return false;
            sink.done();
            return true;
        }
    }

    Scheduler<B>* sched_;
    BundleRegistry<B>* bundles_;
    ServerOptions opt_;
    std::unique_ptr<httplib::Server> svr_;
    std::thread thread_;
    int port_ = -1;
    ::socket_t listen_fd_ = -1;  ///< the listening socket (from the socket-options hook)
    std::int64_t created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
};

}  // namespace w2s::serve
