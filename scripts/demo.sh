#!/usr/bin/env bash
# The README's demo command: set-up, release build, then the furthest part of the pipeline that works.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target w2s_cli
model="${W2S_MODEL:-${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}/SmolLM2-135M-Instruct.Q4_1.gguf}"
./build/release/bin/w2s info "$model"
