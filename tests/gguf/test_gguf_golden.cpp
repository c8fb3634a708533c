// Golden checks against the PyPI `gguf` package (tests/reference/make_gguf_golden.py):
//  - dequantize_row_ref equals gguf.quants.dequantize bit for bit, for every supported type;
//  - a file written by gguf.GGUFWriter reads back with every value, and w2s::gguf::Writer rebuilds it byte
//    for byte;
//  - the file w2s::gguf::Writer writes for the Python side to check (tests/golden/gguf_writer_cpp.gguf.bin) is
//    regenerated and compared byte for byte (W2S_UPDATE_GOLDEN=1 rewrites it; then rerun the script, which
//    reads it with gguf.GGUFReader).
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <w2s/gguf/blocks.hpp>
#include <w2s/gguf/quants.hpp>
#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>
#include <w2s_test_support.hpp>

#include "gguf_test_util.hpp"

using namespace w2s::gguf;
using V = w2s::gguf::Value;

namespace {

std::vector<std::byte> read_bytes(const std::string& path) {
    const std::string s = w2s::test::read_file(path);
    std::vector<std::byte> b(s.size());
    if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
    return b;
}

bool update_golden() {
    const char* e = std::getenv("W2S_UPDATE_GOLDEN");
    return e && std::string(e) == "1";
}

/// The content make_python_file() in make_gguf_golden.py writes, built with the C++ writer.
Writer python_file_content() {
    Writer w(64);
    w.set("general.architecture", V::from_string("w2s-test"));
    w.set("general.alignment", V::from_u32(64));
    w.set("t.u8", V::from_u8(200));
    w.set("t.i8", V::from_i8(-100));
    w.set("t.u16", V::from_u16(60000));
    w.set("t.i16", V::from_i16(-30000));
    w.set("t.u32", V::from_u32(4000000000u));
    w.set("t.i32", V::from_i32(-2000000000));
    w.set("t.u64", V::from_u64(9223372036854775813ull));
    w.set("t.i64", V::from_i64(-4611686018427387911ll));
    w.set("t.f32", V::from_f32(3.14159f));
    w.set("t.f64", V::from_f64(-2.718281828459045));
    w.set("t.true", V::from_bool(true));
    w.set("t.false", V::from_bool(false));
    w.set("t.string", V::from_string("h\xC3\xA9llo \xE2\x9C\x93 w\xC3\xB6rld"));
    w.set("t.strings", V::from_strings({"a", "<|im_start|>", "\xE6\x97\xA5\xE6\x9C\xAC", " spaced "}));
    w.set("t.i32s", V::from_i32s(std::vector<std::int32_t>{1, -2, 3, 2147483647}));
    w.set("t.f32s", V::from_f32s(std::vector<float>{0.5f, -1.25f, 1e-3f}));
    w.set("t.u8s", V::from_array(ValueType::u8, {V::from_u8(0), V::from_u8(7), V::from_u8(255)}));
    w.set("t.u64s", V::from_array(ValueType::u64, {V::from_u64(0), V::from_u64(18446744073709551615ull)}));
    w.set("t.f64s", V::from_array(ValueType::f64, {V::from_f64(1.5), V::from_f64(-0.0)}));
    w.set("t.bools", V::from_array(ValueType::boolean, {V::from_bool(true), V::from_bool(false), V::from_bool(true)}));
    w.set("t.nested", V::from_array(ValueType::array, {V::from_i32s(std::vector<std::int32_t>{1, 2}),
                                                       V::from_i32s(std::vector<std::int32_t>{3}),
                                                       V::from_i32s(std::vector<std::int32_t>{4, 5, 6})}));
    std::vector<float> f32(12);
    for (int i = 0; i < 12; ++i) f32[static_cast<std::size_t>(i)] = static_cast<float>(i) * 0.25f - 1.0f;
    w.add_tensor_f32("t.f32", {4, 3}, f32);
    std::vector<f16_bits> f16(16);
    for (int i = 0; i < 16; ++i) f16[static_cast<std::size_t>(i)] = fp32_to_fp16(static_cast<float>(i) / 8.0f - 1.0f);
    w.add_tensor("t.f16", TensorType::F16, {8, 2}, std::as_bytes(std::span<const f16_bits>(f16)));
    w.add_tensor("t.bf16", TensorType::BF16, {8, 2}, w2s::test::pattern_bytes(32, 1));
    w.add_tensor("t.q8_0", TensorType::Q8_0, {64, 2}, w2s::test::pattern_bytes(136, 2));
    w.add_tensor("t.q4_k", TensorType::Q4_K, {256, 1}, w2s::test::pattern_bytes(144, 3));
    return w;
}

/// The content CPP_KEYS / CPP_TENSORS in make_gguf_golden.py expect.
Writer cpp_file_content() {
    Writer w;
    w.set("general.architecture", V::from_string("w2s-cpp"));
    w.set("c.u8", V::from_u8(255));
    w.set("c.i8", V::from_i8(-128));
    w.set("c.u16", V::from_u16(65535));
    w.set("c.i16", V::from_i16(-32768));
    w.set("c.u32", V::from_u32(4294967295u));
    w.set("c.i32", V::from_i32(-2147483647 - 1));
    w.set("c.u64", V::from_u64(18446744073709551615ull));
    w.set("c.i64", V::from_i64(-9223372036854775807ll - 1));
    w.set("c.f32", V::from_f32(1e-40f));
    w.set("c.f64", V::from_f64(1e300));
    w.set("c.bool", V::from_bool(true));
    w.set("c.empty_string", V::from_string(""));
    w.set("c.nul_string", V::from_string(std::string("a\0b", 3)));
    w.set("c.utf8", V::from_string("\xC3\xA7" "a va \xF0\x9F\x98\x80"));
    w.set("c.strings", V::from_strings({"<|im_end|>", "", "x"}));
    w.set("c.empty_array", V::from_array(ValueType::i32, {}));
    w.set("c.i16s", V::from_array(ValueType::i16, {V::from_i16(-1), V::from_i16(0), V::from_i16(32767)}));
    w.set("c.f32s", V::from_f32s(std::vector<float>{0.1f, -2.5f, 1e30f}));
    auto u32s = [](std::initializer_list<std::uint32_t> xs) {
        std::vector<V> items;
        for (auto x : xs) items.push_back(V::from_u32(x));
        return V::from_array(ValueType::u32, std::move(items));
    };
    w.set("c.nested", V::from_array(ValueType::array,
                                    {V::from_array(ValueType::array, {u32s({1}), u32s({2, 3})}),
                                     V::from_array(ValueType::array, {u32s({4})})}));
    w.set("c.nested_strings", V::from_array(ValueType::array, {V::from_strings({"p", "q"}), V::from_strings({"r"})}));
    struct T {
        const char* name;
        TensorType type;
        std::vector<std::uint64_t> ne;
    };
    const std::vector<T> tensors = {
        {"c.f32", TensorType::F32, {3, 2}},        {"c.f16", TensorType::F16, {4}},
        {"c.bf16", TensorType::BF16, {2, 2}},      {"c.q4_0", TensorType::Q4_0, {32, 2}},
        {"c.q4_1", TensorType::Q4_1, {64}},        {"c.q5_0", TensorType::Q5_0, {32}},
        {"c.q5_1", TensorType::Q5_1, {32, 1, 2}},  {"c.q8_0", TensorType::Q8_0, {32, 3}},
        {"c.q2_k", TensorType::Q2_K, {256}},       {"c.q3_k", TensorType::Q3_K, {256}},
        {"c.q4_k", TensorType::Q4_K, {256, 2}},    {"c.q5_k", TensorType::Q5_K, {256}},
        {"c.q6_k", TensorType::Q6_K, {256, 1, 1, 2}},
    };
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        const auto tr = *tensor_type_traits(static_cast<std::uint32_t>(t.type));
        std::uint64_t n = 1;
        for (auto x : t.ne) n *= x;
        if (t.type == TensorType::F32) {
            std::vector<float> v(n);
            for (std::size_t k = 0; k < n; ++k) v[k] = static_cast<float>(k) * 0.5f - 3.0f;
            w.add_tensor_f32(t.name, t.ne, v);
        } else {
            w.add_tensor(t.name, t.type, t.ne, w2s::test::pattern_bytes(n / tr.block_size * tr.type_size, i));
        }
    }
    return w;
}

struct DequantGolden {
    TensorType type;
    std::vector<std::byte> blocks;
    std::vector<float> expected;
};

DequantGolden load_dequant(const std::string& name) {
    const auto b = read_bytes(w2s::test::golden_path("gguf_dequant_" + name + ".bin"));
    BOOST_TEST_REQUIRE(b.size() >= 24u);
    BOOST_TEST_REQUIRE(std::memcmp(b.data(), "W2SQ", 4) == 0);
    std::uint32_t type = 0;
    std::uint64_t n_el = 0, n_bytes = 0;
    std::memcpy(&type, b.data() + 4, 4);
    std::memcpy(&n_el, b.data() + 8, 8);
    std::memcpy(&n_bytes, b.data() + 16, 8);
    BOOST_TEST_REQUIRE(b.size() == 24 + n_bytes + 4 * n_el);
    DequantGolden g{static_cast<TensorType>(type), {}, std::vector<float>(n_el)};
    g.blocks.assign(b.begin() + 24, b.begin() + 24 + static_cast<std::ptrdiff_t>(n_bytes));
    std::memcpy(g.expected.data(), b.data() + 24 + n_bytes, 4 * n_el);
    return g;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(golden)

// Bit-exact: every float's bits equal gguf.quants.dequantize's, except that any NaN matches any NaN
// (payloads are counted and reported, not required).
BOOST_AUTO_TEST_CASE(dequantize_matches_gguf_package_bit_for_bit) {
    const std::vector<std::pair<std::string, TensorType>> types = {
        {"F32", TensorType::F32},   {"F16", TensorType::F16},   {"BF16", TensorType::BF16},
        {"Q4_0", TensorType::Q4_0}, {"Q4_1", TensorType::Q4_1}, {"Q5_0", TensorType::Q5_0},
        {"Q5_1", TensorType::Q5_1}, {"Q8_0", TensorType::Q8_0}, {"Q2_K", TensorType::Q2_K},
        {"Q3_K", TensorType::Q3_K}, {"Q4_K", TensorType::Q4_K}, {"Q5_K", TensorType::Q5_K},
        {"Q6_K", TensorType::Q6_K},
    };
    for (const auto& [name, type] : types) {
        BOOST_TEST_CONTEXT("type " << name) {
            const auto g = load_dequant(name);
            BOOST_TEST_REQUIRE((g.type == type));
            BOOST_TEST_REQUIRE(row_size_bytes(type, g.expected.size()) == g.blocks.size());
            std::vector<float> got(g.expected.size(), -12345.0f);
            dequantize_row_ref(type, g.blocks.data(), got.data(), got.size());
            std::size_t mismatches = 0, nan_payload_diffs = 0, nans = 0;
            for (std::size_t i = 0; i < got.size(); ++i) {
                const auto a = std::bit_cast<std::uint32_t>(got[i]);
                const auto e = std::bit_cast<std::uint32_t>(g.expected[i]);
                if (std::isnan(g.expected[i])) {
                    ++nans;
                    if (!std::isnan(got[i])) ++mismatches;
                    else if (a != e) ++nan_payload_diffs;
                } else if (a != e) {
                    if (mismatches < 5)
                        BOOST_TEST_MESSAGE(name << "[" << i << "]: got " << got[i] << " (0x" << std::hex << a
                                                << "), expected " << g.expected[i] << " (0x" << e << std::dec << ")");
                    ++mismatches;
                }
            }
            BOOST_TEST(mismatches == 0u, name << ": " << mismatches << " of " << got.size() << " floats differ");
            BOOST_TEST_MESSAGE(name << ": " << got.size() << " floats bit-identical, " << nans << " NaNs ("
                                    << nan_payload_diffs << " with another payload)");
            // the same data split into rows of one block each gives the same floats
            const auto tr = *tensor_type_traits(static_cast<std::uint32_t>(type));
            std::vector<float> by_block(got.size());
            for (std::size_t b = 0; b < got.size() / tr.block_size; ++b)
                dequantize_row_ref(type, g.blocks.data() + b * tr.type_size, by_block.data() + b * tr.block_size, tr.block_size);
            BOOST_TEST(std::memcmp(by_block.data(), got.data(), 4 * got.size()) == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(reads_file_written_by_gguf_package) {
    const std::string path = w2s::test::golden_path("gguf_writer_py.gguf.bin");
    const File f(path);
    BOOST_TEST(f.version() == 3u);
    BOOST_TEST(f.alignment() == 64u);
    // a few values spelled out (independent of python_file_content())
    BOOST_TEST(f.get_string("general.architecture") == "w2s-test");
    BOOST_TEST(f.get_int("t.i8") == -100);
    BOOST_TEST(f.get("t.u64").as_double() == 9223372036854775813.0);
    BOOST_TEST(std::get<std::uint64_t>(f.get("t.u64").storage()) == 9223372036854775813ull);
    BOOST_TEST(std::get<std::int64_t>(f.get("t.i64").storage()) == -4611686018427387911ll);
    BOOST_TEST(static_cast<float>(f.get_double("t.f32")) == 3.14159f);
    BOOST_TEST(f.get_bool("t.true"));
    BOOST_TEST(f.get_strings("t.strings")[2] == "\xE6\x97\xA5\xE6\x9C\xAC");
    BOOST_TEST(f.get("t.nested").as_array().items.at(2).as_array().items.at(1).as_int() == 5);
    BOOST_TEST(std::signbit(f.get_numbers("t.f64s")[1]));
    const auto& t = f.tensor("t.f32");
    BOOST_TEST(t.ne == (std::vector<std::uint64_t>{4, 3}), boost::test_tools::per_element());
    BOOST_TEST(reinterpret_cast<const float*>(t.data)[5] == 0.25f);
    BOOST_TEST(f.tensor("t.q4_k").ne == (std::vector<std::uint64_t>{256, 1}), boost::test_tools::per_element());

    // every key, type and value equals the C++ definition of the same content
    const Writer w = python_file_content();
    const File mine(w.to_bytes(), "cpp-built");
    BOOST_TEST(f.keys() == mine.keys(), boost::test_tools::per_element());
    for (const auto& k : mine.keys()) BOOST_TEST((f.get(k) == mine.get(k)), "key " << k);
    BOOST_TEST_REQUIRE(f.tensors().size() == mine.tensors().size());
    for (std::size_t i = 0; i < f.tensors().size(); ++i) {
        const auto& a = f.tensors()[i];
        const auto& b = mine.tensors()[i];
        BOOST_TEST(a.name == b.name);
        BOOST_TEST((a.type == b.type));
        BOOST_TEST(a.ne == b.ne, boost::test_tools::per_element());
        BOOST_TEST(a.offset == b.offset);
        BOOST_TEST(std::equal(a.data, a.data + a.n_bytes, b.data, b.data + b.n_bytes), a.name);
    }
}

BOOST_AUTO_TEST_CASE(writer_rebuilds_gguf_package_file_byte_for_byte) {
    const auto want = read_bytes(w2s::test::golden_path("gguf_writer_py.gguf.bin"));
    const auto got = python_file_content().to_bytes();
    BOOST_TEST(got.size() == want.size());
    std::size_t first_diff = 0;
    while (first_diff < std::min(got.size(), want.size()) && got[first_diff] == want[first_diff]) ++first_diff;
    BOOST_TEST((got == want), "first difference at byte " << first_diff);
}

BOOST_AUTO_TEST_CASE(cpp_written_golden_is_reproduced) {
    const std::string path = w2s::test::golden_path("gguf_writer_cpp.gguf.bin");
    const Writer w = cpp_file_content();
    if (update_golden()) {
        w.write(path);
        BOOST_TEST_MESSAGE("wrote " << path << "; now run tests/reference/make_gguf_golden.py --check-only");
    }
    BOOST_TEST_REQUIRE(std::filesystem::exists(path),
                       path << " is missing: run this test with W2S_UPDATE_GOLDEN=1, then the script with --check-only");
    const auto want = read_bytes(path);
    BOOST_TEST((w.to_bytes() == want), "C++ writer output differs from " << path);
    // and it reads back with every value
    const File f(path);
    const File mine(w.to_bytes(), "cpp-built");
    BOOST_TEST(f.keys() == mine.keys(), boost::test_tools::per_element());
    BOOST_TEST(f.keys().size() == 21u);
    for (const auto& k : mine.keys()) BOOST_TEST((f.get(k) == mine.get(k)), "key " << k);
    BOOST_TEST(f.tensors().size() == 13u);
    BOOST_TEST(f.get_string("c.nul_string").size() == 3u);
    BOOST_TEST(f.get("c.empty_array").as_array().items.empty());
    BOOST_TEST((f.get("c.empty_array").as_array().elem_type == ValueType::i32));
}

BOOST_AUTO_TEST_SUITE_END()
