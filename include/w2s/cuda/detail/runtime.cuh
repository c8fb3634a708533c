// w2s/cuda/detail/runtime.cuh — definitions of the non-kernel parts of runtime.hpp: devices, streams, buffers,
// copies and the cuBLAS GEMM. Compiled once, by nvcc, into w2s::cuda (cuda/runtime.cu).
#pragma once

#include <climits>
#include <cstdio>
#include <string>
#include <utility>

#include "w2s/cuda/detail/check.cuh"
#include "w2s/cuda/runtime.hpp"

namespace w2s::cuda {

int device_count() noexcept {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError();  // clear the sticky "no device" / "no driver" error
        return 0;
    }
    return n;
}

std::string device_description(int dev) {
    cudaDeviceProp p{};
    W2S_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    char buf[64];
    std::snprintf(buf, sizeof buf, ", sm_%d%d, %.1f GiB", p.major, p.minor,
                  static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    return std::string(p.name) + buf;
}

// ---- Stream ----------------------------------------------------------------------------------------------
// A blocking stream (default flags): the legacy default stream, used by DeviceBuffer's synchronous copies,
// stays ordered with it.
Stream::Stream() {
    cudaStream_t st = nullptr;
    W2S_CUDA_CHECK(cudaStreamCreate(&st));
    cublasHandle_t h = nullptr;
    try {
        W2S_CUDA_CHECK(cublasCreate(&h));
        W2S_CUDA_CHECK(cublasSetStream(h, st));
    } catch (...) {
        if (h) cublasDestroy(h);
        cudaStreamDestroy(st);
        throw;
    }
    stream_ = st;
    blas_ = h;
}

Stream::~Stream() {
    if (blas_) cublasDestroy(static_cast<cublasHandle_t>(blas_));
    if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
}

void Stream::synchronize() const { W2S_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_))); }

// ---- DeviceBuffer ----------------------------------------------------------------------------------------
DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
    if (bytes) W2S_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
}

DeviceBuffer::~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
}

DeviceBuffer::DeviceBuffer(const DeviceBuffer& o) : DeviceBuffer(o.bytes_) {
    if (bytes_) {
        W2S_CUDA_CHECK(cudaMemcpy(ptr_, o.ptr_, bytes_, cudaMemcpyDeviceToDevice));
        W2S_CUDA_CHECK(cudaStreamSynchronize(nullptr));
    }
}

DeviceBuffer& DeviceBuffer::operator=(const DeviceBuffer& o) {
    if (this != &o) {
        DeviceBuffer t(o);
        *this = std::move(t);
    }
    return *this;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        if (ptr_) cudaFree(ptr_);
        ptr_ = std::exchange(o.ptr_, nullptr);
        bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
}

void DeviceBuffer::reserve(std::size_t bytes, std::size_t keep) {
    if (bytes <= bytes_) return;
    DeviceBuffer n(bytes);
    if (keep > bytes_) keep = bytes_;
    if (keep) {
        W2S_CUDA_CHECK(cudaMemcpy(n.ptr_, ptr_, keep, cudaMemcpyDeviceToDevice));
        W2S_CUDA_CHECK(cudaStreamSynchronize(nullptr));
    }
    *this = std::move(n);
}

// ---- copies ------------------------------------------------------------------------------------------------
// From pageable host memory cudaMemcpyAsync stages the source before it returns, so `src` may be reused at once.
void copy_to_device(void* d_dst, const void* src, std::size_t bytes, const Stream& s) {
    if (bytes) W2S_CUDA_CHECK(cudaMemcpyAsync(d_dst, src, bytes, cudaMemcpyHostToDevice, detail::native(s)));
}

void copy_to_host(void* dst, const void* d_src, std::size_t bytes, const Stream& s) {
    if (bytes) W2S_CUDA_CHECK(cudaMemcpyAsync(dst, d_src, bytes, cudaMemcpyDeviceToHost, detail::native(s)));
    s.synchronize();
}

void copy_device_2d(void* d_dst, std::size_t dpitch, const void* d_src, std::size_t spitch, std::size_t width,
                    std::size_t rows, const Stream& s) {
    if (width && rows)
        W2S_CUDA_CHECK(cudaMemcpy2DAsync(d_dst, dpitch, d_src, spitch, width, rows, cudaMemcpyDeviceToDevice, detail::native(s)));
}

// ---- GEMM ------------------------------------------------------------------------------------------------------
// Row-major Y [rows x n_out] is column-major Y^T [n_out x rows]; Y^T = W X^T where row-major W [n_out x n_in] is
// column-major W^T [n_in x n_out] (so op(A) = T, lda = n_in) and row-major X [rows x n_in] is column-major X^T
// [n_in x rows] (op(B) = N, ldb = n_in).
void gemm(const half_bits* d_W, std::size_t n_out, std::size_t n_in, const half_bits* d_X, std::size_t rows, float* d_Y,
          std::size_t ldy, float beta, const Stream& s) {
    if (rows == 0 || n_out == 0) return;
    if (n_out > INT_MAX || n_in > INT_MAX || rows > INT_MAX || ldy > INT_MAX || ldy < n_out)
        throw invalid_argument("cuda::gemm: sizes " + std::to_string(rows) + "x" + std::to_string(n_in) + " * " +
                               std::to_string(n_in) + "x" + std::to_string(n_out) + " (ldy " + std::to_string(ldy) +
                               ") exceed cuBLAS's int range or ldy < n_out");
    const float alpha = 1.f;
    W2S_CUDA_CHECK(cublasGemmEx(static_cast<cublasHandle_t>(s.blas()), CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(n_out),
                                static_cast<int>(rows), static_cast<int>(n_in), &alpha, d_W, CUDA_R_16F,
                                static_cast<int>(n_in), d_X, CUDA_R_16F, static_cast<int>(n_in), &beta, d_Y, CUDA_R_32F,
                                static_cast<int>(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

}  // namespace w2s::cuda
