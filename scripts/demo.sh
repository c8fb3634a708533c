#!/usr/bin/env bash
# The README's demo command: set-up, release build of the tool, then W2S on the project's own embedded data
# (examples/data: four behaviours written for this project): CAA vectors from the train split, the per-item
# sweep, routers, and the table fixed layer vs W2S vs oracle on the test split.
# W2S_DEMO_TRAIN (default 60) and W2S_DEMO_TEST (default 40) cap the items per split and behaviour so that the
# run stays well under 10 minutes on 2 cores (0 = every item). The routers read the residual after block 20
# (2L/3), the best embedding block of the development runs in docs/results/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target w2s_cli
model="${W2S_MODEL:-${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}/SmolLM2-135M-Instruct.Q4_1.gguf}"
out="${W2S_DEMO_OUT:-build/demo}"
n_train="${W2S_DEMO_TRAIN:-60}"
n_test="${W2S_DEMO_TEST:-40}"
./build/release/bin/w2s info "$model" | head -6
echo
time ./build/release/bin/w2s run "$model" \
  --data examples/data/corrigibility.jsonl --data examples/data/honesty.jsonl \
  --data examples/data/sycophancy.jsonl --data examples/data/caution.jsonl \
  --max-train "$n_train" --max-test "$n_test" --routers linear,mlp,knn,profile --embedding-blocks 20 --out "$out"
