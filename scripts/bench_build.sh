#!/usr/bin/env bash
# The build's own benchmark (issue "build fast"), side by side in one run, on the test command's configuration
# (Release, tests + tool + examples, benchmarks off):
#   clean build with an empty ccache, clean build with a warm one, no-op rebuild, rebuild after touching one model
#   header and one route header, and the compile of consumer files (plain g++, no ccache, the project's flags): one
#   that includes <w2s/w2s.hpp>, one that includes only <w2s/route/route.hpp>, one that also fits a ProfileCV, each
#   header-only and against the compiled routers (w2s::route: -DW2S_ROUTE_COMPILED, w2s/route/config.hpp), and one
#   that loads a LlamaModel and runs prefill, header-only and against the compiled reference
#   backend (w2s::model: -DW2S_MODEL_COMPILED, w2s/model/config.hpp); the compiled column also has the compiled
#   estimator fits (w2s::steer: -DW2S_STEER_COMPILED, w2s/steer/config.hpp).
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
configure() { rm -rf "$build"; cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_TEST_OPT=-O1 -DW2S_BUILD_BENCHMARKS=OFF >/dev/null; }  # as the release preset
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
cat >"$tu/fit.cpp" <<'CPP'
#include <w2s/route/route.hpp>
int main() {
    w2s::route::Features X = w2s::route::Features::Random(40, 8);
    w2s::route::Profiles S = w2s::route::Profiles::Random(40, 5);
    w2s::route::ProfileCV r;
    r.fit(X, S, 1);
    return r.predict_one({X.data(), 8});
}
CPP
cat >"$tu/model.cpp" <<'CPP'
#include <w2s/model/model.hpp>
#include <vector>
int main(int argc, char** argv) {
    if (argc < 2) return 0;
    auto m = w2s::model::llama::LlamaModel::load(argv[1]);
    auto s = m.new_session();
    std::vector<w2s::model::token_id> ids{1, 2, 3};
    m.prefill(s, ids);
    return 0;
}
CPP
compiled=(-DW2S_ROUTE_COMPILED -DW2S_MODEL_COMPILED -DW2S_STEER_COMPILED -DEIGEN_MAX_ALIGN_BYTES=64)
declare -A tus
for f in all route fit model; do
  tus[$f]=$(fsecs g++ "${flags[@]}" "$tu/$f.cpp" -o "$tu/$f.o")
  tus[$f-c]=$(fsecs g++ "${flags[@]}" "${compiled[@]}" "$tu/$f.cpp" -o "$tu/$f-c.o")
done

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Build times, $jobs jobs, $cpu ($(date +%F)):"
echo
echo "| step | seconds | seconds, compiled parts (w2s::route, w2s::model, w2s::steer) |"
echo "| --- | ---: | ---: |"
echo "| clean build, empty ccache | $cold | (the build links it) |"
echo "| clean build, warm ccache | $warm | (the build links it) |"
echo "| no-op rebuild | $noop | (the build links it) |"
echo "| rebuild after touching model/llama/llama_model.hpp (ccache) | $touch_model | (the build links it) |"
echo "| rebuild after touching route/linear.hpp (ccache) | $touch_route | (the build links it) |"
echo "| consumer file including <w2s/w2s.hpp> | ${tus[all]} | ${tus[all-c]} |"
echo "| consumer file including <w2s/route/route.hpp> | ${tus[route]} | ${tus[route-c]} |"
echo "| consumer file including <w2s/route/route.hpp> that fits a ProfileCV | ${tus[fit]} | ${tus[fit-c]} |"
echo "| consumer file using LlamaModel (load, prefill) | ${tus[model]} | ${tus[model-c]} |"
