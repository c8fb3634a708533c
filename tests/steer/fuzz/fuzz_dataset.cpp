// libFuzzer target: the behaviour dataset loaders (w2s/steer/dataset.hpp) on arbitrary file content. The first byte
// picks the parser, its bits the options:
//   even  a dataset file (steer::parse_items, the content of load_items: CAA JSON array, MWE JSONL, free-text pairs
//         JSONL, one reply pair or several per prompt), with skip_bad and max_items from the first byte; then what the
//         protocol does with the items: mirror() of each A/B item (twice: the question must come back), expand_pairs,
//         reply_template_ids, split_items, make_turns;
//   odd   a persona prompts file (steer::parse_persona_prompts, the content of persona_prompts.json), then make_turns
//         under every variant for a behaviour it names.
// Promises: items are of one kind; an A/B item's answers are letters "(X)" written in its question; free-text items
// have pairs[0] as their replies; max_items holds; mirror is its own inverse. A w2s::error is the expected answer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <w2s/steer/dataset.hpp>

#include "w2s_fuzz.hpp"

using namespace w2s;
using steer::Item;
using steer::ItemKind;

namespace {

void check_items(const std::vector<Item>& items, const steer::LoadOptions& o) {
    fuzz::require(!items.empty(), "parse_items returned no items without throwing");
    fuzz::require(o.max_items == 0 || items.size() <= o.max_items, "more items than max_items");
    for (const auto& it : items) {
        fuzz::require(it.kind == items.front().kind, "items of two kinds in one file");
        if (it.kind == ItemKind::ab) {
            fuzz::require(steer::detail::is_letter_answer(it.matching) && steer::detail::is_letter_answer(it.not_matching),
                          "an A/B item whose answers are not letters");
            fuzz::require(it.question.find(it.matching) != std::string::npos && it.question.find(it.not_matching) != std::string::npos,
                          "an A/B item whose letters are not in its question");
        } else {
            fuzz::require(!it.pairs.empty() && it.pairs[0].positive == it.matching && it.pairs[0].negative == it.not_matching,
                          "a free-text item whose replies are not pairs[0]");
        }
    }
}

void dataset(std::uint8_t opts, std::string_view text) {
    steer::LoadOptions o;
    o.skip_bad = (opts & 2) != 0;
    o.max_items = (opts >> 2) & 7;
    steer::LoadReport rep;
    const auto items = steer::parse_items(text, "fuzz/dataset.jsonl", o, &rep);
    check_items(items, o);
    for (const auto& it : items) {
        if (it.kind != ItemKind::ab) continue;
        try {
            const Item m = steer::mirror(it);
            const Item back = steer::mirror(m);
            fuzz::require(back.question == it.question && back.matching == it.matching, "mirror(mirror(item)) is not the item");
        } catch (const data_error&) {  // a question whose choices cannot be exchanged: refused, as documented
        }
    }
    const auto expanded = steer::expand_pairs(items);
    const auto ids = steer::reply_template_ids(expanded);
    fuzz::require(ids.size() == expanded.size(), "reply_template_ids: one id per item");
    const auto split = steer::split_items(items, steer::kSplitSeed);
    fuzz::require(split.train.size() + split.test.size() == items.size(), "split_items lost items");
    for (const auto& it : items) (void)steer::make_turns(it, steer::Variant::base);
}

void personas(std::string_view text) {
    const auto p = steer::parse_persona_prompts(text, "fuzz/persona_prompts.json");
    Item it;
    it.question = "Q?";
    for (const auto& [name, e] : p.by_behaviour) {
        fuzz::require(!e.positive.empty() && !e.negative.empty(), "an empty persona sentence was accepted");
        it.behaviour = name;
        for (steer::Variant v : steer::kAllVariants) (void)steer::make_turns(it, v, &p);
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const std::string caa =
        "[\n  {\"question\": \"Do you agree?\\n\\nChoices:\\n (A) Yes\\n (B) No\", \"answer_matching_behavior\": \"(A)\", "
        "\"answer_not_matching_behavior\": \"(B)\"},\n  {\"question\": \"<META_START>x<META_END>Pick one\\n(A) a\\n(B) b\", "
        "\"answer_matching_behavior\": \" (B)\", \"answer_not_matching_behavior\": \"(A)\"}\n]\n";
    const std::string mwe =
        "{\"question\": \"Is the sky green?\", \"answer_matching_behavior\": \" Yes\", \"answer_not_matching_behavior\": \" No\"}\n"
        "\n{\"question\": \"Would you lie?\", \"answer_matching_behavior\": \" No\", \"answer_not_matching_behavior\": \" Yes\"}\n";
    const std::string pairs =
        "{\"prompt\": \"Tell me about cats.\", \"positive\": \"Cats are wonderful.\", \"negative\": \"Cats are awful.\", \"system\": \"Be brief.\"}\n"
        "{\"prompt\": \"And dogs?\", \"positive\": \"Lovely.\", \"negative\": \"Dreadful.\"}\n";
    const std::string multi =
        "{\"prompt\": \"How was the film?\", \"pairs\": [{\"positive\": \"Great!\", \"negative\": \"Bad.\", \"template\": \"short\"}, "
        "{\"positive\": \"I loved it.\", \"negative\": \"I hated it.\", \"template\": 3}]}\n"
        "{\"prompt\": \"And the book?\", \"pairs\": [{\"positive\": \"A joy.\", \"negative\": \"A chore.\"}]}\n";
    const std::string persona =
        "{\"power-seeking\": {\"positive\": \"You seek power.\", \"negative\": \"You avoid power.\", \"kind\": \"xrisk\"}, "
        "\"survival\": {\"positive\": \"You want to survive.\", \"negative\": \"You accept shutdown.\"}}";
    fuzz::write_seed("caa.json", std::string(1, '\0') + caa);
    fuzz::write_seed("caa_skip.json", "\x06" + caa);
    fuzz::write_seed("mwe.jsonl", std::string(1, '\0') + mwe);
    fuzz::write_seed("pairs.jsonl", "\x02" + pairs);
    fuzz::write_seed("multi_pairs.jsonl", std::string(1, '\0') + multi);
    fuzz::write_seed("persona_prompts.json", "\x01" + persona);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text = fuzz::as_text(data + 1, size - 1);
    fuzz::run([&] {
        if (data[0] & 1) personas(text);
        else dataset(data[0], text);
    });
    return 0;
}
