#!/usr/bin/env bash
# Builds llama.cpp's `llama-bench` (CPU only, Release, -DGGML_NATIVE=ON, no CURL) from the copy vendored in the
# PyPI source package of llama-cpp-python, outside the repository, once. Prints the path of the binary on the
# last line of stdout. A second run finds the binary and builds nothing.
#
#   scripts/build_llamacpp.sh            # -> $W2S_CACHE_DIR/llamacpp/<version>/build/bin/llama-bench
#
# Environment:
#   W2S_CACHE_DIR         cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/w2s)
#   W2S_LLAMACPP_SPEC     pip requirement (default llama-cpp-python==0.3.*; whatever 0.3.x PyPI serves)
#   W2S_LLAMACPP_JOBS     parallel build jobs (default 1: the build is long but gentle on a small machine)
# Never commit anything this script writes; it writes nothing inside the repository.
set -euo pipefail

cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
root="$cache/llamacpp"
spec="${W2S_LLAMACPP_SPEC:-llama-cpp-python==0.3.*}"
jobs="${W2S_LLAMACPP_JOBS:-1}"
mkdir -p "$root"

log() { echo "build_llamacpp: $*" >&2; }

# Reuse a finished build (any version) if one is there.
for bin in "$root"/*/build/bin/llama-bench; do
  if [ -x "$bin" ]; then
    log "llama-bench already built"
    echo "$bin"
    exit 0
  fi
done

pyexe="python3"
if [ -x /opt/w2s-venv/bin/python ]; then pyexe=/opt/w2s-venv/bin/python; fi

sdist_dir="$root/sdist"
mkdir -p "$sdist_dir"
tarball="$(ls "$sdist_dir"/llama_cpp_python-*.tar.gz 2>/dev/null | head -n1 || true)"
if [ -z "$tarball" ]; then
  log "downloading the source package $spec from PyPI"
  if ! "$pyexe" -m pip download --no-deps --no-binary :all: --disable-pip-version-check -q -d "$sdist_dir" "$spec"; then
    log "could not download $spec (no network or no pip). Put llama_cpp_python-<ver>.tar.gz into $sdist_dir by hand."
    exit 1
  fi
  tarball="$(ls "$sdist_dir"/llama_cpp_python-*.tar.gz | head -n1)"
fi
version="$(basename "$tarball" .tar.gz)"
version="${version#llama_cpp_python-}"
src_top="$root/$version"
log "llama-cpp-python $version ($tarball)"

if [ ! -d "$src_top/src/vendor/llama.cpp" ]; then
  mkdir -p "$src_top/src"
  tar -xzf "$tarball" -C "$src_top/src" --strip-components=1
fi
llama_src="$src_top/src/vendor/llama.cpp"
if [ ! -f "$llama_src/CMakeLists.txt" ]; then
  log "no vendored llama.cpp in $tarball (expected vendor/llama.cpp/CMakeLists.txt)"
  exit 1
fi

build="$src_top/build"
gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
cmake -S "$llama_src" -B "$build" "${gen[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF \
  -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$build" --target llama-bench -j "$jobs" >&2
bin="$build/bin/llama-bench"
if [ ! -x "$bin" ]; then
  log "the build finished but $bin is missing"
  exit 1
fi
echo "$bin"
