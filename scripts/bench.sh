#!/usr/bin/env bash
# Every CPU benchmark table in one run (run it on a quiet machine; each table compares side by side):
#   model (w2s vs llama.cpp pp128/tg64 at 1 and 2 threads, peak memory, hook cost), sweep (shared sweep vs one
#   forward pass vs the naive loop), route (fit and predict time vs one forward pass), and tokenize (w2s vs
#   PyPI tokenizers) when a Python with transformers is available (PYTHON or /opt/w2s-venv).
#   scripts/bench.sh [model] [sweep] [route] [tokenize]    (all when none is named)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(model sweep route tokenize)
for p in "${parts[@]}"; do
  echo "=== $p ($(date +%T))"
  case "$p" in
    model) bash "$here/bench_model.sh" ;;
    sweep) bash "$here/bench_sweep.sh" ;;
    route) bash "$here/bench_route.sh" --cv --threads 1 ;;
    tokenize)
      py="${PYTHON:-/opt/w2s-venv/bin/python}"
      if "$py" -c "import transformers" 2>/dev/null; then PYTHON="$py" bash "$here/bench_tokenize.sh"
      else echo "tokenize: skipped (needs a Python with transformers: set PYTHON)"; fi ;;
    *) echo "bench: unknown part '$p' (model, sweep, route, tokenize)" >&2; exit 2 ;;
  esac
  echo
done
