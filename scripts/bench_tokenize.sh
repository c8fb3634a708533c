#!/usr/bin/env bash
# Tokenization throughput, w2s vs the PyPI `tokenizers` (Rust, via transformers loading the same GGUF), on
# the same few MB of the datasets' text, one thread each, in one run. Prints MB/s for both and the ratio.
#   scripts/bench_tokenize.sh [MB]        (env: see scripts/bench_common.sh; PYTHON)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
mb="${1:-4}"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x /opt/w2s-venv/bin/python ]; then python=/opt/w2s-venv/bin/python; else python=python3; fi
fi
bench_build bench_tokenize 2>/dev/null
docs="$(mktemp --suffix=.json)"
trap 'rm -f "$docs"' EXIT
w2s_json="$("$build/benchmarks/text/bench_tokenize" "$model" "$datasets" "$mb" "$docs")"
ref_json="$(RAYON_NUM_THREADS=1 RAYON_RS_NUM_CPUS=1 TOKENIZERS_PARALLELISM=false "$python" - "$model" "$docs" 2>/dev/null <<'PY'
import json, os, sys, time
from transformers import AutoTokenizer
model, docs_path = sys.argv[1], sys.argv[2]
docs = json.load(open(docs_path, encoding="utf-8"))
tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(model)), gguf_file=os.path.basename(model))
bt = tok.backend_tokenizer
nbytes = sum(len(d.encode("utf-8")) for d in docs)
def one_by_one():
    t0 = time.perf_counter(); n = 0
    for d in docs: n += len(bt.encode(d, add_special_tokens=False).ids)
    return time.perf_counter() - t0, n
def batch():
    t0 = time.perf_counter(); n = sum(len(e.ids) for e in bt.encode_batch(docs, add_special_tokens=False))
    return time.perf_counter() - t0, n
cold, n = one_by_one()
best = min([cold] + [one_by_one()[0] for _ in range(3)])
bbest = min(batch()[0] for _ in range(3))
print(json.dumps({"tokenizer": "tokenizers (Rust)", "bytes": nbytes, "ids": n, "cold_mb_s": nbytes / cold / 1e6,
                  "mb_s": nbytes / best / 1e6, "batch_mb_s": nbytes / bbest / 1e6}))
PY
)"
"$python" - "$w2s_json" "$ref_json" <<'PY'
import json, sys
w, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"text: {w['documents']} documents, {w['bytes'] / 1e6:.2f} MB; ids w2s {w['ids']}, tokenizers {r['ids']}"
      + ("" if w["ids"] == r["ids"] else "  (COUNTS DIFFER)"))
print(f"w2s                 : {w['mb_s']:8.2f} MB/s  (cold cache {w['cold_mb_s']:.2f})")
print(f"tokenizers, per doc : {r['mb_s']:8.2f} MB/s  (cold cache {r['cold_mb_s']:.2f})")
print(f"tokenizers, batch   : {r['batch_mb_s']:8.2f} MB/s  (1 thread)")
print(f"ratio w2s / tokenizers: {w['mb_s'] / r['mb_s']:.2f} (per doc), {w['mb_s'] / r['batch_mb_s']:.2f} (batch)")
PY
