#!/usr/bin/env bash
# The same steering through llama.cpp's llama-server and through `w2s serve` agrees (tests/serve/
# test_llamacpp_agreement.cpp): builds llama-server once (scripts/build_llamacpp.sh, outside the repository), then
# the test in its own build folder, and runs it, printing its figures.
#   scripts/serve_agreement.sh            (W2S_MODEL, W2S_CACHE_DIR, W2S_BUILD_DIR as in scripts/bench_common.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
need_model serve_agreement
server="$("$root/scripts/build_llamacpp.sh" llama-server | tail -n1)"
dir="${W2S_BUILD_DIR:-$root/build/serve_agreement}"
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_BUILD_TESTS=ON -DW2S_TEST_AREAS=serve \
  -DW2S_BUILD_TOOLS=OFF -DW2S_BUILD_EXAMPLES=OFF -DW2S_BUILD_BENCHMARKS=OFF -DW2S_LLAMA_SERVER="$server" >&2
cmake --build "$dir" --target test_serve_llamacpp_agreement >&2
W2S_MODEL="$model" W2S_LLAMA_SERVER="$server" "$dir/tests/serve/test_serve_llamacpp_agreement" --log_level=message --report_level=short
