// w2s/gguf/writer.hpp — writes GGUF version 3 files (control vectors, test fixtures).
//
//   w2s::gguf::Writer w;                                    // alignment 32 (the GGUF default)
//   w.set("general.architecture", Value::from_string("controlvector"));
//   w.set("controlvector.layer_count", Value::from_i32(29));
//   w.add_tensor_f32("direction.1", {576}, v);              // v: 576 floats
//   w.write("steer.gguf");
//
// Layout (what llama.cpp's gguf and the PyPI `gguf` GGUFWriter produce, byte for byte):
//   header (magic, version 3, tensor count u64, kv count u64) | key/values in insertion order |
//   tensor infos in insertion order | zero padding to the alignment | tensor data, each tensor padded with
//   zeros to a multiple of the alignment (the last one too), so every tensor offset is aligned.
// Little-endian only (as the host: x86-64 / aarch64).
#pragma once

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "w2s/core/durable.hpp"
#include "w2s/core/error.hpp"
#include "w2s/gguf/types.hpp"
#include "w2s/gguf/value.hpp"

namespace w2s::gguf {

static_assert(std::endian::native == std::endian::little, "w2s::gguf::Writer writes little-endian GGUF files only");

/// Longest tensor name llama.cpp accepts (GGML_MAX_NAME = 64, including the terminating NUL).
inline constexpr std::size_t kMaxTensorName = 63;

class Writer {
public:
    /// `alignment` must be a power of two below 2^32 (else w2s::invalid_argument). When it is not 32 the file
    /// needs the key general.alignment (u32): set it yourself to choose its position (as the PyPI writer's
    /// add_custom_alignment does), otherwise to_bytes() appends it after the other keys.
    explicit Writer(std::size_t alignment = kDefaultAlignment);

    /// Sets metadata `key`. Keys keep the order of their first set(); setting a key again replaces its value
    /// in place. Throws invalid_argument for an empty key or a general.alignment other than the constructor's.
    void set(const std::string& key, Value v);
    /// The value of `key`, or nullptr.
    [[nodiscard]] const Value* find(const std::string& key) const;

    /// Adds a tensor; `ne` are its dimensions with ne[0] innermost (row length), at most 4 of them, and
    /// `data` its bytes in ggml layout (copied). Throws shape_error when ne[0] is not a multiple of the
    /// type's block size, the element count overflows, or data.size() differs from the size ne implies;
    /// invalid_argument for a duplicate, empty or over-long (> 63 bytes) name or an unknown type.
    void add_tensor(const std::string& name, TensorType type, std::vector<std::uint64_t> ne,
                    std::span<const std::byte> data);
    /// add_tensor of an F32 tensor; data: product(ne) floats, ne[0] fastest.
    void add_tensor_f32(const std::string& name, std::vector<std::uint64_t> ne, std::span<const float> data);

    /// The whole file image. Throws invalid_argument when a value cannot be encoded (its storage does not
    /// fit its declared type, an array item's type differs from the array's element type, arrays nested
    /// deeper than kMaxArrayDepth).
    [[nodiscard]] std::vector<std::byte> to_bytes() const;
    /// Writes to_bytes() to `path`, whole or not at all (w2s/core/durable.hpp: a temporary name, fsync, rename);
    /// throws io_error naming the path (and what to_bytes() throws).
    void write(const std::string& path) const;

    [[nodiscard]] std::size_t alignment() const noexcept { return alignment_; }
    /// Keys set so far (not counting a general.alignment that to_bytes() appends).
    [[nodiscard]] std::size_t key_count() const noexcept { return kv_.size(); }
    [[nodiscard]] std::size_t tensor_count() const noexcept { return tensors_.size(); }

private:
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<std::uint64_t> ne;
        std::vector<std::byte> data;  // n_bytes of ggml blocks
    };
    std::size_t alignment_;
    std::vector<std::pair<std::string, Value>> kv_;  // insertion order
    std::vector<Tensor> tensors_;
};

// ================================================================================================
// Implementation
// ================================================================================================
namespace detail {

class ByteSink {
public:
    explicit ByteSink(std::vector<std::byte>& out) : out_(out) {}
    template <class T>
    void put(T v) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto at = out_.size();
        out_.resize(at + sizeof(T));
        std::memcpy(out_.data() + at, &v, sizeof(T));
    }
    void put_bytes(const void* p, std::size_t n) {
        const auto at = out_.size();
        out_.resize(at + n);
        if (n) std::memcpy(out_.data() + at, p, n);
    }
    void put_string(std::string_view s) {
        put<std::uint64_t>(s.size());
        put_bytes(s.data(), s.size());
    }
    void pad_to(std::size_t alignment) { out_.resize((out_.size() + alignment - 1) / alignment * alignment); }

private:
    std::vector<std::byte>& out_;
};

/// The integer held by `v`, checked to fit T (the type `v` declares).
template <class T>
T integer_for_write(const Value& v, const std::string& where) {
    const auto& s = v.storage();
    const std::string tname(value_type_name(v.type()));
    if (const auto* u = std::get_if<std::uint64_t>(&s)) {
        if (!std::in_range<T>(*u))
            throw invalid_argument("gguf writer: " + where + ": value " + std::to_string(*u) + " does not fit " + tname);
        return static_cast<T>(*u);
    }
    if (const auto* i = std::get_if<std::int64_t>(&s)) {
        if (!std::in_range<T>(*i))
            throw invalid_argument("gguf writer: " + where + ": value " + std::to_string(*i) + " does not fit " + tname);
        return static_cast<T>(*i);
    }
    throw invalid_argument("gguf writer: " + where + ": declared " + tname + " but does not hold an integer");
}

inline double float_for_write(const Value& v, const std::string& where) {
    if (const auto* d = std::get_if<double>(&v.storage())) return *d;
    throw invalid_argument("gguf writer: " + where + ": declared " + std::string(value_type_name(v.type())) +
                           " but does not hold a floating-point number");
}

inline void encode_value(ByteSink& out, const Value& v, const std::string& where, int depth) {
    switch (v.type()) {
        case ValueType::u8: out.put(integer_for_write<std::uint8_t>(v, where)); return;
        case ValueType::i8: out.put(integer_for_write<std::int8_t>(v, where)); return;
        case ValueType::u16: out.put(integer_for_write<std::uint16_t>(v, where)); return;
        case ValueType::i16: out.put(integer_for_write<std::int16_t>(v, where)); return;
        case ValueType::u32: out.put(integer_for_write<std::uint32_t>(v, where)); return;
        case ValueType::i32: out.put(integer_for_write<std::int32_t>(v, where)); return;
        case ValueType::u64: out.put(integer_for_write<std::uint64_t>(v, where)); return;
        case ValueType::i64: out.put(integer_for_write<std::int64_t>(v, where)); return;
        case ValueType::f32: {
            const double d = float_for_write(v, where);
            if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
                throw invalid_argument("gguf writer: " + where + ": value " + std::to_string(d) + " does not fit f32");
            out.put(static_cast<float>(d));
            return;
        }
        case ValueType::f64: out.put(float_for_write(v, where)); return;
        case ValueType::boolean: {
            const auto* b = std::get_if<bool>(&v.storage());
            if (!b) throw invalid_argument("gguf writer: " + where + ": declared bool but does not hold a bool");
            out.put(static_cast<std::uint8_t>(*b ? 1 : 0));
            return;
        }
        case ValueType::string: {
            const auto* s = std::get_if<std::string>(&v.storage());
            if (!s) throw invalid_argument("gguf writer: " + where + ": declared string but does not hold a string");
            if (s->size() > kMaxStringBytes)
                throw invalid_argument("gguf writer: " + where + ": string of " + std::to_string(s->size()) +
                                       " bytes exceeds the limit of " + std::to_string(kMaxStringBytes));
            out.put_string(*s);
            return;
        }
        case ValueType::array: {
            const auto* ap = std::get_if<std::shared_ptr<Array>>(&v.storage());
            if (!ap || !*ap) throw invalid_argument("gguf writer: " + where + ": declared array but does not hold one");
            if (depth >= kMaxArrayDepth)
                throw invalid_argument("gguf writer: " + where + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth));
            const Array& a = **ap;
            if (static_cast<std::uint32_t>(a.elem_type) > static_cast<std::uint32_t>(ValueType::f64))
                throw invalid_argument("gguf writer: " + where + ": unknown array element type " +
                                       std::to_string(static_cast<std::uint32_t>(a.elem_type)));
            out.put(static_cast<std::uint32_t>(a.elem_type));
            out.put(static_cast<std::uint64_t>(a.items.size()));
            for (std::size_t i = 0; i < a.items.size(); ++i) {
                const std::string w = where + "[" + std::to_string(i) + "]";
                if (a.items[i].type() != a.elem_type)
                    throw invalid_argument("gguf writer: " + w + ": item of type " + std::string(value_type_name(a.items[i].type())) +
                                           " in an array of " + std::string(value_type_name(a.elem_type)));
                encode_value(out, a.items[i], w, depth + 1);
            }
            return;
        }
    }
    throw invalid_argument("gguf writer: " + where + ": unknown value type " +
                           std::to_string(static_cast<std::uint32_t>(v.type())));
}

}  // namespace detail

inline Writer::Writer(std::size_t alignment) : alignment_(alignment) {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > std::numeric_limits<std::uint32_t>::max())
        throw invalid_argument("gguf writer: alignment " + std::to_string(alignment) + " is not a power of two below 2^32");
}

inline void Writer::set(const std::string& key, Value v) {
    if (key.empty()) throw invalid_argument("gguf writer: empty metadata key");
    if (key == "general.alignment") {
        const auto* u = std::get_if<std::uint64_t>(&v.storage());
        if (v.type() != ValueType::u32 || !u || *u != alignment_)
            throw invalid_argument("gguf writer: general.alignment must be the u32 " + std::to_string(alignment_) +
                                   " given to the Writer's constructor");
    }
    for (auto& [k, old] : kv_)
        if (k == key) {
            old = std::move(v);
            return;
        }
    kv_.emplace_back(key, std::move(v));
}

inline const Value* Writer::find(const std::string& key) const {
    for (const auto& [k, v] : kv_)
        if (k == key) return &v;
    return nullptr;
}

inline void Writer::add_tensor(const std::string& name, TensorType type, std::vector<std::uint64_t> ne,
                               std::span<const std::byte> data) {
    const std::string where = "gguf writer: tensor '" + name + "'";
    if (name.empty()) throw invalid_argument("gguf writer: empty tensor name");
    if (name.size() > kMaxTensorName)
        throw invalid_argument(where + ": name of " + std::to_string(name.size()) + " bytes, expected at most " +
                               std::to_string(kMaxTensorName) + " (llama.cpp's limit)");
    for (const auto& t : tensors_)
        if (t.name == name) throw invalid_argument(where + " is added twice");
    const auto traits = tensor_type_traits(static_cast<std::uint32_t>(type));
    if (!traits) throw invalid_argument(where + ": unknown tensor type " + std::to_string(static_cast<std::uint32_t>(type)));
    if (ne.size() > kMaxDims)
        throw shape_error(where + ": " + std::to_string(ne.size()) + " dimensions, expected at most " + std::to_string(kMaxDims));
    std::uint64_t n_el = 1;
    std::string shape;
    for (std::size_t d = 0; d < ne.size(); ++d) {
        if (d) shape += 'x';
        shape += std::to_string(ne[d]);
    }
    for (auto x : ne)
        if (__builtin_mul_overflow(n_el, x, &n_el) || n_el > static_cast<std::uint64_t>(INT64_MAX))
            throw shape_error(where + ": element count of shape " + shape + " overflows int64");
    const std::uint64_t row = ne.empty() ? 1 : ne[0];
    if (row % traits->block_size != 0)
        throw shape_error(where + ": row length " + std::to_string(row) + " is not a multiple of the " +
                          std::string(traits->name) + " block size " + std::to_string(traits->block_size));
    const std::uint64_t n_bytes = n_el / traits->block_size * traits->type_size;  // no overflow: type_size <= block bytes
    if (data.size() != n_bytes)
        throw shape_error(where + ": " + std::string(traits->name) + " " + (shape.empty() ? "scalar" : shape) + " needs " +
                          std::to_string(n_bytes) + " bytes, got " + std::to_string(data.size()));
    tensors_.push_back(Tensor{name, type, std::move(ne), std::vector<std::byte>(data.begin(), data.end())});
}

inline void Writer::add_tensor_f32(const std::string& name, std::vector<std::uint64_t> ne, std::span<const float> data) {
    add_tensor(name, TensorType::F32, std::move(ne), std::as_bytes(data));
}

inline std::vector<std::byte> Writer::to_bytes() const {
    std::vector<std::byte> out;
    detail::ByteSink s(out);
    s.put<std::uint32_t>(kMagic);
    s.put<std::uint32_t>(3);
    s.put<std::uint64_t>(tensors_.size());
    const bool add_alignment_key = alignment_ != kDefaultAlignment && !find("general.alignment");
    s.put<std::uint64_t>(kv_.size() + (add_alignment_key ? 1 : 0));
    for (const auto& [k, v] : kv_) {
        s.put_string(k);
        s.put(static_cast<std::uint32_t>(v.type()));
        detail::encode_value(s, v, "metadata key '" + k + "'", 0);
    }
    if (add_alignment_key) {
        s.put_string("general.alignment");
        s.put(static_cast<std::uint32_t>(ValueType::u32));
        s.put(static_cast<std::uint32_t>(alignment_));
    }
    std::uint64_t offset = 0;
    for (const auto& t : tensors_) {
        s.put_string(t.name);
        s.put(static_cast<std::uint32_t>(t.ne.size()));
        for (auto x : t.ne) s.put<std::uint64_t>(x);
        s.put(static_cast<std::uint32_t>(t.type));
        s.put<std::uint64_t>(offset);
        offset += (t.data.size() + alignment_ - 1) / alignment_ * alignment_;
    }
    s.pad_to(alignment_);
    for (const auto& t : tensors_) {
        s.put_bytes(t.data.data(), t.data.size());
        s.pad_to(alignment_);
    }
    return out;
}

inline void Writer::write(const std::string& path) const {
    const auto bytes = to_bytes();
    durable::write_file(path, bytes.data(), bytes.size());  // whole or not at all; a reader's mapping stays valid
}

}  // namespace w2s::gguf
