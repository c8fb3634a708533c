// w2s/serve/scheduler.hpp — continuous batching: many generations, each with its own steering, one forward pass
// per step.
//
//   w2s::serve::Scheduler<Model> sched(model, {.parallel = 8, .threads = 2});
//   w2s::serve::Request<Model> r;
//   r.prompt = ids;  r.max_tokens = 64;                                    // greedy unless r.sampling says otherwise
//   r.steering = {{registry.find("sentiment"), 2.0f, /*layer=*/-1}};      // -1: the bundle's router picks the layer
//   auto ticket = sched.submit(std::move(r));                              // request_error 400/503 when refused
//   while (auto ev = ticket->next(std::chrono::milliseconds(100))) ...    // TokenEvent..., then Finish
//   auto result = ticket->wait();                                          // or all at once
//
// The scheduler owns one thread. Between two steps it drops cancelled requests, admits queued ones into free slots
// (at most `parallel` sequences), then runs ONE batched forward pass (model::decode_steps: the backend's decode_batch,
// w2s/model/batched_decode.hpp) over: one token for every sequence that is generating, and chunks of the prompts
// being prefilled (at most prefill_chunk prompt tokens per step in all), so that a long prompt never stalls the
// others for more than one chunk. Each row samples with its own settings and is steered by its own hook (its
// entries' vectors, multipliers and layers): the batch hook dispatches on BlockOutput::seq.
//
// Exactness. A sequence's numbers do not depend on what else is in the batch: the backend computes each step as if
// alone (decode_batch's contract), and prompt chunks are cut so that each takes the kernel path the whole prompt
// part would take in one prefill (every chunk of a part longer than 4 tokens keeps more than 4). Hence a greedy
// request gives exactly the tokens of
//   - model::generate(model, prompt, options, hook) when its layers are fixed (steering from the last prompt token,
//     SteerFrom::prompt_end, or at every position, SteerFrom::all), and
//   - AdaptiveSteerer::generate(prompt, alpha) for one "auto" entry (the same three passes: the prompt but its last
//     token, unsteered; the last token unsteered to read the router's embedding, then dropped; the last token again,
//     steered at the chosen layer, and generation),
// alone or among any other requests (tests/serve checks both).
//
// Steering entries: {bundle, alpha, layer (-1 = auto), from}. Several entries add up (each its own term). The
// request holds its bundles (shared_ptr) until it ends, so BundleRegistry may unload or replace them meanwhile.
// An "auto" entry routes on the prompt's unsteered residuals at the bundle's embedding block; with
// SteerFrom::all the prompt is then prefilled again, steered.
//
// Errors: submit() throws request_error (400 naming the field for a bad request, 503 when the queue is full or the
// scheduler stopped). A failure inside a step (a non-finite logit, the backend's error) ends the requests of that
// step with FinishReason::error and a message; the scheduler goes on.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/core/parallel.hpp"
#include "w2s/model/backend.hpp"
#include "w2s/model/batched_decode.hpp"
#include "w2s/model/generate.hpp"
#include "w2s/model/sampling.hpp"
#include "w2s/route/residual_embedding.hpp"
#include "w2s/serve/bundles.hpp"
#include "w2s/serve/errors.hpp"
#include "w2s/serve/metrics.hpp"
#include "w2s/steer/apply.hpp"

namespace w2s::serve {

using model::token_id;

/// Where an entry's vector is added: from the last prompt token on (the W2S protocol, AdaptiveSteerer::generate) or
/// at every position of the prompt and the generation (llama.cpp's control vectors).
enum class SteerFrom { prompt_end, all };

template <class B>
struct Steering {
    std::shared_ptr<const Bundle<B>> bundle;
    float alpha = 1.0f;
    int layer = -1;  ///< a layer the bundle has a vector for, or -1: the bundle's router chooses (W2S)
    SteerFrom from = SteerFrom::prompt_end;
};

template <class B>
struct Request {
    std::vector<token_id> prompt;          ///< >= 1 token, formatted by the caller
    int max_tokens = 16;                   ///< >= 1; prompt + max_tokens <= the scheduler's ctx
    model::SamplingParams sampling{};      ///< greedy by default
    std::vector<token_id> stop_tokens{};   ///< besides the tokenizer's end-of-generation tokens (stop_at_eog)
    bool stop_at_eog = true;
    std::vector<std::string> stop{};       ///< stop strings: the text ends before the first one that appears
    std::vector<Steering<B>> steering{};
    int top_logprobs = -1;                 ///< -1: none; 0..20: each token's log-probability and that many alternatives
};

struct TokenLogprob {
    token_id id = 0;
    float logprob = 0.0f;
};

/// One generated token. `piece` is the text it completes; a piece may hold back text that could start a stop string
/// (Finish::flush carries what was held back), and is empty while a UTF-8 character is incomplete.
struct TokenEvent {
    token_id id = 0;
    std::string piece;
    float logprob = 0.0f;            ///< with top_logprobs >= 0: log-softmax of the raw logits at the token
    std::vector<TokenLogprob> top;   ///< the top_logprobs most likely tokens, most likely first
};

enum class FinishReason { stop, length, cancelled, error };

[[nodiscard]] constexpr const char* to_string(FinishReason r) noexcept {
    switch (r) {
        case FinishReason::stop: return "stop";
        case FinishReason::length: return "length";
        case FinishReason::cancelled: return "cancelled";
        case FinishReason::error: return "error";
    }
    return "?";
}

/// The last event of a request.
struct Finish {
    FinishReason reason = FinishReason::length;
    std::string flush;               ///< text not yet sent in pieces (send it before finishing)
    std::string text;                ///< the whole generated text (without a stop string)
    std::string error;               ///< with FinishReason::error
    std::size_t prompt_tokens = 0, completion_tokens = 0;
    std::vector<int> layers;         ///< per steering entry: the layer it steered at (the router's choice for auto)
    double queue_s = 0, first_token_s = 0, total_s = 0;  ///< from submit: admission, first token, end
};

/// Everything a finished request gave (Ticket::wait).
struct Result {
    std::vector<TokenEvent> tokens;
    Finish finish;
    [[nodiscard]] std::vector<token_id> ids() const {
        std::vector<token_id> v;
        for (const auto& t : tokens) v.push_back(t.id);
        return v;
    }
};

namespace detail {
/// What the scheduler thread waits on: its queue's mutex and a condition variable. Shared with the tickets so that a
/// ticket can wake the scheduler (cancel) even after the scheduler object is gone.
struct Signal {
    std::mutex m;
    std::condition_variable cv;
};
}  // namespace detail

/// A submitted request, seen from the caller: its events, in order, and cancellation. Thread-safe.
class Ticket {
public:
    using Event = std::variant<TokenEvent, Finish>;

    Ticket(std::uint64_t id, std::shared_ptr<detail::Signal> sig) : id_(id), sig_(std::move(sig)) {}

    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }

    /// The next event, waiting at most `timeout`; nullopt on timeout or after the Finish event was taken.
    std::optional<Event> next(std::chrono::milliseconds timeout) {
        std::unique_lock lk(m_);
        cv_.wait_for(lk, timeout, [&] { return !q_.empty() || taken_final_; });
        if (q_.empty()) return std::nullopt;
        Event e = std::move(q_.front());
        q_.pop_front();
        if (std::holds_alternative<Finish>(e)) taken_final_ = true;
        return e;
    }

    /// Blocks until the request ends; every event not yet taken.
    Result wait() {
        Result r;
        while (true) {
            auto e = next(std::chrono::milliseconds(1000));
            if (!e) {
                if (taken_final_flag()) return r;
                continue;
            }
            if (auto* t = std::get_if<TokenEvent>(&*e)) r.tokens.push_back(std::move(*t));
            else {
                r.finish = std::move(std::get<Finish>(*e));
                return r;
            }
        }
    }

    /// Asks the scheduler to end the request (FinishReason::cancelled); its slot is freed before the next step.
    void cancel() {
        cancelled_.store(true);
        const std::lock_guard lk(sig_->m);
        sig_->cv.notify_all();
    }
    [[nodiscard]] bool cancelled() const noexcept { return cancelled_.load(); }
    /// Whether the Finish event has been produced.
    [[nodiscard]] bool finished() const {
        const std::lock_guard lk(m_);
        return finished_;
    }
    /// The layer of each steering entry, once known (after routing; empty before).
    [[nodiscard]] std::vector<int> layers() const {
        const std::lock_guard lk(m_);
        return layers_;
    }

    // ---- producer side (the scheduler) ----
    void push(Event e) {
        {
            const std::lock_guard lk(m_);
            if (finished_) return;
            if (std::holds_alternative<Finish>(e)) finished_ = true;
            q_.push_back(std::move(e));
        }
        cv_.notify_all();
    }
    void set_layers(std::vector<int> l) {
        const std::lock_guard lk(m_);
        layers_ = std::move(l);
    }

private:
    bool taken_final_flag() const {
        const std::lock_guard lk(m_);
        return taken_final_;
    }
    std::uint64_t id_;
    std::shared_ptr<detail::Signal> sig_;
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<Event> q_;
    std::vector<int> layers_;
    bool finished_ = false, taken_final_ = false;
    std::atomic<bool> cancelled_{false};
};

struct SchedulerOptions {
    int parallel = 4;                 ///< sequences in the batch at most (slots)
    std::size_t ctx = 0;              ///< positions per sequence (prompt + max_tokens); 0: the model's context, at most 4096
    std::size_t max_queue = 64;       ///< requests waiting for a slot at most; beyond, submit answers 503
    std::size_t prefill_chunk = 128;  ///< prompt tokens per step at most, all prefilling sequences together (>= 16)
    int threads = 0;                  ///< worker threads of the forward passes (0: all cores)
};

template <class B>
class Scheduler {
    static_assert(model::check_backend<B>());
    static_assert(requires(typename B::Session& s) { s.truncate(std::size_t{0}); },
                  "w2s::serve::Scheduler: the backend's Session needs truncate(n) (the router's probe of the last prompt token is dropped with it)");

public:
    Scheduler(const B& model, SchedulerOptions o = {}) : model_(&model), opt_(o), pool_(o.threads), sig_(std::make_shared<detail::Signal>()) {
        if (opt_.parallel < 1) throw invalid_argument("Scheduler: parallel must be >= 1, got " + std::to_string(opt_.parallel));
        if (opt_.prefill_chunk < 16) throw invalid_argument("Scheduler: prefill_chunk must be >= 16, got " + std::to_string(opt_.prefill_chunk));
        std::size_t model_ctx = 0;
        if constexpr (requires { model.context_length(); }) model_ctx = model.context_length();
        if (opt_.ctx == 0) opt_.ctx = model_ctx ? std::min<std::size_t>(model_ctx, 4096) : 4096;
        if (model_ctx && opt_.ctx > model_ctx)
            throw invalid_argument("Scheduler: ctx " + std::to_string(opt_.ctx) + " is beyond the model's context of " + std::to_string(model_ctx));
        describe_metrics();
        thread_ = std::thread([this] { loop(); });
    }
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;
    ~Scheduler() { stop(); }

    /// Ends the scheduler: every queued and running request finishes cancelled; later submits answer 503.
    void stop() {
        {
            const std::lock_guard lk(sig_->m);
            if (stopping_) return;
            stopping_ = true;
        }
        sig_->cv.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    [[nodiscard]] const B& model() const noexcept { return *model_; }
    [[nodiscard]] const SchedulerOptions& options() const noexcept { return opt_; }
    [[nodiscard]] std::size_t ctx() const noexcept { return opt_.ctx; }
    [[nodiscard]] Metrics& metrics() noexcept { return metrics_; }
    /// Requests waiting for a slot, and sequences in the batch.
    [[nodiscard]] std::size_t queued() const {
        const std::lock_guard lk(sig_->m);
        return queue_.size();
    }
    [[nodiscard]] std::size_t active() const noexcept { return n_active_.load(); }

    /// Checks and queues a request. Throws request_error: 400 naming the field ("prompt", "max_tokens", "temperature",
    /// "top_p", "top_k", "steering[i].alpha", "steering[i].layer", "top_logprobs"), 503 when the queue is full or the
    /// scheduler has stopped.
    std::shared_ptr<Ticket> submit(Request<B> r) {
        validate(r);
        auto t = std::make_shared<Ticket>(next_id_.fetch_add(1), sig_);
        {
            const std::lock_guard lk(sig_->m);
            if (stopping_) throw request_error(503, "", "the server is shutting down");
            if (queue_.size() >= opt_.max_queue)
                throw request_error(503, "", "the queue is full (" + std::to_string(opt_.max_queue) + " requests waiting); retry later");
            queue_.push_back(Queued{std::move(r), t, Clock::now()});
            metrics_.set("w2s_queue_length", static_cast<double>(queue_.size()));
        }
        sig_->cv.notify_all();
        return t;
    }

    /// submit() and wait() in one call.
    Result generate(Request<B> r) { return submit(std::move(r))->wait(); }

private:
    using Clock = std::chrono::steady_clock;
    using Session = typename B::Session;

    struct Queued {
        Request<B> req;
        std::shared_ptr<Ticket> ticket;
        Clock::time_point t0;
    };

    enum class Phase { prefill, probe, last, decode };

    /// An auto entry's capture of the unsteered prompt residuals at one block.
    struct Capture {
        int block = 0;
        std::vector<double> sum;   // [hidden] sum over the prompt rows
        std::vector<float> last;   // [hidden] the last row seen
    };

    struct Active {
        Request<B> req;
        std::shared_ptr<Ticket> ticket;
        Clock::time_point t0, t_admit, t_first;
        Session s;
        Phase phase = Phase::prefill;
        std::size_t fed = 0;          // prompt tokens in s
        std::size_t part_end = 0;     // prompt tokens to prefill in the current prefill phase
        bool routing = false;         // auto entries wait for the probe
        bool logits_after_part = true;  // the prefill part ends with the logits of the next token
        std::vector<Capture> caps;
        std::vector<int> layers;
        std::vector<steer::SteeringHook> hooks;
        model::Sampler sampler;
        token_id next = 0;            // the token to feed in the next decode step
        std::vector<token_id> out;
        std::string text;             // decode(out)
        std::size_t sent = 0;         // bytes of text sent as pieces
        Active(Queued&& q, Session s0)
            : req(std::move(q.req)), ticket(std::move(q.ticket)), t0(q.t0), t_admit(Clock::now()), s(std::move(s0)),
              sampler(req.sampling) {}
    };

    // ---------------------------------------------------------------------------------------------------------
    void describe_metrics() {
        using K = Metrics::Kind;
        const std::vector<double> lat{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
        metrics_.describe("w2s_prompt_tokens_total", K::counter, "Prompt tokens prefilled.");
        metrics_.describe("w2s_generated_tokens_total", K::counter, "Tokens generated.");
        metrics_.describe("w2s_requests_finished_total", K::counter, "Requests the scheduler finished, by reason.");
        metrics_.describe("w2s_steps_total", K::counter, "Batched forward passes.");
        metrics_.describe("w2s_queue_length", K::gauge, "Requests waiting for a slot.");
        metrics_.describe("w2s_active_sequences", K::gauge, "Sequences in the running batch.");
        metrics_.describe("w2s_batch_rows", K::histogram, "Sequences per batched forward pass.", {1, 2, 4, 8, 16, 32, 64});
        metrics_.describe("w2s_batch_tokens", K::histogram, "Tokens per batched forward pass.", {1, 4, 16, 64, 128, 256, 512, 1024});
        metrics_.describe("w2s_step_seconds", K::histogram, "Time of one batched forward pass.", {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
        metrics_.describe("w2s_queue_seconds", K::histogram, "Time from submit to a slot.", lat);
        metrics_.describe("w2s_first_token_seconds", K::histogram, "Time from submit to the first token.", lat);
        metrics_.describe("w2s_request_seconds", K::histogram, "Time from submit to the end.", lat);
    }

    void validate(const Request<B>& r) const {
        if (r.prompt.empty()) throw bad_field("prompt", "the prompt is empty (it needs at least one token)");
        const auto V = model_->vocab_size();
        for (std::size_t i = 0; i < r.prompt.size(); ++i)
            if (r.prompt[i] < 0 || r.prompt[i] >= V)
                throw bad_field("prompt", "token " + std::to_string(r.prompt[i]) + " at position " + std::to_string(i) +
                                              " is outside the vocabulary 0.." + std::to_string(V - 1));
        if (r.max_tokens < 1) throw bad_field("max_tokens", "must be >= 1, got " + std::to_string(r.max_tokens));
        if (r.prompt.size() + static_cast<std::size_t>(r.max_tokens) > opt_.ctx)
            throw bad_field("max_tokens", "the prompt's " + std::to_string(r.prompt.size()) + " tokens + max_tokens " +
                                              std::to_string(r.max_tokens) + " exceed the context of " + std::to_string(opt_.ctx) + " tokens");
        try {
            model::validate(r.sampling);
        } catch (const invalid_argument& e) {
            const std::string m = e.what();
            throw bad_field(m.find("top_k") != std::string::npos ? "top_k" : m.find("top_p") != std::string::npos ? "top_p" : "temperature", m);
        }
        if (r.top_logprobs < -1 || r.top_logprobs > 20) throw bad_field("top_logprobs", "must be within 0..20, got " + std::to_string(r.top_logprobs));
        for (std::size_t i = 0; i < r.steering.size(); ++i) {
            const auto& e = r.steering[i];
            const std::string f = "steering[" + std::to_string(i) + "]";
            if (!e.bundle) throw bad_field(f + ".bundle", "no bundle");
            try {
                steer::check_multiplier(e.alpha, "alpha");
            } catch (const invalid_argument& x) {
                throw bad_field(f + ".alpha", x.what());
            }
            const int L = model_->n_layers();
            if (e.layer >= 0 && (e.layer >= L || !e.bundle->vectors().has(e.layer)))
                throw bad_field(f + ".layer", "bundle '" + e.bundle->name() + "' has no vector for layer " + std::to_string(e.layer) +
                                                  " (its layers: " + join(e.bundle->vectors().layers()) + ")");
            if (e.layer < -1) throw bad_field(f + ".layer", "must be a layer (>= 1) or \"auto\"");
            if (e.bundle->vectors().hidden() != model_->hidden_size())
                throw bad_field(f + ".bundle", "bundle '" + e.bundle->name() + "' was made for hidden size " +
                                                   std::to_string(e.bundle->vectors().hidden()) + ", the model's is " + std::to_string(model_->hidden_size()));
        }
    }

    static std::string join(const std::vector<int>& v) {
        std::string s;
        for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
        return s;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The scheduler thread.
    void loop() {
        std::list<Active> act;
        while (true) {
            std::vector<Queued> admitted;
            {
                std::unique_lock lk(sig_->m);
                sig_->cv.wait(lk, [&] {
                    if (stopping_ || !queue_.empty()) return true;
                    for (const auto& a : act)
                        if (a.ticket->cancelled()) return true;
                    return !act.empty();
                });
                if (stopping_) {
                    for (auto& q : queue_) q.ticket->push(cancelled_finish(q.req.prompt.size()));
                    queue_.clear();
                    break;
                }
                for (auto it = queue_.begin(); it != queue_.end();) {
                    if (it->ticket->cancelled()) {
                        it->ticket->push(cancelled_finish(it->req.prompt.size()));
                        metrics_.count("w2s_requests_finished_total", {{"reason", "cancelled"}});
                        it = queue_.erase(it);
                    } else {
                        ++it;
                    }
                }
                while (act.size() + admitted.size() < static_cast<std::size_t>(opt_.parallel) && !queue_.empty()) {
                    admitted.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
                metrics_.set("w2s_queue_length", static_cast<double>(queue_.size()));
            }
            for (auto& q : admitted) {
                metrics_.observe("w2s_queue_seconds", seconds(q.t0, Clock::now()));
                act.emplace_back(std::move(q), model_->new_session());
                start(act.back());
            }
            for (auto it = act.begin(); it != act.end();) {
                if (it->ticket->cancelled()) {
                    finish(*it, FinishReason::cancelled);
                    it = act.erase(it);
                } else {
                    ++it;
                }
            }
            n_active_.store(act.size());
            metrics_.set("w2s_active_sequences", static_cast<double>(act.size()));
            if (act.empty()) continue;
            step(act);
            n_active_.store(act.size());  // the step retires finished sequences: count them out before waiting again
            metrics_.set("w2s_active_sequences", static_cast<double>(act.size()));
        }
        for (auto& a : act) finish(a, FinishReason::cancelled);
        n_active_.store(0);
    }

    static double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

    static Finish cancelled_finish(std::size_t prompt_tokens) {
        Finish f;
        f.reason = FinishReason::cancelled;
        f.prompt_tokens = prompt_tokens;
        return f;
    }

    /// A newly admitted request: its phases and, when no entry is auto, its hooks.
    void start(Active& a) {
        const std::size_t P = a.req.prompt.size();
        a.layers.assign(a.req.steering.size(), -1);
        bool any_auto = false;
        for (std::size_t i = 0; i < a.req.steering.size(); ++i) {
            const auto& e = a.req.steering[i];
            if (e.layer >= 0) a.layers[i] = e.layer;
            else {
                any_auto = true;
                const int k = e.bundle->options().embedding_block;
                if (std::none_of(a.caps.begin(), a.caps.end(), [k](const Capture& c) { return c.block == k; }))
                    a.caps.push_back(Capture{k, std::vector<double>(static_cast<std::size_t>(model_->hidden_size()), 0.0),
                                             std::vector<float>(static_cast<std::size_t>(model_->hidden_size()), 0.0f)});
            }
        }
        if (any_auto) {
            // W2S: the prompt but its last token unsteered, then the probe of the last token, then the routing.
            a.routing = true;
            a.part_end = P - 1;
            a.logits_after_part = false;
            a.phase = P > 1 ? Phase::prefill : Phase::probe;
        } else {
            build_hooks(a);
            a.part_end = P;
            a.logits_after_part = true;
            a.phase = Phase::prefill;
        }
    }

    void build_hooks(Active& a) {
        const std::size_t P = a.req.prompt.size();
        a.hooks.clear();
        for (std::size_t i = 0; i < a.req.steering.size(); ++i) {
            const auto& e = a.req.steering[i];
            const steer::Positions where = e.from == SteerFrom::all ? steer::Positions::all() : steer::Positions::from(P - 1);
            a.hooks.emplace_back(e.bundle->vectors(), a.layers[i], e.alpha, where);
        }
        a.ticket->set_layers(a.layers);
    }

    /// Chunk of a prompt part with `r` tokens left (the part has `total`) within `budget` tokens: 0 = wait. A part of more
    /// than 4 tokens is cut into chunks of more than 4 each (the kernel path its one-call prefill takes), a part of
    /// at most 4 goes whole.
    static std::size_t chunk_of(std::size_t r, std::size_t total, std::size_t budget) {
        if (r <= budget) return r;
        if (total <= 4 || budget < 5) return 0;
        std::size_t c = budget;
        if (r - c < 5) c = r - 5;
        return c >= 5 ? c : 0;
    }

    struct Planned {
        Active* a;
        std::size_t n;   // tokens in this step
    };

    void step(std::list<Active>& act) {
        // One-token steps first (decode, probe, last prompt token), then prompt chunks: one kernel path per group.
        std::vector<Planned> plan;
        for (auto& a : act)
            if (a.phase != Phase::prefill) plan.push_back({&a, 1});
        std::size_t budget = opt_.prefill_chunk;
        for (auto& a : act) {
            if (a.phase != Phase::prefill) continue;
            const std::size_t c = chunk_of(a.part_end - a.fed, a.part_end, budget);
            if (c == 0) continue;
            budget -= c;
            plan.push_back({&a, c});
        }
        std::stable_partition(plan.begin(), plan.end(), [](const Planned& p) { return p.n <= 4; });
        if (plan.empty()) return;  // cannot happen: the head of the prefill queue always gets a chunk

        std::vector<model::BatchStep<Session>> steps;
        std::size_t tokens = 0;
        for (const auto& p : plan) {
            Active& a = *p.a;
            model::BatchStep<Session> st;
            st.session = &a.s;
            switch (a.phase) {
                case Phase::prefill:
                    st.tokens = std::span<const token_id>(a.req.prompt).subspan(a.fed, p.n);
                    st.logits = a.logits_after_part && a.fed + p.n == a.part_end;
                    break;
                case Phase::probe:
                    st.tokens = std::span<const token_id>(a.req.prompt).last(1);
                    st.logits = false;
                    break;
                case Phase::last:
                    st.tokens = std::span<const token_id>(a.req.prompt).last(1);
                    st.logits = true;
                    break;
                case Phase::decode:
                    st.tokens = std::span<const token_id>(&a.next, 1);
                    st.logits = true;
                    break;
            }
            tokens += st.tokens.size();
            steps.push_back(st);
        }
        const model::Hook hook = [&](const model::BlockOutput& o) {
            Active& a = *plan[o.seq].a;
            if (a.routing)
                for (auto& c : a.caps) {
                    if (c.block != o.layer) continue;
                    const std::size_t H = o.residual.cols;
                    for (std::size_t r = 0; r < o.residual.rows; ++r)
                        for (std::size_t j = 0; j < H; ++j) c.sum[j] += o.residual.row(r)[j];
                    if (o.residual.rows) std::copy_n(o.residual.row(o.residual.rows - 1), H, c.last.data());
                }
            for (const auto& h : a.hooks) h(o);
        };
        MatrixRM logits;
        const auto t0 = Clock::now();
        try {
            pool_.run([&] { model::decode_steps(*model_, std::span<const model::BatchStep<Session>>(steps), hook, &logits); });
        } catch (const std::exception& e) {
            // The backend failed this step: its requests end with the error; the others are not in it.
            for (const auto& p : plan) {
                p.a->ticket->push(error_finish(*p.a, std::string("the forward pass failed: ") + e.what()));
                metrics_.count("w2s_requests_finished_total", {{"reason", "error"}});
            }
            act.remove_if([&](const Active& a) { return std::any_of(plan.begin(), plan.end(), [&](const Planned& p) { return p.a == &a; }); });
            return;
        }
        metrics_.observe("w2s_step_seconds", seconds(t0, Clock::now()));
        metrics_.observe("w2s_batch_rows", static_cast<double>(steps.size()));
        metrics_.observe("w2s_batch_tokens", static_cast<double>(tokens));
        metrics_.count("w2s_steps_total");

        std::vector<const Active*> done;
        for (std::size_t i = 0; i < plan.size(); ++i) {
            Active& a = *plan[i].a;
            try {
                if (advance(a, plan[i].n, steps[i].logits ? std::span<const float>(logits.row(static_cast<Eigen::Index>(i)).data(),
                                                                                    static_cast<std::size_t>(logits.cols()))
                                                          : std::span<const float>()))
                    done.push_back(&a);
            } catch (const std::exception& e) {
                a.ticket->push(error_finish(a, e.what()));
                metrics_.count("w2s_requests_finished_total", {{"reason", "error"}});
                done.push_back(&a);
            }
        }
        act.remove_if([&](const Active& a) { return std::find(done.begin(), done.end(), &a) != done.end(); });
    }

    /// After a step: the phase transitions and, with logits, the next token. Returns true when the request ended.
    bool advance(Active& a, std::size_t n, std::span<const float> row) {
        switch (a.phase) {
            case Phase::prefill:
                a.fed += n;
                metrics_.count("w2s_prompt_tokens_total", {}, static_cast<double>(n));
                if (a.fed < a.part_end) return false;
                if (a.routing) {
                    a.phase = Phase::probe;
                    return false;
                }
                if (!a.logits_after_part) {
                    a.phase = Phase::last;
                    return false;
                }
                return sample(a, row);
            case Phase::probe: {
                route(a);
                a.s.truncate(a.fed);  // drop the probe: the last token runs again, steered
                const bool again = std::any_of(a.req.steering.begin(), a.req.steering.end(),
                                               [](const Steering<B>& e) { return e.from == SteerFrom::all; });
                if (again) {  // the whole prompt, steered this time
                    a.s = model_->new_session();
                    a.fed = 0;
                    a.part_end = a.req.prompt.size();
                    a.logits_after_part = true;
                    a.phase = Phase::prefill;
                } else {
                    a.phase = Phase::last;
                }
                return false;
            }
            case Phase::last:
                a.fed += 1;
                metrics_.count("w2s_prompt_tokens_total");
                return sample(a, row);
            case Phase::decode:
                return sample(a, row);
        }
        return false;
    }

    /// The router of every auto entry on the captured residuals, then the hooks.
    void route(Active& a) {
        const std::size_t P = a.req.prompt.size();
        const std::size_t H = static_cast<std::size_t>(model_->hidden_size());
        for (std::size_t i = 0; i < a.req.steering.size(); ++i) {
            const auto& e = a.req.steering[i];
            if (e.layer >= 0) continue;
            const int k = e.bundle->options().embedding_block;
            const auto c = std::find_if(a.caps.begin(), a.caps.end(), [k](const Capture& x) { return x.block == k; });
            route::PromptResiduals pr{{k}, H, c->last, std::vector<float>(H)};
            for (std::size_t j = 0; j < H; ++j) pr.mean[j] = static_cast<float>(c->sum[j] / static_cast<double>(P));
            a.layers[i] = e.bundle->choose_layer(std::span<const token_id>(a.req.prompt), pr);
        }
        a.routing = false;
        a.caps.clear();
        build_hooks(a);
    }

    /// Samples the next token from `row`, emits it; true when the request ended.
    bool sample(Active& a, std::span<const float> row) {
        for (float v : row)
            if (!std::isfinite(v))
                throw numeric_error("the logits after " + std::to_string(a.out.size()) +
                                    " generated token(s) are not finite (NaN or Inf); the steering made the residual overflow");
        TokenEvent ev;
        if (a.req.top_logprobs >= 0) log_probs(row, a.req.top_logprobs, ev);
        const token_id id = a.sampler.sample(row);
        if (a.out.empty()) a.t_first = Clock::now();
        const auto& tok = model_->tokenizer();
        const bool stop_tok = std::find(a.req.stop_tokens.begin(), a.req.stop_tokens.end(), id) != a.req.stop_tokens.end() ||
                              (a.req.stop_at_eog && model::tokenizer_is_eog(tok, id));
        if (stop_tok) {
            finish(a, FinishReason::stop);
            return true;
        }
        a.out.push_back(id);
        metrics_.count("w2s_generated_tokens_total");
        a.text = std::string(tok.decode(std::span<const token_id>(a.out)));
        ev.id = id;
        if (a.req.top_logprobs >= 0) ev.logprob = chosen_logprob(row, id);
        // A stop string ends the text before it.
        std::size_t cut = std::string::npos;
        for (const auto& s : a.req.stop) {
            if (s.empty()) continue;
            const std::size_t from = a.sent > s.size() ? a.sent - s.size() : 0;
            const std::size_t p = a.text.find(s, from);
            if (p != std::string::npos) cut = std::min(cut, p);
        }
        if (cut != std::string::npos) {
            a.text.resize(cut);
            ev.piece = cut > a.sent ? a.text.substr(a.sent) : std::string();
            a.sent = std::max(a.sent, cut);
            a.ticket->push(std::move(ev));
            finish(a, FinishReason::stop);
            return true;
        }
        // Pieces stop at a complete UTF-8 character and before a tail that could begin a stop string.
        std::size_t safe = model::detail::utf8_complete_prefix(a.text);
        for (const auto& s : a.req.stop)
            for (std::size_t k = std::min(s.size() - (s.empty() ? 0 : 1), a.text.size()); k > 0; --k)
                if (a.text.compare(a.text.size() - k, k, s, 0, k) == 0) {
                    safe = std::min(safe, a.text.size() - k);
                    break;
                }
        if (safe > a.sent) {
            ev.piece = a.text.substr(a.sent, safe - a.sent);
            a.sent = safe;
        }
        a.ticket->push(std::move(ev));
        if (static_cast<int>(a.out.size()) >= a.req.max_tokens) {
            finish(a, FinishReason::length);
            return true;
        }
        a.next = id;
        a.phase = Phase::decode;
        return false;
    }

    static float chosen_logprob(std::span<const float> row, token_id id) {
        const float mx = *std::max_element(row.begin(), row.end());
        double sum = 0.0;
        for (float v : row) sum += std::exp(static_cast<double>(v) - mx);
        return static_cast<float>(static_cast<double>(row[static_cast<std::size_t>(id)]) - mx - std::log(sum));
    }

    /// The top `k` log-probabilities of the row (log-softmax of the raw logits), most likely first, ties to the lower id.
    static void log_probs(std::span<const float> row, int k, TokenEvent& ev) {
        const float mx = *std::max_element(row.begin(), row.end());
        double sum = 0.0;
        for (float v : row) sum += std::exp(static_cast<double>(v) - mx);
        const double lse = mx + std::log(sum);
        std::vector<token_id> idx(row.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<token_id>(i);
        const auto kk = std::min<std::size_t>(static_cast<std::size_t>(k), idx.size());
        std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(kk), idx.end(), [&](token_id a, token_id b) {
            const float x = row[static_cast<std::size_t>(a)], y = row[static_cast<std::size_t>(b)];
            return x != y ? x > y : a < b;
        });
        for (std::size_t i = 0; i < kk; ++i)
            ev.top.push_back({idx[i], static_cast<float>(static_cast<double>(row[static_cast<std::size_t>(idx[i])]) - lse)});
    }

    Finish make_finish(Active& a, FinishReason why) {
        Finish f;
        f.reason = why;
        if (a.sent < a.text.size()) f.flush = a.text.substr(a.sent);
        a.sent = a.text.size();
        f.text = a.text;
        f.prompt_tokens = a.req.prompt.size();
        f.completion_tokens = a.out.size();
        f.layers = a.layers;
        const auto now = Clock::now();
        f.queue_s = seconds(a.t0, a.t_admit);
        f.first_token_s = a.out.empty() ? 0.0 : seconds(a.t0, a.t_first);
        f.total_s = seconds(a.t0, now);
        return f;
    }

    void finish(Active& a, FinishReason why) {
        Finish f = make_finish(a, why);
        if (!a.out.empty()) metrics_.observe("w2s_first_token_seconds", f.first_token_s);
        metrics_.observe("w2s_request_seconds", f.total_s);
        metrics_.count("w2s_requests_finished_total", {{"reason", to_string(why)}});
        a.ticket->push(std::move(f));
    }

    Finish error_finish(Active& a, std::string msg) {
        Finish f = make_finish(a, FinishReason::error);
        f.error = std::move(msg);
        return f;
    }

    const B* model_;
    SchedulerOptions opt_;
    ThreadPool pool_;
    std::shared_ptr<detail::Signal> sig_;
    std::deque<Queued> queue_;  // guarded by sig_->m
    bool stopping_ = false;     // guarded by sig_->m
    std::atomic<std::uint64_t> next_id_{1};
    std::atomic<std::size_t> n_active_{0};
    Metrics metrics_;
    std::thread thread_;
};

}  // namespace w2s::serve
