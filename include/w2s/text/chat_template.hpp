// w2s/text/chat_template.hpp — chat templates of the common model families, rendered in C++.
//
// A GGUF carries its chat template as Jinja text (`tokenizer.chat_template`). w2s does not run Jinja:
// it recognises the family from the template text and renders that family's format itself, equal to
// what HF apply_chat_template(messages, tokenize=False, add_generation_prompt=...) produces with the real
// template of each family:
//   chatml — <|im_start|>{role}\n{content}<|im_end|>\n ... ; generation prompt "<|im_start|>assistant\n".
//            (SmolLM2, Qwen2). When the template inserts a default system message if the first message
//            is not a system message (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by
//            Hugging Face"; Qwen2.5: "You are Qwen, ..."), that default is read from the template text
//            and reproduced.
//   llama2 — <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ... ;
//            contents stripped; there is no separate generation prompt (the prompt ends with " [/INST]").
//   llama3 — <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|> ... ;
//            contents trimmed; generation prompt "<|start_header_id|>assistant<|end_header_id|>\n\n".
//            (The Llama 3.0 template. Llama 3.1+ templates also write a "Cutting Knowledge Date" system
//            header with the day's date; they are not reproduced.)
//   gemma  — <bos><start_of_turn>{user|model}\n{content}<end_of_turn>\n ... ; contents trimmed; a system
//            message is put in front of the first user turn followed by "\n\n" (Gemma 3; Gemma 1/2
//            templates refuse system messages); generation prompt "<start_of_turn>model\n".
//   plain  — no chat markup, for base models whose GGUF has no template (Gemma 3 270M) and only when asked for
//            explicitly (ChatTemplate::plain(), `--template plain`): {bos}[{system}\n\n]User: {user}\nAssistant:\n
//            (an assistant turn is "Assistant:\n{content}\n"); generation prompt "Assistant:\n". bos is the
//            tokenizer's BOS text when it adds one (select_template does this), so the ids begin as plain
//            encoding would.
// The BOS text a template writes (<s>, <|begin_of_text|>, <bos>) becomes the BOS id when the rendered text
// is encoded with parse_special = true; encode it with add_special = false so BOS is not doubled (as HF
// apply_chat_template(tokenize=True) does).
//
// The steering protocol (PROTOCOL.md section 3), decisions fixed for the whole project:
//   * render_prompt(system, user) is the prompt up to and including the assistant header WITH the
//     template's own newline, e.g. "<|im_start|>assistant\n" for ChatML (llama2: up to " [/INST]").
//     An empty system string means no system message (so a ChatML template's own default system prompt,
//     if it has one, is inserted, exactly as the template does).
//   * The response (e.g. "(A)") is tokenized SEPARATELY from the prompt and the two id lists are
//     concatenated, so the answer letter always starts its own token boundary:
//       ids = tok.encode(tmpl.render_prompt(sys, q)); ids += tok.encode("(A)");
//
//   auto tmpl = w2s::text::ChatTemplate::from_gguf(file);
//   std::vector<w2s::text::Message> msgs{{"user", "Hi"}};
//   std::string text = tmpl.render(msgs, /*add_generation_prompt=*/true);
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/reader.hpp"

namespace w2s::text {

struct Message {
    std::string role;     ///< "system", "user" or "assistant"
    std::string content;
};

/// A piece of rendered chat text: the template's own markup (content = false: role headers, turn markers, BOS,
/// a default system prompt the template writes) or a message's content (content = true). render_parts()
/// joined is render(); encoding the parts with special tokens parsed in the markup only keeps a message that
/// contains "<|im_start|>" from opening a turn (text/prompt_format.hpp).
struct ChatPart {
    std::string text;
    bool content = false;
};

enum class ChatFamily { chatml, llama2, llama3, gemma, plain };

inline std::string_view chat_family_name(ChatFamily f) noexcept {
    switch (f) {
        case ChatFamily::chatml: return "chatml";
        case ChatFamily::llama2: return "llama2";
        case ChatFamily::llama3: return "llama3";
        case ChatFamily::gemma: return "gemma";
        case ChatFamily::plain: return "plain";
    }
    return "?";
}

class ChatTemplate {
public:
    /// Family from `tokenizer.chat_template` (BOS/EOS texts from the vocabulary). A missing template or
    /// one of no known family gives unsupported_error with a hint to use from_family().
    static ChatTemplate from_gguf(const gguf::File& f);
    /// Family recognised from Jinja template text; `bos`/`eos` are the texts the template writes for
    /// bos_token/eos_token (empty: the family's usual ones). `where` names the source in errors.
    static ChatTemplate from_template_text(std::string_view jinja, std::string bos = "", std::string eos = "",
                                           std::string_view where = "chat template");
    /// A family's format chosen by the caller (an override for templates w2s does not recognise).
    /// default_system: inserted when the first message is not a system message ("" = none).
    static ChatTemplate from_family(ChatFamily fam, std::string default_system = "", std::string bos = "", std::string eos = "");
    /// The plain transcript format (see the top) with `bos` written first ("" = none).
    static ChatTemplate plain(std::string bos = "") { return ChatTemplate(ChatFamily::plain, "", std::move(bos), ""); }
    /// Family from a name: "chatml", "llama2", "llama3", "gemma", "plain" (invalid_argument otherwise).
    static ChatFamily family_from_name(std::string_view name);

    /// == HF apply_chat_template(msgs, tokenize=False, add_generation_prompt). Roles other than
    /// system/user/assistant are written as given (chatml, llama3) or refused (invalid_argument).
    [[nodiscard]] std::string render(std::span<const Message> msgs, bool add_generation_prompt) const;
    /// render() as markup and content parts (adjacent parts of one kind merged, no empty parts).
    [[nodiscard]] std::vector<ChatPart> render_parts(std::span<const Message> msgs, bool add_generation_prompt) const;
    /// The protocol prompt: [system (if non-empty)], user, then the assistant header (see the top).
    [[nodiscard]] std::string render_prompt(std::string_view system, std::string_view user) const;
    /// render_prompt() as markup and content parts.
    [[nodiscard]] std::vector<ChatPart> render_prompt_parts(std::string_view system, std::string_view user) const;

    [[nodiscard]] ChatFamily family() const noexcept { return fam_; }
    [[nodiscard]] const std::string& default_system() const noexcept { return default_system_; }
    [[nodiscard]] const std::string& bos_text() const noexcept { return bos_; }
    [[nodiscard]] const std::string& eos_text() const noexcept { return eos_; }

private:
    ChatTemplate(ChatFamily f, std::string sys, std::string bos, std::string eos)
        : fam_(f), default_system_(std::move(sys)), bos_(std::move(bos)), eos_(std::move(eos)) {}
    ChatFamily fam_ = ChatFamily::chatml;
    std::string default_system_;
    std::string bos_, eos_;
};

// ---------------------------------------------------------------------------------------------------
namespace detail {

/// Python's str.strip() for the whitespace that matters in chat text (ASCII whitespace).
inline std::string_view py_strip(std::string_view s) {
    auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
    while (!s.empty() && sp(s.front())) s.remove_prefix(1);
    while (!s.empty() && sp(s.back())) s.remove_suffix(1);
    return s;
}

/// The default system prompt a ChatML template writes itself: the text between "<|im_start|>system" + a
/// newline (real or the escape \n) and "<|im_end|>" inside the template, with \n escapes undone.
inline std::string chatml_default_system(std::string_view t) {
    constexpr std::string_view head = "<|im_start|>system";
    std::size_t p = 0;
    while ((p = t.find(head, p)) != std::string_view::npos) {
        std::size_t q = p + head.size();
        if (t.compare(q, 1, "\n") == 0) q += 1;
        else if (t.compare(q, 2, "\\n") == 0) q += 2;
        else {
            p = q;
            continue;
        }
        std::size_t e = t.find("<|im_end|>", q);
        if (e == std::string_view::npos) return "";
        std::string_view body = t.substr(q, e - q);
        // A literal only: a template that writes the system message's content here has Jinja in it.
        if (body.find("{{") != std::string_view::npos || body.find('\'') != std::string_view::npos ||
            body.find('"') != std::string_view::npos || body.find('+') != std::string_view::npos) {
            p = e;
            continue;
        }
        std::string out;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (body[i] == '\\' && i + 1 < body.size() && body[i + 1] == 'n') {
                out += '\n';
                ++i;
            } else {
                out += body[i];
            }
        }
        return out;
    }
    return "";
}

/// Builds a list of ChatParts: markup and content appended in order, adjacent parts of one kind merged.
class PartsBuilder {
public:
    PartsBuilder& markup(std::string_view t) { return add(t, false); }
    PartsBuilder& content(std::string_view t) { return add(t, true); }
    PartsBuilder& append(const std::vector<ChatPart>& ps) {
        for (const auto& p : ps) add(p.text, p.content);
        return *this;
    }
    /// Python's str.strip() over the joined text of the parts so far (ASCII whitespace).
    PartsBuilder& strip() {
        auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
        while (!parts_.empty()) {
            std::string& t = parts_.front().text;
            std::size_t k = 0;
            while (k < t.size() && sp(t[k])) ++k;
            t.erase(0, k);
            if (!t.empty()) break;
            parts_.erase(parts_.begin());
        }
        while (!parts_.empty()) {
            std::string& t = parts_.back().text;
            while (!t.empty() && sp(t.back())) t.pop_back();
            if (!t.empty()) break;
            parts_.pop_back();
        }
        return *this;
    }
    [[nodiscard]] std::vector<ChatPart> take() { return std::move(parts_); }

private:
    PartsBuilder& add(std::string_view t, bool content) {
        if (t.empty()) return *this;
        if (!parts_.empty() && parts_.back().content == content) parts_.back().text += t;
        else parts_.push_back({std::string(t), content});
        return *this;
    }
    std::vector<ChatPart> parts_;
};

inline std::string family_bos(ChatFamily f) {
    switch (f) {
        case ChatFamily::llama2: return "<s>";
        case ChatFamily::llama3: return "<|begin_of_text|>";
        case ChatFamily::gemma: return "<bos>";
        default: return "";
    }
}
inline std::string family_eos(ChatFamily f) {
    switch (f) {
        case ChatFamily::llama2: return "</s>";
        case ChatFamily::llama3: return "<|end_of_text|>";
        case ChatFamily::gemma: return "<eos>";
        default: return "<|im_end|>";
    }
}

}  // namespace detail

inline ChatFamily ChatTemplate::family_from_name(std::string_view name) {
    if (name == "chatml") return ChatFamily::chatml;
    if (name == "llama2") return ChatFamily::llama2;
    if (name == "llama3") return ChatFamily::llama3;
    if (name == "gemma") return ChatFamily::gemma;
    if (name == "plain") return ChatFamily::plain;
    throw invalid_argument("chat family '" + std::string(name) + "' is unknown; expected chatml, llama2, llama3, gemma or plain");
}

inline ChatTemplate ChatTemplate::from_family(ChatFamily fam, std::string default_system, std::string bos, std::string eos) {
    if (bos.empty()) bos = detail::family_bos(fam);
    if (eos.empty()) eos = detail::family_eos(fam);
    return ChatTemplate(fam, std::move(default_system), std::move(bos), std::move(eos));
}

inline ChatTemplate ChatTemplate::from_template_text(std::string_view t, std::string bos, std::string eos, std::string_view where) {
    if (t.find("<|im_start|>") != std::string_view::npos)
        return from_family(ChatFamily::chatml, detail::chatml_default_system(t), std::move(bos), std::move(eos));
    if (t.find("<|start_header_id|>") != std::string_view::npos) return from_family(ChatFamily::llama3, "", std::move(bos), std::move(eos));
    if (t.find("<start_of_turn>") != std::string_view::npos) return from_family(ChatFamily::gemma, "", std::move(bos), std::move(eos));
    if (t.find("[INST]") != std::string_view::npos) return from_family(ChatFamily::llama2, "", std::move(bos), std::move(eos));
    std::string head(t.substr(0, 80));
    for (char& c : head)
        if (c == '\n') c = ' ';
    throw unsupported_error(std::string(where) + ": template of no known family (found '" + head +
                            "...', expected ChatML <|im_start|>, Llama 2 [INST], Llama 3 <|start_header_id|> or Gemma "
                            "<start_of_turn>); use ChatTemplate::from_family() to choose one");
}

inline ChatTemplate ChatTemplate::from_gguf(const gguf::File& f) {
    const std::string key = "tokenizer.chat_template";
    if (!f.has(key))
        throw unsupported_error(f.path() + ": metadata key '" + key +
                                "' is missing; use ChatTemplate::from_family() to choose a chat format");
    auto tok_text = [&](const char* id_key) -> std::string {
        if (!f.has(id_key) || !f.has("tokenizer.ggml.tokens")) return "";
        const auto& items = f.get("tokenizer.ggml.tokens").as_array().items;
        std::int64_t id = f.get_int(id_key);
        if (id < 0 || static_cast<std::size_t>(id) >= items.size()) return "";
        return items[static_cast<std::size_t>(id)].as_string();
    };
    return from_template_text(f.get_string(key), tok_text("tokenizer.ggml.bos_token_id"), tok_text("tokenizer.ggml.eos_token_id"),
                              f.path() + ": " + key);
}

inline std::string ChatTemplate::render(std::span<const Message> msgs, bool add_generation_prompt) const {
    std::string out;
    for (const auto& p : render_parts(msgs, add_generation_prompt)) out += p.text;
    return out;
}

inline std::vector<ChatPart> ChatTemplate::render_parts(std::span<const Message> msgs, bool add_generation_prompt) const {
    detail::PartsBuilder out;
    switch (fam_) {
        case ChatFamily::chatml: {
            for (std::size_t i = 0; i < msgs.size(); ++i) {
                if (i == 0 && !default_system_.empty() && msgs[0].role != "system")
                    out.markup("<|im_start|>system\n" + default_system_ + "<|im_end|>\n");
                out.markup("<|im_start|>" + msgs[i].role + "\n").content(msgs[i].content).markup("<|im_end|>\n");
            }
            if (add_generation_prompt) out.markup("<|im_start|>assistant\n");
            break;
        }
        case ChatFamily::llama3: {
            out.markup(bos_);
            for (const auto& m : msgs)
                out.markup("<|start_header_id|>" + m.role + "<|end_header_id|>\n\n").content(detail::py_strip(m.content)).markup("<|eot_id|>");
            if (add_generation_prompt) out.markup("<|start_header_id|>assistant<|end_header_id|>\n\n");
            break;
        }
        case ChatFamily::llama2: {
            std::size_t first = 0;
            std::string system;
            bool has_system = false, system_is_content = false;
            if (!msgs.empty() && msgs[0].role == "system") {
                system = msgs[0].content;
                has_system = system_is_content = true;
                first = 1;
            } else if (!default_system_.empty()) {
                system = default_system_;
                has_system = true;
            }
            for (std::size_t i = first; i < msgs.size(); ++i) {
                const bool user_turn = (i - first) % 2 == 0;
                if ((msgs[i].role == "user") != user_turn)
                    throw invalid_argument("llama2 chat template: roles must alternate user/assistant/... ; message " +
                                           std::to_string(i) + " has role '" + msgs[i].role + "'");
                detail::PartsBuilder body;  // the turn's content, stripped as a whole
                if (i == first && has_system) {
                    body.markup("<<SYS>>\n");
                    if (system_is_content) body.content(system);
                    else body.markup(system);
                    body.markup("\n<</SYS>>\n\n");
                }
                body.content(msgs[i].content).strip();
                if (user_turn) out.markup(bos_ + "[INST] ").append(body.take()).markup(" [/INST]");
                else out.markup(" ").append(body.take()).markup(" " + eos_);
            }
            break;
        }
        case ChatFamily::gemma: {
            out.markup(bos_);
            std::size_t first = 0;
            detail::PartsBuilder prefix;
            if (!msgs.empty() && msgs[0].role == "system") {
                prefix.content(msgs[0].content).markup("\n\n");  // not trimmed (Gemma 3)
                first = 1;
            } else if (!default_system_.empty()) {
                prefix.markup(default_system_ + "\n\n");
            }
            const auto pre = prefix.take();
            for (std::size_t i = first; i < msgs.size(); ++i) {
                const std::string& r = msgs[i].role;
                if (r != "user" && r != "assistant")
                    throw invalid_argument("gemma chat template: message " + std::to_string(i) + " has role '" + r +
                                           "', expected user or assistant (a system message only first)");
                out.markup("<start_of_turn>" + std::string(r == "assistant" ? "model" : "user") + "\n");
                if (i == first) out.append(pre);
                out.content(detail::py_strip(msgs[i].content)).markup("<end_of_turn>\n");
            }
            if (add_generation_prompt) out.markup("<start_of_turn>model\n");
            break;
        }
        case ChatFamily::plain: {
            out.markup(bos_);
            for (std::size_t i = 0; i < msgs.size(); ++i) {
                const std::string& r = msgs[i].role;
                if (r == "system" && i == 0) out.content(msgs[i].content).markup("\n\n");
                else if (r == "user") out.markup("User: ").content(msgs[i].content).markup("\n");
                else if (r == "assistant") out.markup("Assistant:\n").content(msgs[i].content).markup("\n");
                else
                    throw invalid_argument("plain prompt format: message " + std::to_string(i) + " has role '" + r +
                                           "', expected user or assistant (a system message only first)");
            }
            if (add_generation_prompt) out.markup("Assistant:\n");
            break;
        }
    }
    return out.take();
}

/// The prompt format for a model: "auto" = the model's own chat template (an error naming the model's missing
/// template and the explicit choices when it has none: never a silent guess), "plain" = the plain transcript
/// (with the tokenizer's BOS when it adds one), or a family name. M: has_chat_template(), chat_template(),
/// tokenizer() (LlamaModel and the CUDA model).
template <class M>
ChatTemplate select_template(const M& model, std::string_view choice) {
    if (choice == "auto" || choice.empty()) {
        if (!model.has_chat_template())
            throw invalid_argument("the model has no chat template (GGUF key tokenizer.chat_template): choose a prompt format "
                                   "explicitly, e.g. the plain transcript (--template plain) for a base model");
        return model.chat_template();
    }
    const auto& tok = model.tokenizer();
    const std::string bos = tok.adds_bos() && tok.bos_id() >= 0 ? tok.token_to_piece(tok.bos_id()) : std::string();
    const ChatFamily fam = ChatTemplate::family_from_name(choice);
    if (fam == ChatFamily::plain) return ChatTemplate::plain(bos);
    return ChatTemplate::from_family(fam);
}

inline std::string ChatTemplate::render_prompt(std::string_view system, std::string_view user) const {
    std::vector<Message> msgs;
    if (!system.empty()) msgs.push_back({"system", std::string(system)});
    msgs.push_back({"user", std::string(user)});
    return render(msgs, true);
}

inline std::vector<ChatPart> ChatTemplate::render_prompt_parts(std::string_view system, std::string_view user) const {
    std::vector<Message> msgs;
    if (!system.empty()) msgs.push_back({"system", std::string(system)});
    msgs.push_back({"user", std::string(user)});
    return render_parts(msgs, true);
}

}  // namespace w2s::text
