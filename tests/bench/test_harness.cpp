// The benchmark harness (w2s/bench/harness.hpp) on the tiny random-weight model: every timing has its repetitions,
// the sweep is timed for the Backend tier, the JSON carries them, and two reports side by side give the ratios.
#define BOOST_TEST_MODULE bench_harness
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include <w2s/bench/harness.hpp>
#include <w2s/model/model.hpp>

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
    const auto r = bench::run(t.m, o);
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

    const auto md = bench::markdown(r);
    BOOST_TEST(md.find("sweep / forward") != std::string::npos);

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
}
