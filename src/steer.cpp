// src/steer.cpp — the compiled part of steer/ (w2s/steer/config.hpp): the fits of PCA and LogisticProbe (Eigen's
// symmetric eigen-solver and LDLT), compiled once into the w2s_steer library (CMake target w2s::steer, which
// defines W2S_STEER_COMPILED for its users).
#ifndef W2S_STEER_COMPILED
#error "src/steer.cpp is the w2s_steer library's source: build it through the w2s::steer CMake target"
#endif
#define W2S_STEER_BUILDING_LIBRARY 1

#include "w2s/steer/estimators.hpp"
