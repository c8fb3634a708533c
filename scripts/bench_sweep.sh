#!/usr/bin/env bash
# The cost of the per-input layer sweep beside one unsteered forward pass and beside the naive loop (2·7·L full
# passes), items/s at 1 and 2 threads, on SmolLM2-135M-Instruct and a development behaviour, in one run.
#
#   scripts/bench_sweep.sh [bench_sweep options, e.g. --items 16 --naive-items 2]
#
# Environment: see scripts/bench_common.sh; W2S_BENCH_DATA (default: MWE corrigible-more-HHH).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
data="${W2S_BENCH_DATA:-$datasets/mwe/xrisk/corrigible-more-HHH.jsonl}"
need_model bench_sweep
[ -f "$data" ] || { echo "bench_sweep: no data at $data (set W2S_DATASETS or W2S_BENCH_DATA)" >&2; exit 1; }
bench_build bench_sweep
"$build/bin/bench_sweep" "$model" "$data" "$@"
