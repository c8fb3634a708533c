// w2s/gguf/types.hpp — GGUF metadata value types and ggml tensor types, with their block sizes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace w2s::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
inline constexpr std::size_t kDefaultAlignment = 32;  // data alignment when general.alignment is absent
inline constexpr std::size_t kMaxDims = 4;            // GGML_MAX_DIMS
inline constexpr int kMaxArrayDepth = 8;               // arrays nest at most this deep (reader and writer)
/// Longest string (key, value or tensor name) the reader accepts, so a damaged length cannot allocate the world.
inline constexpr std::uint64_t kMaxStringBytes = std::uint64_t{1} << 30;
// Metadata array elements in one file, all arrays together: each becomes a gguf::Value (tens of bytes), so a
// file of N bytes of u8 arrays would otherwise ask for ~48 N bytes. Real models hold about 1-2 million (a 262k
// vocabulary's tokens, types and scores, and its merges); 2^24 bounds the reader's metadata to about 1 GiB.
inline constexpr std::uint64_t kMaxMetadataElements = std::uint64_t{1} << 24;

/// GGUF metadata value types (gguf_type), numbered as in the file.
enum class ValueType : std::uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

inline std::string_view value_type_name(ValueType t) {
    constexpr std::array<std::string_view, 13> names{"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                     "bool", "string", "array", "u64", "i64", "f64"};
    auto i = static_cast<std::uint32_t>(t);
    return i < names.size() ? names[i] : std::string_view("unknown");
}

/// Size in bytes of a fixed-size value type, 0 for string/array.
inline std::size_t value_type_size(ValueType t) {
    switch (t) {
        case ValueType::u8: case ValueType::i8: case ValueType::boolean: return 1;
        case ValueType::u16: case ValueType::i16: return 2;
        case ValueType::u32: case ValueType::i32: case ValueType::f32: return 4;
        case ValueType::u64: case ValueType::i64: case ValueType::f64: return 8;
        default: return 0;
    }
}

/// ggml tensor types, numbered as in the file.
enum class TensorType : std::uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, BF16 = 30,
};

struct TensorTypeTraits {
    std::string_view name;
    std::size_t block_size = 0;   ///< elements per block
    std::size_t type_size = 0;    ///< bytes per block
};

/// Traits of a tensor type; nullopt for a type this library does not know.
inline std::optional<TensorTypeTraits> tensor_type_traits(std::uint32_t t) {
    switch (static_cast<TensorType>(t)) {
        case TensorType::F32: return TensorTypeTraits{"F32", 1, 4};
        case TensorType::F16: return TensorTypeTraits{"F16", 1, 2};
        case TensorType::BF16: return TensorTypeTraits{"BF16", 1, 2};
        case TensorType::Q4_0: return TensorTypeTraits{"Q4_0", 32, 18};
        case TensorType::Q4_1: return TensorTypeTraits{"Q4_1", 32, 20};
        case TensorType::Q5_0: return TensorTypeTraits{"Q5_0", 32, 22};
        case TensorType::Q5_1: return TensorTypeTraits{"Q5_1", 32, 24};
        case TensorType::Q8_0: return TensorTypeTraits{"Q8_0", 32, 34};
        case TensorType::Q8_1: return TensorTypeTraits{"Q8_1", 32, 36};
        case TensorType::Q2_K: return TensorTypeTraits{"Q2_K", 256, 84};
        case TensorType::Q3_K: return TensorTypeTraits{"Q3_K", 256, 110};
        case TensorType::Q4_K: return TensorTypeTraits{"Q4_K", 256, 144};
        case TensorType::Q5_K: return TensorTypeTraits{"Q5_K", 256, 176};
        case TensorType::Q6_K: return TensorTypeTraits{"Q6_K", 256, 210};
        case TensorType::Q8_K: return TensorTypeTraits{"Q8_K", 256, 292};
        default: return std::nullopt;
    }
}

inline std::string tensor_type_name(TensorType t) {
    auto tr = tensor_type_traits(static_cast<std::uint32_t>(t));
    return tr ? std::string(tr->name) : "type#" + std::to_string(static_cast<std::uint32_t>(t));
}

}  // namespace w2s::gguf
