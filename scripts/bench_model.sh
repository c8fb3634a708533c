#!/usr/bin/env bash
# Speed and memory of the reference backend beside llama.cpp, on SmolLM2-135M-Instruct:
#   pp128 and tg64 tokens/s at 1 and 2 threads (w2s and llama-bench in the same run, with ratios),
#   peak resident memory during generation vs model file + KV cache, and the cost of hook points.
#
#   scripts/bench_model.sh [extra bench_model options, e.g. --threads 1,2,4 --reps 3]
#
# Environment: W2S_MODEL (default: the cache's SmolLM2-135M-Instruct.Q4_1.gguf, see fetch_model.sh),
# W2S_BUILD_DIR (default build/bench), W2S_CACHE_DIR (where scripts/build_llamacpp.sh builds llama.cpp).
# llama.cpp is built once (slow the first time: minutes) by scripts/build_llamacpp.sh, outside the repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
model="${W2S_MODEL:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
build="${W2S_BUILD_DIR:-$here/build/bench}"

if [ ! -f "$model" ]; then
  echo "bench_model: no model at $model (run scripts/fetch_model.sh or set W2S_MODEL)" >&2
  exit 1
fi
llama_bench="$("$here/scripts/build_llamacpp.sh" | tail -n1)"

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_EXAMPLES=OFF \
    -DW2S_BUILD_TOOLS=OFF -DW2S_BUILD_BENCHMARKS=ON >&2
fi
cmake --build "$build" --target bench_model >&2
"$build/benchmarks/model/bench_model" "$model" --llama-bench "$llama_bench" "$@"
