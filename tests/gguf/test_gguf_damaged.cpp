// A corpus of damaged GGUF images, each checked for the exception kind and what its message says.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>

#include "gguf_test_util.hpp"

using namespace w2s::gguf;
using w2s::test::Bytes;
using w2s::test::expect_format_error;

namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

/// A small valid file: 4 keys (string, u32, string array, nested i8 arrays), tensors a (F32 4x2) and b (Q8_0 32).
std::vector<std::byte> small_valid_file() {
    Writer w;
    w.set("general.architecture", Value::from_string("tiny"));
    w.set("k.u32", Value::from_u32(7));
    w.set("k.strings", Value::from_strings({"ab", "c"}));
    w.set("k.nested", Value::from_array(ValueType::array, {Value::from_array(ValueType::i8, {Value::from_i8(1), Value::from_i8(-2)})}));
    std::vector<float> a(8, 1.5f);
    w.add_tensor_f32("a", {4, 2}, a);
    w.add_tensor("b", TensorType::Q8_0, {32}, w2s::test::pattern_bytes(34, 0));
    return w.to_bytes();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(damaged)

BOOST_AUTO_TEST_CASE(small_valid_file_parses) {
    File f(small_valid_file(), "small.gguf");
    BOOST_TEST(f.keys().size() == 4u);
    BOOST_TEST(f.tensors().size() == 2u);
    BOOST_TEST(f.tensor("b").n_bytes == 34u);
    BOOST_TEST(f.tensor("b").offset == 32u);
}

BOOST_AUTO_TEST_CASE(every_truncation_is_refused_with_a_clear_message) {
    const auto full = small_valid_file();
    const File ref(full, "full.gguf");
    const auto& b = ref.tensor("b");
    const std::size_t data_end = ref.data_offset() + b.offset + b.n_bytes;  // last byte any tensor uses
    BOOST_TEST_REQUIRE(data_end < full.size());                             // the rest is padding
    bool seen_beyond = false;
    std::size_t n_truncated = 0, n_impossible = 0, n_beyond = 0, n_array = 0;
    for (std::size_t len = 0; len < full.size(); ++len) {
        std::vector<std::byte> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
        if (len >= data_end) {  // only padding is missing: still a complete file
            File f(prefix, "prefix.gguf");
            BOOST_TEST(f.tensor("b").n_bytes == 34u);
            continue;
        }
        try {
            File f(prefix, "prefix.gguf");
            BOOST_ERROR("prefix of " << len << " bytes parsed");
        } catch (const w2s::format_error& e) {
            const std::string m = e.what();
            BOOST_TEST(m.rfind("prefix.gguf: ", 0) == 0u, m);
            if (m.find("truncated file") != std::string::npos) {
                BOOST_TEST(!seen_beyond, "truncated after beyond-EOF at " << len << ": " << m);
                BOOST_TEST(m.find("(file size " + std::to_string(len) + ")") != std::string::npos, m);
                BOOST_TEST(m.find("needs ") != std::string::npos, m);
                ++n_truncated;
            } else if (m.find("elements needs at least") != std::string::npos) {  // an array count beyond the end
                BOOST_TEST(!seen_beyond, m);
                BOOST_TEST(m.find("bytes that remain") != std::string::npos, m);
                ++n_array;
            } else if (m.find("is impossible") != std::string::npos) {
                BOOST_TEST(len < 128u, m);  // only while the counts exceed what the bytes could hold
                ++n_impossible;
            } else if (m.find("lies beyond the end of the file") != std::string::npos) {
                seen_beyond = true;
                BOOST_TEST(m.find("expected at most the file size " + std::to_string(len)) != std::string::npos, m);
                ++n_beyond;
            } else {
                BOOST_ERROR("unexpected message at " << len << ": " << m);
            }
        }
    }
    BOOST_TEST(n_truncated > 100u);
    BOOST_TEST(n_impossible > 0u);
    BOOST_TEST(n_beyond > 60u);
    BOOST_TEST(n_array > 20u);
}

BOOST_AUTO_TEST_CASE(empty_file) {
    expect_format_error({}, "empty.gguf", {"empty.gguf: truncated file: magic needs 4 bytes at offset 0, only 0 remain"});
}

BOOST_AUTO_TEST_CASE(bad_magic) {
    auto b = small_valid_file();
    b[3] = std::byte{'X'};
    expect_format_error(b, "m.gguf", {"m.gguf: bad magic 'GGUX'", "expected 'GGUF'"});
    b[0] = std::byte{0};
    expect_format_error(b, "m.gguf", {"bad magic '?GUX' (0x58554700)"});
}

BOOST_AUTO_TEST_CASE(unknown_versions) {
    expect_format_error(Bytes{}.header(4, 0, 0).b, "v.gguf", {"v.gguf: unknown GGUF version 4, expected 2 or 3"});
    expect_format_error(Bytes{}.header(1, 0, 0).b, "v.gguf", {"unknown GGUF version 1", "version 1 files are not supported"});
    expect_format_error(Bytes{}.header(0x03000000u, 0, 0).b, "v.gguf", {"unknown GGUF version 50331648", "big-endian"});
    expect_format_error(Bytes{}.header(0, 0, 0).b, "v.gguf", {"unknown GGUF version 0, expected 2 or 3"});
}

BOOST_AUTO_TEST_CASE(version_2_and_3_parse_alike) {
    for (std::uint32_t v : {2u, 3u}) {
        Bytes b;
        b.header(v, 1, 1).kv_u32("x", 5).tensor("t", {2}, 0, 0).pad(32).put(1.0f).put(2.0f);
        File f(b.b, "v.gguf");
        BOOST_TEST(f.version() == v);
        BOOST_TEST(f.get_int("x") == 5);
        BOOST_TEST(f.tensor("t").n_bytes == 8u);
    }
}

BOOST_AUTO_TEST_CASE(huge_counts) {
    expect_format_error(Bytes{}.header(3, 0, kU64Max).b, "c.gguf",
                        {"c.gguf: metadata count 18446744073709551615 is impossible", "at least 13 bytes", "only 0 bytes"});
    expect_format_error(Bytes{}.header(3, std::uint64_t{1} << 60, 0).zeros(100).b, "c.gguf",
                        {"tensor count 1152921504606846976 is impossible", "at least 24 bytes", "only 100 bytes"});
    // string length beyond the limit, and beyond the file
    expect_format_error(Bytes{}.header(3, 0, 1).u64(std::uint64_t{1} << 40).zeros(16).b, "c.gguf",
                        {"metadata key #0: string length 1099511627776 exceeds the limit of 1073741824 bytes"});
    expect_format_error(Bytes{}.header(3, 0, 1).u64(1000).zeros(16).b, "c.gguf",
                        {"truncated file: metadata key #0 (string of 1000 bytes) needs 1000 bytes at offset 32, only 16 remain"});
    // array lengths that cannot fit
    expect_format_error(Bytes{}.header(3, 0, 1).str("arr").u32(9).u32(0).u64(std::uint64_t{1} << 62).zeros(8).b, "c.gguf",
                        {"value of metadata key 'arr': array of 4611686018427387904 u8 elements needs at least",
                         "expected at most the 8 bytes that remain"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("arr").u32(9).u32(8).u64(kU64Max / 2).zeros(8).b, "c.gguf",
                        {"array of 9223372036854775807 string elements needs at least 2^64 or more bytes"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("arr").u32(9).u32(9).u64(3).zeros(30).b, "c.gguf",
                        {"array of 3 array elements needs at least 36 bytes, expected at most the 30 bytes"});
}

BOOST_AUTO_TEST_CASE(metadata_arrays_are_bounded_in_elements_not_only_bytes) {
    // Every element becomes a gguf::Value: a file of 2^24 + 1 bytes of u8 array would otherwise ask for ~48x that.
    const std::uint64_t n = kMaxMetadataElements + 1;
    expect_format_error(Bytes{}.header(3, 0, 1).str("big").u32(9).u32(0).u64(n).zeros(n).b, "m.gguf",
                        {"m.gguf: value of metadata key 'big': array of 16777217 elements brings the file's metadata arrays to "
                         "16777217 elements, beyond the limit of 16777216"});
    // The limit is for all arrays together, nested ones included (a lowered limit keeps this test small).
    auto two = [](std::uint64_t a, std::uint64_t b) {
        return Bytes{}.header(3, 0, 2).str("a").u32(9).u32(0).u64(a).zeros(a).str("b").u32(9).u32(9).u64(1).u32(0).u64(b).zeros(b).b;
    };
    try {
        (void)File(two(60, 40), "m.gguf", 100);
        BOOST_ERROR("101 elements were accepted under a limit of 100");
    } catch (const w2s::format_error& e) {
        BOOST_TEST(std::string(e.what()).find("metadata key 'b'[0]: array of 40 elements brings the file's metadata arrays to 101 "
                                              "elements, beyond the limit of 100") != std::string::npos, e.what());
    }
    const File f(two(60, 39), "m.gguf", 100);  // 60 + 1 + 39: exactly the limit
    BOOST_TEST(f.get("b").as_array().items.at(0).as_array().items.size() == 39u);
}

BOOST_AUTO_TEST_CASE(unknown_value_types) {
    expect_format_error(Bytes{}.header(3, 0, 1).str("k").u32(13).zeros(8).b, "t.gguf",
                        {"t.gguf: metadata key 'k': unknown value type 13, expected 0..12"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("k").u32(0xFFFFFFFFu).zeros(8).b, "t.gguf",
                        {"metadata key 'k': unknown value type 4294967295"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("k").u32(9).u32(77).u64(0).b, "t.gguf",
                        {"value of metadata key 'k': unknown array element type 77, expected 0..12"});
    // nested: the inner array's element type is bad; the message names the item
    expect_format_error(Bytes{}.header(3, 0, 1).str("k").u32(9).u32(9).u64(1).u32(55).u64(0).b, "t.gguf",
                        {"value of metadata key 'k'[0]: unknown array element type 55"});
}

BOOST_AUTO_TEST_CASE(bad_scalar_values) {
    expect_format_error(Bytes{}.header(3, 0, 1).str("flag").u32(7).put(std::uint8_t{2}).b, "b.gguf",
                        {"value of metadata key 'flag': bool byte is 2, expected 0 or 1"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("x").u32(6).put(std::uint16_t{0}).b, "b.gguf",
                        {"truncated file: value of metadata key 'x' needs 4 bytes at offset 37, only 2 remain"});
}

BOOST_AUTO_TEST_CASE(arrays_nested_too_deep) {
    Bytes b;
    b.header(3, 0, 1).str("deep").u32(9);
    for (int i = 0; i < 9; ++i) b.u32(9).u64(1);
    b.u32(0).u64(0);
    expect_format_error(b.b, "d.gguf", {"value of metadata key 'deep'[0][0][0][0][0][0][0][0]: arrays nested deeper than 8"});
    // 8 levels are fine
    Bytes ok;
    ok.header(3, 0, 1).str("deep").u32(9);
    for (int i = 0; i < 7; ++i) ok.u32(9).u64(1);
    ok.u32(5).u64(1).u32(42);
    File f(ok.b, "d.gguf");
    const Value* v = &f.get("deep");
    for (int i = 0; i < 7; ++i) v = &v->as_array().items.at(0);
    BOOST_TEST(v->as_array().items.at(0).as_int() == 42);
}

BOOST_AUTO_TEST_CASE(duplicate_keys_and_tensors) {
    expect_format_error(Bytes{}.header(3, 0, 2).kv_u32("dup", 1).kv_u32("dup", 2).b, "k.gguf",
                        {"k.gguf: metadata key 'dup' appears twice, expected unique keys"});
    expect_format_error(Bytes{}.header(3, 2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad(32).zeros(64).b, "k.gguf",
                        {"tensor 'w' appears twice, expected unique tensor names"});
}

BOOST_AUTO_TEST_CASE(unknown_tensor_type) {
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {32}, 99, 0).pad(32).zeros(64).b, "y.gguf",
                        {"y.gguf: tensor 'w': unknown tensor type 99, expected one of F32 (0), F16 (1)", "Q6_K (14)", "BF16 (30)"});
}

BOOST_AUTO_TEST_CASE(overflowing_and_bad_dimensions) {
    const std::uint64_t big = std::uint64_t{1} << 32;
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {big, big}, 0, 0).pad(32).b, "o.gguf",
                        {"o.gguf: tensor 'w': dimension 1 = 4294967296 overflows the element count", "below 2^63"});
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {kU64Max}, 0, 0).pad(32).b, "o.gguf",
                        {"tensor 'w': dimension 0 = 18446744073709551615 overflows"});
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {1, 2, 3, 4, 5}, 0, 0).pad(32).b, "o.gguf",
                        {"tensor 'w': 5 dimensions, expected at most 4"});
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {33}, 2, 0).pad(32).zeros(64).b, "o.gguf",
                        {"tensor 'w': row length 33 is not a multiple of the Q4_0 block size 32"});
    // fits int64 elements but F32 bytes overflow 64 bits? (2^62 elements * 4 bytes)
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {std::uint64_t{1} << 62}, 0, 0).pad(32).b, "o.gguf",
                        {"tensor 'w': byte size of 4611686018427387904 F32 overflows 64 bits"});
}

BOOST_AUTO_TEST_CASE(tensor_beyond_eof) {
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {8}, 0, 0).pad(32).zeros(31).b, "e.gguf",
                        {"e.gguf: tensor 'w' (8 F32, 32 bytes at data offset 0) lies beyond the end of the file: it would end at byte 96",
                         "expected at most the file size 95"});
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {8}, 0, 1u << 20).pad(32).zeros(32).b, "e.gguf",
                        {"tensor 'w' (8 F32, 32 bytes at data offset 1048576) lies beyond the end of the file"});
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {8}, 0, kU64Max - 31).pad(32).zeros(32).b, "e.gguf",
                        {"tensor 'w'", "it would end at byte 2^64 or more"});
}

BOOST_AUTO_TEST_CASE(misaligned_offsets_and_alignment_key) {
    expect_format_error(Bytes{}.header(3, 1, 0).tensor("w", {8}, 0, 4).pad(32).zeros(64).b, "a.gguf",
                        {"a.gguf: tensor 'w': offset 4 is not a multiple of the alignment 32"});
    // a custom alignment applies to offsets and to the data section
    Bytes b64;
    b64.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("w", {8}, 0, 32).pad(64).zeros(128);
    expect_format_error(b64.b, "a.gguf", {"tensor 'w': offset 32 is not a multiple of the alignment 64"});
    Bytes ok;
    ok.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("w", {8}, 0, 64).pad(64).zeros(96);
    File f(ok.b, "a.gguf");
    BOOST_TEST(f.alignment() == 64u);
    BOOST_TEST(f.data_offset() % 64 == 0u);
    expect_format_error(Bytes{}.header(3, 0, 1).kv_u32("general.alignment", 48).b, "a.gguf",
                        {"metadata key 'general.alignment': 48, expected a power of two"});
    expect_format_error(Bytes{}.header(3, 0, 1).kv_u32("general.alignment", 0).b, "a.gguf",
                        {"metadata key 'general.alignment': 0, expected a power of two"});
    expect_format_error(Bytes{}.header(3, 0, 1).str("general.alignment").u32(5).u32(32).b, "a.gguf",
                        {"metadata key 'general.alignment': type i32, expected u32"});
}

BOOST_AUTO_TEST_CASE(overlapping_tensors) {
    expect_format_error(Bytes{}.header(3, 2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad(32).zeros(64).b, "v.gguf",
                        {"v.gguf: tensor 'b' at data offset 32 overlaps tensor 'a' (data offsets 0..64), expected disjoint tensors"});
    // the same bytes in the other order in the file
    expect_format_error(Bytes{}.header(3, 2, 0).tensor("b", {8}, 0, 32).tensor("a", {16}, 0, 0).pad(32).zeros(64).b, "v.gguf",
                        {"tensor 'b' at data offset 32 overlaps tensor 'a'"});
    // empty tensors may share an offset
    File f(Bytes{}.header(3, 2, 0).tensor("e", {0}, 0, 0).tensor("a", {8}, 0, 0).pad(32).zeros(32).b, "v.gguf");
    BOOST_TEST(f.tensor("e").n_bytes == 0u);
}

BOOST_AUTO_TEST_CASE(typed_getters_name_key_and_types) {
    Bytes b;
    b.header(3, 0, 2).kv_str("s", "text").str("big").u32(10).u64(kU64Max);
    File f(b.b, "g.gguf");
    w2s::test::expect_error<w2s::format_error>([&] { (void)f.get_int("s"); },
                                               {"g.gguf: metadata key 's': expected an integer, found string"});
    w2s::test::expect_error<w2s::format_error>([&] { (void)f.get_int("big"); },
                                               {"metadata key 'big'", "18446744073709551615 does not fit int64"});
    w2s::test::expect_error<w2s::format_error>([&] { (void)f.get_string("nope"); }, {"g.gguf: metadata key 'nope' is missing"});
    w2s::test::expect_error<w2s::format_error>([&] { (void)f.tensor("w"); }, {"g.gguf: tensor 'w' is missing"});
    BOOST_TEST(f.get_int("nope", 7) == 7);
}

BOOST_AUTO_TEST_CASE(files_on_disk) {
    w2s::test::expect_error<w2s::io_error>([] { File f("/nonexistent/dir/x.gguf"); },
                                           {"/nonexistent/dir/x.gguf: cannot open: No such file or directory"});
    const auto dir = std::filesystem::temp_directory_path().string();
    w2s::test::expect_error<w2s::io_error>([&] { File f(dir); }, {dir + ": not a regular file"});
    // an empty file on disk is a format error (nothing to map)
    const auto empty = std::filesystem::temp_directory_path() / "w2s_gguf_empty_test.gguf";
    { std::FILE* fp = std::fopen(empty.c_str(), "wb"); BOOST_TEST_REQUIRE(fp != nullptr); std::fclose(fp); }
    w2s::test::expect_error<w2s::format_error>([&] { File f(empty.string()); }, {empty.string() + ": truncated file: magic"});
    std::filesystem::remove(empty);
}

BOOST_AUTO_TEST_SUITE_END()
