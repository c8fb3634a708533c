#define BOOST_TEST_MODULE core
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <w2s/core/durable.hpp>
#include <w2s/core/error.hpp>
#include <w2s/core/memory.hpp>
#include <w2s/core/parallel.hpp>

#include "w2s_test_support.hpp"

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

// ---- memory limits (w2s/core/memory.hpp) -------------------------------------------------------------

using w2s::test::ScopedEnv;

BOOST_AUTO_TEST_CASE(sizes_parse_with_binary_units_and_refuse_the_rest) {
    BOOST_TEST(w2s::parse_bytes("123", "x") == 123u);
    BOOST_TEST(w2s::parse_bytes("512K", "x") == 512u * 1024);
    BOOST_TEST(w2s::parse_bytes("64M", "x") == 64ull << 20);
    BOOST_TEST(w2s::parse_bytes("8G", "x") == 8ull << 30);
    BOOST_TEST(w2s::parse_bytes("2GiB", "x") == 2ull << 30);
    BOOST_TEST(w2s::parse_bytes("1t", "x") == 1ull << 40);
    BOOST_TEST(w2s::parse_bytes("100B", "x") == 100u);
    for (const char* bad : {"", "0", "M", "12X", "1.5G", "-1", "99999999999999999999", "20000000T", "8 G", "8Gb2"})
        BOOST_CHECK_THROW((void)w2s::parse_bytes(bad, "W2S_MEMORY_LIMIT"), w2s::invalid_argument);
    try {
        (void)w2s::parse_bytes("lots", "W2S_MEMORY_LIMIT");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("W2S_MEMORY_LIMIT: 'lots'") != std::string::npos);
    }
    BOOST_TEST(w2s::format_bytes(17) == "17 B");
    BOOST_TEST(w2s::format_bytes(3u << 20) == "3.0 MiB");
    BOOST_TEST(w2s::format_bytes(1536ull << 20) == "1.5 GiB");
    BOOST_TEST(w2s::mul_sat(1ull << 40, 1ull << 40) == ~0ull);
    BOOST_TEST(w2s::add_sat(~0ull, 1) == ~0ull);
    BOOST_TEST(w2s::mul_sat(3, 4) == 12u);
}

BOOST_AUTO_TEST_CASE(memory_limit_comes_from_the_environment_or_the_system) {
    {
        ScopedEnv env("W2S_MEMORY_LIMIT", "2M");
        const auto m = w2s::available_memory();
        BOOST_TEST(m.bytes == 2u << 20);
        BOOST_TEST(m.source == "W2S_MEMORY_LIMIT");
        BOOST_CHECK_NO_THROW(w2s::require_memory(1u << 20, "a small job", "advice"));
        try {
            w2s::require_memory(3u << 20, "the sweep of 5 items", "use fewer items");
            BOOST_FAIL("no throw");
        } catch (const w2s::resource_error& e) {
            BOOST_TEST(e.kind() == "resource_error");
            BOOST_TEST(std::string(e.what()) ==
                       "the sweep of 5 items needs about 3.0 MiB of memory, but only 2.0 MiB is available (W2S_MEMORY_LIMIT); use fewer items");
        }
    }
    {
        ScopedEnv env("W2S_MEMORY_LIMIT", "nonsense");
        BOOST_CHECK_THROW((void)w2s::available_memory(), w2s::invalid_argument);
    }
    ScopedEnv env("W2S_MEMORY_LIMIT", nullptr);
    const auto m = w2s::available_memory();
#if defined(__linux__)
    BOOST_TEST(m.bytes > 0u);  // /proc/meminfo is always there on Linux
    BOOST_TEST(!m.source.empty());
    BOOST_CHECK_THROW(w2s::require_memory(~0ull, "everything", ""), w2s::resource_error);
#endif
    BOOST_CHECK_NO_THROW(w2s::require_memory(1, "one byte", ""));
    BOOST_CHECK_NO_THROW(w2s::require_memory(~0ull, "unknown limit", "", w2s::MemoryLimit{}));  // unknown: not refused
    // resource_error keeps its type through added context
    BOOST_CHECK_THROW(w2s::with_context("run", [] { throw w2s::resource_error("x"); }), w2s::resource_error);
}

namespace {
std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_text(const std::filesystem::path& p, const std::string& s) { std::ofstream(p) << s; }
}  // namespace

// durable::replace_dir: the staged folder becomes the target (old contents gone, no leftovers), whether the target
// existed or not; and its two-rename fallback, when the staged folder cannot be moved into place, leaves the old
// target as it was instead of no target at all.
BOOST_AUTO_TEST_CASE(replace_dir_swaps_in_the_staged_folder_and_a_failed_fallback_keeps_the_old_one) {
    namespace fs = std::filesystem;
    const auto root = fs::temp_directory_path() / ("w2s_replace_dir_" + std::to_string(::getpid()));
    fs::remove_all(root);
    fs::create_directories(root);
    const auto target = root / "bundle", staged = root / "bundle.staged";
    fs::create_directories(staged);
    write_text(staged / "a", "one");
    w2s::durable::replace_dir(staged.string(), target.string());  // no target yet
    BOOST_TEST(read_text(target / "a") == "one");
    BOOST_TEST(!fs::exists(staged));
    fs::create_directories(staged);
    write_text(staged / "b", "two");
    w2s::durable::replace_dir(staged.string(), target.string());  // the exchange (Linux) or the fallback
    BOOST_TEST(!fs::exists(target / "a"));
    BOOST_TEST(read_text(target / "b") == "two");
    BOOST_TEST(!fs::exists(staged));
    fs::create_directories(staged);
    write_text(staged / "c", "three");
    w2s::durable::detail::replace_dir_by_renames(staged.string(), target.string());  // the fallback itself
    BOOST_TEST(read_text(target / "c") == "three");
    BOOST_TEST(!fs::exists(target / "b"));
    BOOST_TEST(!fs::exists(staged.string() + ".old"));
    // the staged folder is missing: the second rename fails, the old folder must be back in place
    try {
        w2s::durable::detail::replace_dir_by_renames((root / "missing").string(), target.string());
        BOOST_FAIL("no throw");
    } catch (const w2s::io_error& e) {
        BOOST_TEST(std::string(e.what()).find("the old folder is back in place") != std::string::npos);
    }
    BOOST_TEST(read_text(target / "c") == "three");
    BOOST_CHECK_THROW(w2s::durable::replace_dir((root / "missing").string(), target.string()), w2s::io_error);
    BOOST_TEST(read_text(target / "c") == "three");
    write_text(root / "file", "x");  // a target that is not a folder is not replaced
    BOOST_CHECK_THROW(w2s::durable::replace_dir(target.string(), (root / "file").string()), w2s::io_error);
    BOOST_TEST(read_text(root / "file") == "x");
    fs::remove_all(root);
}
