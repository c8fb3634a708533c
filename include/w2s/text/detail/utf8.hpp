// w2s/text/detail/utf8.hpp — small UTF-8 helpers and GPT-2's byte <-> printable-character alphabet.
// Internal: include <w2s/text/tokenizer.hpp> instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace w2s::text::detail {

/// Length in bytes of the UTF-8 sequence that starts with lead byte `c` (1 for a stray continuation byte,
/// so a scan always advances).
inline constexpr std::size_t utf8_len(unsigned char c) noexcept {
    if (c < 0x80) return 1;
    if ((c >> 5) == 0x6) return 2;
    if ((c >> 4) == 0xE) return 3;
    if ((c >> 3) == 0x1E) return 4;
    return 1;
}

/// Offset of the first invalid UTF-8 byte in `s`, or s.size() when `s` is valid (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF).
inline std::size_t utf8_first_invalid(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) { ++i; continue; }
        std::size_t len = 0;
        std::uint32_t cp = 0, min = 0;
        if ((c >> 5) == 0x6) { len = 2; cp = c & 0x1F; min = 0x80; }
        else if ((c >> 4) == 0xE) { len = 3; cp = c & 0x0F; min = 0x800; }
        else if ((c >> 3) == 0x1E) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return i;
        if (i + len > n) return i;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return n;
}

/// Number of code points in valid UTF-8 `s` (Python's len()).
inline std::size_t utf8_count(std::string_view s) noexcept {
    std::size_t k = 0;
    for (std::size_t i = 0; i < s.size(); i += utf8_len(static_cast<unsigned char>(s[i]))) ++k;
    return k;
}

inline void utf8_append(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Decodes the code point at s[i] (s valid UTF-8) and advances i.
inline std::uint32_t utf8_next(std::string_view s, std::size_t& i) noexcept {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = utf8_len(c);
    if (i + len > s.size()) len = 1;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3Fu);
    i += len;
    return cp;
}

/// GPT-2's reversible byte alphabet: every byte maps to a printable code point (printable Latin-1 bytes
/// map to themselves, the other 68 bytes to U+0100.. in byte order). `to_cp[b]` is the code point of byte b;
/// `from_cp(cp)` is the byte, or -1 when cp is not in the alphabet.
struct ByteAlphabet {
    std::array<std::uint32_t, 256> to_cp{};
    std::array<std::int16_t, 324> from{};  // indexed by code point < 324

    constexpr ByteAlphabet() {
        for (auto& f : from) f = -1;
        std::uint32_t next = 256;
        for (std::uint32_t b = 0; b < 256; ++b) {
            const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
            to_cp[b] = printable ? b : next++;
            from[to_cp[b]] = static_cast<std::int16_t>(b);
        }
    }
    [[nodiscard]] constexpr int from_cp(std::uint32_t cp) const noexcept { return cp < from.size() ? from[cp] : -1; }
};
inline constexpr ByteAlphabet kByteAlphabet{};

/// If every code point of `spelling` is in the byte alphabet, writes the bytes it spells into `out` and
/// returns true; otherwise returns false (and `out` is unspecified).
inline bool byte_level_unspell(std::string_view spelling, std::string& out) {
    out.clear();
    std::size_t i = 0;
    while (i < spelling.size()) {
        int b = kByteAlphabet.from_cp(utf8_next(spelling, i));
        if (b < 0) return false;
        out += static_cast<char>(b);
    }
    return true;
}

}  // namespace w2s::text::detail
