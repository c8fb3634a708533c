# W2sCuda.cmake — the optional CUDA backend (configure with -DW2S_CUDA=ON; never needed by the CPU build).
#
# Builds the static library w2s_cuda (alias w2s::cuda) from cuda/*.cu with nvcc: the device kernels and the
# cuBLAS calls behind w2s/cuda/runtime.hpp. The model itself (w2s/cuda/cuda_llama_model.hpp) is header-only
# host C++ compiled by the ordinary compiler in the consumer's translation units; link w2s::cuda to use it.
# Architectures: CMAKE_CUDA_ARCHITECTURES, default "90" (Hopper: H100/H200): CMake's plain "90" emits both
# sm_90 machine code and compute_90 PTX, which the driver JIT-compiles for newer GPUs (the PTX fallback).
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
  set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures of the w2s CUDA backend")
endif()

# One CUDA runtime in the process: the shared libcudart (CUDA::cudart). The default would add cudart_static to
# every target whose link closure holds CUDA code, beside the shared one.
if(NOT DEFINED CMAKE_CUDA_RUNTIME_LIBRARY)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "W2S_CUDA=ON but no CUDA compiler was found: install the CUDA toolkit (nvcc) or set "
                      "CMAKE_CUDA_COMPILER, or configure with -DW2S_CUDA=OFF")
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)

add_library(w2s_cuda STATIC
  ${CMAKE_CURRENT_LIST_DIR}/../cuda/runtime.cu
  ${CMAKE_CURRENT_LIST_DIR}/../cuda/kernels.cu)
add_library(w2s::cuda ALIAS w2s_cuda)
set_target_properties(w2s_cuda PROPERTIES
  CUDA_STANDARD 17   # the .cu sources need C++17 only; CMake 3.25 knows no CUDA20 flags for nvcc 13
  CUDA_STANDARD_REQUIRED ON
  CUDA_EXTENSIONS OFF
  CUDA_RUNTIME_LIBRARY Shared   # one CUDA runtime in the process: the shared libcudart that CUDA::cudart names
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(w2s_cuda PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/../include>)
# w2s::w2s gives the host-side headers (the model, tokenizer, Eigen) to consumers; the .cu sources include only
# w2s/cuda/* and w2s/core/error.hpp.
target_link_libraries(w2s_cuda PUBLIC w2s::w2s CUDA::cudart CUDA::cublas)
target_compile_options(w2s_cuda PRIVATE
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra --expt-relaxed-constexpr>)
target_compile_definitions(w2s_cuda PUBLIC W2S_HAS_CUDA=1)
