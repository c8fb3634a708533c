// w2s/cuda/cuda.hpp — the optional CUDA backend (CMake: -DW2S_CUDA=ON, link w2s::cuda).
//
//   #include <w2s/cuda/cuda.hpp>
//   if (w2s::cuda::device_count() > 0) {
//       auto m = w2s::cuda::CudaLlamaModel::load(path);          // a w2s::model::Backend
//       auto rec = w2s::sweep::sweep_item(m, item, vectors, opts);  // the sweep engine, unchanged
//   }
#pragma once

#include "w2s/cuda/cuda_llama_model.hpp"
#include "w2s/cuda/runtime.hpp"
