#!/usr/bin/env bash
# Serving throughput and latency, side by side in one run, on SmolLM2-135M-Instruct:
#   `w2s serve` with no steering, every row the same steering (one bundle, layer auto), every row a different
#   bundle / layer / alpha (mixed), and llama.cpp's `llama-server` on the same GGUF (no steering), at 1, 4 and 16
#   concurrent clients: aggregate generated tokens/s and request latency p50 / p95 (benchmarks/serve/bench_serve.cpp:
#   chat completions, the same 16 prompts, temperature 0, ignore_eos, max_tokens each).
#
#   scripts/bench_serve.sh [--max-tokens 64] [--requests 2] [--threads 2] [--parallel 16] [--no-llama]
#
# The four bundles (free-text sentiment, formality, refusal, confidence of examples/data; 12 train items, layers
# 3,7,...,23) are fitted once into $W2S_BUILD_DIR/serve_bundles (about a minute each on 2 cores). llama-server is built
# once by scripts/build_llamacpp.sh (slow the first time). Both servers get the same threads and parallel slots
# (llama-server: -c parallel*ctx so that each slot has the context w2s gives a sequence).
# Environment: W2S_MODEL, W2S_BUILD_DIR (default build/bench), W2S_CACHE_DIR.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
need_model bench_serve
max_tokens=64 requests=2 threads=2 parallel=16 llama=1 ctx=512
while [ $# -gt 0 ]; do
  case "$1" in
    --max-tokens) max_tokens="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
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
{
  run_client "$port" --label w2s --steering none
  run_client "$port" --label w2s --steering same --bundles sentiment
  run_client "$port" --label w2s --steering mixed --bundles "$(IFS=,; echo "${names[*]}")"
} > "$out/results.jsonl"
rss_w2s=$(ps -o rss= -p $pid | tr -d ' ')
kill $pid; wait $pid 2>/dev/null || true

if [ "$llama" = 1 ]; then
  server="$("$root/scripts/build_llamacpp.sh" llama-server | tail -n1)"
  lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$server" -m "$model" --host 127.0.0.1 --port "$lport" -np "$parallel" -c $((parallel * ctx)) -t "$threads" -tb "$threads" --no-cache-prompt \
    > "$out/llama.log" 2>&1 &
  lpid=$!
  wait_health "$lport" $lpid
  run_client "$lport" --label llama-server --steering none >> "$out/results.jsonl"
  rss_llama=$(ps -o rss= -p $lpid | tr -d ' ')
  kill $lpid; wait $lpid 2>/dev/null || true
fi

python3 - "$out/results.jsonl" "$max_tokens" "$threads" "$parallel" "${rss_w2s:-0}" "${rss_llama:-0}" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mt, th, par, rss_w, rss_l = sys.argv[2:7]
print(f"serving SmolLM2-135M-Instruct Q4_1: chat completions of {mt} tokens (temperature 0, ignore_eos), "
      f"{th} threads, {par} slots per server")
print("| server | steering | clients | requests | tokens/s | p50 s | p95 s | failed |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['label']} | {r['steering']} | {r['clients']} | {r['requests']} | {r['tok_s']:.1f} | {r['p50_s']:.2f} | "
          f"{r['p95_s']:.2f} | {r['failed']} |")
get = {(r['label'], r['steering'], r['clients']): r['tok_s'] for r in rows}
print()
for c in (1, 4, 16):
    base = get.get(('w2s', 'none', c))
    if not base: continue
    line = f"{c:>2} clients: mixed / unsteered {get.get(('w2s','mixed',c), 0) / base:.2f}x, same / unsteered {get.get(('w2s','same',c), 0) / base:.2f}x"
    if ('llama-server', 'none', c) in get:
        line += f", w2s unsteered / llama-server {base / get[('llama-server','none',c)]:.2f}x"
    print(line)
print(f"resident memory at the end: w2s {int(rss_w)//1024} MiB" + (f", llama-server {int(rss_l)//1024} MiB" if int(rss_l) else ""))
EOF
