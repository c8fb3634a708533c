#!/usr/bin/env bash
# The development-set evaluation of docs/results/: `w2s run` (vectors, sweeps, routers, report) on
# SmolLM2-135M-Instruct over the behaviours of ../shared/datasets, with seeded subsets of each split.
#   mwe-all : the 25 MWE behaviours (14 persona + 11 advanced-ai-risk), test prompts in all five variants
#             (BASE in distribution; SYS.POS, SYS.NEG, USER.POS, USER.NEG out of distribution)
#   caa-base: the 7 CAA behaviours (generate_dataset.json, split by the protocol), BASE only
#             (the persona sentences exist for MWE behaviours only)
# Work files (vectors, sweeps; resumable) go to build/results/<name>/, the reports are copied to
# docs/results/<name>/. Environment: W2S_MODEL, W2S_DATASETS, MAX_TRAIN (40), MAX_TEST (16), THREADS (0 = all).
# Usage: scripts/dev_eval.sh [mwe-all] [caa-base]   (both when none is named)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
model="${W2S_MODEL:-${W2S_CACHE:-$HOME/.cache/w2s}/SmolLM2-135M-Instruct.Q4_1.gguf}"
data="${W2S_DATASETS:-$root/../shared/datasets}"
max_train="${MAX_TRAIN:-40}"
max_test="${MAX_TEST:-16}"
threads="${THREADS:-0}"
w2s="${W2S_BIN:-build/release/bin/w2s}"
[[ -x "$w2s" ]] || { cmake --preset release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null && cmake --build --preset release --target w2s; }
[[ -f "$model" ]] || bash scripts/fetch_model.sh
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(mwe-all caa-base)
for name in "${names[@]}"; do
  args=()
  case "$name" in
    mwe-all)
      for f in "$data"/mwe/persona/*.jsonl "$data"/mwe/xrisk/*.jsonl; do args+=(--data "$f"); done
      args+=(--variants all) ;;
    caa-base)
      for f in "$data"/caa/generate/*/generate_dataset.json; do args+=(--data "$f"); done
      args+=(--variants BASE) ;;
    *) echo "dev_eval: unknown run '$name' (mwe-all, caa-base)" >&2; exit 2 ;;
  esac
  out="build/results/$name"
  mkdir -p "$out"
  echo "=== $name: $(( ${#args[@]} / 2 - 1 )) behaviours, $max_train train / $max_test test items each ($(date +%T))"
  "$w2s" run "$model" "${args[@]}" --max-train "$max_train" --max-test "$max_test" \
         --routers linear,mlp,knn,profile --threads "$threads" --out "$out"
  dest="docs/results/$name"
  mkdir -p "$dest"
  cp "$out/report.json" "$out/report.md" "$dest/"
  rm -rf "$dest/figures" && cp -r "$out/figures" "$dest/figures"
  echo "=== $name: report in $dest ($(date +%T))"
done
