#!/usr/bin/env bash
# Builds llama.cpp's `llama-bench` and `llama-server` (CPU only, Release, no CURL) from the copy vendored in the PyPI
# source package of llama-cpp-python, outside the repository, once. Prints the path of the binary asked for (default
# llama-bench) on the last line of stdout. A second run finds the binaries and builds nothing.
#
#   scripts/build_llamacpp.sh                 # -> $W2S_CACHE_DIR/llamacpp/<version>/build/bin/llama-bench
#   scripts/build_llamacpp.sh llama-server    # -> .../build/bin/llama-server
#
# Instruction sets are named explicitly (GGML_NATIVE=OFF) from what /proc/cpuinfo lists: AVX, AVX2, FMA, F16C,
# BMI2, and AVX-512 (F/CD/VL/DQ/BW, + VNNI, VBMI, BF16 when listed); AMX always OFF. -march=native would compile in
# AMX on VMs that advertise it without enabling it, and the binary would die of SIGILL. A build made with other
# options (an older -DGGML_NATIVE=ON build) is rebuilt.
#
# Environment:
#   W2S_CACHE_DIR         cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/w2s)
#   W2S_LLAMACPP_SPEC     pip requirement (default llama-cpp-python==0.3.*; whatever 0.3.x PyPI serves)
#   W2S_LLAMACPP_JOBS     parallel build jobs (default 1: the build is long but gentle on a small machine)
# Never commit anything this script writes; it writes nothing inside the repository.
set -euo pipefail

want="${1:-llama-bench}"
case "$want" in
  llama-bench|llama-server) ;;
  *) echo "build_llamacpp: unknown target '$want' (llama-bench or llama-server)" >&2; exit 2 ;;
esac
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
root="$cache/llamacpp"
spec="${W2S_LLAMACPP_SPEC:-llama-cpp-python==0.3.*}"
jobs="${W2S_LLAMACPP_JOBS:-1}"
mkdir -p "$root"

log() { echo "build_llamacpp: $*" >&2; }

# The instruction sets of this CPU, as ggml's options.
flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has() { [[ "$flags" == *" $1 "* ]] && echo ON || echo OFF; }
avx512=OFF
if [[ $(has avx512f) == ON && $(has avx512cd) == ON && $(has avx512vl) == ON && $(has avx512dq) == ON && $(has avx512bw) == ON ]]; then
  avx512=ON
fi
isa=(-DGGML_NATIVE=OFF -DGGML_AVX="$(has avx)" -DGGML_AVX2="$(has avx2)" -DGGML_FMA="$(has fma)" -DGGML_F16C="$(has f16c)"
     -DGGML_BMI2="$(has bmi2)" -DGGML_AVX512="$avx512"
     -DGGML_AVX512_VNNI="$([[ $avx512 == ON ]] && has avx512_vnni || echo OFF)"
     -DGGML_AVX512_VBMI="$([[ $avx512 == ON ]] && has avx512vbmi || echo OFF)"
     -DGGML_AVX512_BF16="$([[ $avx512 == ON ]] && has avx512_bf16 || echo OFF)"
     -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)
stamp_text="${isa[*]}"

# Reuse a finished build (any version) made with these options.
for bin in "$root"/*/build/bin/"$want"; do
  if [ -x "$bin" ] && [ "$(cat "$(dirname "$bin")/../w2s-options" 2>/dev/null)" == "$stamp_text" ]; then
    log "$want already built"
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
if [ "$(cat "$build/w2s-options" 2>/dev/null)" != "$stamp_text" ]; then
  rm -rf "$build"  # made with other options (e.g. -DGGML_NATIVE=ON): start over
fi
gen=()
if command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
log "instruction sets: ${isa[*]}"
cmake -S "$llama_src" -B "$build" "${gen[@]}" \
  -DCMAKE_BUILD_TYPE=Release "${isa[@]}" -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_CUDA=OFF -DGGML_METAL=OFF \
  -DGGML_OPENMP=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_APP=OFF -DBUILD_SHARED_LIBS=OFF >&2
echo "$stamp_text" > "$build/w2s-options"
cmake --build "$build" --target llama-bench llama-server -j "$jobs" >&2
bin="$build/bin/$want"
if [ ! -x "$bin" ]; then
  log "the build finished but $bin is missing"
  exit 1
fi
echo "$bin"
