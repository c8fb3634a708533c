// w2s/cuda/detail/check.cuh — error checks for CUDA runtime and cuBLAS calls (nvcc only).
#pragma once

#ifndef __CUDACC__
#error "w2s/cuda/detail/*.cuh are compiled by nvcc into the w2s::cuda library; include w2s/cuda/runtime.hpp instead"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

#include "w2s/cuda/runtime.hpp"

namespace w2s::cuda::detail {

inline void check(cudaError_t e, const char* call, const char* file, int line) {
    if (e != cudaSuccess)
        throw device_error(std::string(call) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") at " + file +
                           ":" + std::to_string(line));
}

inline void check(cublasStatus_t e, const char* call, const char* file, int line) {
    if (e != CUBLAS_STATUS_SUCCESS)
        throw device_error(std::string(call) + ": " + cublasGetStatusName(e) + " (" + cublasGetStatusString(e) + ") at " +
                           file + ":" + std::to_string(line));
}

inline cudaStream_t native(const Stream& s) noexcept { return static_cast<cudaStream_t>(s.native()); }

}  // namespace w2s::cuda::detail

#define W2S_CUDA_CHECK(call) ::w2s::cuda::detail::check((call), #call, __FILE__, __LINE__)
/// After a kernel launch: reports a bad launch configuration (errors inside the kernel surface at the next sync).
#define W2S_CUDA_CHECK_LAUNCH(name) ::w2s::cuda::detail::check(cudaGetLastError(), name, __FILE__, __LINE__)
