// Writer round trip: every value type, nested and empty arrays, several tensor types, alignments; and the
// writer's refusals (shape_error, invalid_argument, io_error) with their messages.
#include <boost/test/unit_test.hpp>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>

#include "gguf_test_util.hpp"

using namespace w2s::gguf;
using w2s::test::expect_error;

namespace {

/// One value of every type, arrays of several element types, nested arrays (mixed inner types), empty ones.
std::vector<std::pair<std::string, Value>> all_values() {
    using V = Value;
    std::vector<std::pair<std::string, Value>> kv = {
        {"general.architecture", V::from_string("roundtrip")},
        {"u8", V::from_u8(255)},
        {"i8", V::from_i8(-128)},
        {"u16", V::from_u16(65535)},
        {"i16", V::from_i16(-32768)},
        {"u32", V::from_u32(4294967295u)},
        {"i32", V::from_i32(std::numeric_limits<std::int32_t>::min())},
        {"u64", V::from_u64(std::numeric_limits<std::uint64_t>::max())},
        {"i64", V::from_i64(std::numeric_limits<std::int64_t>::min())},
        {"f32", V::from_f32(-1.0e-40f)},
        {"f32.inf", V::from_f32(std::numeric_limits<float>::infinity())},
        {"f64", V::from_f64(6.02214076e23)},
        {"bool.t", V::from_bool(true)},
        {"bool.f", V::from_bool(false)},
        {"string", V::from_string(std::string("nul\0inside \xE2\x9C\x93", 15))},
        {"string.empty", V::from_string("")},
        {"strings", V::from_strings({"<|im_start|>", "", "\xC3\xA9"})},
        {"f32s", V::from_f32s(std::vector<float>{0.5f, -0.0f, 3.0e38f})},
        {"i32s", V::from_i32s(std::vector<std::int32_t>{1, -1, 2147483647})},
        {"empty", V::from_array(ValueType::u64, {})},
        {"bools", V::from_array(ValueType::boolean, {V::from_bool(true), V::from_bool(false)})},
        {"f64s", V::from_array(ValueType::f64, {V::from_f64(1e-310), V::from_f64(-2.5)})},
        {"nested",
         V::from_array(ValueType::array,
                       {V::from_array(ValueType::u8, {V::from_u8(1), V::from_u8(2)}),
                        V::from_array(ValueType::string, {V::from_string("inner")}),
                        V::from_array(ValueType::array, {V::from_array(ValueType::i64, {V::from_i64(-5)})}),
                        V::from_array(ValueType::f32, {})})},
    };
    return kv;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(writer)

BOOST_AUTO_TEST_CASE(round_trip_every_value_type_and_tensor_types) {
    for (std::size_t alignment : {std::size_t{32}, std::size_t{1}, std::size_t{8}, std::size_t{64}, std::size_t{256}}) {
        BOOST_TEST_CONTEXT("alignment " << alignment) {
            Writer w(alignment);
            const auto kv = all_values();
            for (const auto& [k, v] : kv) w.set(k, v);
            std::vector<float> f32{1.0f, -2.0f, 0.25f, 1e-45f, -0.0f, 7.0f};
            w.add_tensor_f32("t.f32", {3, 2}, f32);
            const auto q4k = w2s::test::pattern_bytes(2 * 144, 1);
            w.add_tensor("t.q4_k", TensorType::Q4_K, {256, 2}, q4k);
            const auto q80 = w2s::test::pattern_bytes(3 * 34, 2);
            w.add_tensor("t.q8_0", TensorType::Q8_0, {32, 1, 3}, q80);
            const auto f16 = w2s::test::pattern_bytes(10, 3);
            w.add_tensor("t.f16", TensorType::F16, {5}, f16);
            const auto q41 = w2s::test::pattern_bytes(20 * 2 * 2 * 2, 4);
            w.add_tensor("t.q4_1", TensorType::Q4_1, {64, 2, 2, 1}, q41);
            w.add_tensor("t.empty", TensorType::F32, {0, 4}, {});

            const auto bytes = w.to_bytes();
            BOOST_TEST(bytes.size() % alignment == 0u);
            const File f(bytes, "rt.gguf");
            BOOST_TEST(f.version() == 3u);
            BOOST_TEST(f.alignment() == alignment);
            // keys in order; general.alignment appended when not the default
            std::vector<std::string> want_keys;
            for (const auto& [k, v] : kv) want_keys.push_back(k);
            if (alignment != 32) want_keys.push_back("general.alignment");
            BOOST_TEST(f.keys() == want_keys, boost::test_tools::per_element());
            for (const auto& [k, v] : kv) BOOST_TEST((f.get(k) == v), "key " << k);
            if (alignment != 32) BOOST_TEST(f.get_int("general.alignment") == static_cast<std::int64_t>(alignment));
            // f64 subnormal and f32 subnormal keep their bits
            // == on values compares numbers; check bits where it matters (subnormals, the sign of zero)
            BOOST_TEST(std::bit_cast<std::uint64_t>(f.get_numbers("f64s")[0]) == std::bit_cast<std::uint64_t>(1e-310));
            BOOST_TEST(std::signbit(f.get_numbers("f32s")[1]));
            BOOST_TEST(std::bit_cast<std::uint32_t>(static_cast<float>(f.get_double("f32"))) ==
                       std::bit_cast<std::uint32_t>(-1.0e-40f));
            BOOST_TEST(f.get_string("string").size() == 15u);
            BOOST_TEST(f.get_strings("strings")[0] == "<|im_start|>");

            BOOST_TEST_REQUIRE(f.tensors().size() == 6u);
            auto same = [&](const std::string& name, TensorType t, std::vector<std::uint64_t> ne, std::span<const std::byte> data) {
                const auto& ti = f.tensor(name);
                BOOST_TEST((ti.type == t), name);
                BOOST_TEST(ti.ne == ne, boost::test_tools::per_element());
                BOOST_TEST(ti.n_bytes == data.size());
                BOOST_TEST((f.data_offset() + ti.offset) % alignment == 0u, name << " is not aligned");
                BOOST_TEST(std::equal(data.begin(), data.end(), ti.data), name << " bytes differ");
            };
            same("t.f32", TensorType::F32, {3, 2}, std::as_bytes(std::span<const float>(f32)));
            same("t.q4_k", TensorType::Q4_K, {256, 2}, q4k);
            same("t.q8_0", TensorType::Q8_0, {32, 1, 3}, q80);
            same("t.f16", TensorType::F16, {5}, f16);
            same("t.q4_1", TensorType::Q4_1, {64, 2, 2, 1}, q41);
            same("t.empty", TensorType::F32, {0, 4}, {});
            BOOST_TEST(f.tensor("t.q4_k").rows() == 2u);
            BOOST_TEST(f.tensor("t.q4_k").row_bytes() == 144u);
        }
    }
}

BOOST_AUTO_TEST_CASE(set_replaces_in_place_and_write_to_disk) {
    Writer w;
    w.set("a", Value::from_u32(1));
    w.set("b", Value::from_string("x"));
    w.set("a", Value::from_i64(-9));  // replaces, keeps position and takes the new type
    BOOST_TEST(w.key_count() == 2u);
    BOOST_TEST(w.find("a")->as_int() == -9);
    BOOST_TEST(w.find("zz") == nullptr);
    std::vector<float> v{1, 2, 3, 4};
    w.add_tensor_f32("direction.1", {4}, v);
    const auto path = (std::filesystem::temp_directory_path() / "w2s_gguf_writer_test.gguf").string();
    w.write(path);
    {
        const File f(path);
        BOOST_TEST(f.keys() == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
        BOOST_TEST((f.get("a").type() == ValueType::i64));
        BOOST_TEST(f.get_int("a") == -9);
        BOOST_TEST(f.file_size() == w.to_bytes().size());
        const auto& t = f.tensor("direction.1");
        const float* p = reinterpret_cast<const float*>(t.data);
        BOOST_TEST(std::vector<float>(p, p + 4) == v, boost::test_tools::per_element());
    }
    std::filesystem::remove(path);
}

BOOST_AUTO_TEST_CASE(writing_over_a_mapped_file_leaves_the_reader_its_copy) {
    // write() goes to a temporary name and renames it into place: a File that maps the old contents keeps reading
    // them (a write in place would truncate under the mapping: SIGBUS), the new File reads the new ones, and no
    // temporary file is left beside it.
    const auto dir = std::filesystem::temp_directory_path() / ("w2s_gguf_overwrite_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "v.gguf").string();
    std::vector<float> big(1 << 16, 1.0f), small{2, 3};
    Writer a;
    a.add_tensor_f32("direction.1", {big.size()}, big);
    a.write(path);
    const File old(path);
    Writer b;
    b.add_tensor_f32("direction.1", {small.size()}, small);
    b.write(path);
    const File now(path);
    const auto& t_old = old.tensor("direction.1");
    const float* p = reinterpret_cast<const float*>(t_old.data);
    BOOST_TEST(t_old.ne[0] == big.size());
    BOOST_TEST(p[big.size() - 1] == 1.0f);  // beyond the new file's end: still the old mapping
    BOOST_TEST(now.tensor("direction.1").ne[0] == 2u);
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
    BOOST_TEST(files == 1u);
    // a folder that cannot be written: io_error naming the path, nothing created
    BOOST_CHECK_THROW(b.write((dir / "missing" / "v.gguf").string()), w2s::io_error);
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(refusals) {
    Writer w;
    std::vector<float> six(6);
    expect_error<w2s::shape_error>([&] { w.add_tensor_f32("t", {4, 2}, six); },
                                   {"gguf writer: tensor 't': F32 4x2 needs 32 bytes, got 24"});
    expect_error<w2s::shape_error>([&] { w.add_tensor("q", TensorType::Q4_0, {48}, w2s::test::pattern_bytes(27, 0)); },
                                   {"tensor 'q': row length 48 is not a multiple of the Q4_0 block size 32"});
    expect_error<w2s::shape_error>([&] { w.add_tensor_f32("t", {1, 1, 1, 1, 1}, std::span<const float>(six).first(1)); },
                                   {"tensor 't': 5 dimensions, expected at most 4"});
    expect_error<w2s::shape_error>([&] { w.add_tensor_f32("t", {std::uint64_t{1} << 32, std::uint64_t{1} << 32}, six); },
                                   {"tensor 't': element count of shape 4294967296x4294967296 overflows int64"});
    w.add_tensor_f32("t", {6}, six);
    expect_error<w2s::invalid_argument>([&] { w.add_tensor_f32("t", {6}, six); }, {"tensor 't' is added twice"});
    expect_error<w2s::invalid_argument>([&] { w.add_tensor_f32("", {6}, six); }, {"empty tensor name"});
    expect_error<w2s::invalid_argument>([&] { w.add_tensor_f32(std::string(64, 'n'), {6}, six); },
                                        {"name of 64 bytes, expected at most 63"});
    expect_error<w2s::invalid_argument>(
        [&] { w.add_tensor("u", static_cast<TensorType>(99), {6}, {}); }, {"tensor 'u': unknown tensor type 99"});
    expect_error<w2s::invalid_argument>([] { Writer bad(48); }, {"alignment 48 is not a power of two"});
    expect_error<w2s::invalid_argument>([] { Writer bad(0); }, {"alignment 0 is not a power of two"});
    expect_error<w2s::invalid_argument>([&] { w.set("general.alignment", Value::from_u32(64)); },
                                        {"general.alignment must be the u32 32"});
    expect_error<w2s::invalid_argument>([&] { w.set("", Value::from_u32(1)); }, {"empty metadata key"});
    w.set("general.alignment", Value::from_u32(32));  // the constructor's value is accepted

    // values whose storage does not fit their declared type are refused when encoding
    auto encode = [](const std::string& key, Value v) {
        Writer x;
        x.set(key, std::move(v));
        (void)x.to_bytes();
    };
    expect_error<w2s::invalid_argument>([&] { encode("k", Value(ValueType::u8, std::uint64_t{300})); },
                                        {"metadata key 'k': value 300 does not fit u8"});
    expect_error<w2s::invalid_argument>([&] { encode("k", Value(ValueType::u32, std::int64_t{-1})); },
                                        {"metadata key 'k': value -1 does not fit u32"});
    expect_error<w2s::invalid_argument>([&] { encode("k", Value(ValueType::i32, std::string("x"))); },
                                        {"metadata key 'k': declared i32 but does not hold an integer"});
    expect_error<w2s::invalid_argument>([&] { encode("k", Value(ValueType::f32, 1e300)); },
                                        {"metadata key 'k': value", "does not fit f32"});
    expect_error<w2s::invalid_argument>(
        [&] { encode("k", Value::from_array(ValueType::u8, {Value::from_u8(1), Value::from_i8(1)})); },
        {"metadata key 'k'[1]: item of type i8 in an array of u8"});
    Value deep = Value::from_array(ValueType::u8, {});
    for (int i = 0; i < 8; ++i) deep = Value::from_array(ValueType::array, {deep});
    expect_error<w2s::invalid_argument>([&] { encode("k", deep); }, {"arrays nested deeper than 8"});

    expect_error<w2s::io_error>([&] { w.write("/nonexistent/dir/out.gguf"); },
                                {"/nonexistent/dir/out.gguf: cannot open for writing"});
}

BOOST_AUTO_TEST_CASE(deepest_allowed_nesting_round_trips) {
    Value deep = Value::from_array(ValueType::u8, {Value::from_u8(9)});
    for (int i = 0; i < 7; ++i) deep = Value::from_array(ValueType::array, {deep});
    Writer w;
    w.set("deep", deep);
    const File f(w.to_bytes(), "deep.gguf");
    BOOST_TEST((f.get("deep") == deep));
}

BOOST_AUTO_TEST_SUITE_END()
