# Shared by scripts/fetch_model.sh and scripts/fetch_gemma.sh (sourced, not run). After
#   fetch_start TAG FILE SHA256
# $cache and $dest are set (dest = $cache/FILE, cache = $W2S_CACHE_DIR or ${XDG_CACHE_HOME:-$HOME/.cache}/w2s), and
# the script has exited 0 when $dest already holds the file with that SHA-256 (a wrong one is removed, to be
# fetched again). sha_ok PATH checks a file against the same hash.
fetch_start() {
  fetch_tag="$1"
  fetch_sha256="$3"
  cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
  dest="$cache/$2"
  mkdir -p "$cache"
  if [ -f "$dest" ]; then
    if sha_ok "$dest"; then
      echo "$fetch_tag: $dest already present (SHA-256 ok), nothing to download"
      exit 0
    fi
    echo "$fetch_tag: $dest has the wrong SHA-256; fetching it again" >&2
    rm -f "$dest"
  fi
}
sha_ok() { echo "$fetch_sha256  $1" | sha256sum -c --status; }
