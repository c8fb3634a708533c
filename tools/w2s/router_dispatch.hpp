// The CLI's edge: router names to router types, once. f receives a value of type std::type_identity<R>.
#pragma once

#include <fstream>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

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

/// The router kind recorded in a bundle's bundle.json.
inline std::string bundle_router(const std::string& dir) {
    std::ifstream f(dir + "/bundle.json");
    if (!f) throw io_error(dir + "/bundle.json: cannot open (not a w2s bundle?)");
    try {
        return nlohmann::json::parse(f).at("router").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw format_error(dir + "/bundle.json: " + e.what());
    }
}

}  // namespace w2s::cli
