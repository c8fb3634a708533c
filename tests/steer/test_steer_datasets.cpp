// The real development datasets (label data): every behaviour file loads without a bad record, the A/B
// conversion gives balanced letters, every MWE behaviour has persona sentences, the split halves.
#define BOOST_TEST_MODULE test_steer_datasets
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <w2s/steer/dataset.hpp>

#include "w2s_test_support.hpp"

using namespace w2s::steer;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> behaviour_files() {
    const fs::path root = w2s::test::datasets_dir();
    std::vector<std::string> out;
    for (const char* sub : {"caa/generate", "caa/test"})
        for (const auto& d : fs::directory_iterator(root / sub))
            for (const char* name : {"generate_dataset.json", "test_dataset_ab.json"})
                if (fs::exists(d.path() / name)) out.push_back((d.path() / name).string());
    for (const char* sub : {"mwe/persona", "mwe/xrisk"})
        for (const auto& f : fs::directory_iterator(root / sub))
            if (f.path().extension() == ".jsonl") out.push_back(f.path().string());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(the_projects_free_text_pairs_load) {
    const fs::path dir = fs::path(w2s::test::source_dir()) / "examples/data/freetext";
    const PersonaPrompts pp = find_persona_prompts((dir / "sentiment.jsonl").string());
    for (const char* b : {"sentiment", "formality", "refusal", "confidence"}) {
        BOOST_TEST_CONTEXT(b) {
            LoadReport rep;
            const auto items = load_items((dir / (std::string(b) + ".jsonl")).string(), {}, &rep);
            BOOST_TEST(rep.skipped == 0u);
            BOOST_TEST(items.size() >= 300u);
            BOOST_TEST((items[0].kind == ItemKind::free_text));
            for (Variant v : kAllVariants) BOOST_CHECK_NO_THROW((void)make_turns(items[0], v, &pp));
        }
    }
}

BOOST_AUTO_TEST_CASE(every_behaviour_file_loads_cleanly) {
    const auto files = behaviour_files();
    BOOST_TEST(files.size() >= 39u);  // 7 CAA generate + 7 CAA test + 14 persona + 11 xrisk
    const PersonaPrompts pp = load_persona_prompts((fs::path(w2s::test::datasets_dir()) / "persona_prompts.json").string());
    std::size_t total = 0;
    for (const auto& f : files) {
        BOOST_TEST_CONTEXT(f) {
            LoadReport rep;
            const auto items = load_items(f, {}, &rep);
            BOOST_TEST(rep.skipped == 0u);
            BOOST_TEST(items.size() == rep.records);
            BOOST_TEST(items.size() >= 50u);
            total += items.size();
            std::size_t a = 0;
            for (const auto& it : items) {
                a += it.matching == "(A)";
                BOOST_TEST(it.question.find("<META_START>") == std::string::npos);
                BOOST_TEST(it.question.find(it.matching) != std::string::npos);
            }
            if (f.find("mwe/persona") != std::string::npos) {
                BOOST_TEST(std::abs(double(a) / double(items.size()) - 0.5) < 0.01);  // letter balancing
            }
            if (f.find("mwe/") != std::string::npos) {
                BOOST_CHECK_NO_THROW((void)pp.at(items[0].behaviour));
                for (Variant v : kAllVariants) BOOST_CHECK_NO_THROW((void)make_turns(items[0], v, &pp));
            }
            // Every A/B item has a mirror order: the matching text under the other letter, and back again.
            for (const auto& it : items) {
                const Item m = mirror(it);
                BOOST_TEST(m.matching == it.not_matching);
                BOOST_TEST(m.question.size() == it.question.size());
                BOOST_TEST(mirror(m).question == it.question);
            }
            const Split s = split_items(items);
            BOOST_TEST(s.train.size() == items.size() / 2);
            BOOST_TEST(s.train.size() + s.test.size() == items.size());
        }
    }
    BOOST_TEST_MESSAGE("items loaded: " << total);
}
