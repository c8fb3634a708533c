// Issue 17(c): eight threads steering one shared model differently — each its own vectors, layer, multiplier and
// prompt — give exactly (bit for bit) what each gives alone, in steered generation and in the steered logits of a
// prefill. The release build checks the results; the tsan preset (scripts/test.sh) runs the same test under
// ThreadSanitizer, which checks that nothing shared is written without synchronisation. Each thread bounds its
// oneTBB work to itself (ThreadPool(1)), as a server's request threads do: Debian's oneTBB is not instrumented,
// so work handed between threads through it would be invisible to ThreadSanitizer.
#define BOOST_TEST_MODULE concurrency
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/model/generate.hpp>
#include <w2s/model/model.hpp>
#include <w2s/steer/apply.hpp>
#include <w2s/steer/vector_set.hpp>

#include "tiny_model.hpp"

namespace wm = w2s::model;

namespace {

struct Job {
    std::vector<wm::token_id> prompt;
    w2s::steer::VectorSet vectors;
    int layer = 1;
    float alpha = 0.0f;
};

struct Outcome {
    std::vector<wm::token_id> tokens;
    w2s::MatrixRM logits;  // [prompt x vocab] of a steered prefill
};

Outcome run(const wm::LlamaModel& m, const Job& j) {
    Outcome o;
    w2s::ThreadPool(1).run([&] {
        const auto hook = w2s::steer::control_vector_hook(j.vectors, j.alpha, j.layer);
        wm::GenerateOptions opt;
        opt.max_tokens = 12;
        opt.stop_at_eog = false;
        o.tokens = wm::generate(m, std::span<const wm::token_id>(j.prompt), opt, hook).tokens;
        auto s = m.new_session();
        m.prefill(s, j.prompt, hook, &o.logits);
    });
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(eight_threads_steering_one_model_differently_give_the_serial_results) {
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_concurrent_steering_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto m = wm::LlamaModel::load(w2s::test::make_tiny_llama(dir.string(), 5));
    const int L = m.n_layers(), H = m.hidden_size();
    std::mt19937_64 g(13);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::uniform_int_distribution<int> tok(3, 200);
    std::vector<Job> jobs(8);
    for (std::size_t t = 0; t < jobs.size(); ++t) {
        auto& j = jobs[t];
        j.prompt.push_back(1);
        for (std::size_t i = 0; i < 6 + 2 * t; ++i) j.prompt.push_back(tok(g));
        j.vectors = w2s::steer::VectorSet(L, H);
        for (int l = 1; l < L; ++l) {
            std::vector<float> v(static_cast<std::size_t>(H));
            for (auto& x : v) x = nd(g);
            j.vectors.set(l, v);
        }
        j.layer = 1 + static_cast<int>(t) % (L - 1);
        j.alpha = (t % 2 ? -1.0f : 1.0f) * 0.5f * static_cast<float>(t + 1);
    }
    std::vector<Outcome> serial, parallel(jobs.size());
    for (const auto& j : jobs) serial.push_back(run(m, j));
    std::vector<std::thread> th;
    for (int rep = 0; rep < 2; ++rep) {  // twice, so that threads overlap in both the generation and the prefill
        th.clear();
        for (std::size_t t = 0; t < jobs.size(); ++t) th.emplace_back([&, t] { parallel[t] = run(m, jobs[t]); });
        for (auto& x : th) x.join();
        for (std::size_t t = 0; t < jobs.size(); ++t) {
            BOOST_TEST(parallel[t].tokens == serial[t].tokens);
            BOOST_TEST_REQUIRE(parallel[t].logits.rows() == serial[t].logits.rows());
            BOOST_TEST((parallel[t].logits.array() == serial[t].logits.array()).all());  // bit for bit
        }
    }
    // and the steering differs between the jobs (the comparison above is not between equal outputs)
    BOOST_TEST(!(serial[0].logits.bottomRows(1).array() == serial[1].logits.bottomRows(1).array()).all());
    std::filesystem::remove_all(dir);
}
