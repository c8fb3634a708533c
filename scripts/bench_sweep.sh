#!/usr/bin/env bash
# The cost of the per-input layer sweep beside one unsteered forward pass and beside the naive loop (2·7·L full
# passes), items/s at 1 and 2 threads, on SmolLM2-135M-Instruct and a development behaviour, in one run.
#
#   scripts/bench_sweep.sh [bench_sweep options, e.g. --items 16 --naive-items 2]
#
# Environment: W2S_MODEL (default: the cache's SmolLM2 GGUF), W2S_DATASETS (default ../shared/datasets),
# W2S_BENCH_DATA (default: the MWE corrigible-more-HHH behaviour), W2S_BUILD_DIR (default build/bench).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
model="${W2S_MODEL:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
data="${W2S_BENCH_DATA:-${W2S_DATASETS:-$here/../shared/datasets}/mwe/xrisk/corrigible-more-HHH.jsonl}"
build="${W2S_BUILD_DIR:-$here/build/bench}"
[ -f "$model" ] || { echo "bench_sweep: no model at $model (run scripts/fetch_model.sh or set W2S_MODEL)" >&2; exit 1; }
[ -f "$data" ] || { echo "bench_sweep: no data at $data (set W2S_DATASETS or W2S_BENCH_DATA)" >&2; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_EXAMPLES=OFF \
    -DW2S_BUILD_TOOLS=OFF -DW2S_BUILD_BENCHMARKS=ON >&2
fi
cmake --build "$build" --target bench_sweep >&2
"$build/bin/bench_sweep" "$model" "$data" "$@"
