// The w2s::cuda library: the device kernels of the CUDA backend (see w2s/cuda/runtime.hpp).
#include "w2s/cuda/detail/kernels.cuh"
