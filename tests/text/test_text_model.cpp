// SmolLM2-135M-Instruct's tokenizer and chat template against the reference (transformers loading the
// same GGUF; golden files from tests/reference/make_tokenizer_golden.py).
#define BOOST_TEST_MODULE text_model
#include <boost/test/unit_test.hpp>

#include <thread>

#include <w2s/text/chat_template.hpp>
#include <w2s/text/tokenizer.hpp>

#include "text_test_util.hpp"

using namespace w2s::text;

namespace {
const w2s::gguf::File& model() {
    static w2s::gguf::File f(w2s::test::model_path());
    return f;
}
const Tokenizer& tok() {
    static Tokenizer t = Tokenizer::from_gguf(model());
    return t;
}
std::string show(const std::vector<token_id>& v) {
    std::string s = "[";
    for (auto i : v) s += std::to_string(i) + " ";
    return s + "]";
}
}  // namespace

BOOST_AUTO_TEST_CASE(metadata) {
    const auto& t = tok();
    BOOST_TEST(t.kind() == TokenizerKind::byte_level_bpe);
    BOOST_TEST(t.pre_name() == "smollm");
    BOOST_TEST(t.vocab_size() == 49152u);
    BOOST_TEST(t.bos_id() == 1);
    BOOST_TEST(t.eos_id() == 2);
    BOOST_TEST(t.is_eog(2));   // <|im_end|>
    BOOST_TEST(t.is_eog(0));   // <|endoftext|>
    BOOST_TEST(!t.is_eog(1));  // <|im_start|>
    BOOST_TEST(!t.is_eog(905));
    BOOST_TEST(!t.adds_bos());
    BOOST_TEST(t.token_to_piece(905) == " world");
    BOOST_TEST(t.spelling(905) == "Ġworld");
    BOOST_TEST(t.find_token(" world").value() == 905);
    BOOST_TEST(t.find_spelling("Ġworld").value() == 905);
    BOOST_TEST(t.find_token("<|im_end|>").value() == 2);
    BOOST_TEST(!t.find_token("no such token here").has_value());
    BOOST_TEST(t.token_type(1) == TokenType::control);
    // add_bos_token is false in this file: add_special changes nothing.
    BOOST_TEST(t.encode("Hello world", true) == t.encode("Hello world", false));
}

BOOST_AUTO_TEST_CASE(golden_strings) {
    auto g = w2s::test::load_json(w2s::test::golden_path("tokenizer_smollm2.json"));
    const auto& cases = g.at("cases");
    BOOST_TEST_REQUIRE(cases.size() >= 350u);
    std::size_t bad = 0, bad_rt = 0;
    for (const auto& c : cases) {
        const std::string text = c.at("text").get<std::string>();
        const auto want = w2s::test::ids_of(c.at("ids"));
        const auto got = tok().encode(text);
        if (got != want && ++bad <= 5)
            BOOST_ERROR("ids differ for " << nlohmann::json(text).dump() << ": got " << show(got) << " want " << show(want));
        if (tok().decode(got) != text && ++bad_rt <= 5) BOOST_ERROR("decode(encode(s)) != s for " << nlohmann::json(text).dump());
    }
    BOOST_TEST(bad == 0u);
    BOOST_TEST(bad_rt == 0u);
    for (const auto& c : g.at("plain_special")) {
        const std::string text = c.at("text").get<std::string>();
        BOOST_TEST(tok().encode(text, false, /*parse_special=*/false) == w2s::test::ids_of(c.at("ids")), text);
        BOOST_TEST(tok().decode(tok().encode(text, false, false)) == text);
    }
}

BOOST_AUTO_TEST_CASE(special_tokens_and_skip) {
    const auto ids = tok().encode("<|im_start|>user\nhi<|im_end|>");
    BOOST_TEST(ids == (std::vector<token_id>{1, 4093, 198, 6004, 2}), show(ids));
    BOOST_TEST(tok().decode(ids, /*skip_special=*/true) == "user\nhi");
    BOOST_TEST(tok().encode("<|im_start|>", false, false).size() > 1u);
}

BOOST_AUTO_TEST_CASE(smollm_digits_row_is_the_tokenizer_json_form) {
    // The reference (GGUF) uses the GPT-2 pattern alone: "a  1" -> a, Ġ, Ġ, 1 (" 1" is one pre-token and
    // has no merge). The tokenizer.json form splits digits first: "a  " -> a, ĠĠ.
    const auto ref = tok().encode("a  1");
    BOOST_TEST(ref == (std::vector<token_id>{81, 216, 216, 33}), show(ref));
    TokenizerOptions opt;
    opt.pre_override = "smollm-digits";
    auto digits = Tokenizer::from_gguf(model(), opt);
    const auto d = digits.encode("a  1");
    BOOST_TEST(d == (std::vector<token_id>{81, digits.find_spelling("ĠĠ").value(), 33}), show(d));
    BOOST_TEST(digits.encode("Hello world 12345") == tok().encode("Hello world 12345"));
    opt.pre_override = "no-such-row";
    BOOST_CHECK_THROW(Tokenizer::from_gguf(model(), opt), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(errors) {
    std::vector<token_id> bad{5, 49152};
    BOOST_CHECK_THROW((void)tok().decode(bad), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)tok().encode(std::string("ok \xC3\x28 bad")), w2s::invalid_argument);
    try {
        (void)tok().encode(std::string("abc\xFF"));
        BOOST_ERROR("no throw");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("offset 3") != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(threads_share_one_tokenizer) {
    auto g = w2s::test::load_json(w2s::test::golden_path("tokenizer_smollm2.json"));
    Tokenizer fresh = Tokenizer::from_gguf(model());  // cold cache, so threads race to fill it
    std::vector<std::pair<std::string, std::vector<token_id>>> cases;
    for (const auto& c : g.at("cases")) cases.emplace_back(c.at("text").get<std::string>(), w2s::test::ids_of(c.at("ids")));
    std::vector<int> bad(4, 0);
    std::vector<std::thread> th;
    for (int t = 0; t < 4; ++t)
        th.emplace_back([&, t] {
            for (int rep = 0; rep < 3; ++rep)
                for (std::size_t i = 0; i < cases.size(); ++i) {
                    const auto& c = cases[(i + static_cast<std::size_t>(t) * 97) % cases.size()];
                    if (fresh.encode(c.first) != c.second) ++bad[static_cast<std::size_t>(t)];
                }
        });
    for (auto& x : th) x.join();
    for (int b : bad) BOOST_TEST(b == 0);
}

BOOST_AUTO_TEST_CASE(chat_template_equals_reference) {
    auto tmpl = ChatTemplate::from_gguf(model());
    BOOST_TEST(tmpl.family() == ChatFamily::chatml);
    BOOST_TEST(tmpl.default_system() == "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
    auto g = w2s::test::load_json(w2s::test::golden_path("chat_smollm2.json"));
    BOOST_TEST_REQUIRE(g.at("cases").size() >= 8u);
    for (const auto& c : g.at("cases")) {
        std::vector<Message> msgs;
        for (const auto& m : c.at("messages")) msgs.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
        const std::string want = c.at("text").get<std::string>();
        BOOST_TEST(tmpl.render(msgs, c.at("add_generation_prompt").get<bool>()) == want, nlohmann::json(want).dump());
    }
    const std::string sys = "You are a helpful, honest and concise assistant.";
    const std::string p = tmpl.render_prompt(sys, "Q?");
    BOOST_TEST(p == "<|im_start|>system\n" + sys + "<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n");
    // No system: the template's own default system message.
    BOOST_TEST(tmpl.render_prompt("", "Q?").rfind("<|im_start|>system\nYou are a helpful AI assistant named SmolLM", 0) == 0);
    // The protocol's tokenization: prompt and response separately, concatenated.
    auto ids = tok().encode(p);
    auto resp = tok().encode("(A)");
    BOOST_TEST(ids.back() == 198);  // "\n" of the assistant header ends the prompt
    BOOST_TEST(tok().decode(resp) == "(A)");
}
