// src/model.cpp — the compiled part of the reference backend (w2s/model/config.hpp): LlamaModel's member
// functions, compiled once into the w2s_model library (CMake target w2s::model, which defines W2S_MODEL_COMPILED
// for its users), with the flags w2s was built with.
#ifndef W2S_MODEL_COMPILED
#error "src/model.cpp is the w2s_model library's source: build it through the w2s::model CMake target"
#endif
#define W2S_MODEL_BUILDING_LIBRARY 1

#include "w2s/model/llama/llama_model.hpp"
