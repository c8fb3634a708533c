// The w2s::cuda library: devices, streams, device buffers, copies and the cuBLAS GEMM (see w2s/cuda/runtime.hpp).
#include "w2s/cuda/detail/runtime.cuh"
