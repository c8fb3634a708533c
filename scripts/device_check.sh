#!/usr/bin/env bash
# scripts/device_check.sh — the CUDA backend's device check, for a machine with an NVIDIA GPU (within 8 minutes):
# configures a build with -DW2S_CUDA=ON, builds the CUDA targets, runs the `cuda` tests (GPU vs CPU backend) and
# prints the benchmark table: bench_cuda (pp / tg tokens/s and the full per-item sweep items/s, for SmolLM2 and
# random fp16 weights in the shape of Llama-2-7B) and the naive PyTorch forward-hooks sweep on the same shapes
# (benchmarks/cuda/torch_peer.py), with the ratios. The log goes to $OUT/device_check.log when OUT is set (else
# to the build folder); bench_cuda.json beside it.
#
#   scripts/device_check.sh            run the check (on the GPU machine)
#   scripts/device_check.sh --pack     on a Debian 12 machine with apt: download the C++ build dependencies as
#                                      .deb files into build/device_deps/ (a bare GPU image lacks Eigen, oneTBB,
#                                      Boost.Test, ...); carry that folder to the GPU machine, where the check
#                                      unpacks them under build/device_deps/root (never into /).
# Environment: W2S_MODEL (the SmolLM2 GGUF; without it the SmolLM2 test case is left out and the benchmark uses
# random weights in SmolLM2's shape), W2S_CUDA_ARCH (default 90), W2S_PYTHON (the python with torch).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEPS=${W2S_DEVICE_DEPS:-$ROOT/build/device_deps}
BUILD=${W2S_CUDA_BUILD:-$ROOT/build/device}
BUDGET=${W2S_CHECK_BUDGET:-465}  # seconds for the whole check

if [[ ${1:-} == --pack ]]; then
  mkdir -p "$DEPS/debs" && cd "$DEPS/debs" || exit 1
  pkgs="libeigen3-dev libxtensor-dev xtl-dev libxsimd-dev libtbb-dev libtbb12 libtbbmalloc2 libtbbbind-2-5
        libhwloc15 libboost1.74-dev libboost-test1.74-dev libboost-test1.74.0 libboost-test-dev libpcre2-dev
        libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 nlohmann-json3-dev pkgconf pkgconf-bin libpkgconf3"
  # shellcheck disable=SC2086
  apt-get download $pkgs || exit 1
  du -sh "$DEPS/debs"
  echo "carry build/device_deps to the GPU machine"
  exit 0
fi

LOG_DIR=${OUT:-$BUILD}
mkdir -p "$LOG_DIR" "$BUILD"
LOG=$LOG_DIR/device_check.log
exec > >(tee "$LOG") 2>&1
status=0
left() { local l=$((BUDGET - SECONDS)); ((l > $1)) && l=$1; ((l < 5)) && l=5; echo "$l"; }
step() { echo; echo "=== [$SECONDS s] $*"; }

step "device"
nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
nvcc --version 2>/dev/null | tail -1 || echo "(no nvcc)"

if [[ -d $DEPS/debs ]]; then
  step "unpacking the carried build dependencies into $DEPS/root"
  mkdir -p "$DEPS/root"
  for f in "$DEPS"/debs/*.deb; do dpkg -x "$f" "$DEPS/root"; done
  R=$DEPS/root
  export CMAKE_PREFIX_PATH=$R/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
  export PATH=$PATH:$R/usr/bin
  export PKG_CONFIG_PATH=$R/usr/lib/x86_64-linux-gnu/pkgconfig:$R/usr/share/pkgconfig
  export PKG_CONFIG_SYSROOT_DIR=$R
  export LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export CPATH=$R/usr/include${CPATH:+:$CPATH}
fi

MODEL=${W2S_MODEL:-${W2S_CACHE_DIR:-$HOME/.cache/w2s}/SmolLM2-135M-Instruct.Q4_1.gguf}
[[ -f $MODEL ]] || MODEL=""

step "configure (-DW2S_CUDA=ON) in $BUILD"
timeout "$(left 90)" cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DW2S_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${W2S_CUDA_ARCH:-90}" -DW2S_BUILD_EXAMPLES=OFF -DW2S_BUILD_TOOLS=OFF -DW2S_INSTALL=OFF \
  || { echo "configure FAILED (missing C++ dependencies? see scripts/device_check.sh --pack)"; exit 1; }

step "build w2s_cuda test_cuda bench_cuda"
timeout "$(left 260)" cmake --build "$BUILD" --target w2s_cuda test_cuda bench_cuda -j "$(nproc)" \
  || { echo "build FAILED"; exit 1; }

step "cuda tests (GPU backend vs CPU backend)"
if [[ -n $MODEL ]]; then
  W2S_MODEL=$MODEL timeout "$(left 120)" ctest --test-dir "$BUILD" -L cuda --output-on-failure || status=1
else
  echo "SmolLM2 GGUF not found (set W2S_MODEL): its test case is left out; the tiny-model cases run"
  timeout "$(left 120)" "$BUILD/tests/cuda/test_cuda" --log_level=test_suite --report_level=short \
    '--run_test=!smollm2_logits_residuals_and_steering_match_cpu' || status=1
fi

step "benchmark: bench_cuda"
JSON=$LOG_DIR/bench_cuda.json
if [[ -n $MODEL ]]; then
  timeout "$(left 120)" "$BUILD/bin/bench_cuda" --model "$MODEL" --json "$JSON" || status=1
else
  timeout "$(left 120)" "$BUILD/bin/bench_cuda" --smol-shape --json "$JSON" || status=1
fi

step "peer: the naive PyTorch forward-hooks sweep on the same shapes"
PY=${W2S_PYTHON:-}
if [[ -z $PY ]]; then
  for c in python3 /opt/w2s-venv/bin/python python; do
    if command -v "$c" >/dev/null && "$c" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      PY=$c; break
    fi
  done
fi
if [[ -n $PY && -f $JSON ]]; then
  PYTHONUNBUFFERED=1 timeout "$(left 150)" "$PY" "$ROOT/benchmarks/cuda/torch_peer.py" "$JSON" || status=1
else
  echo "no python with CUDA torch (or no bench_cuda.json): peer not run"; status=1
fi

echo
echo "=== device_check done in $SECONDS s, status $status (log: $LOG)"
exit $status
