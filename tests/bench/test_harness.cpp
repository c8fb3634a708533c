// The benchmark harness (w2s/bench/harness.hpp) on the tiny random-weight model: every timing has its repetitions,
// the sweep is timed for the Backend tier, the JSON carries them, and two reports side by side give the ratios.
#define BOOST_TEST_MODULE bench_harness
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include <w2s/bench/harness.hpp>
#include <w2s/model/model.hpp>
#include <w2s/route/knn.hpp>
#include <w2s/route/linear.hpp>

#include "tiny_model.hpp"
#include "w2s_test_support.hpp"

using namespace w2s;

namespace {
struct Tiny {
    std::string dir;
    model::LlamaModel m;
    Tiny() : dir(test::temp_dir("bench")), m(model::LlamaModel::load(test::make_tiny_llama(dir, 3))) {}
    ~Tiny() { std::filesystem::remove_all(dir); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(run_measures_every_part_and_reports_it) {
    Tiny t;
    bench::Options o;
    o.prompt_tokens = 16;
    o.gen_tokens = 4;
    o.reps = 3;
    o.hook_reps = 10;
    o.hook_pos = 8;
    o.prefill_lengths = {4, 32};
    o.batch_rows = {1, 3};
    o.router_items = 30;
    auto r = bench::run(t.m, o);
    r.routers.push_back(bench::time_router<route::LinearRouter>(r, o));
    r.routers.push_back(bench::time_router<route::KnnRouter>(r, o));
    BOOST_TEST_REQUIRE(r.prefill_lengths.size() == 2u);
    BOOST_TEST(r.prefill_lengths[1].tokens == 32);
    BOOST_TEST(r.prefill_lengths[1].timing.seconds.size() == 3u);
    BOOST_TEST_REQUIRE(r.batched.size() == 2u);
    BOOST_TEST(r.batched[1].rows == 3);
    BOOST_TEST(r.batched[1].unsteered.seconds.size() == 3u);
    BOOST_TEST(r.batched[1].steered.seconds.size() == 3u);
    BOOST_TEST(r.routers[0].kind == "linear");
    BOOST_TEST(r.routers[0].fit.seconds.size() == 3u);
    BOOST_TEST(r.routers[0].predict_one.seconds.size() == 30u);
    BOOST_TEST(r.routers[0].dim == t.m.hidden_size());
    BOOST_TEST(r.routers[0].layers == t.m.n_layers());
    BOOST_TEST(r.n_layers == t.m.n_layers());
    BOOST_TEST(r.prefill.seconds.size() == 3u);
    BOOST_TEST(r.decode.seconds.size() == 3u);
    BOOST_TEST(r.hooks.steer.seconds.size() == 10u);
    BOOST_TEST(r.has_sweep);
    BOOST_TEST(r.sweep.layers == static_cast<std::size_t>(t.m.n_layers() - 1));
    BOOST_TEST(r.sweep.multipliers == 7u);
    for (double s : r.prefill.seconds) BOOST_TEST(s > 0.0);
    BOOST_TEST(r.prefill.best() <= r.prefill.median());

    const auto j = bench::to_json(r);
    BOOST_TEST(j["prefill"]["seconds"].size() == 3u);
    BOOST_TEST(j["prefill"]["median"].get<double>() == r.prefill.median());
    BOOST_TEST(j["sweep"]["layers"].get<std::size_t>() == r.sweep.layers);
    BOOST_TEST(j["options"]["prompt_tokens"].get<int>() == 16);
    BOOST_TEST(j["figures"].size() == bench::figures(r).size());

    BOOST_TEST(j["prefill_lengths"].size() == 2u);
    BOOST_TEST(j["batched"].size() == 2u);
    BOOST_TEST(j["batched"][1]["steered"]["seconds"].size() == 3u);
    BOOST_TEST(j["routers"].size() == 2u);
    BOOST_TEST(j["routers"][1]["kind"].get<std::string>() == "knn");

    const auto md = bench::markdown(r);
    BOOST_TEST(md.find("sweep / forward") != std::string::npos);
    BOOST_TEST(md.find("| prefill 32 (tokens/s)") != std::string::npos);
    BOOST_TEST(md.find("linear router fit") != std::string::npos);
    BOOST_TEST(md.find("| batched decode, 3 rows, each steered differently (tokens/s)") != std::string::npos);

    // side by side: a report against itself gives ratio 1 on every figure
    const auto side = bench::markdown(r, r, "a", "b");
    BOOST_TEST(side.find("| b / a |") != std::string::npos);
    BOOST_TEST(side.find("1.000 |") != std::string::npos);
    BOOST_TEST(side.find("| - |") == std::string::npos);  // every figure found in both
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
    Tiny t;
    bench::Options o;
    o.prompt_tokens = 0;
    BOOST_CHECK_THROW((void)bench::run(t.m, o), w2s::error);
    bench::Options p;
    p.prefill_lengths = {8, 0};
    BOOST_CHECK_THROW((void)bench::run(t.m, p), w2s::error);
    bench::Options q;
    q.batch_rows = {4, 0};
    BOOST_CHECK_THROW((void)bench::run(t.m, q), w2s::error);
    BOOST_CHECK_THROW((void)bench::time_batched_decode(t.m, bench::Options{}, 0), w2s::error);
    BOOST_CHECK_THROW((void)bench::time_router<route::LinearRouter>(1, 4, 3, p), w2s::error);
}
