#!/usr/bin/env bash
# Peak memory (max RSS) of the steps whose memory could grow with the data, at 100 and 1,000 items, on
# SmolLM2-135M-Instruct and an MWE persona behaviour (1,000 A/B items, both answer orders), in one run:
#   vectors (mean)   w2s vectors --estimator mean : running sums, independent of the items
#   vectors (probe)  w2s vectors --estimator probe: keeps every activation pair (grows by design)
#   sweep            w2s sweep (one layer, three multipliers): holds every item's record (the prompt embeddings
#                    of every block, what the router is trained on)
# and the growth per item beside what the library says it holds per item. Also runs the sweep of 1,000 items
# under a W2S_MEMORY_LIMIT below its need, which must be refused before it starts (exit status and message).
#
#   scripts/bench_memory.sh            (the tool from build/release, W2S_TOOL overrides)
#
# Environment: see scripts/bench_common.sh; W2S_BENCH_DATA (default: MWE persona agreeableness), W2S_THREADS (2).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
data="${W2S_BENCH_DATA:-$datasets/mwe/persona/agreeableness.jsonl}"
tool="${W2S_TOOL:-$root/build/release/bin/w2s}"
threads="${W2S_THREADS:-2}"
need_model bench_memory
[ -f "$data" ] || { echo "bench_memory: no data at $data (set W2S_DATASETS or W2S_BENCH_DATA)" >&2; exit 1; }
[ -x "$tool" ] || { echo "bench_memory: no tool at $tool (cmake --build --preset release --target w2s, or set W2S_TOOL)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# peak RSS (KiB) and wall seconds of one command, its output in $work/last.log
measure() {
  /usr/bin/time -f '%M %e' -o "$work/time" "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; return 1; }
  cat "$work/time"
}

rows=()
for n in 100 1000; do
  for est in mean probe; do
    read -r kb s < <(measure "$tool" vectors "$model" --data "$data" --split all --max-items "$n" --estimator "$est" \
                       --threads "$threads" --out "$work/v_${est}_$n.gguf")
    rows+=("vectors ($est)|$n|$kb|$s")
  done
  read -r kb s < <(measure "$tool" sweep "$model" --vectors "$work/v_mean_$n.gguf" --data "$data" --split all --max-items "$n" \
                     --layers 15 --multipliers=-1,0,1 --threads "$threads" --out "$work/s_$n.w2ssweep")
  rows+=("sweep|$n|$kb|$s")
done

printf '%-16s %6s %14s %8s %18s\n' step items "peak RSS MiB" "wall s" "growth KiB/item"
declare -A first
for r in "${rows[@]}"; do
  IFS='|' read -r step n kb s <<<"$r"
  growth="-"
  if [[ -n "${first[$step]:-}" ]]; then
    IFS='|' read -r n0 kb0 <<<"${first[$step]}"
    growth=$(awk -v a="$kb0" -v b="$kb" -v n0="$n0" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / (n - n0) }')
  else
    first[$step]="$n|$kb"
  fi
  printf '%-16s %6s %14s %8s %18s\n' "$step" "$n" "$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')" "$s" "$growth"
done
hidden=$("$tool" info "$model" 2>/dev/null | sed -n 's/.*hidden[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -1)
layers=$("$tool" info "$model" 2>/dev/null | sed -n 's/.*layers[^0-9]*\([0-9][0-9]*\).*/\1/p' | head -1)
if [[ -n "$hidden" && -n "$layers" ]]; then
  echo "per item the library holds: sweep record = 2 x $layers blocks x $hidden floats of embeddings" \
       "= $(( 8 * layers * hidden / 1024 )) KiB (+ the values); probe = 2 orders x 2 x (L-1) layers x $hidden floats" \
       "= $(( 16 * (layers - 1) * hidden / 1024 )) KiB, x2 while its fit runs"
fi

# A sweep that would not fit is refused before it starts.
set +e
W2S_MEMORY_LIMIT=64M "$tool" sweep "$model" --vectors "$work/v_mean_1000.gguf" --data "$data" --split all --max-items 1000 \
  --layers 15 --multipliers=-1,0,1 --threads "$threads" --out "$work/refused.w2ssweep" >"$work/refused.log" 2>&1
rc=$?
set -e
echo "sweep of 1000 items under W2S_MEMORY_LIMIT=64M: exit $rc, file written: $([[ -e "$work/refused.w2ssweep" ]] && echo yes || echo no)"
grep -m1 'resource_error' "$work/refused.log" || tail -2 "$work/refused.log"
