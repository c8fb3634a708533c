#!/usr/bin/env bash
# The README's test command: set-up (packages, models), then
#   1. the release build and every test (labels unit, model, data; the consumer projects; the fuzzer);
#   2. the sanitizer build (ASan + UBSan) of the unit-test executables, and those tests;
#   3. the CUDA backend compiled and linked (W2S_CUDA=ON) so it cannot rot; its tests report "not run"
#      (CTest's skip) on a machine without a GPU.
# Needs ../shared/datasets beside the repository (W2S_DATASETS overrides).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
jobs="$(nproc)"
phase() { echo; echo "=== $* ($(date +%T))"; }

phase "release build (library tests, tool, examples; the benchmarks are built by scripts/bench_*.sh)"
cmake --preset release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release -j "$jobs"
phase "release tests"
ctest --preset release -j "$jobs"

# The sanitizer run covers the unit tests of the core parts (file formats, kernels, tokenizer, model, sweep,
# routers, evaluation) so that CI stays within its time; `cmake --preset sanitize && cmake --build --preset
# sanitize && ctest --preset sanitize` runs every unit test under the sanitizers.
phase "sanitizer build (unit tests of the core parts)"
cmake --preset sanitize >/dev/null
san_tests=(test_core test_gguf test_kernels text_unit test_model_tiny test_sweep test_route test_eval)
cmake --build --preset sanitize -j "$jobs" --target "${san_tests[@]}"
phase "sanitizer tests"
ctest --preset sanitize -j "$jobs" -R "^($(IFS='|'; echo "${san_tests[*]}"))\$"

if command -v nvcc >/dev/null 2>&1; then
  phase "CUDA backend (compile + tests, skipped without a GPU)"
  cmake -S . -B build/cuda-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_CUDA=ON -DW2S_TEST_AREAS=cuda \
        -DW2S_BUILD_BENCHMARKS=OFF -DW2S_BUILD_EXAMPLES=OFF -DW2S_BUILD_TOOLS=OFF >/dev/null
  cmake --build build/cuda-check -j "$jobs" --target test_cuda
  ctest --test-dir build/cuda-check -L cuda --output-on-failure
else
  phase "CUDA backend: nvcc not found, not compiled (optional part)"
fi
