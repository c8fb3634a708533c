// eval::run_behaviour on free-text prompts with several reply pairs (tiny random-weight model): the scores are at
// the prompt level (one test row per prompt), every (prompt, pair) cell is swept, and the report carries the
// reply diagnostic; a single-pair file of the same prompts has none.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include <w2s/eval/protocol.hpp>
#include <w2s/eval/report_io.hpp>
#include <w2s/model/model.hpp>
#include <w2s/text/prompt_format.hpp>

#include "kill_resume.hpp"
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

/// The protocol as these tests run it on the tiny model: the kNN router on block 1's embeddings.
w2s::eval::ProtocolOptions knn_options() {
    w2s::eval::ProtocolOptions opt;
    opt.pipeline.routers = {"knn"};
    opt.embedding_blocks = {1};
    return opt;
}

/// The report (JSON) of one behaviour run at `threads` threads into `out`.
nlohmann::json report_of(const w2s::model::LlamaModel& model, const w2s::text::ChatTemplate& tmpl, const std::string& data,
                         const std::filesystem::path& out, const w2s::eval::ProtocolOptions& opt, int threads) {
    w2s::ThreadPool pool(threads);
    w2s::eval::Report r;
    r.behaviours.push_back(w2s::eval::run_behaviour(model, tmpl, data, out, opt, pool));
    return w2s::eval::to_json(r);
}
}  // namespace

BOOST_AUTO_TEST_CASE(run_behaviour_scores_prompts_and_diagnoses_the_replies) {
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_protocol_pairs_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto model = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 11));
    const auto tmpl = w2s::text::select_template(model, "auto");
    w2s::ThreadPool pool(2);
    auto opt = knn_options();
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

// Finding 1: the protocol reused any vectors file and any sweep of the same names in its folder, so a second run
// with another prompt template (or split seed) over the same folder reported the first run's figures as its own.
BOOST_AUTO_TEST_CASE(a_protocol_folder_is_resumed_only_from_the_same_inputs) {
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_protocol_resume_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto model = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 11));
    w2s::ThreadPool pool(2);
    auto opt = knn_options();
    opt.projection = false;
    const auto data = write_multi_pair((dir / "toy.jsonl").string(), 12, 1);
    const auto chat = w2s::text::select_template(model, "auto");
    const auto a = w2s::eval::run_behaviour(model, chat, data, dir / "out", opt, pool);
    std::size_t recomputed = 0;  // progress events of work actually done (done < total) in the second run
    const auto b = w2s::eval::run_behaviour(model, chat, data, dir / "out", opt, pool, [&](const w2s::ProgressEvent& e) {
        if ((e.stage == "vectors" || e.stage == "sweep") && e.done < e.total) ++recomputed;
    });  // same inputs: resumed
    BOOST_TEST(recomputed == 0u);  // nothing was fitted or swept again
    BOOST_TEST(a.pairs.front().methods.front().score.mean_steerability == b.pairs.front().methods.front().score.mean_steerability);
    const auto plain = w2s::text::select_template(model, "plain");
    try {
        (void)w2s::eval::run_behaviour(model, plain, data, dir / "out", opt, pool);
        BOOST_ERROR("a run with another prompt template reused the first run's products");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("vectors_") != std::string::npos, e.what());
    }
    std::filesystem::remove_all(dir);
}

// Issue 17, determinism: the protocol at 1 and at 2 threads gives the same report and the same products, byte for
// byte (the vectors file and every sweep file).
BOOST_AUTO_TEST_CASE(a_protocol_run_is_the_same_at_one_and_two_threads) {
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_protocol_threads_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto model = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 11));
    const auto tmpl = w2s::text::select_template(model, "auto");
    auto opt = knn_options();
    const auto data = write_multi_pair((dir / "toy.jsonl").string(), 16, 2);
    BOOST_TEST(report_of(model, tmpl, data, dir / "t1", opt, 1).dump() == report_of(model, tmpl, data, dir / "t2", opt, 2).dump());
    auto bytes = [](const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    // A sweep's header names its vectors file by path (here in t1/ or t2/): the headers must agree but for that
    // name, the records byte for byte.
    auto header_and_records = [&](const std::filesystem::path& p) {
        const std::string b = bytes(p);
        std::uint64_t hlen = 0;
        BOOST_REQUIRE(b.size() >= 20);
        std::memcpy(&hlen, b.data() + 12, 8);
        auto j = nlohmann::json::parse(b.substr(20, hlen));
        j.erase("vectors");
        return std::pair{j.dump(), b.substr(20 + hlen)};
    };
    std::size_t compared = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "t1")) {
        const auto name = e.path().filename();
        if (e.path().extension() == ".gguf") BOOST_TEST(bytes(e.path()) == bytes(dir / "t2" / name), name.string());
        else if (e.path().extension() == ".w2ssweep") BOOST_TEST((header_and_records(e.path()) == header_and_records(dir / "t2" / name)), name.string());
        else continue;
        ++compared;
    }
    BOOST_TEST(compared >= 3u);  // the vectors and the train and test sweeps at least
    std::filesystem::remove_all(dir);
}

// Issue 17(d): `w2s run` (eval::run_behaviour) killed with SIGKILL at random moments — while fitting the vectors,
// sweeping train or test, or scoring — and then run again gives the report of an uninterrupted run.
BOOST_AUTO_TEST_CASE(a_protocol_run_killed_at_random_points_resumes_to_the_identical_report) {
    constexpr const char* role = "W2S_PROTOCOL_KILL_CHILD";
    const bool child = w2s::test::is_child(role);
    const auto shared = std::filesystem::temp_directory_path() / ("w2s_protocol_kill_" + std::to_string(child ? ::getppid() : ::getpid()));
    const auto mine = std::filesystem::temp_directory_path() / ("w2s_protocol_kill_model_" + std::to_string(::getpid()));
    std::filesystem::create_directories(mine);
    const auto model = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(mine.string(), 11));
    const auto tmpl = w2s::text::select_template(model, "auto");
    auto opt = knn_options();
    const auto data = (shared / "toy.jsonl").string();
    if (child) {
        (void)report_of(model, tmpl, data, shared / "out", opt, 2);
        std::filesystem::remove_all(mine);
        ::_exit(0);
    }
    std::filesystem::create_directories(shared);
    write_multi_pair(data, 24, 3);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ref = report_of(model, tmpl, data, shared / "ref", opt, 1);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    // progress: the share of the uninterrupted run's products on disk (its vectors file, its sweeps' records)
    std::vector<std::pair<std::string, std::size_t>> parts;  // file name, records (0: the vectors file)
    for (const auto& e : std::filesystem::directory_iterator(shared / "ref")) {
        const auto name = e.path().filename().string();
        if (name.rfind("vectors_", 0) == 0) parts.emplace_back(name, 0);
        if (e.path().extension() == ".w2ssweep") parts.emplace_back(name, w2s::io::read_sweep(e.path().string()).items.size());
    }
    BOOST_TEST_REQUIRE(parts.size() >= 3u);
    auto progress = [&]() -> double {
        double p = 0;
        for (const auto& [name, n] : parts) {
            const auto f = shared / "out" / name;
            if (!std::filesystem::exists(f) || std::filesystem::file_size(f) == 0) continue;
            p += n == 0 ? 1.0 : static_cast<double>(w2s::io::read_sweep(f.string()).items.size()) / static_cast<double>(n);
        }
        return p / static_cast<double>(parts.size());
    };
    const auto st = w2s::test::kill_at_random_points(
        "a_protocol_run_killed_at_random_points_resumes_to_the_identical_report", role, std::chrono::milliseconds(3), 16, 7,
        [&] { return progress() > 0.999; }, progress, std::chrono::milliseconds(120000), [](pid_t pid) {
            // a killed child leaves its own model folder behind
            std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("w2s_protocol_kill_model_" + std::to_string(pid)));
        });
    BOOST_TEST_MESSAGE("children " << st.children << ", killed " << st.killed << ", mid-way " << st.mid_way << "; one run " << took.count() << " ms");
    BOOST_TEST(st.mid_way >= 1);
    const auto resumed = report_of(model, tmpl, data, shared / "out", opt, 2);
    BOOST_TEST(resumed.dump() == ref.dump());
    std::filesystem::remove_all(shared);
    std::filesystem::remove_all(mine);
}
