// w2s/core/error.hpp — the one error hierarchy of the library.
//
// Every error thrown by w2s derives from w2s::error. Each kind has a stable name (kind()) that tools and
// tests can match on, and a message that says what went wrong, where (file, tensor, line, field), the
// value found and what was expected. Context is added as an error travels up with with_context():
//   "loading model.gguf: tensor blk.3.attn_q: expected 576x576, got 576x192".
// The library never prints and never exits; the tools at the edge decide what to show.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace w2s {

class error : public std::runtime_error {
public:
    error(std::string kind, const std::string& msg) : std::runtime_error(msg), kind_(std::move(kind)) {}
    /// Stable name of the error kind, e.g. "format_error".
    [[nodiscard]] const std::string& kind() const noexcept { return kind_; }

private:
    std::string kind_;
};

/// A file is not what it claims to be (bad magic, truncated, out-of-range offsets, unknown types).
struct format_error : error {
    explicit format_error(const std::string& m) : error("format_error", m) {}
};
/// An I/O operation failed (open, mmap, read, write).
struct io_error : error {
    explicit io_error(const std::string& m) : error("io_error", m) {}
};
/// A caller passed an argument that breaks a documented precondition (wrong shape, bad layer index).
struct invalid_argument : error {
    explicit invalid_argument(const std::string& m) : error("invalid_argument", m) {}
};
/// Input data (datasets, user files) is malformed.
struct data_error : error {
    explicit data_error(const std::string& m) : error("data_error", m) {}
};
/// A feature that the given model/file needs is not supported (unknown architecture, tensor type).
struct unsupported_error : error {
    explicit unsupported_error(const std::string& m) : error("unsupported_error", m) {}
};
/// A tensor or vector has a shape other than the one expected.
struct shape_error : error {
    explicit shape_error(const std::string& m) : error("shape_error", m) {}
};
/// A computation produced a non-finite value (NaN, Inf), e.g. a steered residual that overflowed.
struct numeric_error : error {
    explicit numeric_error(const std::string& m) : error("numeric_error", m) {}
};

/// The work would need more of a resource (memory) than the machine or its limits give (core/memory.hpp).
struct resource_error : error {
    explicit resource_error(const std::string& m) : error("resource_error", m) {}
};

/// Re-throw `e` (of its own dynamic kind when it is a w2s::error) with `context + ": "` prefixed.
/// Use inside a catch block:  catch (const w2s::error& e) { w2s::rethrow_with_context(e, "loading " + path); }
/// The library's own kinds keep their C++ type (so `catch (const format_error&)` still matches); other
/// kinds derived elsewhere keep their kind() name.
[[noreturn]] inline void rethrow_with_context(const error& e, std::string_view context) {
    const std::string m = std::string(context) + ": " + e.what();
    if (dynamic_cast<const format_error*>(&e)) throw format_error(m);
    if (dynamic_cast<const io_error*>(&e)) throw io_error(m);
    if (dynamic_cast<const invalid_argument*>(&e)) throw invalid_argument(m);
    if (dynamic_cast<const data_error*>(&e)) throw data_error(m);
    if (dynamic_cast<const unsupported_error*>(&e)) throw unsupported_error(m);
    if (dynamic_cast<const shape_error*>(&e)) throw shape_error(m);
    if (dynamic_cast<const numeric_error*>(&e)) throw numeric_error(m);
    if (dynamic_cast<const resource_error*>(&e)) throw resource_error(m);
    throw error(e.kind(), m);
}

/// Runs f(); any w2s::error escaping it gets `context` prefixed.
template <class F>
decltype(auto) with_context(std::string_view context, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const error& e) {
        rethrow_with_context(e, context);
    }
}

}  // namespace w2s
