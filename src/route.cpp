// src/route.cpp — the compiled part of route/ (w2s/route/config.hpp): the bodies of the four routers, the parallel
// job runner of cross-validation and the four CrossValidated<R>, compiled once into the w2s_route library
// (CMake target w2s::route, which defines W2S_ROUTE_COMPILED for its users).
#ifndef W2S_ROUTE_COMPILED
#error "src/route.cpp is the w2s_route library's source: build it through the w2s::route CMake target"
#endif
#define W2S_ROUTE_BUILDING_LIBRARY 1

#include "w2s/route/route.hpp"

namespace w2s::route {
template class CrossValidated<LinearRouter>;
template class CrossValidated<MlpRouter>;
template class CrossValidated<KnnRouter>;
template class CrossValidated<ProfileRouter>;
}  // namespace w2s::route
