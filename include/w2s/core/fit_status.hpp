// w2s/core/fit_status.hpp — the outcome of an iterative or numerical fit, one type for the whole library
// (estimators, routers). Eigen's ComputationInfo style: a fit that does not converge or is degenerate returns a
// status (with the last iterate as its model), never an exception.
#pragma once

#include <ostream>
#include <string_view>

namespace w2s {

enum class FitStatus {
    success,          ///< converged (or a direct solver succeeded)
    no_convergence,   ///< the iteration limit came before the convergence test passed; the model is the last iterate
    numerical_issue,  ///< a factorisation failed or a loss/gradient became non-finite
    degenerate,       ///< the data cannot determine the model (e.g. all differences zero, one class only)
};

[[nodiscard]] inline std::string_view to_string(FitStatus s) noexcept {
    switch (s) {
        case FitStatus::success: return "success";
        case FitStatus::no_convergence: return "no_convergence";
        case FitStatus::numerical_issue: return "numerical_issue";
        case FitStatus::degenerate: return "degenerate";
    }
    return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, FitStatus s) { return os << to_string(s); }

}  // namespace w2s
