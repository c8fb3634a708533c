// w2s/steer/config.hpp — header-only (the default) or compiled estimator fits (the scheme of w2s/route/config.hpp
// and w2s/model/config.hpp, the way fmt offers both).
//
// Header-only: PCA::finish and LogisticProbe::finish are inline in w2s/steer/estimators.hpp; nothing to link.
// Every file that includes the header (directly or through activations, the sweep, the protocol or the steerer)
// then instantiates Eigen's symmetric eigen-solver and LDLT for them, about 3.5 s of g++ 12 per file, whether
// or not it fits a vector.
//
// Compiled: a target that links w2s::steer (CMake; it defines W2S_STEER_COMPILED) sees their declarations only;
// the bodies are compiled once into the w2s_steer library (src/steer.cpp). MeanDifference and the estimators'
// start/add stay inline (small, and on the sweep's hot path). Every translation unit of one program must use the
// same mode (the CMake target makes that so); mixing them breaks the one-definition rule.
//
//   W2S_STEER_BODIES  1 where the bodies are compiled (header-only mode, or the library's own source), else 0
//   W2S_STEER_FUNC    the linkage of a body: `inline` header-only, nothing in the library
#pragma once

#if defined(W2S_STEER_COMPILED) && !defined(W2S_STEER_BUILDING_LIBRARY)
#define W2S_STEER_BODIES 0
#else
#define W2S_STEER_BODIES 1
#endif

#if defined(W2S_STEER_COMPILED)
#define W2S_STEER_FUNC
#else
#define W2S_STEER_FUNC inline
#endif
