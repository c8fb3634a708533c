// w2s/io/json_fields.hpp — integer fields of the JSON headers the library reads (the sweep header, bundle.json),
// checked before they are converted. nlohmann's get<int>() casts a float to int unchecked (1e300 is undefined
// behaviour, 2.5 silently becomes 2) and wraps a 64-bit integer (2^32 + 4 becomes 4); a damaged file must get a
// format_error naming the field and the value instead.
//
//   int n = io::json_int(j, "n_layers", "model.w2ssweep: sweep header");                  // an integer in int's range
//   int v = io::json_int_or(j, "format_version", 0, where);                                // absent: 0
//   std::vector<int> ls = io::json_ints(j, "layers", where);                               // an array of them
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"

namespace w2s::io {

namespace detail {
inline int json_int_value(const nlohmann::json& v, const std::string& what) {
    if (!v.is_number_integer())
        throw format_error(what + " is " + v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + " (" +
                           std::string(v.type_name()) + "), expected an integer");
    const bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX)
                                             : v.get<std::int64_t>() >= INT_MIN && v.get<std::int64_t>() <= INT_MAX;
    if (!fits) throw format_error(what + " is " + v.dump() + ", expected an integer within " + std::to_string(INT_MIN) + ".." + std::to_string(INT_MAX));
    return static_cast<int>(v.get<std::int64_t>());
}
}  // namespace detail

/// The integer field `key` of the object `j`; format_error "<where>: field '<key>' ..." when it is missing, not an
/// integer, or outside int's range.
[[nodiscard]] inline int json_int(const nlohmann::json& j, std::string_view key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end()) throw format_error(where + ": field '" + std::string(key) + "' is missing");
    return detail::json_int_value(*it, where + ": field '" + std::string(key) + "'");
}

/// As json_int, `dflt` when the field is absent.
[[nodiscard]] inline int json_int_or(const nlohmann::json& j, std::string_view key, int dflt, const std::string& where) {
    const auto it = j.find(key);
    return it == j.end() ? dflt : detail::json_int_value(*it, where + ": field '" + std::string(key) + "'");
}

/// The field `key` of `j` as an array of integers, each checked as json_int checks one (naming "key[i]").
[[nodiscard]] inline std::vector<int> json_ints(const nlohmann::json& j, std::string_view key, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end()) throw format_error(where + ": field '" + std::string(key) + "' is missing");
    if (!it->is_array()) throw format_error(where + ": field '" + std::string(key) + "' is " + std::string(it->type_name()) + ", expected an array of integers");
    std::vector<int> out;
    out.reserve(it->size());
    for (std::size_t i = 0; i < it->size(); ++i)
        out.push_back(detail::json_int_value((*it)[i], where + ": field '" + std::string(key) + "[" + std::to_string(i) + "]'"));
    return out;
}

}  // namespace w2s::io
