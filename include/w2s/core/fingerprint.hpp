// w2s/core/fingerprint.hpp — a 64-bit fingerprint of bytes (FNV-1a), for two jobs:
//   * saying whether a stored product was made from the same inputs as the run that wants to reuse it (a sweep
//     record's token ids, a vector file's train items and estimator): equal inputs give equal fingerprints on
//     every machine (the bytes are fed in a fixed order, integers little-endian as stored);
//   * a record checksum, so that a damaged or torn record is refused instead of read as numbers.
// Not a cryptographic hash: it catches accidents (another split, a flipped byte), not an adversary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace w2s {

class Fingerprint {
public:
    static constexpr std::uint64_t kOffset = 0xcbf29ce484222325ull;
    static constexpr std::uint64_t kPrime = 0x100000001b3ull;

    Fingerprint& bytes(const void* p, std::size_t n) noexcept {
        const auto* b = static_cast<const unsigned char*>(p);
        std::uint64_t h = h_;
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * kPrime;
        h_ = h;
        return *this;
    }
    /// One trivially copyable value, as its bytes.
    template <class T>
        requires std::is_trivially_copyable_v<T>
    Fingerprint& add(const T& v) noexcept { return bytes(&v, sizeof(T)); }
    /// A sequence, length first (so that {1,2},{3} and {1},{2,3} differ).
    template <class T>
        requires std::is_trivially_copyable_v<T>
    Fingerprint& add(std::span<const T> v) noexcept {
        add(static_cast<std::uint64_t>(v.size()));
        return bytes(v.data(), v.size() * sizeof(T));
    }
    Fingerprint& add(std::string_view s) noexcept {
        add(static_cast<std::uint64_t>(s.size()));
        return bytes(s.data(), s.size());
    }

    [[nodiscard]] std::uint64_t value() const noexcept { return h_; }
    /// 16 lower-case hex digits.
    [[nodiscard]] std::string hex() const { return to_hex(h_); }

    static std::string to_hex(std::uint64_t v) {
        static constexpr char d[] = "0123456789abcdef";
        std::string s(16, '0');
        for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = d[v & 15];
        return s;
    }

private:
    std::uint64_t h_ = kOffset;
};

/// The fingerprint of a byte range on its own.
[[nodiscard]] inline std::uint64_t fingerprint_bytes(const void* p, std::size_t n) noexcept {
    return Fingerprint().bytes(p, n).value();
}

}  // namespace w2s
