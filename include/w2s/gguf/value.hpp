// w2s/gguf/value.hpp — one GGUF metadata value (scalar, string or nested array).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/gguf/types.hpp"

namespace w2s::gguf {

class Value;

/// A GGUF array: element type and its items (items may themselves be arrays).
struct Array {
    ValueType elem_type = ValueType::u8;
    std::vector<Value> items;
};

/// A metadata value. Integers keep their file type but are stored widened (u64 / i64), floats as double.
class Value {
public:
    using Storage = std::variant<std::uint64_t, std::int64_t, double, bool, std::string, std::shared_ptr<Array>>;

    Value() : type_(ValueType::u8), v_(std::uint64_t{0}) {}
    Value(ValueType t, Storage v) : type_(t), v_(std::move(v)) {}

    // ---- factories: one per file type ----
    static Value from_u8(std::uint8_t x) { return {ValueType::u8, std::uint64_t{x}}; }
    static Value from_i8(std::int8_t x) { return {ValueType::i8, std::int64_t{x}}; }
    static Value from_u16(std::uint16_t x) { return {ValueType::u16, std::uint64_t{x}}; }
    static Value from_i16(std::int16_t x) { return {ValueType::i16, std::int64_t{x}}; }
    static Value from_u32(std::uint32_t x) { return {ValueType::u32, std::uint64_t{x}}; }
    static Value from_i32(std::int32_t x) { return {ValueType::i32, std::int64_t{x}}; }
    static Value from_u64(std::uint64_t x) { return {ValueType::u64, x}; }
    static Value from_i64(std::int64_t x) { return {ValueType::i64, x}; }
    static Value from_f32(float x) { return {ValueType::f32, double{x}}; }
    static Value from_f64(double x) { return {ValueType::f64, x}; }
    static Value from_bool(bool x) { return {ValueType::boolean, x}; }
    static Value from_string(std::string s) { return {ValueType::string, std::move(s)}; }
    /// An array whose items all have type `elem` (items of an array-of-arrays may differ in their own
    /// element types). The writer checks that every item's type() equals `elem`.
    static Value from_array(ValueType elem, std::vector<Value> items) {
        return {ValueType::array, std::make_shared<Array>(Array{elem, std::move(items)})};
    }
    /// Array of strings (e.g. tokenizer.ggml.tokens).
    static Value from_strings(const std::vector<std::string>& xs) {
        std::vector<Value> items;
        items.reserve(xs.size());
        for (const auto& x : xs) items.push_back(from_string(x));
        return from_array(ValueType::string, std::move(items));
    }
    /// Array of f32 (e.g. tokenizer.ggml.scores).
    static Value from_f32s(std::span<const float> xs) {
        std::vector<Value> items;
        items.reserve(xs.size());
        for (float x : xs) items.push_back(from_f32(x));
        return from_array(ValueType::f32, std::move(items));
    }
    /// Array of i32 (e.g. tokenizer.ggml.token_type).
    static Value from_i32s(std::span<const std::int32_t> xs) {
        std::vector<Value> items;
        items.reserve(xs.size());
        for (std::int32_t x : xs) items.push_back(from_i32(x));
        return from_array(ValueType::i32, std::move(items));
    }

    [[nodiscard]] ValueType type() const noexcept { return type_; }
    [[nodiscard]] bool is_integer() const noexcept {
        return std::holds_alternative<std::uint64_t>(v_) || std::holds_alternative<std::int64_t>(v_);
    }
    [[nodiscard]] bool is_float() const noexcept { return std::holds_alternative<double>(v_); }
    [[nodiscard]] bool is_string() const noexcept { return type_ == ValueType::string; }
    [[nodiscard]] bool is_array() const noexcept { return type_ == ValueType::array; }

    /// Integer value as int64 (throws for non-integers and for u64 values above INT64_MAX).
    [[nodiscard]] std::int64_t as_int() const {
        if (auto* u = std::get_if<std::uint64_t>(&v_)) {
            if (*u > static_cast<std::uint64_t>(INT64_MAX)) throw format_error("value " + std::to_string(*u) + " does not fit int64");
            return static_cast<std::int64_t>(*u);
        }
        if (auto* i = std::get_if<std::int64_t>(&v_)) return *i;
        if (auto* b = std::get_if<bool>(&v_)) return *b ? 1 : 0;
        throw format_error(std::string("expected an integer, found ") + std::string(value_type_name(type_)));
    }
    /// Numeric value as double (integers converted).
    [[nodiscard]] double as_double() const {
        if (auto* d = std::get_if<double>(&v_)) return *d;
        if (auto* u = std::get_if<std::uint64_t>(&v_)) return static_cast<double>(*u);
        if (auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
        throw format_error(std::string("expected a number, found ") + std::string(value_type_name(type_)));
    }
    [[nodiscard]] bool as_bool() const {
        if (auto* b = std::get_if<bool>(&v_)) return *b;
        throw format_error(std::string("expected a bool, found ") + std::string(value_type_name(type_)));
    }
    [[nodiscard]] const std::string& as_string() const {
        if (auto* s = std::get_if<std::string>(&v_)) return *s;
        throw format_error(std::string("expected a string, found ") + std::string(value_type_name(type_)));
    }
    [[nodiscard]] const Array& as_array() const {
        if (auto* a = std::get_if<std::shared_ptr<Array>>(&v_)) return **a;
        throw format_error(std::string("expected an array, found ") + std::string(value_type_name(type_)));
    }
    [[nodiscard]] const Storage& storage() const noexcept { return v_; }

    friend bool operator==(const Value& a, const Value& b) {
        if (a.type_ != b.type_) return false;
        if (a.is_array()) {
            const auto& x = a.as_array();
            const auto& y = b.as_array();
            return x.elem_type == y.elem_type && x.items == y.items;
        }
        return a.v_ == b.v_;
    }

private:
    ValueType type_;
    Storage v_;
};

}  // namespace w2s::gguf
