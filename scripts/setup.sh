#!/usr/bin/env bash
# Installs what w2s needs on Debian 12 (as root): the apt packages and the model. Idempotent: a second
# run installs and downloads nothing, and says so.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Debian packages the build, tests, tools and benchmarks use: one a line in apt-packages.txt.
mapfile -t W2S_APT_PACKAGES < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/apt-packages.txt")
missing=()
for p in "${W2S_APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || { echo "setup: apt-get update failed: no network? install by hand: ${missing[*]}" >&2; exit 1; }
  apt-get install -y -q --no-install-recommends "${missing[@]}" || {
    echo "setup: apt-get install failed; install these packages by hand: ${missing[*]}" >&2; exit 1; }
else
  echo "setup: Debian packages already installed"
fi

"$here/fetch_model.sh"
"$here/fetch_gemma.sh"
