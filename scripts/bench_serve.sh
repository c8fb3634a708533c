#!/usr/bin/env bash
# Serving throughput and latency, side by side in one run, on SmolLM2-135M-Instruct:
#   `w2s serve` with no steering, every row the same steering (one bundle, layer auto), every row a different
#   bundle / layer / alpha (mixed), and llama.cpp's `llama-server` on the same GGUF (no steering), at 1, 4 and 16
#   concurrent clients: aggregate generated tokens/s and request latency p50 / p95 (benchmarks/serve/bench_serve.cpp:
#   chat completions, the same 16 prompts, temperature 0, ignore_eos, max_tokens each).
#
#   scripts/bench_serve.sh [--max-tokens 64] [--requests 4] [--rounds 4] [--threads 2] [--parallel 16] [--no-llama]
#
# Both servers are started first and stay up; each of --rounds rounds runs every case one after the other (w2s
# unsteered, same, mixed, llama-server; round r starts at case r mod 4, a 2 s pause after each), so that drift in the
# machine's speed (warm-up, other load) and the neighbour a case follows hit every case alike; the table gives each case's mean tokens/s over the rounds with its range, latencies pooled over the rounds.
#
# The four bundles (free-text sentiment, formality, refusal, confidence of examples/data; 12 train items, layers
# 3,7,...,23) are fitted once into $W2S_BUILD_DIR/serve_bundles (about a minute each on 2 cores). llama-server is built
# once by scripts/build_llamacpp.sh (slow the first time). Both servers get the same threads and parallel slots
# (llama-server: -c parallel*ctx so that each slot has the context w2s gives a sequence).
# Environment: W2S_MODEL, W2S_BUILD_DIR (default build/bench), W2S_CACHE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
need_model bench_serve
max_tokens=64 requests=4 rounds=4 threads=2 parallel=16 llama=1 ctx=512
while [ $# -gt 0 ]; do
  case "$1" in
    --max-tokens) max_tokens="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --no-llama) llama=0; shift ;;
    *) echo "bench_serve: unknown option $1" >&2; exit 2 ;;
  esac
done

# The tool (w2s serve, w2s fit) and the load generator, in the benchmarks' build folder.
bench_build bench_serve
cmake -S "$root" -B "$build" -DW2S_BUILD_TOOLS=ON >&2
cmake --build "$build" --target w2s_cli bench_serve >&2
w2s="$build/bin/w2s"
client="$build/benchmarks/serve/bench_serve"
[ -x "$client" ] || { echo "bench_serve: $client was not built (cpp-httplib missing? apt-get install libcpp-httplib-dev)" >&2; exit 1; }

bundles="$build/serve_bundles"
names=(sentiment formality refusal confidence)
for b in "${names[@]}"; do
  if [ ! -f "$bundles/$b/bundle.json" ]; then
    echo "bench_serve: fitting the $b bundle (once)" >&2
    "$w2s" fit "$model" --data "$root/examples/data/freetext/$b.jsonl" --max-items 12 --layers 3,7,11,15,19,23 \
      --threads "$threads" --out "$bundles/$b" >&2
  fi
done

out="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT

wait_port() {  # wait_port LOGFILE PID: the port the server printed
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || { echo "bench_serve: the server exited:" >&2; cat "$1" >&2; exit 1; }
    if port=$(grep -o 'listening on port [0-9]*' "$1" | grep -o '[0-9]*$'); then echo "$port"; return; fi
    sleep 0.2
  done
  echo "bench_serve: the server did not start" >&2; exit 1
}
wait_health() {  # wait_health PORT PID
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || { echo "bench_serve: the server exited" >&2; exit 1; }
    if curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1; then return; fi
    sleep 0.2
  done
  echo "bench_serve: the server is not healthy" >&2; exit 1
}
run_client() { "$client" --port "$1" --concurrency 1,4,16 --requests "$requests" --max-tokens "$max_tokens" "${@:2}"; }

"$w2s" serve "$model" --bundles "$bundles" --port 0 --parallel "$parallel" --threads "$threads" --ctx "$ctx" \
  --model-id smollm2 2> "$out/w2s.log" &
pid=$!
port=$(wait_port "$out/w2s.log" $pid)
if [ "$llama" = 1 ]; then
  server="$("$root/scripts/build_llamacpp.sh" llama-server | tail -n1)"
  lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$server" -m "$model" --host 127.0.0.1 --port "$lport" -np "$parallel" -c $((parallel * ctx)) -t "$threads" -tb "$threads" --no-cache-prompt \
    > "$out/llama.log" 2>&1 &
  lpid=$!
  wait_health "$lport" $lpid
fi
run_case() {  # run_case N: case N of the round (0 w2s unsteered, 1 same, 2 mixed, 3 llama-server)
  case "$1" in
    0) run_client "$port" --label w2s --steering none ;;
    1) run_client "$port" --label w2s --steering same --bundles sentiment ;;
    2) run_client "$port" --label w2s --steering mixed --bundles "$(IFS=,; echo "${names[*]}")" ;;
    3) if [ "$llama" = 1 ]; then run_client "$lport" --label llama-server --steering none; fi ;;
  esac
  sleep 2  # let the server that just ran go idle before the next case is timed
}
# Round r starts at case r mod 4: over 4 rounds every case runs first, and after every other case, once. (Measured:
# with a fixed order, the w2s case that followed llama-server's run was 3-7% slower than the others; alone, the
# three w2s cases agree within the rounds' spread.)
for round in $(seq 1 "$rounds"); do
  echo "bench_serve: round $round of $rounds" >&2
  for k in 0 1 2 3; do run_case $(((round - 1 + k) % 4)); done
done > "$out/results.jsonl"
rss_w2s=$(ps -o rss= -p $pid | tr -d ' ')
kill $pid; wait $pid 2>/dev/null || true
if [ "$llama" = 1 ]; then
  rss_llama=$(ps -o rss= -p $lpid | tr -d ' ')
  kill $lpid; wait $lpid 2>/dev/null || true
fi

python3 - "$out/results.jsonl" "$max_tokens" "$threads" "$parallel" "$rounds" "${rss_w2s:-0}" "${rss_llama:-0}" <<'EOF'
import json, sys
from collections import defaultdict
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mt, th, par, rounds, rss_w, rss_l = sys.argv[2:8]
print(f"serving SmolLM2-135M-Instruct Q4_1: chat completions of {mt} tokens (temperature 0, ignore_eos), "
      f"{th} threads, {par} slots per server; {rounds} rounds, every case once per round")
runs = defaultdict(list)
for r in rows: runs[(r['label'], r['steering'], r['clients'])].append(r)
print("| server | steering | clients | requests per round | tokens/s mean (min-max over rounds) | p50 s | p95 s | failed |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
mean = {}
for key, rs in runs.items():
    t = [r['tok_s'] for r in rs]
    mean[key] = sum(t) / len(t)
    p50 = sorted(r['p50_s'] for r in rs)[len(rs) // 2]
    p95 = max(r['p95_s'] for r in rs)
    print(f"| {key[0]} | {key[1]} | {key[2]} | {rs[0]['requests']} | {mean[key]:.1f} ({min(t):.1f}-{max(t):.1f}) | "
          f"{p50:.2f} | {p95:.2f} | {sum(r['failed'] for r in rs)} |")
print()
print("(p50: the median of the rounds' medians; p95: the largest of the rounds' p95)")
for c in (1, 4, 16):
    base = mean.get(('w2s', 'none', c))
    if not base: continue
    line = f"{c:>2} clients: mixed / unsteered {mean.get(('w2s','mixed',c), 0) / base:.2f}x, same / unsteered {mean.get(('w2s','same',c), 0) / base:.2f}x"
    if ('llama-server', 'none', c) in mean:
        line += f", w2s unsteered / llama-server {base / mean[('llama-server','none',c)]:.2f}x"
    print(line)
print(f"resident memory at the end: w2s {int(rss_w)//1024} MiB" + (f", llama-server {int(rss_l)//1024} MiB" if int(rss_l) else ""))
EOF
