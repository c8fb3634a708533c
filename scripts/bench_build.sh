#!/usr/bin/env bash
# The build's own benchmark (issue "build fast"), side by side in one run, on the test command's configuration
# (Release, tests + tool + examples, benchmarks off):
#   clean build with an empty ccache, clean build with a warm one, no-op rebuild, rebuild after touching one model
#   header and one route header, and the compile of one consumer file that includes <w2s/w2s.hpp> against one that
#   includes only <w2s/route/route.hpp> (plain g++, no ccache, the project's flags).
# Uses its own build folder (W2S_BUILD_DIR, default build/timing) and its own ccache folder, so neither the
# developer's cache nor their build is touched. Prints a Markdown table. Takes about as long as two full builds.
#   scripts/bench_build.sh [--jobs N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
[[ "${1:-}" == "--jobs" ]] && jobs="$2"
build="${W2S_BUILD_DIR:-$root/build/timing}"
command -v ccache >/dev/null || { echo "bench_build: needs ccache (scripts/setup.sh installs it)" >&2; exit 1; }
CCACHE_DIR="$(mktemp -d)"
export CCACHE_DIR
trap 'rm -rf "$CCACHE_DIR"' EXIT

secs() { local t0=$SECONDS; "$@" >/dev/null; echo $((SECONDS - t0)); }
configure() { rm -rf "$build"; cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null; }
build_all() { cmake --build "$build" -j "$jobs"; }
# seconds with one decimal, for the short ones
fsecs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }

configure
cold=$(secs build_all)
configure
warm=$(secs build_all)
noop=$(fsecs build_all)
touch "$root/include/w2s/model/llama/llama_model.hpp"
touch_model=$(fsecs build_all)
touch "$root/include/w2s/route/linear.hpp"
touch_route=$(fsecs build_all)

tu="$(mktemp -d)"
trap 'rm -rf "$CCACHE_DIR" "$tu"' EXIT
flags=(-std=c++20 -O3 -march=native -I"$root/include" -I/usr/include/eigen3 -DPCRE2_CODE_UNIT_WIDTH=8 -c)
printf '#include <w2s/w2s.hpp>\nint main() { return 0; }\n' >"$tu/all.cpp"
printf '#include <w2s/route/route.hpp>\nint main() { return 0; }\n' >"$tu/route.cpp"
tu_all=$(fsecs g++ "${flags[@]}" "$tu/all.cpp" -o "$tu/all.o")
tu_route=$(fsecs g++ "${flags[@]}" "$tu/route.cpp" -o "$tu/route.o")

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Build times, $jobs jobs, $cpu ($(date +%F)):"
echo
echo "| step | seconds |"
echo "| --- | ---: |"
echo "| clean build, empty ccache | $cold |"
echo "| clean build, warm ccache | $warm |"
echo "| no-op rebuild | $noop |"
echo "| rebuild after touching model/llama/llama_model.hpp (ccache) | $touch_model |"
echo "| rebuild after touching route/linear.hpp (ccache) | $touch_route |"
echo "| consumer file including <w2s/w2s.hpp> | $tu_all |"
echo "| consumer file including <w2s/route/route.hpp> | $tu_route |"
