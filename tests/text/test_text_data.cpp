// The protocol's A/B prompts (PROTOCOL.md sections 1 and 3, BASE variant) rebuilt from ../shared/datasets,
// rendered with SmolLM2's chat template and tokenized (prompt and response separately): the ids must hash
// to the reference's (tests/golden/tokenizer_smollm2.json, "ab_prompts").
#define BOOST_TEST_MODULE text_data
#include <boost/test/unit_test.hpp>

#include <map>

#include <w2s/text/chat_template.hpp>
#include <w2s/text/tokenizer.hpp>

#include "text_test_util.hpp"

using namespace w2s::text;

BOOST_AUTO_TEST_CASE(ab_prompts_match_reference) {
    w2s::gguf::File f(w2s::test::model_path());
    const auto tok = Tokenizer::from_gguf(f);
    const auto tmpl = ChatTemplate::from_gguf(f);
    auto g = w2s::test::load_json(w2s::test::golden_path("tokenizer_smollm2.json"));
    const std::string sys = g.at("base_system").get<std::string>();
    BOOST_TEST(sys == "You are a helpful, honest and concise assistant.");
    const auto& prompts = g.at("ab_prompts");
    BOOST_TEST_REQUIRE(prompts.size() >= 200u);
    std::map<std::string, std::vector<nlohmann::json>> files;
    std::size_t bad = 0, kinds_seen = 0;
    std::map<std::string, int> kinds;
    for (const auto& p : prompts) {
        const std::string rel = p.at("file").get<std::string>();
        auto& items = files[rel];
        if (items.empty()) items = w2s::test::load_items(w2s::test::datasets_dir() + "/" + rel);
        const auto idx = p.at("index").get<std::size_t>();
        BOOST_TEST_REQUIRE(idx < items.size());
        const std::string kind = p.at("kind").get<std::string>();
        kinds[kind]++;
        auto [user, resp] = w2s::test::build_ab(items[idx], idx, kind);
        const std::string prompt = tmpl.render_prompt(sys, user);
        auto ids = tok.encode(prompt);
        const auto r = tok.encode(resp);
        ids.insert(ids.end(), r.begin(), r.end());
        BOOST_TEST(tok.decode(ids) == prompt + resp);
        if ((ids.size() != p.at("n_ids").get<std::size_t>() || w2s::test::fnv1a64_ids(ids) != p.at("fnv1a64").get<std::string>()) &&
            ++bad <= 5)
            BOOST_ERROR(rel << " item " << idx << ": " << ids.size() << " ids, hash " << w2s::test::fnv1a64_ids(ids)
                            << "; reference " << p.at("n_ids") << " ids, hash " << p.at("fnv1a64"));
    }
    kinds_seen = kinds.size();
    BOOST_TEST(bad == 0u);
    BOOST_TEST(kinds_seen == 3u);  // CAA, MWE advanced-ai-risk and MWE persona items all present
}
