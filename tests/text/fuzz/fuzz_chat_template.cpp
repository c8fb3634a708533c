// libFuzzer target: the chat templates (w2s/text/chat_template.hpp). The first byte picks:
//   0  an arbitrary template string (ChatTemplate::from_template_text, as read from a GGUF's tokenizer.chat_template)
//      with arbitrary BOS/EOS texts, then arbitrary messages rendered with it;
//   1  a family by number and arbitrary messages (roles from a small list or arbitrary text, arbitrary content);
//   2  a GGUF holding tokenizer.chat_template, the token list and the BOS/EOS ids with types of the input's choosing
//      (ChatTemplate::from_gguf: a key of the wrong type must be refused with a w2s::error);
//   3  a family name (ChatTemplate::family_from_name) and render_prompt(system, user).
// Promises checked: every message's content (as the family trims it) appears in the rendered text, and so does the
// assistant header when add_generation_prompt asks for it. A w2s::error is the expected answer to bad input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>
#include <w2s/text/chat_template.hpp>

#include "w2s_fuzz.hpp"

using namespace w2s;
using text::ChatFamily;
using text::ChatTemplate;
using text::Message;

namespace {

std::vector<Message> messages(FuzzedDataProvider& in) {
    static const char* kRoles[] = {"system", "user", "assistant", "tool", ""};
    std::vector<Message> msgs;
    const int n = in.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < n; ++i) {
        const int r = in.ConsumeIntegralInRange(0, 5);
        std::string role = r < 5 ? kRoles[r] : in.ConsumeRandomLengthString(10);
        msgs.push_back({std::move(role), in.ConsumeRandomLengthString(200)});
    }
    return msgs;
}

void check_render(const ChatTemplate& t, const std::vector<Message>& msgs, bool gen) {
    const std::string out = t.render(msgs, gen);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        // Llama 2 and Gemma write a leading system message into the first turn after it, as the reference templates
        // do: alone, it is not written.
        const bool lone_system = i == 0 && msgs.size() == 1 && msgs[0].role == "system" &&
                                 (t.family() == ChatFamily::llama2 || t.family() == ChatFamily::gemma);
        if (lone_system) continue;
        const std::string_view c = t.family() == ChatFamily::chatml || t.family() == ChatFamily::plain
                                       ? std::string_view(msgs[i].content)
                                       : text::detail::py_strip(msgs[i].content);
        fuzz::require(out.find(c) != std::string::npos, "message " + std::to_string(i) + "'s content is missing from the rendered text");
    }
    if (gen) {
        const char* head = t.family() == ChatFamily::chatml ? "<|im_start|>assistant\n"
                           : t.family() == ChatFamily::llama3 ? "<|start_header_id|>assistant<|end_header_id|>\n\n"
                           : t.family() == ChatFamily::gemma  ? "<start_of_turn>model\n"
                           : t.family() == ChatFamily::plain  ? "Assistant:\n"
                                                              : "[/INST]";
        if (t.family() != ChatFamily::llama2 || (!msgs.empty() && msgs.back().role == "user"))
            fuzz::require(out.size() >= std::string_view(head).size() && out.ends_with(head), "the rendered text does not end with the assistant header");
    }
}

void from_text(FuzzedDataProvider& in) {
    const std::string bos = in.ConsumeRandomLengthString(12), eos = in.ConsumeRandomLengthString(12);
    const std::string tmpl = in.ConsumeRandomLengthString(2000);
    const auto t = ChatTemplate::from_template_text(tmpl, bos, eos);
    const bool gen = in.ConsumeBool();
    check_render(t, messages(in), gen);
}

void from_family(FuzzedDataProvider& in) {
    const auto fam = static_cast<ChatFamily>(in.ConsumeIntegralInRange(0, 4));
    const std::string sys = in.ConsumeRandomLengthString(100);
    const auto t = fam == ChatFamily::plain ? ChatTemplate::plain(in.ConsumeRandomLengthString(8)) : ChatTemplate::from_family(fam, sys);
    const bool gen = in.ConsumeBool();
    check_render(t, messages(in), gen);
}

gguf::Value any_value(FuzzedDataProvider& in, bool strings) {
    switch (in.ConsumeIntegralInRange(0, 4)) {
        case 0: return gguf::Value::from_string(in.ConsumeRandomLengthString(300));
        case 1: return gguf::Value::from_i64(in.ConsumeIntegral<std::int64_t>());
        case 2: return gguf::Value::from_bool(in.ConsumeBool());
        case 3: return gguf::Value::from_f32(in.ConsumeFloatingPoint<float>());
        default: {
            if (strings) {
                std::vector<std::string> xs;
                const int n = in.ConsumeIntegralInRange(0, 8);
                for (int i = 0; i < n; ++i) xs.push_back(in.ConsumeRandomLengthString(20));
                return gguf::Value::from_strings(xs);
            }
            std::vector<std::int32_t> xs;
            const int n = in.ConsumeIntegralInRange(0, 8);
            for (int i = 0; i < n; ++i) xs.push_back(in.ConsumeIntegral<std::int32_t>());
            return gguf::Value::from_i32s(xs);
        }
    }
}

void from_gguf(FuzzedDataProvider& in) {
    gguf::Writer w;
    if (in.ConsumeBool()) w.set("tokenizer.chat_template", in.ConsumeBool() ? gguf::Value::from_string(in.ConsumeRandomLengthString(500))
                                                                            : any_value(in, true));
    if (in.ConsumeBool()) w.set("tokenizer.ggml.tokens", in.ConsumeBool() ? any_value(in, true) : gguf::Value::from_strings({"<s>", "</s>", "x"}));
    for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"})
        if (in.ConsumeBool()) w.set(key, in.ConsumeBool() ? gguf::Value::from_i32(in.ConsumeIntegralInRange(-2, 9)) : any_value(in, false));
    std::vector<std::byte> bytes;
    try {
        bytes = w.to_bytes();
    } catch (const w2s::error&) {
        return;  // the writer refuses what it cannot write (not the parser under test)
    }
    const gguf::File f(std::move(bytes), "fuzz_chat.gguf");
    const auto t = ChatTemplate::from_gguf(f);
    check_render(t, messages(in), in.ConsumeBool());
}

void by_name(FuzzedDataProvider& in) {
    const auto fam = ChatTemplate::family_from_name(in.ConsumeRandomLengthString(10));
    const auto t = fam == ChatFamily::plain ? ChatTemplate::plain() : ChatTemplate::from_family(fam);
    const std::string sys = in.ConsumeRandomLengthString(100), user = in.ConsumeRemainingBytesAsString();
    const std::string out = t.render_prompt(sys, user);
    fuzz::require(out.find(t.family() == ChatFamily::chatml || t.family() == ChatFamily::plain ? std::string_view(user)
                                                                                               : text::detail::py_strip(user)) != std::string::npos,
                  "render_prompt lost the user text");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    using namespace std::string_literals;
    fuzz::write_seed("chatml", "\x00\x03<s>\x04</s>\x7f{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{{ '<|im_start|>system\\nBe nice.<|im_end|>\\n' }}\x01\x05hello\x02\x02"s);
    fuzz::write_seed("llama3", "\x00\x00\x00<|start_header_id|>{{ message }}<|eot_id|>\x02\x10 hi there \x02\x01"s);
    fuzz::write_seed("gemma", "\x01\x03You are kind.\x00\x01\x03\x02\x01\x03 question \x02\x00" "answer"s);
    fuzz::write_seed("llama2", "\x01\x01\x00[INST] x\x01\x01\x05" "a\x02\x05" "b\x01"s);
    fuzz::write_seed("gguf", "\x02{{ '<|im_start|>' }}\x01\x01\x01\x01\x01"s);
    fuzz::write_seed("name", "\x03gemma\x00system\x00  the user text "s);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 4;
    FuzzedDataProvider in(data + 1, size - 1);
    fuzz::run([&] {
        switch (mode) {
            case 0: from_text(in); break;
            case 1: from_family(in); break;
            case 2: from_gguf(in); break;
            default: by_name(in); break;
        }
    });
    return 0;
}
