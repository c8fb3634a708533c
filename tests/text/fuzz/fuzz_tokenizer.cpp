// libFuzzer target: the tokenizers (w2s/text/tokenizer.hpp) on arbitrary text, ids and vocabularies.
// The first byte picks what the rest of the input is:
//   0  text for a byte-level BPE built here (the tiny model's vocabulary: 3 control tokens, the 256 bytes, a few
//      merges, one user-defined token): valid UTF-8 must round-trip, decode(encode(s)) == s, with and without
//      special-token parsing, every id within the vocabulary; invalid UTF-8 must be refused (invalid_argument);
//   1  text for the SentencePiece fixture (tests/golden/tokenizer_spm_fixture.gguf): ids within the vocabulary,
//      decode(encode(s)) == s where the text has no space prefix to lose and nothing unknown (the fixture has every
//      byte token, so every character is spelled);
//   2  token ids to decode with either tokenizer (ids outside the vocabulary: invalid_argument);
//   3  a vocabulary of its own (tokens, types, merges, scores, special ids, model and pre-tokenizer names from the
//      input) built with Tokenizer::from_gguf, then text encoded with it: the build may refuse the vocabulary with a
//      w2s::error, but what it builds must give ids within the vocabulary or refuse the text with one.
// A w2s::error is the expected answer to bad input; anything else is a bug (tests/support/w2s_fuzz.hpp).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>
#include <w2s/text/tokenizer.hpp>

#include "w2s_fuzz.hpp"

using namespace w2s;
using text::Tokenizer;
using text::token_id;

namespace {

std::unique_ptr<Tokenizer> g_bytes, g_spm;

/// GPT-2's byte-to-unicode spelling of byte b (as tests/support/tiny_model.hpp).
std::string byte_token(int b) {
    auto printable = [](int c) { return (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255); };
    int cp = b;
    if (!printable(b)) {
        int n = 0;
        for (int c = 0; c < b; ++c) n += printable(c) ? 0 : 1;
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

std::vector<std::byte> byte_level_gguf() {
    std::vector<std::string> tokens{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    std::vector<std::int32_t> types(3, 3);  // control
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(byte_token(b));
        types.push_back(1);
    }
    const std::vector<std::string> merges{"Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "Ġ Ġ", "ĠĠ ĠĠ"};
    for (const auto& m : merges) {
        tokens.push_back(m.substr(0, m.find(' ')) + m.substr(m.find(' ') + 1));
        types.push_back(1);
    }
    tokens.push_back("<think>");
    types.push_back(4);  // user-defined
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::from_string("llama"));
    w.set("tokenizer.ggml.model", gguf::Value::from_string("gpt2"));
    w.set("tokenizer.ggml.pre", gguf::Value::from_string("smollm"));
    w.set("tokenizer.ggml.tokens", gguf::Value::from_strings(tokens));
    w.set("tokenizer.ggml.token_type", gguf::Value::from_i32s(types));
    w.set("tokenizer.ggml.merges", gguf::Value::from_strings(merges));
    w.set("tokenizer.ggml.bos_token_id", gguf::Value::from_u32(1));
    w.set("tokenizer.ggml.eos_token_id", gguf::Value::from_u32(2));
    w.set("tokenizer.ggml.add_bos_token", gguf::Value::from_bool(false));
    return w.to_bytes();
}

void check_ids(const Tokenizer& t, const std::vector<token_id>& ids, const char* who) {
    for (token_id id : ids)
        fuzz::require(id >= 0 && static_cast<std::size_t>(id) < t.vocab_size(),
                      std::string(who) + ": encode gave id " + std::to_string(id) + " outside the vocabulary");
}

bool valid_utf8(std::string_view s) { return text::detail::utf8_first_invalid(s) == s.size(); }

void byte_level_text(FuzzedDataProvider& in) {
    const Tokenizer& t = *g_bytes;
    const bool special = in.ConsumeBool();
    const std::string s = in.ConsumeRemainingBytesAsString();
    if (!valid_utf8(s)) {
        bool refused = false;
        try {
            (void)t.encode(s, false, special);
        } catch (const invalid_argument&) {
            refused = true;
        }
        fuzz::require(refused, "byte-level: invalid UTF-8 was encoded");
        return;
    }
    const auto ids = t.encode(s, false, special);
    check_ids(t, ids, "byte-level");
    fuzz::require(t.decode(ids) == s, "byte-level: decode(encode(s)) != s");
    (void)t.decode(ids, /*skip_special=*/true);
}

void spm_text(FuzzedDataProvider& in) {
    const Tokenizer& t = *g_spm;
    const bool special = in.ConsumeBool();
    const std::string s = in.ConsumeRemainingBytesAsString();
    const auto ids = t.encode(s, in.ConsumeBool(), special);
    check_ids(t, ids, "sentencepiece");
    const std::string back = t.decode(ids);
    (void)t.decode(ids, true);
    // Nothing lost: no leading space (decode drops the prefix), no U+2581 (it decodes to a space), no special text.
    const bool plain = !s.empty() && s[0] != ' ' && s.find("\xE2\x96\x81") == std::string::npos && s.find('<') == std::string::npos &&
                       !special;
    if (plain) fuzz::require(back == s, "sentencepiece: decode(encode(s)) != s for a plain text");
}

void decode_ids(FuzzedDataProvider& in) {
    const Tokenizer& t = in.ConsumeBool() ? *g_bytes : *g_spm;
    std::vector<token_id> ids;
    while (in.remaining_bytes() >= 2 && ids.size() < 256) ids.push_back(in.ConsumeIntegralInRange<token_id>(-2, 400));
    (void)t.decode(ids, in.ConsumeBool());
    for (token_id id : ids) (void)t.token_to_piece(id);
}

void own_vocabulary(FuzzedDataProvider& in) {
    gguf::Writer w;
    const int model = in.ConsumeIntegralInRange(0, 2);
    w.set("tokenizer.ggml.model", gguf::Value::from_string(model == 0 ? "gpt2" : model == 1 ? "llama" : in.ConsumeRandomLengthString(8)));
    if (in.ConsumeBool()) w.set("general.architecture", gguf::Value::from_string(in.ConsumeBool() ? "gemma3" : "llama"));
    std::vector<std::string> tokens;
    const int n = in.ConsumeIntegralInRange(0, 40);
    for (int i = 0; i < n; ++i) tokens.push_back(in.ConsumeRandomLengthString(12));
    w.set("tokenizer.ggml.tokens", gguf::Value::from_strings(tokens));
    if (in.ConsumeBool()) {
        std::vector<std::int32_t> types;
        const int m = in.ConsumeBool() ? n : in.ConsumeIntegralInRange(0, 41);
        for (int i = 0; i < m; ++i) types.push_back(in.ConsumeIntegralInRange(-1, 7));
        w.set("tokenizer.ggml.token_type", gguf::Value::from_i32s(types));
    }
    if (in.ConsumeBool()) {
        std::vector<std::string> merges;
        const int m = in.ConsumeIntegralInRange(0, 30);
        for (int i = 0; i < m; ++i) merges.push_back(in.ConsumeRandomLengthString(12));
        w.set("tokenizer.ggml.merges", gguf::Value::from_strings(merges));
    }
    if (in.ConsumeBool()) {
        std::vector<float> scores;
        const int m = in.ConsumeBool() ? n : in.ConsumeIntegralInRange(0, 41);
        for (int i = 0; i < m; ++i) scores.push_back(in.ConsumeFloatingPoint<float>());
        w.set("tokenizer.ggml.scores", gguf::Value::from_f32s(scores));
    }
    for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                            "tokenizer.ggml.padding_token_id", "tokenizer.ggml.eot_token_id"})
        if (in.ConsumeBool()) w.set(key, gguf::Value::from_i32(in.ConsumeIntegralInRange(-1, 42)));
    for (const char* key : {"tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_space_prefix"})
        if (in.ConsumeBool()) w.set(key, gguf::Value::from_bool(in.ConsumeBool()));
    if (in.ConsumeBool()) w.set("tokenizer.ggml.pre", gguf::Value::from_string(in.ConsumeRandomLengthString(16)));
    const bool add_special = in.ConsumeBool(), parse_special = in.ConsumeBool();
    const std::string s = in.ConsumeRemainingBytesAsString();
    std::vector<std::byte> bytes;
    try {
        bytes = w.to_bytes();
    } catch (const w2s::error&) {
        return;  // the writer refuses what it cannot write (not the parser under test)
    }
    const gguf::File f(std::move(bytes), "fuzz_vocab.gguf");
    const Tokenizer t = Tokenizer::from_gguf(f);
    const auto ids = t.encode(s, add_special, parse_special);
    check_ids(t, ids, "own vocabulary");
    (void)t.decode(ids);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_bytes = std::make_unique<Tokenizer>(Tokenizer::from_gguf(gguf::File(byte_level_gguf(), "fuzz_bytelevel.gguf")));
    g_spm = std::make_unique<Tokenizer>(Tokenizer::from_gguf(gguf::File(fuzz::golden_path("tokenizer_spm_fixture.gguf"))));
    using namespace std::string_literals;
    fuzz::write_seed("bytes_hello", "\x00\x01Hello world, the cat's 123 <|im_start|>user\n日本語 🤖<think>\t\r\n  x"s);
    fuzz::write_seed("bytes_plain", "\x00\x00  in the er  a"s);
    fuzz::write_seed("spm_the", "\x01\x00the quick brown fox 🤖 é"s);
    fuzz::write_seed("spm_special", "\x01\x01<s>the</s> a  b"s);
    fuzz::write_seed("decode", "\x02\x01\x00\x05\x00\x10\x01\x00\xff\xff"s);
    fuzz::write_seed("vocab_gpt2", "\x03\x00\x05" "a\x00" "b\x00" "ab\x00" "\x01\x02" "a b\x00" "hello ab"s);
    fuzz::write_seed("vocab_llama", "\x03\x01\x06" "\xE2\x96\x81" "a\x00<0x41>\x00" "b\x00" "\x01\x01" "abab"s);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 4;
    FuzzedDataProvider in(data + 1, size - 1);
    fuzz::run([&] {
        switch (mode) {
            case 0: byte_level_text(in); break;
            case 1: spm_text(in); break;
            case 2: decode_ids(in); break;
            default: own_vocabulary(in); break;
        }
    });
    return 0;
}
