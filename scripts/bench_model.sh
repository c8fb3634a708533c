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
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
need_model bench_model
llama_bench="$("$root/scripts/build_llamacpp.sh" | tail -n1)"

bench_build bench_model
"$build/benchmarks/model/bench_model" "$model" --llama-bench "$llama_bench" "$@"
