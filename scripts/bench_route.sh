#!/usr/bin/env bash
# Router fit and per-prompt predict time at SmolLM2 scale (d = 576, 30 layers, 500 prompts), beside one forward
# pass of SmolLM2-135M-Instruct measured in the same run when the model is present (goal: predict < 1% of it).
#
#   scripts/bench_route.sh [bench_route options, e.g. --cv --threads 2]
#
# Environment: W2S_MODEL (default: the cache's SmolLM2 GGUF), W2S_BUILD_DIR (default build/bench).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${W2S_BUILD_DIR:-$here/build/bench}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_EXAMPLES=OFF \
    -DW2S_BUILD_TOOLS=OFF -DW2S_BUILD_BENCHMARKS=ON >&2
fi
cmake --build "$build" --target bench_route >&2
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
model="${W2S_MODEL:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
model_arg=()
[ -f "$model" ] && model_arg=(--model "$model")
"$build/bin/bench_route" "${model_arg[@]}" "$@"
