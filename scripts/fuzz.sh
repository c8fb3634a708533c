#!/usr/bin/env bash
# scripts/fuzz.sh — the fuzzing campaign: builds every libFuzzer target (tests/<area>/fuzz/fuzz_*.cpp, listed by the
# configured build in <build>/fuzz/targets.txt) and runs each for a while on a corpus kept between runs, then prints
# a table: target, runs, runs/s, seconds, crashes, corpus size. Exits non-zero when any target crashed (or did not
# build); crash inputs stay in build/fuzz/<target>/crashes/ (the table says where), the log of the last run in
# build/fuzz/<target>/last_run.log.
#
#   scripts/fuzz.sh [SECONDS]            each target SECONDS seconds (default 60)
#   scripts/fuzz.sh --total SECONDS      SECONDS shared out evenly over the targets
#   scripts/fuzz.sh ... -- REGEX         only the targets whose name matches REGEX (e.g. -- 'router|sweep')
#
# Environment: W2S_BUILD (the configured build tree, default build/release; configured here with the release preset
# when missing), W2S_FUZZ_DIR (the kept corpora, default build/fuzz), W2S_FUZZ_CXX (clang++), W2S_FUZZ_LOCK (a lock
# file each target's build and run is wrapped in, with flock: for a shared machine).
# To replay a crash: build/fuzz/<target>/<target> build/fuzz/<target>/crashes/crash-...  (with W2S_SOURCE_DIR=$PWD).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

per=60 total="" regex=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --total) total="$2"; shift 2 ;;
    --) regex="${2:-}"; shift $(( $# >= 2 ? 2 : 1 )) ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) per="$1"; shift ;;
  esac
done

lock=()
[[ -n "${W2S_FUZZ_LOCK:-}" ]] && lock=(flock "$W2S_FUZZ_LOCK")
build="${W2S_BUILD:-build/release}"
out="${W2S_FUZZ_DIR:-build/fuzz}"
if [[ ! -f "$build/fuzz/targets.txt" ]]; then
  echo "fuzz.sh: $build is not configured; configuring with the release preset" >&2
  cmake --preset release -DW2S_BUILD_BENCHMARKS=OFF >/dev/null
  build=build/release
fi
launcher="$(cat "$build/fuzz/launcher.txt" 2>/dev/null || true)"
# the compiled libraries the model-using targets link (w2s_add_fuzz ... COMPILED_MODEL)
"${lock[@]}" cmake --build "$build" --target w2s_model w2s_steer >/dev/null

mapfile -t lines < <(grep -v '^$' "$build/fuzz/targets.txt" | { if [[ -n "$regex" ]]; then grep -E "^[^|]*(${regex})[^|]*\|" || true; else cat; fi; })
if [[ ${#lines[@]} -eq 0 ]]; then
  echo "fuzz.sh: no fuzz target matches '${regex}'" >&2
  exit 2
fi
if [[ -n "$total" ]]; then
  per=$(( total / ${#lines[@]} ))
  (( per >= 1 )) || per=1
fi

rows=() failed=0
for line in "${lines[@]}"; do
  IFS='|' read -r name src seeds maxlen defs libs <<<"$line"
  work="$root/$out/$name"
  mkdir -p "$work"
  echo "== $name: ${per} s" >&2
  set +e
  "${lock[@]}" cmake -DNAME="$name" -DSOURCE="$src" -DFLAGS="$root/$build/fuzz/flags.cmake" -DWORK="$work" \
    -DSECONDS="$per" -DSEEDS="$seeds" -DMAX_LEN="$maxlen" -DEXTRA_DEFINES="$defs" -DEXTRA_LIBS="$libs" -DFUZZ_CXX="${W2S_FUZZ_CXX:-}" -DLAUNCHER="$launcher" \
    -P "$root/tests/support/run_fuzz.cmake" >"$work/fuzz.log" 2>&1
  rc=$?
  set -e
  summary="$(grep -o 'w2s-fuzz: .*' "$work/fuzz.log" | tail -1 || true)"
  if [[ -z "$summary" ]]; then  # it did not build, or did not start
    rows+=("$name|-|-|-|build failed|-|$work/fuzz.log")
    failed=1
    continue
  fi
  get() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$summary"; }
  crashes="$(get crashes)"
  where="-"
  if [[ $rc -ne 0 || "$crashes" != 0 ]]; then
    failed=1
    where="$work/crashes/"
  fi
  rows+=("$name|$(get runs)|$(get exec_per_sec)|$(get seconds)|$crashes|$(get corpus)|$where")
done

printf '\n%-26s %10s %8s %8s %8s %8s  %s\n' target runs runs/s seconds crashes corpus "crash inputs"
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d e f g <<<"$r"
  printf '%-26s %10s %8s %8s %8s %8s  %s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"
done
exit $failed
