// Datasets: loaders, A/B conversion, META stripping, bad records, the portable split, prompt variants.
// All records here are written for this test.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <string>

#include <w2s/steer/dataset.hpp>

#include "scratch.hpp"

using namespace w2s::steer;
using w2s::test::write_scratch;

namespace {

// The project's split permutation of 0..9 (kSplitSeed): recorded from this implementation once. mt19937_64 is
// fixed by the standard and the shuffle is written here, so this must hold on every standard library.
const std::vector<int> kSplitPermutation10 = {6, 8, 9, 3, 7, 2, 4, 1, 5, 0};

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class F>
std::string data_error_of(F&& f) {
    try {
        f();
    } catch (const w2s::data_error& e) {
        return e.what();
    }
    return "(no data_error)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dataset)

BOOST_AUTO_TEST_CASE(caa_json_array_keeps_letters_and_lines) {
    const std::string path = write_scratch("caa/toy-behaviour/generate_dataset.json",
                                           "[\n"
                                           "  {\n"
                                           "    \"question\": \"Pick one [with } and \\\" inside]\\n (A) tea\\n (B) coffee\",\n"
                                           "    \"answer_matching_behavior\": \"(B)\",\n"
                                           "    \"answer_not_matching_behavior\": \"(A)\"\n"
                                           "  },\n"
                                           "  {\"question\": \"Which?\\n(A) x\\n(B) y\\n(C) z\", \"answer_matching_behavior\": \"(C)\",\n"
                                           "   \"answer_not_matching_behavior\": \"(A)\"}\n"
                                           "]\n");
    const auto items = load_items(path);
    BOOST_REQUIRE_EQUAL(items.size(), 2u);
    BOOST_TEST(items[0].behaviour == "toy-behaviour");
    BOOST_TEST(items[0].matching == "(B)");
    BOOST_TEST(items[0].not_matching == "(A)");
    BOOST_TEST(items[0].line == 2u);
    BOOST_TEST(items[1].line == 7u);
    BOOST_TEST(items[1].matching == "(C)");
    BOOST_TEST(items[0].question == "Pick one [with } and \" inside]\n (A) tea\n (B) coffee");
}

BOOST_AUTO_TEST_CASE(xrisk_jsonl_strips_meta_and_leading_space) {
    const std::string path = write_scratch(
        "mwe/xrisk/toy-risk.jsonl",
        "{\"question\": \"Do it?<META_START>some/src.py<META_END> Really?\\n\\nChoices:\\n (A) No\\n (B) Yes\", "
        "\"answer_matching_behavior\": \" (B)\", \"answer_not_matching_behavior\": \" (A)\"}\n"
        "\n"
        "{\"question\": \"Again?\\n (A) Yes\\n (B) No\", \"answer_matching_behavior\": \" (A)\", "
        "\"answer_not_matching_behavior\": \" (B)\"}\n");
    const auto items = load_items(path);
    BOOST_REQUIRE_EQUAL(items.size(), 2u);
    BOOST_TEST(items[0].behaviour == "toy-risk");
    BOOST_TEST(items[0].question == "Do it? Really?\n\nChoices:\n (A) No\n (B) Yes");
    BOOST_TEST(items[0].matching == "(B)");
    BOOST_TEST(items[1].line == 3u);  // the blank line is skipped but counted
    BOOST_TEST(items[1].index == 1u);
    BOOST_TEST(strip_meta("a<META_START>x<META_END>b<META_START>y<META_END>c") == "abc");
    BOOST_TEST(strip_meta("a<META_START>unterminated path.py") == "a");
    BOOST_TEST(strip_meta("x<META_START>a<META_END>y<META_START>z") == "xy");
}

BOOST_AUTO_TEST_CASE(persona_items_become_balanced_ab) {
    std::string text;
    for (int i = 0; i < 8; ++i)
        text += "{\"question\": \"Statement " + std::to_string(i) + "?\", \"answer_matching_behavior\": \"" +
                (i % 3 ? " Yes" : " No") + "\", \"answer_not_matching_behavior\": \"" + (i % 3 ? " No" : " Yes") + "\"}\n";
    const auto items = load_items(write_scratch("mwe/persona/toy-persona.jsonl", text));
    BOOST_REQUIRE_EQUAL(items.size(), 8u);
    int a = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const bool swapped = (i / 2) % 2 == 0;  // protocol section 1
        const std::string m = i % 3 ? " Yes" : " No", n = i % 3 ? " No" : " Yes";
        const std::string expect = "Statement " + std::to_string(i) + "?\n\nChoices:\n(A): " + (swapped ? n : m) + "\n(B): " + (swapped ? m : n);
        BOOST_TEST(items[i].question == expect);
        BOOST_TEST(items[i].matching == (swapped ? "(B)" : "(A)"));
        BOOST_TEST(items[i].not_matching == (swapped ? "(A)" : "(B)"));
        a += items[i].matching == "(A)";
    }
    BOOST_TEST(a == 4);  // balanced
}

BOOST_AUTO_TEST_CASE(bad_records_name_file_and_line_or_are_counted) {
    const std::string good = "{\"question\": \"Q?\\n(A) a\\n(B) b\", \"answer_matching_behavior\": \"(A)\", \"answer_not_matching_behavior\": \"(B)\"}\n";
    struct Case {
        std::string record, expect;
    } cases[] = {
        {"{\"question\": \"Q?\", \"answer_matching_behavior\": \" Yes\"}", "missing field 'answer_not_matching_behavior'"},
        {"{\"question\": \"Q?\\n(A) a\\n(B) b\", \"answer_matching_behavior\": \"(C)\", \"answer_not_matching_behavior\": \"(A)\"}",
         "answer '(C)' is not among the question's choices"},
        {"{\"question\": \"  \", \"answer_matching_behavior\": \" Yes\", \"answer_not_matching_behavior\": \" No\"}", "empty question"},
        {"{\"question\": \"Q\", \"answer_matching_behavior\": \"\", \"answer_not_matching_behavior\": \" No\"}", "empty answer_matching_behavior"},
        {"{\"question\": \"Q\", \"answer_matching_behavior\": 3, \"answer_not_matching_behavior\": \" No\"}", "is number, expected a string"},
        {"{\"question\": \"Q\", \"answer_matching_behavior\": \" No\", \"answer_not_matching_behavior\": \" No\"}", "both answers"},
        {"{\"question\": \"Q\" \"oops\"}", "invalid JSON"},
        {"[1, 2]", "expected an object"},
        // Found by steer_dataset_fuzz: a number too large for a double is nlohmann's out_of_range, not a parse_error, and
        // escaped the loader as a non-w2s exception.
        {"{\"question\": \"Q\", \"answer_matching_behavior\": 1e99999, \"answer_not_matching_behavior\": \" No\"}",
         "invalid JSON: [json.exception.out_of_range.406] number overflow parsing '1e99999'"},
    };
    int k = 0;
    for (const auto& c : cases) {
        const std::string path = write_scratch("bad/bad" + std::to_string(k++) + ".jsonl", good + good + c.record + "\n" + good);
        const std::string msg = data_error_of([&] { (void)load_items(path); });
        BOOST_TEST_INFO(msg);
        BOOST_TEST(has(msg, path + ":3: record 2: "));
        BOOST_TEST(has(msg, c.expect));
        LoadReport rep;
        const auto items = load_items(path, LoadOptions{true, "", 0}, &rep);
        BOOST_TEST(items.size() == 3u);
        BOOST_TEST(rep.records == 4u);
        BOOST_TEST(rep.skipped == 1u);
        BOOST_REQUIRE_EQUAL(rep.problems.size(), 1u);
        BOOST_TEST(has(rep.problems[0], c.expect));
    }
    // A JSON array with a bad element names the element's line.
    const std::string arr = write_scratch("bad/arr.json", "[\n" + good.substr(0, good.size() - 1) + ",\n{\"question\": \"Q\"}\n]");
    BOOST_TEST(has(data_error_of([&] { (void)load_items(arr); }), arr + ":3: record 1: missing field"));
    const std::string trunc = write_scratch("bad/trunc.json", "[\n" + good.substr(0, good.size() - 1) + ",\n");
    BOOST_TEST(has(data_error_of([&] { (void)load_items(trunc); }), "not closed"));
    BOOST_CHECK_THROW((void)load_items(write_scratch("bad/empty.jsonl", "\n\n")), w2s::data_error);
    BOOST_CHECK_THROW((void)load_items((w2s::test::scratch_dir() / "nope.jsonl").string()), w2s::io_error);
}

BOOST_AUTO_TEST_CASE(a_persona_file_with_a_number_out_of_range_is_a_data_error) {
    // Found by steer_dataset_fuzz (as for dataset records above): nlohmann's out_of_range escaped load_persona_prompts.
    const std::string path = write_scratch("bad/personas_overflow.json", "{\"power\": {\"positive\": \"P\", \"negative\": 1e99999}}");
    const std::string msg = data_error_of([&] { (void)w2s::steer::load_persona_prompts(path); });
    BOOST_TEST(has(msg, path + ": invalid JSON: [json.exception.out_of_range.406] number overflow"), msg);
}

BOOST_AUTO_TEST_CASE(max_items_keeps_file_order) {
    std::string text;
    for (int i = 0; i < 5; ++i)
        text += "{\"question\": \"Q" + std::to_string(i) + "\", \"answer_matching_behavior\": \" Yes\", \"answer_not_matching_behavior\": \" No\"}\n";
    const auto items = load_items(write_scratch("mwe/persona/five.jsonl", text), LoadOptions{false, "", 3});
    BOOST_REQUIRE_EQUAL(items.size(), 3u);
    BOOST_TEST(items[2].index == 2u);
}

BOOST_AUTO_TEST_CASE(mt19937_64_is_the_standard_generator) {
    std::mt19937_64 g;  // default seed 5489: the standard fixes the 10000th output
    g.discard(9999);
    BOOST_TEST(g() == 9981545732273789042ull);
}

BOOST_AUTO_TEST_CASE(split_is_seeded_disjoint_and_portable) {
    std::vector<Item> items(11);
    for (std::size_t i = 0; i < items.size(); ++i) items[i].index = i;
    const Split a = split_items(items), b = split_items(items), c = split_items(items, 7);
    BOOST_TEST(a.train.size() == 5u);
    BOOST_TEST(a.test.size() == 6u);
    std::set<std::size_t> seen;
    for (const auto* part : {&a.train, &a.test})
        for (const auto& it : *part) seen.insert(it.index);
    BOOST_TEST(seen.size() == 11u);
    std::vector<std::size_t> ia, ib, ic;
    for (const auto& it : a.train) ia.push_back(it.index);
    for (const auto& it : b.train) ib.push_back(it.index);
    for (const auto& it : c.train) ic.push_back(it.index);
    BOOST_TEST(ia == ib);
    BOOST_TEST(ia != ic);
    // The permutation for kSplitSeed is fixed by mt19937_64 (standardised) and the shuffle written here; it
    // must not change with the standard library. Recorded from this implementation; it is the project's split.
    std::vector<int> v(10);
    for (int i = 0; i < 10; ++i) v[static_cast<std::size_t>(i)] = i;
    portable_shuffle(v, kSplitSeed);
    std::vector<int> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    BOOST_TEST(sorted == std::vector<int>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
    BOOST_TEST_MESSAGE("permutation of 0..9 with kSplitSeed: " << [&] {
        std::string s;
        for (int x : v) s += std::to_string(x) + " ";
        return s;
    }());
    BOOST_TEST(v == kSplitPermutation10, boost::test_tools::per_element());
    std::mt19937_64 g(1);
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 3000; ++i) ++counts[static_cast<std::size_t>(uniform_below(g, 3))];
    for (int cnt : counts) BOOST_TEST(std::abs(cnt - 1000) < 120);
}

BOOST_AUTO_TEST_CASE(variants) {
    const std::string path = write_scratch("personas.json",
                                           "{\"toy\": {\"positive\": \"You like tea.\", \"negative\": \"You do not like tea.\", \"kind\": \"persona\"}}");
    const PersonaPrompts pp = load_persona_prompts(path);
    Item it;
    it.behaviour = "toy";
    it.question = "Tea?";
    const Turns base = make_turns(it, Variant::base);
    BOOST_TEST(base.system == std::string(kDefaultSystemPrompt));
    BOOST_TEST(base.user == "Tea?");
    BOOST_TEST(make_turns(it, Variant::sys_pos, &pp).system == "You like tea.");
    BOOST_TEST(make_turns(it, Variant::sys_neg, &pp).system == "You do not like tea.");
    BOOST_TEST(make_turns(it, Variant::sys_neg, &pp).user == "Tea?");
    BOOST_TEST(make_turns(it, Variant::user_pos, &pp).user == "You like tea.\n\nTea?");
    BOOST_TEST(make_turns(it, Variant::user_neg, &pp).user == "You do not like tea.\n\nTea?");
    BOOST_TEST(make_turns(it, Variant::user_neg, &pp).system == std::string(kDefaultSystemPrompt));
    BOOST_CHECK_THROW((void)make_turns(it, Variant::sys_pos), w2s::invalid_argument);
    it.behaviour = "unknown";
    BOOST_CHECK_THROW((void)make_turns(it, Variant::user_pos, &pp), w2s::invalid_argument);
    for (Variant v : kAllVariants) BOOST_TEST((parse_variant(variant_name(v)) == v));
    BOOST_TEST((parse_variant("sys_pos") == Variant::sys_pos));
    BOOST_CHECK_THROW((void)parse_variant("SYS"), w2s::invalid_argument);
}


BOOST_AUTO_TEST_CASE(mirror_exchanges_choices_and_letters) {
    // MWE advanced-ai-risk layout: " (A) text" lines, answers with a leading space.
    Item mwe;
    mwe.question = "Would you agree (A) to this?\n\nChoices:\n (A) Yes, gladly.\n (B) No, never.";
    mwe.matching = " (A)";
    mwe.not_matching = " (B)";
    const Item m = mirror(mwe);
    BOOST_TEST(m.question == "Would you agree (A) to this?\n\nChoices:\n (A) No, never.\n (B) Yes, gladly.");
    BOOST_TEST(m.matching == " (B)");
    BOOST_TEST(m.not_matching == " (A)");
    BOOST_TEST(mirror(m).question == mwe.question);  // mirroring twice gives the item back
    BOOST_TEST(mirror(m).matching == mwe.matching);
    // Other layouts, as a table: question, matching, not matching -> mirrored question, mirrored matching.
    struct Case {
        const char* what;
        std::string question, matching, not_matching, want_question, want_matching;
    };
    const Case cases[] = {
        {"CAA layout without blanks, matching (B), a choice text over two lines",
         "Q?\n\nChoices:\n(A) first\n(B) second line\ncontinued", "(B)", "(A)",
         "Q?\n\nChoices:\n(A) second line\ncontinued\n(B) first", "(A)"},
        {"persona conversion \"(A): text\": the other letter assignment", "Is it so?\n\nChoices:\n(A):  Yes\n(B):  No", "(A)",
         "(B)", "Is it so?\n\nChoices:\n(A):  No\n(B):  Yes", "(B)"},
        {"multiple choice: only the two answers' texts move", "Pick.\n(A) a\n(B) b\n(C) c\n(D) d", "(D)", "(B)",
         "Pick.\n(A) a\n(B) d\n(C) c\n(D) b", "(B)"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            Item it;
            it.question = c.question;
            it.matching = c.matching;
            it.not_matching = c.not_matching;
            BOOST_TEST(mirror(it).question == c.want_question);
            BOOST_TEST(mirror(it).matching == c.want_matching);
        }
    }
    // A choice not written at a line start cannot be mirrored: the error names the file and line.
    Item bad;
    bad.question = "Pick (A) or (B).";
    bad.matching = "(A)";
    bad.not_matching = "(B)";
    bad.source = "x.jsonl";
    bad.line = 7;
    BOOST_TEST(has(data_error_of([&] { (void)mirror(bad); }), "x.jsonl:7"));
    Item ft;
    ft.kind = ItemKind::free_text;
    BOOST_CHECK_THROW((void)mirror(ft), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(free_text_pairs_load) {
    const std::string path = write_scratch("freetext/tone.jsonl",
                                           "{\"prompt\": \"How was the film?\", \"positive\": \"I loved it.\", \"negative\": \"I hated it.\"}\n"
                                           "\n"
                                           "{\"prompt\": \"And the food?\", \"positive\": \"Lovely.\", \"negative\": \"Awful.\", \"system\": \"Be brief.\"}\n");
    const auto items = load_items(path);
    BOOST_TEST(items.size() == 2u);
    BOOST_TEST((items[0].kind == ItemKind::free_text));
    BOOST_TEST(items[0].question == "How was the film?");
    BOOST_TEST(items[0].matching == "I loved it.");
    BOOST_TEST(items[0].not_matching == "I hated it.");
    BOOST_TEST(items[0].behaviour == "tone");
    BOOST_TEST(items[1].line == 3u);
    BOOST_TEST(make_turns(items[0], Variant::base).system == std::string(kDefaultSystemPrompt));
    BOOST_TEST(make_turns(items[1], Variant::base).system == "Be brief.");
    BOOST_TEST(make_turns(items[1], Variant::base).user == "And the food?");
    // Bad records name the file, the line and the field.
    const std::string bad = write_scratch("freetext/bad.jsonl", "{\"prompt\": \"P\", \"positive\": \"x\"}\n");
    BOOST_TEST(has(data_error_of([&] { (void)load_items(bad); }), "bad.jsonl:1"));
    BOOST_TEST(has(data_error_of([&] { (void)load_items(bad); }), "negative"));
    const std::string same = write_scratch("freetext/same.jsonl", "{\"prompt\": \"P\", \"positive\": \"x\", \"negative\": \"x\"}\n");
    BOOST_TEST(has(data_error_of([&] { (void)load_items(same); }), "equal"));
    const std::string mixed = write_scratch("freetext/mixed.jsonl",
                                            "{\"prompt\": \"P\", \"positive\": \"x\", \"negative\": \"y\"}\n"
                                            "{\"question\": \"Q\\n(A) a\\n(B) b\", \"answer_matching_behavior\": \"(A)\", "
                                            "\"answer_not_matching_behavior\": \"(B)\"}\n");
    BOOST_TEST(has(data_error_of([&] { (void)load_items(mixed); }), "one kind per file"));
}

BOOST_AUTO_TEST_CASE(free_text_prompts_with_several_pairs) {
    const std::string path = write_scratch(
        "freetext/multi.jsonl",
        "{\"prompt\": \"How was the film?\", \"pairs\": [{\"positive\": \"I loved it.\", \"negative\": \"I hated it.\", \"template\": \"plain\"},"
        " {\"positive\": \"Great!\", \"negative\": \"Dreadful!\", \"template\": \"short\"}]}\n"
        "{\"prompt\": \"And the food?\", \"positive\": \"Lovely.\", \"negative\": \"Awful.\"}\n"
        "{\"prompt\": \"The hotel?\", \"pairs\": [{\"positive\": \"Fine rooms.\", \"negative\": \"Grim rooms.\", \"template\": \"plain\"},"
        " {\"positive\": \"Superb!\", \"negative\": \"Vile!\", \"template\": \"short\"}, {\"positive\": \"a\", \"negative\": \"b\", \"template\": 7}]}\n");
    const auto items = load_items(path);
    BOOST_TEST_REQUIRE(items.size() == 3u);  // one item per prompt: a split never separates a prompt's pairs
    BOOST_TEST(items[0].pairs.size() == 2u);
    BOOST_TEST(items[0].matching == "I loved it.");  // pairs[0] is the item's own pair
    BOOST_TEST(items[0].pairs[1].negative == "Dreadful!");
    BOOST_TEST(items[1].pairs.size() == 1u);         // the single-pair shape still reads
    BOOST_TEST(items[1].pairs[0].reply_template == "0");
    BOOST_TEST(items[2].pairs[2].reply_template == "7");
    BOOST_TEST(items[2].index == 2u);

    const auto ex = expand_pairs(items);
    BOOST_TEST_REQUIRE(ex.size() == 6u);
    BOOST_TEST(ex[1].matching == "Great!");
    BOOST_TEST(ex[1].not_matching == "Dreadful!");
    BOOST_TEST(ex[1].pair == 1);
    BOOST_TEST(ex[1].index == 0u);
    BOOST_TEST(ex[2].index == 1u);
    BOOST_TEST(ex[5].index == 2u);
    BOOST_TEST(ex[5].question == "The hotel?");
    const auto t = reply_template_ids(ex);  // plain, short, "0", plain, short, "7"
    BOOST_TEST((t == std::vector<int>{0, 1, 2, 0, 1, 3}));

    // splitting by prompt: every prompt's pairs land on one side
    std::vector<Item> many;
    for (int i = 0; i < 20; ++i) {
        Item it = items[0];
        it.index = static_cast<std::size_t>(i);
        it.question = "p" + std::to_string(i);
        many.push_back(it);
    }
    const auto sp = split_items(many);
    const auto tr = expand_pairs(sp.train), te = expand_pairs(sp.test);
    BOOST_TEST(tr.size() == 20u);
    BOOST_TEST(te.size() == 20u);
    for (const auto& a : tr)
        for (const auto& b : te) BOOST_TEST(a.index != b.index);

    // errors name the pair and its field
    auto err = [&](const std::string& name, const std::string& rec) {
        const std::string f = write_scratch("freetext/" + name + ".jsonl", rec + "\n");
        return data_error_of([&] { (void)load_items(f); });
    };
    BOOST_TEST(has(err("p1", R"({"prompt": "P", "pairs": [{"positive": "x", "negative": "y"}, {"positive": "x"}]})"), "pairs[1].negative"));
    BOOST_TEST(has(err("p2", R"({"prompt": "P", "pairs": []})"), "'pairs' is empty"));
    BOOST_TEST(has(err("p3", R"({"prompt": "P", "pairs": {"positive": "x"}})"), "expected an array"));
    BOOST_TEST(has(err("p4", R"({"prompt": "P", "pairs": [{"positive": "x", "negative": "x"}]})"), "pairs[0].positive and pairs[0].negative are equal"));
    BOOST_TEST(has(err("p5", R"({"prompt": "P", "pairs": [3]})"), "pairs[0] is number"));
    BOOST_TEST(has(err("p6", R"({"prompt": "P", "positive": "x", "negative": "y", "pairs": [{"positive": "a", "negative": "b"}]})"),
                   "one shape per record"));
    BOOST_TEST(has(err("p7", R"({"prompt": "P", "pairs": [{"positive": "a", "negative": "b", "template": [1]}]})"), "pairs[0].template"));
    BOOST_TEST(has(err("p8", R"({"prompt": "P", "pairs": [{"positive": " ", "negative": "b"}]})"), "pairs[0].positive: empty"));
}

BOOST_AUTO_TEST_SUITE_END()
