// w2s/model/config.hpp — header-only (the default) or compiled reference backend (the way fmt offers both; the
// same scheme as w2s/route/config.hpp).
//
// Header-only: LlamaModel's member functions are inline in w2s/model/llama/llama_model.hpp; nothing to link. A
// file that uses the model (load, prefill, forward_tails, ...) then compiles the whole forward pass with its
// kernels, about 11 s at -O3 (a file that only includes the header: about 5 s).
//
// Compiled: a target that links w2s::model (CMake; it defines W2S_MODEL_COMPILED) sees only LlamaModel's class
// definition; its member functions are compiled once into the w2s_model library (src/model.cpp), with the flags
// w2s was built with (the project's -march=native where W2S_NATIVE is on: the consumer gets the fast kernels
// whatever its own flags). The free helpers of the implementation (detail::load_specs, rope tables, ...) stay
// inline for the other backends that share them. Every translation unit of one program must use the same mode
// (the CMake target makes that so); mixing them breaks the one-definition rule.
//
//   W2S_MODEL_BODIES  1 where the member functions are compiled (header-only mode, or the library's source), else 0
//   W2S_MODEL_FUNC    the linkage of a member function's body: `inline` header-only, nothing in the library
#pragma once

#if defined(W2S_MODEL_COMPILED) && !defined(W2S_MODEL_BUILDING_LIBRARY)
#define W2S_MODEL_BODIES 0
#else
#define W2S_MODEL_BODIES 1
#endif

#if defined(W2S_MODEL_COMPILED)
#define W2S_MODEL_FUNC
#else
#define W2S_MODEL_FUNC inline
#endif
