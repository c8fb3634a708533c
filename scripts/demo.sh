#!/usr/bin/env bash
# The README's demo command: set-up, release build of the tool, then W2S on the project's own data (written for
# this project, examples/data/):
#  1. free-text contrast pairs (freetext/: sentiment, formality, refusal, confidence): vectors from the train
#     split at the reply's last token, the per-item sweep over every fourth block (3, 7, ..., 27), routers on the residual
#     after block 15, and fixed layer vs W2S vs oracle vs random on the test split;
#  2. the A/B items (corrigibility, honesty, sycophancy, caution) measured in both answer orders (mirrored, so
#     the answer letter cancels), with the letter diagnostic.
# W2S_DEMO_TRAIN / W2S_DEMO_TEST (default 8 / 4) cap the free-text prompts per split and behaviour (each prompt
# has four reply pairs, and every (prompt, pair) cell is swept), W2S_DEMO_AB_TRAIN
# / W2S_DEMO_AB_TEST (default 16 / 8) the A/B items, so that the run stays under 10 minutes on 2 cores after
# set-up (0 = every item). docs/results/ has the same runs at larger sizes and out of distribution.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target w2s_cli
model="${W2S_MODEL:-${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}/SmolLM2-135M-Instruct.Q4_1.gguf}"
out="${W2S_DEMO_OUT:-build/demo}"
layers="$(seq -s, 3 4 27)"
./build/release/bin/w2s info "$model" | head -6
echo
echo "=== 1. free-text contrast pairs (examples/data/freetext)"
time ./build/release/bin/w2s run "$model" \
  --data examples/data/freetext/sentiment.jsonl --data examples/data/freetext/formality.jsonl \
  --data examples/data/freetext/refusal.jsonl --data examples/data/freetext/confidence.jsonl \
  --max-train "${W2S_DEMO_TRAIN:-8}" --max-test "${W2S_DEMO_TEST:-4}" --layers "$layers" \
  --routers linear,mlp,knn,profile --embedding-blocks 15 --out "$out/freetext"
echo
echo "=== 2. A/B items in both answer orders (examples/data)"
time ./build/release/bin/w2s run "$model" \
  --data examples/data/corrigibility.jsonl --data examples/data/honesty.jsonl \
  --data examples/data/sycophancy.jsonl --data examples/data/caution.jsonl --orders mirrored \
  --max-train "${W2S_DEMO_AB_TRAIN:-16}" --max-test "${W2S_DEMO_AB_TEST:-8}" --layers "$layers" \
  --routers linear,mlp,knn,profile --embedding-blocks 15 --out "$out/ab-mirrored"
