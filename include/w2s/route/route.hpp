// w2s/route/route.hpp — everything of route/: embeddings, the Router concept, the four routers, cross-validation,
// and the handy aliases.
//
//   using R = w2s::route::ProfileCV;            // ridge profile router, lambda tuned by 5-fold CV on train
//   R r; r.fit(X_train, S_train, /*seed*/ 1);    // X [n x d] float row-major, S [n x L] double
//   int layer = r.predict_one(x);                // x [d]
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

#include "w2s/core/error.hpp"

#include "w2s/route/config.hpp"
#include "w2s/route/cv.hpp"
#include "w2s/route/embedding.hpp"
#include "w2s/route/knn.hpp"
#include "w2s/route/linear.hpp"
#include "w2s/route/mlp.hpp"
#include "w2s/route/profile.hpp"
#include "w2s/route/router.hpp"

namespace w2s::route {

using LinearCV = CrossValidated<LinearRouter>;
using MlpCV = CrossValidated<MlpRouter>;
using KnnCV = CrossValidated<KnnRouter>;
using ProfileCV = CrossValidated<ProfileRouter>;
/// The router the project recommends by default (learns from whole profiles; closed-form, fast).
using DefaultRouter = ProfileCV;

#if !W2S_ROUTE_BODIES
// Compiled mode (w2s/route/config.hpp): these four are instantiated once, in the w2s_route library.
extern template class CrossValidated<LinearRouter>;
extern template class CrossValidated<MlpRouter>;
extern template class CrossValidated<KnnRouter>;
extern template class CrossValidated<ProfileRouter>;
#endif

W2S_REQUIRE_ROUTER(LinearRouter);
W2S_REQUIRE_ROUTER(MlpRouter);
W2S_REQUIRE_ROUTER(KnnRouter);
W2S_REQUIRE_ROUTER(ProfileRouter);
W2S_REQUIRE_ROUTER(LinearCV);
W2S_REQUIRE_ROUTER(MlpCV);
W2S_REQUIRE_ROUTER(KnnCV);
W2S_REQUIRE_ROUTER(ProfileCV);
/// The routers' names, as their `kind` and as the CLI and bundles spell them.
inline constexpr std::string_view kRouterKinds = "linear, mlp, knn, profile";

/// The one place a router's name becomes its type: f(std::type_identity<R>{}) with R the cross-validated router
/// of that kind (LinearCV, MlpCV, KnnCV, ProfileCV). Throws invalid_argument naming the choices for any other name.
template <class F>
decltype(auto) for_router(std::string_view kind, F&& f) {
    if (kind == LinearCV::kind) return f(std::type_identity<LinearCV>{});
    if (kind == MlpCV::kind) return f(std::type_identity<MlpCV>{});
    if (kind == KnnCV::kind) return f(std::type_identity<KnnCV>{});
    if (kind == ProfileCV::kind) return f(std::type_identity<ProfileCV>{});
    throw invalid_argument("router '" + std::string(kind) + "': expected one of " + std::string(kRouterKinds));
}

static_assert(TunableRouter<LinearRouter> && TunableRouter<MlpRouter> && TunableRouter<KnnRouter> &&
              TunableRouter<ProfileRouter>);

}  // namespace w2s::route
