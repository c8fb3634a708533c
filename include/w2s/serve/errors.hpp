// w2s/serve/errors.hpp — the errors of serving, each with the HTTP status it answers with.
//
// A request that cannot be served is refused with a request_error: the status (400 malformed or out of range, 404
// unknown bundle or route, 409 conflict, 413 body too large, 503 queue full), the request field it is about
// ("messages[2].content", "steering[0].bundle"; empty when none) and a message that says what was found and what
// was expected. The HTTP layer turns it into OpenAI's error object {"error": {"message", "type", "param", "code"}}.
// Like every w2s error it derives from w2s::error; its kind() is the OpenAI error type.
#pragma once

#include <string>
#include <utility>

#include "w2s/core/error.hpp"

namespace w2s::serve {

class request_error : public error {
public:
    request_error(int status, std::string param, const std::string& message)
        : error(type_for(status), message), status_(status), param_(std::move(param)) {}
    /// The HTTP status this error answers with.
    [[nodiscard]] int status() const noexcept { return status_; }
    /// The request field it is about ("" when none).
    [[nodiscard]] const std::string& param() const noexcept { return param_; }

    /// OpenAI's error type for a status: invalid_request_error (4xx but 404), not_found_error, server_busy (503), ...
    static std::string type_for(int status) {
        switch (status) {
            case 404: return "not_found_error";
            case 409: return "conflict_error";
            case 413: return "request_too_large";
            case 503: return "server_busy";
            default: return status >= 500 ? "server_error" : "invalid_request_error";
        }
    }

private:
    int status_;
    std::string param_;
};

/// 400 naming the field.
[[nodiscard]] inline request_error bad_field(const std::string& field, const std::string& message) {
    return request_error(400, field, field.empty() ? message : field + ": " + message);
}

}  // namespace w2s::serve
