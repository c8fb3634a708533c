// w2s/route/route.hpp — everything of route/: embeddings, the Router concept, the four routers, cross-validation,
// and the handy aliases.
//
//   using R = w2s::route::ProfileCV;            // ridge profile router, lambda tuned by 5-fold CV on train
//   R r; r.fit(X_train, S_train, /*seed*/ 1);    // X [n x d] float row-major, S [n x L] double
//   int layer = r.predict_one(x);                // x [d]
#pragma once

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

W2S_REQUIRE_ROUTER(LinearRouter);
W2S_REQUIRE_ROUTER(MlpRouter);
W2S_REQUIRE_ROUTER(KnnRouter);
W2S_REQUIRE_ROUTER(ProfileRouter);
W2S_REQUIRE_ROUTER(LinearCV);
W2S_REQUIRE_ROUTER(MlpCV);
W2S_REQUIRE_ROUTER(KnnCV);
W2S_REQUIRE_ROUTER(ProfileCV);
static_assert(TunableRouter<LinearRouter> && TunableRouter<MlpRouter> && TunableRouter<KnnRouter> &&
              TunableRouter<ProfileRouter>);

}  // namespace w2s::route
