// Helpers for the gguf tests: a raw little-endian byte builder (to make damaged files the Writer would
// refuse to write), message checks, and the deterministic byte pattern shared with
// tests/reference/make_gguf_golden.py.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <w2s/core/error.hpp>
#include <w2s/gguf/reader.hpp>

namespace w2s::test {

/// Appends little-endian fields; used to build GGUF images field by field.
struct Bytes {
    std::vector<std::byte> b;

    template <class T>
    Bytes& put(T v) {
        const auto at = b.size();
        b.resize(at + sizeof(T));
        std::memcpy(b.data() + at, &v, sizeof(T));
        return *this;
    }
    Bytes& u32(std::uint32_t v) { return put(v); }
    Bytes& u64(std::uint64_t v) { return put(v); }
    Bytes& str(std::string_view s) {
        u64(s.size());
        for (char c : s) b.push_back(static_cast<std::byte>(c));
        return *this;
    }
    Bytes& header(std::uint32_t version, std::uint64_t n_tensors, std::uint64_t n_kv) {
        return u32(w2s::gguf::kMagic).u32(version).u64(n_tensors).u64(n_kv);
    }
    /// key + type + u32 value
    Bytes& kv_u32(std::string_view key, std::uint32_t v) { return str(key).u32(4).u32(v); }
    Bytes& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
    /// tensor info: name, dims, type, offset
    Bytes& tensor(std::string_view name, std::vector<std::uint64_t> ne, std::uint32_t type, std::uint64_t offset) {
        str(name).u32(static_cast<std::uint32_t>(ne.size()));
        for (auto x : ne) u64(x);
        return u32(type).u64(offset);
    }
    Bytes& pad(std::size_t alignment) {
        b.resize((b.size() + alignment - 1) / alignment * alignment);
        return *this;
    }
    Bytes& zeros(std::size_t n) {
        b.resize(b.size() + n);
        return *this;
    }
};

/// Runs f, which must throw exactly E (not just any w2s::error); every needle must occur in the message.
/// Returns the message.
template <class E, class F>
std::string expect_error(F&& f, std::initializer_list<std::string_view> needles) {
    try {
        f();
    } catch (const E& e) {
        const std::string msg = e.what();
        for (auto n : needles)
            BOOST_TEST(msg.find(n) != std::string::npos, "message '" << msg << "' lacks '" << n << "'");
        return msg;
    } catch (const std::exception& e) {
        BOOST_ERROR("wrong exception kind: " << e.what());
        return e.what();
    }
    BOOST_ERROR("no exception; expected one containing '" << (needles.size() ? *needles.begin() : "") << "'");
    return {};
}

/// Parses `bytes` as file `name`, expecting a format_error whose message holds all needles.
inline std::string expect_format_error(const std::vector<std::byte>& bytes, const std::string& name,
                                       std::initializer_list<std::string_view> needles) {
    return expect_error<w2s::format_error>([&] { w2s::gguf::File f(bytes, name); }, needles);
}

/// b[i] = (i * 31 + seed * 7 + 3) mod 256 — as pattern_bytes() in tests/reference/make_gguf_golden.py.
inline std::vector<std::byte> pattern_bytes(std::size_t n, std::size_t seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 31 + seed * 7 + 3) % 256);
    return v;
}

}  // namespace w2s::test
