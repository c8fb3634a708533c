#!/usr/bin/env bash
# The README's test command: set-up (packages, models), then
#   1. the CUDA backend compiled and linked (W2S_CUDA=ON) so it cannot rot, when nvcc is present; its test is
#      run directly and says "skipped" on a machine without a GPU;
#   2. the sanitizer build (ASan + UBSan, -O1) of every unit test, and those tests; then the ThreadSanitizer build
#      (preset tsan) of the concurrency test (test_concurrency: eight threads steering one model differently), and
#      that test (the other tests hand work between threads through Debian's uninstrumented oneTBB, which
#      ThreadSanitizer cannot see, so they are not run under it);
#   3. the release build and every test (labels unit, model, data; the consumer projects; the fuzzer).
# The release run comes last so that CTest's summary of the whole suite is what the log ends with.
# Needs ../shared/datasets beside the repository (W2S_DATASETS overrides).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$SECONDS
bash scripts/setup.sh
jobs="$(nproc)"
phase() { echo; echo "=== $* ($(date +%T), $(( (SECONDS - start) / 60 )) min in)"; }

if command -v nvcc >/dev/null 2>&1; then
  phase "CUDA backend (compiled; its test skips without a GPU)"
  cmake -S . -B build/cuda-check -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_CUDA=ON -DW2S_TEST_AREAS=cuda \
        -DW2S_BUILD_BENCHMARKS=OFF -DW2S_BUILD_EXAMPLES=OFF -DW2S_BUILD_TOOLS=OFF >/dev/null
  cmake --build build/cuda-check -j "$jobs" --target test_cuda
  rc=0
  build/cuda-check/tests/cuda/test_cuda || rc=$?
  if [[ $rc -eq 77 ]]; then echo "test_cuda: skipped (no CUDA device)"; elif [[ $rc -ne 0 ]]; then exit "$rc"; fi
else
  phase "CUDA backend: nvcc not found, not compiled (optional part)"
fi

# The sanitizer run (ASan + UBSan) covers every unit test executable (the concept tests only compile, the
# consumer and fuzz tests build their own); `ctest --preset sanitize` runs the same set.
phase "sanitizer build (every unit test)"
cmake --preset sanitize >/dev/null
# The unit test executables this configuration has (the serve tests only with cpp-httplib), from CTest itself so
# that the list cannot drift: every test_* / text_* test labelled unit (w2s_add_test names a test as its target).
mapfile -t san_tests < <(ctest --preset sanitize -N -L unit -LE 'fuzz|consumer' | sed -n 's/^ *Test *#[0-9]*: //p' | grep -E '^(test|text)_')
[[ ${#san_tests[@]} -ge 10 ]] || { echo "test.sh: only ${#san_tests[@]} sanitizer tests found: ${san_tests[*]}" >&2; exit 1; }
echo "sanitizer tests: ${san_tests[*]}"
cmake --build --preset sanitize -j "$jobs" --target "${san_tests[@]}"
phase "sanitizer tests"
ctest --preset sanitize -j "$jobs" -R "^($(IFS='|'; echo "${san_tests[*]}"))\$"

phase "ThreadSanitizer build and the concurrency test"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target test_concurrency
ctest --preset tsan -R '^test_concurrency$'

phase "release build (library tests, tool, examples; the benchmarks are built by scripts/bench_*.sh)"
cmake --preset release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release -j "$jobs"
phase "release tests"
ctest --preset release -j "$jobs"
phase "done"
