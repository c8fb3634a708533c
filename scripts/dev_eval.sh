#!/usr/bin/env bash
# The evaluations of docs/results/: `w2s run` (vectors, sweeps, routers, report, letter diagnostic) with seeded
# subsets of each split. Runs:
#   freetext         SmolLM2-135M-Instruct on the project's free-text prompts with four reply pairs each
#                    (examples/data/freetext: sentiment, formality, refusal, confidence), test prompts under BASE (in
#                    distribution) and SYS.NEG (out of distribution), train-size study of the routers; the report
#                    has the reply diagnostic (is the best layer the prompt's or the replies'?)
#   freetext-position the same prompts, split and subsets as freetext, BASE only, with the vectors read at the mean
#                    of the reply's tokens (--position mean) instead of its last token: the activation-position
#                    study of docs/results (the last-token side is freetext's BASE report)
#   freetext-control the label-shuffled control: sentiment with each pair's replies exchanged at
#                    random (scripts/make_shuffled_control.py, written to build/), BASE: what the pipeline reports
#                    when there is no behaviour to steer
#   freetext-gemma   the same data on Gemma 3 270M (a base model: --template plain), BASE and SYS.NEG, train-size
#                    study
#   freetext-gemma-control  the label-shuffled sentiment control on Gemma 3 270M (24 train / 12 test, BASE)
#   caa-mirrored     the 7 CAA behaviours of ../shared/datasets (generate_dataset.json), BASE, both answer orders
#   caa-as-given     the same in the single-order protocol (the mirror measured for the letter diagnostic only)
#   mwe-mirrored     the 25 MWE behaviours, BASE, both answer orders
#   mwe-as-given     the same in the single-order protocol
# Work files (vectors, sweeps; resumable) go to build/results/<name>/, the reports are copied to
# docs/results/<name>/. Environment: W2S_MODEL, W2S_GEMMA_MODEL, W2S_DATASETS, THREADS (0 = all), and per run
# MAX_TRAIN / MAX_TEST to override its subset sizes, VARIANTS its test variants (e.g. VARIANTS=BASE first; a later
# run with more variants resumes the vectors and the sweeps already made).
# Usage: scripts/dev_eval.sh NAME [NAME ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
model="${W2S_MODEL:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
gemma="${W2S_GEMMA_MODEL:-$cache/gemma-3-270m-q4_k_m.gguf}"
data="${W2S_DATASETS:-$root/../shared/datasets}"
threads="${THREADS:-0}"
w2s="${W2S_BIN:-build/release/bin/w2s}"
[[ -x "$w2s" ]] || { cmake --preset release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null && cmake --build --preset release --target w2s; }
[[ -f "$model" ]] || bash scripts/fetch_model.sh
[[ $# -gt 0 ]] || { echo "usage: scripts/dev_eval.sh freetext|freetext-position|freetext-control|freetext-gemma|freetext-gemma-control|caa-mirrored|caa-as-given|mwe-mirrored|mwe-as-given ..." >&2; exit 2; }
every() { seq -s, "$1" "$2" "$3"; }  # every($first, $step, $last): a layer list
ft=(); for b in sentiment formality refusal confidence; do ft+=(--data "examples/data/freetext/$b.jsonl"); done
for name in "$@"; do
  args=()
  case "$name" in
    freetext)
      # four reply pairs per prompt: every (prompt, pair) cell is swept, so 24 prompts are 96 cells
      m="$model"; tr=24; te=24
      args=("${ft[@]}" --variants BASE,SYS.NEG --layers "$(every 3 3 27)" --train-sizes 12) ;;
    freetext-position)
      m="$model"; tr=24; te=24
      args=("${ft[@]}" --variants BASE --layers "$(every 3 3 27)" --position mean) ;;
    freetext-control)
      m="$model"; tr=24; te=24
      for b in sentiment; do
        python3 scripts/make_shuffled_control.py "examples/data/freetext/$b.jsonl" "build/control/$b-shuffled.jsonl"
        args+=(--data "build/control/$b-shuffled.jsonl")
      done
      args+=(--variants BASE --layers "$(every 3 3 27)") ;;
    freetext-gemma-control)
      [[ -f "$gemma" ]] || bash scripts/fetch_gemma.sh
      m="$gemma"; tr=24; te=12
      python3 scripts/make_shuffled_control.py examples/data/freetext/sentiment.jsonl build/control/sentiment-shuffled.jsonl
      args=(--data build/control/sentiment-shuffled.jsonl --template plain --variants BASE --layers "$(every 3 3 15)" --embedding-blocks 6,9,12) ;;
    freetext-gemma)
      [[ -f "$gemma" ]] || bash scripts/fetch_gemma.sh
      m="$gemma"; tr=48; te=16
      args=("${ft[@]}" --template plain --variants BASE,SYS.NEG --layers "$(every 3 3 15)" --embedding-blocks 6,9,12 --train-sizes 16,32) ;;
    caa-mirrored|caa-as-given)
      m="$model"; tr=40; te=16
      for f in "$data"/caa/generate/*/generate_dataset.json; do args+=(--data "$f"); done
      args+=(--variants BASE --layers "$(every 2 2 28)" --orders "${name#caa-}") ;;
    mwe-mirrored|mwe-as-given)
      m="$model"; tr=16; te=8
      for f in "$data"/mwe/persona/*.jsonl "$data"/mwe/xrisk/*.jsonl; do args+=(--data "$f"); done
      args+=(--variants BASE --layers "$(every 2 4 26)" --orders "${name#mwe-}") ;;
    *) echo "dev_eval: unknown run '$name'" >&2; exit 2 ;;
  esac
  tr="${MAX_TRAIN:-$tr}"; te="${MAX_TEST:-$te}"
  if [[ -n "${VARIANTS:-}" ]]; then
    for i in "${!args[@]}"; do [[ "${args[$i]}" == --variants ]] && args[$((i + 1))]="$VARIANTS"; done
  fi
  out="build/results/$name"
  mkdir -p "$out"
  echo "=== $name: $tr train / $te test items per behaviour ($(date +%T))"
  "$w2s" run "$m" "${args[@]}" --max-train "$tr" --max-test "$te" --routers linear,mlp,knn,profile --threads "$threads" --out "$out"
  dest="docs/results/$name"
  mkdir -p "$dest"
  cp "$out/report.json" "$out/report.md" "$dest/"
  rm -rf "$dest/figures" && cp -r "$out/figures" "$dest/figures"
  echo "=== $name: report in $dest ($(date +%T))"
done
