// w2s/gguf/reader.hpp — a checked, memory-mapped GGUF reader (versions 2 and 3).
//
// Every size and offset is checked against the file before it is used. A damaged file gives a
// w2s::format_error naming the file, the field or tensor, the offending value and the expectation; the
// reader never reads outside the mapping (fuzzed: tests/gguf/fuzz). Checked: magic; version (2 and 3 share
// one layout; 1 and big-endian files are refused); counts against the bytes that remain, before anything is
// allocated; string lengths (at most kMaxStringBytes) and array lengths; value and element types (0..12);
// bool bytes (0/1); array nesting (at most kMaxArrayDepth) and elements (kMaxMetadataElements in all); duplicate keys and tensor names;
// general.alignment (a u32 power of two); dimensions (at most 4, element count and byte size without
// overflow, row length a multiple of the block size); known tensor types; offsets aligned, inside the file,
// and tensors disjoint. Opening a path that is missing, unreadable or not a regular file is a w2s::io_error.
//
//   w2s::gguf::File f("model.gguf");
//   auto n = f.get_int("llama.block_count");
//   const w2s::gguf::TensorInfo& t = f.tensor("blk.0.attn_q.weight");   // t.ne = {n_in, n_out}
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "w2s/core/error.hpp"
#include "w2s/core/fingerprint.hpp"
#include "w2s/gguf/types.hpp"
#include "w2s/gguf/value.hpp"

namespace w2s::gguf {

/// Description of one tensor in the file. ne[0] is the fastest-varying (row length) dimension.
struct TensorInfo {
    std::string name;
    std::vector<std::uint64_t> ne;   ///< dimensions, ne[0] innermost
    TensorType type = TensorType::F32;
    std::uint64_t offset = 0;        ///< relative to the data section
    std::uint64_t n_elements = 0;
    std::uint64_t n_bytes = 0;
    const std::byte* data = nullptr; ///< into the mapping; valid while the File lives

    [[nodiscard]] std::uint64_t rows() const noexcept {
        std::uint64_t r = 1;
        for (std::size_t i = 1; i < ne.size(); ++i) r *= ne[i];
        return r;
    }
    [[nodiscard]] std::uint64_t row_bytes() const noexcept { return rows() ? n_bytes / rows() : 0; }
    [[nodiscard]] std::string shape_string() const {
        std::string s;
        for (std::size_t i = 0; i < ne.size(); ++i) {
            if (i) s += 'x';
            s += std::to_string(ne[i]);
        }
        return s.empty() ? "scalar" : s;
    }
};

namespace detail {

/// Read-only memory mapping of a whole file (or an owned in-memory buffer, for tests and fuzzing).
class Mapping {
public:
    explicit Mapping(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw io_error(path + ": cannot open: " + std::strerror(errno));
        struct stat st {};
        if (::fstat(fd, &st) != 0) {
            int e = errno;
            ::close(fd);
            throw io_error(path + ": cannot stat: " + std::strerror(e));
        }
        if (!S_ISREG(st.st_mode)) {
            ::close(fd);
            throw io_error(path + ": not a regular file");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ > 0) {
            void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                int e = errno;
                ::close(fd);
                throw io_error(path + ": cannot mmap " + std::to_string(size_) + " bytes: " + std::strerror(e));
            }
            base_ = static_cast<const std::byte*>(p);
            mapped_ = true;
        }
        ::close(fd);
    }
    explicit Mapping(std::vector<std::byte> bytes) : owned_(std::move(bytes)) {
        base_ = owned_.data();
        size_ = owned_.size();
    }
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (mapped_) ::munmap(const_cast<std::byte*>(base_), size_);
    }
    [[nodiscard]] const std::byte* data() const noexcept { return base_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    const std::byte* base_ = nullptr;
    std::size_t size_ = 0;
    bool mapped_ = false;
    std::vector<std::byte> owned_;
};

/// Bounds-checked little-endian cursor over the mapping.
class Cursor {
public:
    Cursor(const std::byte* base, std::size_t size, const std::string& file) : base_(base), size_(size), file_(file) {}

    [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return size_ - pos_; }

    void need(std::uint64_t n, const std::string& what) const {
        if (n > remaining())
            throw format_error(file_ + ": truncated file: " + what + " needs " + std::to_string(n) +
                               " bytes at offset " + std::to_string(pos_) + ", only " +
                               std::to_string(remaining()) + " remain (file size " + std::to_string(size_) + ")");
    }
    template <class T>
    T read(const std::string& what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, base_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string read_string(const std::string& what) {
        auto n = read<std::uint64_t>(what + " (string length)");
        if (n > kMaxStringBytes)
            throw format_error(file_ + ": " + what + ": string length " + std::to_string(n) +
                               " exceeds the limit of " + std::to_string(kMaxStringBytes) + " bytes");
        need(n, what + " (string of " + std::to_string(n) + " bytes)");
        std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
        return s;
    }
    void skip(std::uint64_t n, const std::string& what) {
        need(n, what);
        pos_ += static_cast<std::size_t>(n);
    }

private:
    const std::byte* base_;
    std::size_t size_;
    std::size_t pos_ = 0;
    const std::string& file_;
};

inline bool mul_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
    return __builtin_mul_overflow(a, b, &out);
}

inline std::string hex32(std::uint32_t x) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = digits[x & 15u];
    return s;
}

/// "F32 (0), F16 (1), ..." — the tensor types this library knows, for error messages.
inline std::string known_tensor_types() {
    std::string s;
    for (std::uint32_t t = 0; t < 64; ++t)
        if (auto tr = tensor_type_traits(t)) {
            if (!s.empty()) s += ", ";
            s += tr->name;
            s += " (" + std::to_string(t) + ")";
        }
    return s;
}

}  // namespace detail

/// A parsed GGUF file. Metadata is held in memory; tensor data stays in the read-only mapping.
class File {
    template <class F>
    auto field(const std::string& key, F&& f) const -> decltype(f(std::declval<const Value&>())) {
        try {
            return f(get(key));
        } catch (const format_error& e) {
            if (!has(key)) throw;
            throw format_error(name_ + ": metadata key '" + key + "': " + e.what());
        }
    }


public:
    /// Maps and parses `path`. Throws w2s::io_error or w2s::format_error with the file name in the message.
    /// `max_metadata_elements`: the most metadata array elements the file may hold, all arrays together (each
    /// becomes a Value; see kMaxMetadataElements). Lower it for files from untrusted sources.
    explicit File(const std::string& path, std::uint64_t max_metadata_elements = kMaxMetadataElements)
        : name_(path), map_(std::make_shared<detail::Mapping>(path)), max_elements_(max_metadata_elements) {
        parse();
    }

    /// Parses an in-memory image (tests, fuzzing). `name` is used in error messages.
    File(std::vector<std::byte> bytes, std::string name, std::uint64_t max_metadata_elements = kMaxMetadataElements)
        : name_(std::move(name)), map_(std::make_shared<detail::Mapping>(std::move(bytes))), max_elements_(max_metadata_elements) {
        parse();
    }

    [[nodiscard]] const std::string& path() const noexcept { return name_; }
    [[nodiscard]] std::uint32_t version() const noexcept { return version_; }
    [[nodiscard]] std::size_t alignment() const noexcept { return alignment_; }
    [[nodiscard]] std::size_t data_offset() const noexcept { return data_offset_; }
    [[nodiscard]] std::size_t file_size() const noexcept { return map_->size(); }
    /// What this file is, as a 64-bit FNV-1a fingerprint (core/fingerprint.hpp): its size, every byte before the
    /// tensor data (the metadata, tokenizer and chat template included, and the tensor table), and 4 KiB from the
    /// start, the middle and the end of every tensor's data. Two files that differ in their metadata, shapes or
    /// types always differ here; weights changed only between the sampled windows would not. Reads a few MiB.
    [[nodiscard]] std::uint64_t fingerprint() const noexcept {
        Fingerprint fp;
        fp.add(static_cast<std::uint64_t>(map_->size()));
        fp.bytes(map_->data(), std::min<std::size_t>(data_offset_, map_->size()));
        constexpr std::uint64_t w = 4096;
        for (const auto& t : tensors_) {
            if (!t.data || t.n_bytes == 0) continue;
            const std::uint64_t n = t.n_bytes;
            for (const std::uint64_t at : {std::uint64_t{0}, n > w ? (n - w) / 2 : 0, n > w ? n - w : 0})
                fp.bytes(t.data + at, static_cast<std::size_t>(std::min(w, n - at)));
        }
        return fp.value();
    }

    // ---- metadata ----
    /// Keys in file order.
    [[nodiscard]] const std::vector<std::string>& keys() const noexcept { return key_order_; }
    [[nodiscard]] bool has(const std::string& key) const { return kv_.count(key) != 0; }
    /// The value of `key`; throws format_error naming the key when absent.
    [[nodiscard]] const Value& get(const std::string& key) const {
        auto it = kv_.find(key);
        if (it == kv_.end()) throw format_error(name_ + ": metadata key '" + key + "' is missing");
        return it->second;
    }
    [[nodiscard]] const Value* find(const std::string& key) const {
        auto it = kv_.find(key);
        return it == kv_.end() ? nullptr : &it->second;
    }
    [[nodiscard]] std::int64_t get_int(const std::string& key) const { return field(key, [](const Value& v) { return v.as_int(); }); }
    [[nodiscard]] double get_double(const std::string& key) const { return field(key, [](const Value& v) { return v.as_double(); }); }
    [[nodiscard]] bool get_bool(const std::string& key) const { return field(key, [](const Value& v) { return v.as_bool(); }); }
    [[nodiscard]] std::string get_string(const std::string& key) const { return field(key, [](const Value& v) { return v.as_string(); }); }
    [[nodiscard]] std::int64_t get_int(const std::string& key, std::int64_t dflt) const { return has(key) ? get_int(key) : dflt; }
    [[nodiscard]] double get_double(const std::string& key, double dflt) const { return has(key) ? get_double(key) : dflt; }
    [[nodiscard]] bool get_bool(const std::string& key, bool dflt) const { return has(key) ? get_bool(key) : dflt; }
    [[nodiscard]] std::string get_string(const std::string& key, const std::string& dflt) const { return has(key) ? get_string(key) : dflt; }
    /// Array of strings (e.g. tokenizer.ggml.tokens).
    [[nodiscard]] std::vector<std::string> get_strings(const std::string& key) const {
        return field(key, [](const Value& v) {
            std::vector<std::string> out;
            const auto& a = v.as_array();
            out.reserve(a.items.size());
            for (const auto& x : a.items) out.push_back(x.as_string());
            return out;
        });
    }
    /// Array of numbers as double (e.g. tokenizer.ggml.scores).
    [[nodiscard]] std::vector<double> get_numbers(const std::string& key) const {
        return field(key, [](const Value& v) {
            std::vector<double> out;
            const auto& a = v.as_array();
            out.reserve(a.items.size());
            for (const auto& x : a.items) out.push_back(x.as_double());
            return out;
        });
    }
    /// Array of integers (e.g. tokenizer.ggml.token_type).
    [[nodiscard]] std::vector<std::int64_t> get_ints(const std::string& key) const {
        return field(key, [](const Value& v) {
            std::vector<std::int64_t> out;
            const auto& a = v.as_array();
            out.reserve(a.items.size());
            for (const auto& x : a.items) out.push_back(x.as_int());
            return out;
        });
    }

    // ---- tensors ----
    [[nodiscard]] const std::vector<TensorInfo>& tensors() const noexcept { return tensors_; }
    [[nodiscard]] const TensorInfo* find_tensor(const std::string& name) const {
        auto it = tensor_index_.find(name);
        return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
    }
    [[nodiscard]] const TensorInfo& tensor(const std::string& name) const {
        auto* t = find_tensor(name);
        if (!t) throw format_error(name_ + ": tensor '" + name + "' is missing");
        return *t;
    }
    /// Keeps the mapping alive for holders of tensor pointers that outlive this File object.
    [[nodiscard]] std::shared_ptr<const void> keep_alive() const { return map_; }

private:
    /// Reads one value of type `t`; `where` names it in messages ("metadata key 'k'", "metadata key 'k'[3]").
    Value read_value(detail::Cursor& c, ValueType t, const std::string& where, int depth) {
        const std::string what = "value of " + where;
        switch (t) {
            case ValueType::u8: return {t, std::uint64_t{c.read<std::uint8_t>(what)}};
            case ValueType::i8: return {t, std::int64_t{c.read<std::int8_t>(what)}};
            case ValueType::u16: return {t, std::uint64_t{c.read<std::uint16_t>(what)}};
            case ValueType::i16: return {t, std::int64_t{c.read<std::int16_t>(what)}};
            case ValueType::u32: return {t, std::uint64_t{c.read<std::uint32_t>(what)}};
            case ValueType::i32: return {t, std::int64_t{c.read<std::int32_t>(what)}};
            case ValueType::u64: return {t, c.read<std::uint64_t>(what)};
            case ValueType::i64: return {t, c.read<std::int64_t>(what)};
            case ValueType::f32: return {t, double{c.read<float>(what)}};
            case ValueType::f64: return {t, c.read<double>(what)};
            case ValueType::boolean: {
                const auto b = c.read<std::uint8_t>(what);
                if (b > 1) fail(what + ": bool byte is " + std::to_string(b) + ", expected 0 or 1");
                return {t, b != 0};
            }
            case ValueType::string: return {t, c.read_string(what)};
            case ValueType::array: {
                if (depth >= kMaxArrayDepth)
                    fail(what + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth) + " levels, expected at most " +
                         std::to_string(kMaxArrayDepth));
                const auto et_raw = c.read<std::uint32_t>(what + " (array element type)");
                if (et_raw > static_cast<std::uint32_t>(ValueType::f64))
                    fail(what + ": unknown array element type " + std::to_string(et_raw) + ", expected 0..12");
                const auto et = static_cast<ValueType>(et_raw);
                const auto n = c.read<std::uint64_t>(what + " (array length)");
                // Each element takes at least its fixed size (string: 8-byte length, array: type + length);
                // refuse counts the file cannot hold before allocating anything.
                const std::uint64_t min_elem = et == ValueType::string ? 8 : et == ValueType::array ? 12 : value_type_size(et);
                std::uint64_t need = 0;
                const bool overflow = detail::mul_overflows(n, min_elem, need);
                if (overflow || need > c.remaining())
                    fail(what + ": array of " + std::to_string(n) + " " + std::string(value_type_name(et)) +
                         " elements needs at least " + (overflow ? std::string("2^64 or more") : std::to_string(need)) +
                         " bytes, expected at most the " + std::to_string(c.remaining()) + " bytes that remain");
                if (n > max_elements_ - std::min(max_elements_, metadata_elements_))
                    fail(what + ": array of " + std::to_string(n) + " elements brings the file's metadata arrays to " +
                         std::to_string(metadata_elements_ + n) + " elements, beyond the limit of " + std::to_string(max_elements_));
                metadata_elements_ += n;
                std::vector<Value> items;
                items.reserve(static_cast<std::size_t>(n));
                for (std::uint64_t i = 0; i < n; ++i)
                    items.push_back(read_value(c, et, where + "[" + std::to_string(i) + "]", depth + 1));
                return Value::from_array(et, std::move(items));
            }
        }
        fail(what + ": unknown value type " + std::to_string(static_cast<std::uint32_t>(t)) + ", expected 0..12");
    }

    [[noreturn]] void fail(const std::string& msg) const { throw format_error(name_ + ": " + msg); }

    void parse() {
        const auto size = map_->size();
        detail::Cursor c(map_->data(), size, name_);
        auto magic = c.read<std::uint32_t>("magic");
        if (magic != kMagic) {
            char m[5] = {};
            std::memcpy(m, &magic, 4);
            for (int i = 0; i < 4; ++i)
                if (m[i] < 32 || m[i] > 126) m[i] = '?';
            fail("bad magic '" + std::string(m) + "' (0x" + detail::hex32(magic) + "), expected 'GGUF'");
        }
        version_ = c.read<std::uint32_t>("version");
        if (version_ != 2 && version_ != 3) {
            std::string hint;
            if (version_ == 1) hint = " (version 1 files are not supported)";
            else if (version_ == 0x02000000u || version_ == 0x03000000u) hint = " (this looks like a big-endian file, which is not supported)";
            fail("unknown GGUF version " + std::to_string(version_) + ", expected 2 or 3" + hint);
        }
        const auto n_tensors = c.read<std::uint64_t>("tensor count");
        const auto n_kv = c.read<std::uint64_t>("metadata count");
        // A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
        // 8 (name length) + 4 (dims) + 4 (type) + 8 (offset) bytes. Refuse counts the file cannot hold.
        if (n_kv > c.remaining() / 13)
            fail("metadata count " + std::to_string(n_kv) + " is impossible: each key/value needs at least 13 bytes and only " +
                 std::to_string(c.remaining()) + " bytes follow the header");
        if (n_tensors > c.remaining() / 24)
            fail("tensor count " + std::to_string(n_tensors) + " is impossible: each tensor info needs at least 24 bytes and only " +
                 std::to_string(c.remaining()) + " bytes follow the header");

        key_order_.reserve(static_cast<std::size_t>(n_kv));
        for (std::uint64_t i = 0; i < n_kv; ++i) {
            std::string key = c.read_string("metadata key #" + std::to_string(i));
            auto t_raw = c.read<std::uint32_t>("type of metadata key '" + key + "'");
            if (t_raw > static_cast<std::uint32_t>(ValueType::f64))
                fail("metadata key '" + key + "': unknown value type " + std::to_string(t_raw) + ", expected 0..12");
            Value v = read_value(c, static_cast<ValueType>(t_raw), "metadata key '" + key + "'", 0);
            if (kv_.count(key)) fail("metadata key '" + key + "' appears twice, expected unique keys");
            key_order_.push_back(key);
            kv_.emplace(std::move(key), std::move(v));
        }

        alignment_ = kDefaultAlignment;
        if (const auto* a = find("general.alignment")) {
            if (a->type() != ValueType::u32)
                fail("metadata key 'general.alignment': type " + std::string(value_type_name(a->type())) + ", expected u32");
            const auto al = static_cast<std::uint64_t>(a->as_int());
            if (al == 0 || (al & (al - 1)) != 0)
                fail("metadata key 'general.alignment': " + std::to_string(al) + ", expected a power of two");
            alignment_ = static_cast<std::size_t>(al);
        }

        tensors_.reserve(static_cast<std::size_t>(n_tensors));
        for (std::uint64_t i = 0; i < n_tensors; ++i) {
            TensorInfo t;
            t.name = c.read_string("tensor #" + std::to_string(i) + " name");
            const std::string what = "tensor '" + t.name + "'";
            const auto n_dims = c.read<std::uint32_t>(what + " dimension count");
            if (n_dims > kMaxDims)
                fail(what + ": " + std::to_string(n_dims) + " dimensions, expected at most " + std::to_string(kMaxDims));
            t.ne.resize(n_dims);
            std::uint64_t n_el = 1;
            for (std::uint32_t d = 0; d < n_dims; ++d) {
                t.ne[d] = c.read<std::uint64_t>(what + " dimension " + std::to_string(d));
                if (t.ne[d] > static_cast<std::uint64_t>(INT64_MAX) || detail::mul_overflows(n_el, t.ne[d], n_el) ||
                    n_el > static_cast<std::uint64_t>(INT64_MAX))
                    fail(what + ": dimension " + std::to_string(d) + " = " + std::to_string(t.ne[d]) +
                         " overflows the element count, expected a product of dimensions below 2^63");
            }
            const auto type_raw = c.read<std::uint32_t>(what + " type");
            const auto traits = tensor_type_traits(type_raw);
            if (!traits)
                fail(what + ": unknown tensor type " + std::to_string(type_raw) + ", expected one of " + detail::known_tensor_types());
            t.type = static_cast<TensorType>(type_raw);
            t.offset = c.read<std::uint64_t>(what + " offset");
            t.n_elements = n_el;
            const std::uint64_t row = n_dims ? t.ne[0] : 1;
            if (row % traits->block_size != 0)
                fail(what + ": row length " + std::to_string(row) + " is not a multiple of the " + std::string(traits->name) +
                     " block size " + std::to_string(traits->block_size));
            if (detail::mul_overflows(n_el / traits->block_size, traits->type_size, t.n_bytes))
                fail(what + ": byte size of " + t.shape_string() + " " + std::string(traits->name) + " overflows 64 bits");
            if (t.offset % alignment_ != 0)
                fail(what + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment " + std::to_string(alignment_));
            if (tensor_index_.count(t.name)) fail(what + " appears twice, expected unique tensor names");
            tensor_index_.emplace(t.name, tensors_.size());
            tensors_.push_back(std::move(t));
        }
        const std::uint64_t pos = c.pos();
        data_offset_ = static_cast<std::size_t>((pos + alignment_ - 1) / alignment_ * alignment_);
        for (auto& t : tensors_) {
            std::uint64_t start = 0, end = 0;
            const bool overflow = __builtin_add_overflow(static_cast<std::uint64_t>(data_offset_), t.offset, &start) ||
                                  __builtin_add_overflow(start, t.n_bytes, &end);
            if (overflow || end > size)
                fail("tensor '" + t.name + "' (" + t.shape_string() + " " + tensor_type_name(t.type) + ", " +
                     std::to_string(t.n_bytes) + " bytes at data offset " + std::to_string(t.offset) +
                     ") lies beyond the end of the file: it would end at byte " +
                     (overflow ? std::string("2^64 or more") : std::to_string(end)) +
                     ", expected at most the file size " + std::to_string(size));
            t.data = map_->data() + start;
        }
        // Tensors may come in any order but must not share bytes.
        std::vector<const TensorInfo*> by_offset;
        by_offset.reserve(tensors_.size());
        for (const auto& t : tensors_)
            if (t.n_bytes) by_offset.push_back(&t);
        std::sort(by_offset.begin(), by_offset.end(),
                  [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
        for (std::size_t i = 1; i < by_offset.size(); ++i) {
            const auto& p = *by_offset[i - 1];
            const auto& q = *by_offset[i];
            if (p.offset + p.n_bytes > q.offset)
                fail("tensor '" + q.name + "' at data offset " + std::to_string(q.offset) + " overlaps tensor '" + p.name +
                     "' (data offsets " + std::to_string(p.offset) + ".." + std::to_string(p.offset + p.n_bytes) +
                     "), expected disjoint tensors");
        }
    }

    std::string name_;
    std::shared_ptr<detail::Mapping> map_;
    std::uint32_t version_ = 0;
    std::size_t alignment_ = kDefaultAlignment;
    std::size_t data_offset_ = 0;
    std::uint64_t max_elements_ = kMaxMetadataElements;
    std::uint64_t metadata_elements_ = 0;  ///< array elements read so far (at most max_elements_)
    std::vector<std::string> key_order_;
    std::unordered_map<std::string, Value> kv_;
    std::vector<TensorInfo> tensors_;
    std::unordered_map<std::string, std::size_t> tensor_index_;
};

}  // namespace w2s::gguf
