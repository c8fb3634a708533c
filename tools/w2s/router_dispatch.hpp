// The CLI's edge: router names to router types, once. f receives a value of type std::type_identity<R>.
#pragma once

#include <string>
#include <type_traits>

#include <w2s/core/error.hpp>
#include <w2s/route/route.hpp>

namespace w2s::cli {

inline constexpr const char* kRouterNames = "linear, mlp, knn, profile";

template <class F>
decltype(auto) with_router(const std::string& name, F&& f) {
    if (name == "linear") return f(std::type_identity<route::LinearCV>{});
    if (name == "mlp") return f(std::type_identity<route::MlpCV>{});
    if (name == "knn") return f(std::type_identity<route::KnnCV>{});
    if (name == "profile") return f(std::type_identity<route::ProfileCV>{});
    throw invalid_argument("router '" + name + "': expected one of " + kRouterNames);
}

}  // namespace w2s::cli
