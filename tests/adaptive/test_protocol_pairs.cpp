// eval::run_behaviour on free-text prompts with several reply pairs (tiny random-weight model): the scores are at
// the prompt level (one test row per prompt), every (prompt, pair) cell is swept, and the report carries the
// reply diagnostic; a single-pair file of the same prompts has none.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <w2s/eval/protocol.hpp>
#include <w2s/model/model.hpp>
#include <w2s/text/prompt_format.hpp>

#include "tiny_model.hpp"

namespace {
std::string write_multi_pair(const std::string& path, int prompts, int pairs) {
    const char* words[] = {"cat", "sat", "on", "the", "mat", "in", "a", "hat", "and", "ran", "dog", "sun"};
    std::ofstream f(path);
    for (int p = 0; p < prompts; ++p) {
        nlohmann::json rec;
        rec["prompt"] = std::string(words[p % 12]) + " " + words[(p * 5 + 1) % 12] + " " + words[(p * 7 + 3) % 12] + " " +
                        std::to_string(p);
        rec["pairs"] = nlohmann::json::array();
        for (int k = 0; k < pairs; ++k)
            rec["pairs"].push_back({{"positive", std::string(words[k % 12]) + " yes " + words[(k + 4) % 12]},
                                    {"negative", std::string(words[k % 12]) + " no " + words[(k + 4) % 12]},
                                    {"template", "t" + std::to_string(k)}});
        f << rec.dump() << '\n';
    }
    return path;
}
}  // namespace

BOOST_AUTO_TEST_CASE(run_behaviour_scores_prompts_and_diagnoses_the_replies) {
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_protocol_pairs_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto model = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 11));
    const auto tmpl = w2s::text::select_template(model, "auto");
    w2s::ThreadPool pool(2);
    w2s::eval::ProtocolOptions opt;
    opt.pipeline.routers = {"knn"};
    opt.embedding_blocks = {1};
    const auto data = write_multi_pair((dir / "toy.jsonl").string(), 12, 3);
    const auto rep = w2s::eval::run_behaviour(model, tmpl, data, dir / "out", opt, pool);
    BOOST_TEST_REQUIRE(!rep.pairs.empty());
    const auto& p = rep.pairs.front();
    BOOST_TEST(p.n_train == 6u);  // prompts, not cells
    BOOST_TEST(p.n_test == 6u);
    BOOST_TEST(p.reply.present());
    BOOST_TEST(p.reply.cells == 18u);  // 6 test prompts x 3 pairs
    BOOST_TEST(p.reply.prompts == 6u);
    BOOST_TEST(p.reply.templates == 3u);
    BOOST_TEST(std::isfinite(p.reply.share_prompt));
    // the test sweep on disk holds the cells
    bool found = false;
    for (const auto& e : std::filesystem::directory_iterator(dir / "out"))
        if (e.path().filename().string().rfind("test_BASE_", 0) == 0) {
            BOOST_TEST(w2s::io::read_sweep(e.path().string()).items.size() == 18u);
            found = true;
        }
    BOOST_TEST(found);
    // The projection embedding is evaluated beside the residual ones (one per pooling), and the sweeps store the
    // residuals of every swept layer for it.
    std::size_t proj = 0, resid = 0;
    for (const auto& m : p.methods) {
        proj += m.method.find("@proj-") != std::string::npos;
        resid += m.method.find("@L1-") != std::string::npos;
    }
    BOOST_TEST(proj == 2u);
    BOOST_TEST(resid == 2u);
    for (const auto& e : std::filesystem::directory_iterator(dir / "out"))
        if (e.path().filename().string().rfind("train_BASE_", 0) == 0) {
            BOOST_TEST(e.path().filename().string().find("-proj") != std::string::npos);
            const auto h = w2s::io::read_sweep(e.path().string()).header;
            for (int l : h.layers) BOOST_TEST(std::count(h.embedding_layers.begin(), h.embedding_layers.end(), l) == 1);
        }

    // one pair per prompt: no diagnostic (nothing separates the prompt from its replies)
    const auto single = write_multi_pair((dir / "one.jsonl").string(), 12, 1);
    const auto rep1 = w2s::eval::run_behaviour(model, tmpl, single, dir / "out1", opt, pool);
    BOOST_TEST(!rep1.pairs.front().reply.present());
    BOOST_TEST(rep1.pairs.front().n_test == 6u);
    // without the projection: the residual embeddings alone
    opt.projection = false;
    const auto rep2 = w2s::eval::run_behaviour(model, tmpl, single, dir / "out2", opt, pool);
    for (const auto& m : rep2.pairs.front().methods) BOOST_TEST(m.method.find("@proj-") == std::string::npos);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(embedding_choices_read_what_they_write) {
    for (const std::string e : {"L15-last", "L3-mean", "proj-last", "proj-mean"})
        BOOST_TEST(w2s::eval::parse_embedding_choice(e).name() == e);
    BOOST_TEST(w2s::eval::parse_embedding_choice("proj-mean").projection);
    BOOST_CHECK_THROW((void)w2s::eval::parse_embedding_choice("proj-max"), w2s::invalid_argument);
    BOOST_CHECK_THROW((void)w2s::eval::parse_embedding_choice("P3-last"), w2s::invalid_argument);
}
