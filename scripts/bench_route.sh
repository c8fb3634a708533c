#!/usr/bin/env bash
# Router fit and per-prompt predict time at SmolLM2 scale (d = 576, 30 layers, 500 prompts), beside one forward
# pass of SmolLM2-135M-Instruct timed in the same run when the model is present (goal: predict < 1% of it).
#
#   scripts/bench_route.sh [bench_route options, e.g. --cv --threads 2]
#
# Environment: see scripts/bench_common.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
bench_build bench_route
model_arg=()
[ -f "$model" ] && model_arg=(--model "$model")
"$build/bin/bench_route" "${model_arg[@]}" "$@"
