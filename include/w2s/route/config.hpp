// w2s/route/config.hpp — header-only (the default) or compiled route/ (the way fmt offers both).
//
// Header-only: every router body is an inline function in its header; nothing to link. A file that includes
// w2s/route/route.hpp then pays for compiling every router's fit (Eigen's templates), about 10 s at -O2.
//
// Compiled: a target that links w2s::route (CMake; it defines W2S_ROUTE_COMPILED) sees only the declarations of
// LinearRouter, MlpRouter, KnnRouter, ProfileRouter, their cross-validated wrappers and the parallel job runner
// of cross-validation; the bodies are compiled once into the w2s_route library (src/route.cpp). The four
// CrossValidated<R> of route.hpp are explicit instantiations there (extern template here); CrossValidated<R> of
// a user's own router is instantiated as usual. Every translation unit of one program must use the same mode
// (the CMake target makes that so); mixing them breaks the one-definition rule.
//
//   W2S_ROUTE_BODIES  1 where the bodies are compiled (header-only mode, or the library's own source), else 0
//   W2S_ROUTE_FUNC    the linkage of a body: `inline` header-only, nothing in the library
#pragma once

#if defined(W2S_ROUTE_COMPILED) && !defined(W2S_ROUTE_BUILDING_LIBRARY)
#define W2S_ROUTE_BODIES 0
#else
#define W2S_ROUTE_BODIES 1
#endif

#if defined(W2S_ROUTE_COMPILED)
#define W2S_ROUTE_FUNC
#else
#define W2S_ROUTE_FUNC inline
#endif
