#include <boost/test/unit_test.hpp>

#include <cstring>

#include <w2s/gguf/reader.hpp>

namespace {
std::vector<std::byte> header(std::uint32_t version, std::uint64_t nt, std::uint64_t nkv) {
    std::vector<std::byte> b(24);
    std::uint32_t magic = w2s::gguf::kMagic;
    std::memcpy(b.data(), &magic, 4);
    std::memcpy(b.data() + 4, &version, 4);
    std::memcpy(b.data() + 8, &nt, 8);
    std::memcpy(b.data() + 16, &nkv, 8);
    return b;
}
}  // namespace

BOOST_AUTO_TEST_CASE(empty_header_parses) {
    w2s::gguf::File f(header(3, 0, 0), "mem");
    BOOST_TEST(f.version() == 3u);
    BOOST_TEST(f.tensors().empty());
}

BOOST_AUTO_TEST_CASE(bad_version_is_named) {
    try {
        w2s::gguf::File f(header(7, 0, 0), "v7.gguf");
        BOOST_FAIL("no throw");
    } catch (const w2s::format_error& e) {
        BOOST_TEST(std::string(e.what()).find("v7.gguf: unknown GGUF version 7") != std::string::npos);
    }
}
