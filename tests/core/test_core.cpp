#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include <atomic>

#include <w2s/core/error.hpp>
#include <w2s/core/parallel.hpp>

BOOST_AUTO_TEST_CASE(error_context_keeps_kind) {
    try {
        w2s::with_context("loading m.gguf", [] { throw w2s::shape_error("tensor x: expected 2x2, got 2x3"); });
        BOOST_FAIL("no throw");
    } catch (const w2s::shape_error& e) {  // the C++ type survives the added context
        BOOST_TEST(e.kind() == "shape_error");
        BOOST_TEST(std::string(e.what()) == "loading m.gguf: tensor x: expected 2x2, got 2x3");
    }
}

BOOST_AUTO_TEST_CASE(thread_pool_runs_all_indices) {
    w2s::ThreadPool pool(2);
    BOOST_TEST(pool.threads() == 2);
    std::atomic<long> sum{0};
    pool.run([&] { w2s::parallel_for(0, 1000, 7, [&](std::size_t i) { sum += static_cast<long>(i); }); });
    BOOST_TEST(sum.load() == 999L * 1000 / 2);
}
