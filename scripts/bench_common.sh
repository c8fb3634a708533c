# Sourced by scripts/bench_*.sh: where things are, and one build folder for every benchmark.
#   root   the repository               model  SmolLM2 GGUF (W2S_MODEL, else the fetch cache's copy)
#   cache  the fetch cache (W2S_CACHE_DIR)   datasets  ../shared/datasets (W2S_DATASETS)
#   build  the benchmarks' build folder (W2S_BUILD_DIR, default build/bench)
# bench_build TARGET...  configures the folder once (Release, benchmarks only) and builds the targets.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${W2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/w2s}"
model="${W2S_MODEL:-$cache/SmolLM2-135M-Instruct.Q4_1.gguf}"
datasets="${W2S_DATASETS:-$root/../shared/datasets}"
build="${W2S_BUILD_DIR:-$root/build/bench}"
bench_build() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_TESTS=OFF -DW2S_BUILD_EXAMPLES=OFF \
      -DW2S_BUILD_TOOLS=OFF -DW2S_BUILD_BENCHMARKS=ON >&2
  fi
  cmake --build "$build" --target "$@" >&2
}
need_model() {
  [ -f "$model" ] || { echo "$1: no model at $model (run scripts/fetch_model.sh or set W2S_MODEL)" >&2; exit 1; }
}
