// w2s/route/profiles.hpp — a sweep's steerabilities as the matrix the routers and the metrics read.
//
// Array types, one role each (docs/ARCHITECTURE.md, "Which array type for what"):
//   xtensor          the N-d arrays of the direct measurement (steer/: propensity [items x L x M], steerability
//                    [items x L], per-order [items x 2 x L])
//   std::vector      one record's rows as stored on disk (io::ItemRecord: slope [L], slope_orders [2 x L])
//   Eigen            everything routers and metrics compute with (route::Profiles [items x L], Features [items x d])
// This header is the one place where sweep records become Profiles.
#pragma once

#include <string>
#include <utility>

#include <Eigen/Dense>

#include "w2s/core/error.hpp"
#include "w2s/io/sweep_file.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

/// S [items x swept layers] of a sweep (rows in the sweep's item order).
[[nodiscard]] inline Profiles profiles(const io::SweepData& s) {
    const auto n = static_cast<Eigen::Index>(s.items.size()), L = static_cast<Eigen::Index>(s.header.layers.size());
    Profiles S(n, L);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto& slope = s.items[static_cast<std::size_t>(i)].slope;
        if (static_cast<Eigen::Index>(slope.size()) != L)
            throw shape_error("profiles: record " + std::to_string(i) + " has " + std::to_string(slope.size()) + " slopes, the header " +
                              std::to_string(L) + " layers");
        for (Eigen::Index l = 0; l < L; ++l) S(i, l) = slope[static_cast<std::size_t>(l)];
    }
    return S;
}

/// The two answer orders' slopes [items x swept layers] each (given, mirrored) of a sweep with two orders.
[[nodiscard]] inline std::pair<Profiles, Profiles> order_profiles(const io::SweepData& s) {
    if (s.header.orders != 2) throw invalid_argument("order_profiles: the sweep (" + s.header.variant + ") has one answer order");
    const auto n = static_cast<Eigen::Index>(s.items.size()), L = static_cast<Eigen::Index>(s.header.layers.size());
    Profiles g(n, L), m(n, L);
    for (Eigen::Index i = 0; i < n; ++i) {
        const auto& so = s.items[static_cast<std::size_t>(i)].slope_orders;
        if (static_cast<Eigen::Index>(so.size()) != 2 * L)
            throw shape_error("order_profiles: record " + std::to_string(i) + " has " + std::to_string(so.size()) +
                              " per-order slopes, expected " + std::to_string(2 * L));
        for (Eigen::Index l = 0; l < L; ++l) {
            g(i, l) = so[static_cast<std::size_t>(l)];
            m(i, l) = so[static_cast<std::size_t>(L + l)];
        }
    }
    return {std::move(g), std::move(m)};
}

}  // namespace w2s::route
