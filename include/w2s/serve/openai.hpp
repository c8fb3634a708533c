// w2s/serve/openai.hpp — OpenAI's request and response shapes: JSON in, a scheduler Request out; results and
// stream chunks back to JSON. No HTTP here (http_server.hpp carries these over the wire), so every rule is testable
// on strings.
//
//   auto p = w2s::serve::openai::parse(Endpoint::chat, body, model, registry, defaults);   // request_error 400/404
//   auto ticket = scheduler.submit(std::move(p.req));
//   nlohmann::json out = w2s::serve::openai::response(p, id, created, result, model.tokenizer());
//
// Requests. POST /v1/chat/completions: "messages" (roles system | developer | user | assistant; content a string or
// an array of {"type": "text", "text"} parts), rendered with the model's chat template up to the assistant's turn.
// POST /v1/completions: "prompt" (a string, a one-string array, or token ids), as it is (BOS as the tokenizer says).
// Both: max_tokens (chat also max_completion_tokens), temperature (0..2; default 1 as OpenAI's), top_p, top_k (an
// extension), seed, stop (a string or up to 4), ignore_eos (llama.cpp's extension: no stop at end-of-generation), stream, stream_options.include_usage, n (1 only), logprobs
// (completions: an int 0..20; chat: a bool with top_logprobs 0..20), and the extra field
//   "steering": [{"bundle": "NAME", "alpha": 1.5, "layer": "auto" | 12, "positions": "prompt_end" | "all"}, ...]
// ("auto": the bundle's router picks the layer for this prompt: the W2S decision, reported back in "steering" of the
// response with the layer used; an integer fixes it; entries add up; "prompt_end" (default) steers from the last
// prompt token on as W2S does, "all" every position as llama.cpp's control vectors). A wrong type or value is a 400
// naming the field ("messages[1].content", "steering[0].alpha"); an unknown bundle a 404 naming
// "steering[i].bundle"; fields w2s cannot honour (n > 1, penalties, logit_bias, tools, echo, suffix) a 400 saying
// so; fields it does not know are ignored, as OpenAI's clients send a few.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/serve/bundles.hpp"
#include "w2s/serve/errors.hpp"
#include "w2s/serve/scheduler.hpp"
#include "w2s/text/chat_template.hpp"
#include "w2s/text/prompt_format.hpp"

namespace w2s::serve::openai {

using json = nlohmann::json;

enum class Endpoint { chat, completion };

/// JSON text of j; bytes that are not UTF-8 (a model may generate any bytes, and a token alone may be half a
/// character) become U+FFFD instead of failing.
[[nodiscard]] inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Server-side defaults of a request.
struct Defaults {
    int chat_max_tokens = 256;       ///< chat without max_tokens: this many at most (and what the context leaves)
    int completion_max_tokens = 16;  ///< completions without max_tokens (OpenAI's default)
    std::size_t max_steering = 8;    ///< entries of "steering" at most
};

/// One steering entry as the request gave it (echoed in the response with the layer used).
struct SteeringEcho {
    std::string bundle;
    float alpha = 1.0f;
    bool automatic = true;
    std::string positions = "prompt_end";
};

template <class B>
struct Parsed {
    Endpoint endpoint = Endpoint::chat;
    Request<B> req;
    bool stream = false;
    bool include_usage = false;   ///< stream_options.include_usage
    bool logprobs = false;        ///< report log-probabilities (req.top_logprobs >= 0)
    std::vector<SteeringEcho> steering;
};

namespace detail {

inline const json* field(const json& o, const char* name) {
    const auto it = o.find(name);
    return it == o.end() || it->is_null() ? nullptr : &*it;
}

inline std::string type_name(const json& v) {
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_string()) return "a string";
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    return "null";
}

inline double number(const json& v, const std::string& name, double lo, double hi) {
    if (!v.is_number()) throw bad_field(name, "expected a number, got " + type_name(v));
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) throw bad_field(name, "must be within " + json(lo).dump() + ".." + json(hi).dump() + ", got " + v.dump());
    return x;
}

inline std::int64_t integer(const json& v, const std::string& name, std::int64_t lo, std::int64_t hi) {
    if (!v.is_number_integer()) throw bad_field(name, "expected an integer, got " + (v.is_number() ? v.dump() : type_name(v)));
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
        throw bad_field(name, "must be within " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.dump());
    const auto x = v.get<std::int64_t>();
    if (x < lo || x > hi) throw bad_field(name, "must be within " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.dump());
    return x;
}

inline bool boolean(const json& v, const std::string& name) {
    if (!v.is_boolean()) throw bad_field(name, "expected true or false, got " + type_name(v));
    return v.get<bool>();
}

inline const std::string& string(const json& v, const std::string& name) {
    if (!v.is_string()) throw bad_field(name, "expected a string, got " + type_name(v));
    return v.get_ref<const std::string&>();
}

/// A message's content: a string, or an array of {"type": "text", "text": ...} parts (joined).
inline std::string content(const json& v, const std::string& name) {
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_array()) throw bad_field(name, "expected a string or an array of text parts, got " + type_name(v));
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string f = name + "[" + std::to_string(i) + "]";
        if (!v[i].is_object()) throw bad_field(f, "expected a {\"type\": \"text\", \"text\": ...} part, got " + type_name(v[i]));
        const json* t = field(v[i], "type");
        if (!t || !t->is_string() || t->get<std::string>() != "text")
            throw bad_field(f + ".type", "only \"text\" parts are supported");
        const json* x = field(v[i], "text");
        if (!x) throw bad_field(f + ".text", "missing");
        out += string(*x, f + ".text");
    }
    return out;
}

}  // namespace detail

/// Parses a request body. Throws request_error (400 naming the field, 404 for an unknown bundle).
template <class B>
Parsed<B> parse(Endpoint ep, std::string_view body, const B& model, const BundleRegistry<B>& bundles, std::size_t ctx,
                const Defaults& defaults = {}) {
    using namespace detail;
    json j;
    try {
        j = json::parse(body);
    } catch (const json::exception& e) {
        throw bad_field("", std::string("the body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw bad_field("", "the body must be a JSON object, got " + type_name(j));
    Parsed<B> p;
    p.endpoint = ep;
    Request<B>& r = p.req;

    if (const json* v = field(j, "model")) (void)string(*v, "model");
    for (const char* f : {"presence_penalty", "frequency_penalty"})
        if (const json* v = field(j, f); v && number(*v, f, -2.0, 2.0) != 0.0) throw bad_field(f, "is not supported (only 0)");
    if (const json* v = field(j, "logit_bias"); v && !(v->is_object() && v->empty())) throw bad_field("logit_bias", "is not supported");
    for (const char* f : {"tools", "functions", "tool_choice", "function_call", "suffix"})
        if (field(j, f)) throw bad_field(f, "is not supported by this server");
    if (const json* v = field(j, "response_format"))
        if (!(v->is_object() && v->value("type", "") == "text")) throw bad_field("response_format", "only {\"type\": \"text\"} is supported");
    if (const json* v = field(j, "n"); v && integer(*v, "n", 1, 1000) != 1) throw bad_field("n", "only n = 1 is supported");
    if (const json* v = field(j, "echo"); v && boolean(*v, "echo")) throw bad_field("echo", "is not supported");

    // The prompt.
    if (ep == Endpoint::chat) {
        const json* m = field(j, "messages");
        if (!m) throw bad_field("messages", "missing (a chat completion needs an array of messages)");
        if (!m->is_array() || m->empty()) throw bad_field("messages", "expected a non-empty array of messages, got " + (m->is_array() ? std::string("[]") : type_name(*m)));
        std::vector<text::Message> msgs;
        for (std::size_t i = 0; i < m->size(); ++i) {
            const json& x = (*m)[i];
            const std::string f = "messages[" + std::to_string(i) + "]";
            if (!x.is_object()) throw bad_field(f, "expected an object {\"role\", \"content\"}, got " + type_name(x));
            const json* role = field(x, "role");
            if (!role) throw bad_field(f + ".role", "missing");
            std::string rl = string(*role, f + ".role");
            if (rl == "developer") rl = "system";
            if (rl != "system" && rl != "user" && rl != "assistant")
                throw bad_field(f + ".role", "'" + rl + "' is not one of system, developer, user, assistant");
            const json* c = field(x, "content");
            if (!c) throw bad_field(f + ".content", "missing");
            msgs.push_back({rl, content(*c, f + ".content")});
        }
        if constexpr (model::ChatTemplates<B>) {
            if (!model.has_chat_template()) throw bad_field("messages", "the model has no chat template: use /v1/completions");
        }
        try {
            const text::ChatTemplate t = text::select_template(model, "auto");
            // Special-token texts in the messages stay plain text: a message cannot open or close a turn.
            const auto parts = t.render_parts(msgs, /*add_generation_prompt=*/true);
            r.prompt = text::encode_chat(model.tokenizer(), std::span<const text::ChatPart>(parts), /*parse_special=*/false);
        } catch (const request_error&) {
            throw;
        } catch (const error& e) {
            throw bad_field("messages", e.what());
        }
    } else {
        const json* pr = field(j, "prompt");
        if (!pr) throw bad_field("prompt", "missing");
        const json* one = pr;
        if (pr->is_array() && !pr->empty() && (pr->front().is_string() || pr->front().is_array())) {
            if (pr->size() != 1) throw bad_field("prompt", "only one prompt per request is supported, got " + std::to_string(pr->size()));
            one = &pr->front();
        }
        if (one->is_string()) {
            if (one->get_ref<const std::string&>().empty()) throw bad_field("prompt", "is empty");
            r.prompt = model.tokenizer().encode(one->get<std::string>(), /*add_special=*/true);
        } else if (one->is_array()) {
            for (std::size_t i = 0; i < one->size(); ++i)
                r.prompt.push_back(static_cast<token_id>(integer((*one)[i], "prompt[" + std::to_string(i) + "]", 0, model.vocab_size() - 1)));
        } else {
            throw bad_field("prompt", "expected a string or an array of token ids, got " + type_name(*one));
        }
    }
    if (r.prompt.empty()) throw bad_field(ep == Endpoint::chat ? "messages" : "prompt", "encodes to no tokens");
    if (r.prompt.size() >= ctx)
        throw bad_field(ep == Endpoint::chat ? "messages" : "prompt",
                        "the prompt has " + std::to_string(r.prompt.size()) + " tokens, the context holds " + std::to_string(ctx));

    // Lengths and sampling.
    const json* mt = field(j, "max_completion_tokens");
    const char* mt_name = "max_completion_tokens";
    if (!mt) {
        mt = field(j, "max_tokens");
        mt_name = "max_tokens";
    }
    if (mt) r.max_tokens = static_cast<int>(integer(*mt, mt_name, 1, 1 << 20));
    else if (ep == Endpoint::chat) r.max_tokens = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(defaults.chat_max_tokens), ctx - r.prompt.size()));
    else r.max_tokens = defaults.completion_max_tokens;
    if (r.prompt.size() + static_cast<std::size_t>(r.max_tokens) > ctx)
        throw bad_field(mt ? mt_name : "max_tokens", "the prompt's " + std::to_string(r.prompt.size()) + " tokens + " + std::to_string(r.max_tokens) +
                                                         " new tokens exceed the context of " + std::to_string(ctx) + " tokens");
    r.sampling.temperature = 1.0f;
    if (const json* v = field(j, "temperature")) r.sampling.temperature = static_cast<float>(number(*v, "temperature", 0.0, 2.0));
    if (const json* v = field(j, "top_p")) {
        r.sampling.top_p = static_cast<float>(number(*v, "top_p", 0.0, 1.0));
        if (r.sampling.top_p <= 0.0f) throw bad_field("top_p", "must be > 0");
    }
    if (const json* v = field(j, "top_k")) r.sampling.top_k = static_cast<int>(integer(*v, "top_k", 0, 1 << 20));
    if (const json* v = field(j, "seed")) r.sampling.seed = static_cast<std::uint64_t>(integer(*v, "seed", INT64_MIN, INT64_MAX));
    else r.sampling.seed = std::random_device{}();
    if (const json* v = field(j, "stop")) {
        if (v->is_string()) r.stop.push_back(v->get<std::string>());
        else if (v->is_array() && v->size() <= 4) {
            for (std::size_t i = 0; i < v->size(); ++i) r.stop.push_back(string((*v)[i], "stop[" + std::to_string(i) + "]"));
        } else {
            throw bad_field("stop", "expected a string or an array of at most 4 strings");
        }
        for (const auto& s : r.stop)
            if (s.empty()) throw bad_field("stop", "a stop string must not be empty");
    }
    if (const json* v = field(j, "ignore_eos")) r.stop_at_eog = !boolean(*v, "ignore_eos");  // llama.cpp's extension
    if (const json* v = field(j, "stream")) p.stream = boolean(*v, "stream");
    if (const json* v = field(j, "stream_options")) {
        if (!v->is_object()) throw bad_field("stream_options", "expected an object");
        if (const json* u = field(*v, "include_usage")) p.include_usage = boolean(*u, "stream_options.include_usage");
    }
    if (ep == Endpoint::chat) {
        if (const json* v = field(j, "logprobs")) p.logprobs = boolean(*v, "logprobs");
        if (const json* v = field(j, "top_logprobs")) {
            const auto k = integer(*v, "top_logprobs", 0, 20);
            if (!p.logprobs) throw bad_field("top_logprobs", "needs \"logprobs\": true");
            r.top_logprobs = static_cast<int>(k);
        } else if (p.logprobs) {
            r.top_logprobs = 0;
        }
    } else if (const json* v = field(j, "logprobs")) {
        r.top_logprobs = static_cast<int>(integer(*v, "logprobs", 0, 20));
        p.logprobs = true;
    }

    // Steering.
    if (const json* s = field(j, "steering")) {
        if (!s->is_array()) throw bad_field("steering", "expected an array of {\"bundle\", \"alpha\", \"layer\"} entries, got " + type_name(*s));
        if (s->size() > defaults.max_steering)
            throw bad_field("steering", std::to_string(s->size()) + " entries, at most " + std::to_string(defaults.max_steering));
        for (std::size_t i = 0; i < s->size(); ++i) {
            const json& e = (*s)[i];
            const std::string f = "steering[" + std::to_string(i) + "]";
            if (!e.is_object()) throw bad_field(f, "expected an object {\"bundle\", \"alpha\", \"layer\"}, got " + type_name(e));
            for (const auto& [k, v] : e.items())
                if (k != "bundle" && k != "alpha" && k != "layer" && k != "positions")
                    throw bad_field(f + "." + k, "unknown field (bundle, alpha, layer, positions)");
            const json* b = field(e, "bundle");
            if (!b) throw bad_field(f + ".bundle", "missing");
            const std::string& name = string(*b, f + ".bundle");
            Steering<B> st;
            st.bundle = bundles.find(name);
            if (!st.bundle) throw request_error(404, f + ".bundle", f + ".bundle: no bundle '" + name + "' is loaded (GET /v1/steering/bundles lists them)");
            SteeringEcho echo;
            echo.bundle = name;
            if (const json* a = field(e, "alpha")) st.alpha = static_cast<float>(number(*a, f + ".alpha", -1000.0, 1000.0));
            echo.alpha = st.alpha;
            if (const json* l = field(e, "layer")) {
                if (l->is_string()) {
                    if (l->get<std::string>() != "auto") throw bad_field(f + ".layer", "expected \"auto\" or a layer number, got \"" + l->get<std::string>() + "\"");
                } else {
                    st.layer = static_cast<int>(integer(*l, f + ".layer", 0, model.n_layers() - 1));
                    if (!st.bundle->vectors().has(st.layer))
                        throw bad_field(f + ".layer", "bundle '" + name + "' has no vector for layer " + std::to_string(st.layer));
                    echo.automatic = false;
                }
            }
            if (const json* ps = field(e, "positions")) {
                const std::string& w = string(*ps, f + ".positions");
                if (w == "all") st.from = SteerFrom::all;
                else if (w != "prompt_end") throw bad_field(f + ".positions", "expected \"prompt_end\" or \"all\", got \"" + w + "\"");
                echo.positions = w;
            }
            r.steering.push_back(std::move(st));
            p.steering.push_back(std::move(echo));
        }
    }
    return p;
}

/// The "steering" field of a response: each entry as asked, with the layer it steered at.
inline json steering_json(const std::vector<SteeringEcho>& s, const std::vector<int>& layers) {
    json a = json::array();
    for (std::size_t i = 0; i < s.size(); ++i)
        a.push_back({{"bundle", s[i].bundle}, {"alpha", s[i].alpha}, {"layer", i < layers.size() ? json(layers[i]) : json(nullptr)},
                     {"requested", s[i].automatic ? json("auto") : json(i < layers.size() ? layers[i] : -1)}, {"positions", s[i].positions}});
    return a;
}

/// OpenAI's finish_reason.
inline json finish_reason(FinishReason r) {
    switch (r) {
        case FinishReason::stop: return "stop";
        case FinishReason::length: return "length";
        default: return nullptr;
    }
}

template <class Tok>
json token_logprob_chat(const Tok& tok, token_id id, float lp, const std::vector<TokenLogprob>& top) {
    auto entry = [&](token_id t, float l) {
        const std::string s = tok.decode(std::span<const token_id>(&t, 1));
        json bytes = json::array();
        for (unsigned char c : s) bytes.push_back(static_cast<int>(c));
        return json{{"token", s}, {"logprob", l}, {"bytes", bytes}};
    };
    json e = entry(id, lp);
    json t = json::array();
    for (const auto& x : top) t.push_back(entry(x.id, x.logprob));
    e["top_logprobs"] = t;
    return e;
}

/// Completions' logprobs object for some tokens: tokens, token_logprobs, top_logprobs (token text -> logprob), text_offset.
template <class Tok>
json completion_logprobs(const Tok& tok, const std::vector<TokenEvent>& evs, std::size_t offset0) {
    json toks = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
    std::size_t off = offset0;
    for (const auto& e : evs) {
        const std::string s = tok.decode(std::span<const token_id>(&e.id, 1));
        toks.push_back(s);
        lps.push_back(e.logprob);
        json t = json::object();
        for (const auto& x : e.top) t[tok.decode(std::span<const token_id>(&x.id, 1))] = x.logprob;
        tops.push_back(t);
        offs.push_back(off);
        off += s.size();
    }
    return {{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

inline json usage_json(const Finish& f) {
    return {{"prompt_tokens", f.prompt_tokens}, {"completion_tokens", f.completion_tokens}, {"total_tokens", f.prompt_tokens + f.completion_tokens}};
}

/// The whole (non-streamed) response of a finished request.
template <class B, class Tok>
json response(const Parsed<B>& p, const std::string& id, std::int64_t created, const std::string& model_id, const Result& r, const Tok& tok) {
    json choice;
    choice["index"] = 0;
    choice["finish_reason"] = finish_reason(r.finish.reason);
    if (p.endpoint == Endpoint::chat) {
        choice["message"] = {{"role", "assistant"}, {"content", r.finish.text}};
        if (p.logprobs) {
            json c = json::array();
            for (const auto& e : r.tokens) c.push_back(token_logprob_chat(tok, e.id, e.logprob, e.top));
            choice["logprobs"] = {{"content", c}};
        } else {
            choice["logprobs"] = nullptr;
        }
    } else {
        choice["text"] = r.finish.text;
        choice["logprobs"] = p.logprobs ? completion_logprobs(tok, r.tokens, 0) : json(nullptr);
    }
    json out = {{"id", id},
                {"object", p.endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
                {"created", created},
                {"model", model_id},
                {"choices", json::array({choice})},
                {"usage", usage_json(r.finish)}};
    if (!p.steering.empty()) out["steering"] = steering_json(p.steering, r.finish.layers);
    return out;
}

/// One stream chunk: a piece of text (with its token's log-probabilities when asked), or the finish (piece may be
/// empty). `first`: the chat's first chunk also carries the role.
template <class B, class Tok>
json chunk(const Parsed<B>& p, const std::string& id, std::int64_t created, const std::string& model_id, const std::string& piece,
           const TokenEvent* ev, const Finish* fin, bool first, const std::vector<int>& layers, const Tok& tok, std::size_t text_offset) {
    json choice;
    choice["index"] = 0;
    choice["finish_reason"] = fin ? finish_reason(fin->reason) : json(nullptr);
    if (p.endpoint == Endpoint::chat) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (!piece.empty() || (first && !fin)) delta["content"] = piece;
        choice["delta"] = delta;
        choice["logprobs"] = p.logprobs && ev ? json{{"content", json::array({token_logprob_chat(tok, ev->id, ev->logprob, ev->top)})}} : json(nullptr);
    } else {
        choice["text"] = piece;
        choice["logprobs"] = p.logprobs && ev ? completion_logprobs(tok, std::vector<TokenEvent>{*ev}, text_offset) : json(nullptr);
    }
    json out = {{"id", id},
                {"object", p.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
                {"created", created},
                {"model", model_id},
                {"choices", json::array({choice})}};
    if (!p.steering.empty() && (first || fin)) out["steering"] = steering_json(p.steering, layers);
    return out;
}

/// OpenAI's error object.
inline json error_json(const std::string& message, const std::string& type, const std::string& param) {
    return {{"error", {{"message", message}, {"type", type}, {"param", param.empty() ? json(nullptr) : json(param)}, {"code", nullptr}}}};
}

}  // namespace w2s::serve::openai
