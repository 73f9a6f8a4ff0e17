#!/usr/bin/env bash
# Serving throughput and latency, one run side by side: a closed-loop load
# generator on 127.0.0.1 sends one-row TF Serving predict requests from 1 to
# 64 clients to
#   - Sluice with the batcher off (max_batch_size 1) and on (REST, and the
#     same over the Open Inference Protocol's gRPC ModelInfer),
#   - a naive Go server calling ONNX Runtime once per request (naive/),
#   - a Node onnxruntime-node server (node/),
#   - and, for the small model, a Go net/http + JSON handler doing no
#     inference at all: the HTTP ceiling for one-row requests (and the same
#     handler on fasthttp, which Sluice's HTTP/1.1 runs on: a second,
#     stricter yardstick),
# for an MLP 20→256→256→1 (cheap: HTTP dominates) and a compute-bound MLP
# 64→1024→1024→1024→1. Then the targets at the largest client count, in
# BENCH_REPS rounds (default 3) that alternate the servers so that the
# machine's other work falls on all of them alike: Sluice against the
# HTTP ceiling (small model), against the better peer and against raw
# in-process ONNX Runtime with Sluice's own settings (large model); each
# round's ratio and their median; and the same compute-bound server with
# requests of 32 rows against raw ONNX Runtime at batch 32 (the issue's
# rows/s "at the same batch size"). Then 100 hot swaps during a 64-client
# load against the same load without swaps, and the online feature reads
# (features.sh). Prints markdown.
#
# BENCH_DURATION (default 3s) is measured per client count after 1s of
# warm-up; BENCH_CLIENTS (default 1,2,4,8,16,64) lists the counts;
# BENCH_GRID=0 skips the grid (targets, swaps and features only);
# BENCH_CLIENT=nethttp makes the load generator use Go's HTTP client
# instead of fasthttp's.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${BENCH_DURATION:-3s}
clients=${BENCH_CLIENTS:-1,2,4,8,16,64}
reps=${BENCH_REPS:-3}
# The load generator's HTTP client, the same for every server: fasthttp's
# (about 8 µs of CPU per request) or Go's net/http (about 25), which takes
# that much more of the two cores from the server under test.
client=${BENCH_CLIENT:-fasthttp}
lib=${SLUICE_ORT_LIB:-$(scripts/fetch-ort.sh)}
export SLUICE_ORT_LIB=$lib
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go run ./cmd/gen-testmodels -mlp 20,256,256,1 -o "$work/small.onnx"
go run ./cmd/gen-testmodels -mlp 64,1024,1024,1024,1 -o "$work/large.onnx"
go test -c -o "$work/serving.test" ./runtime/serving
go build -o "$work/loadgen" ./bench/serving/loadgen
go build -o "$work/naive" ./bench/serving/naive
nodedir="${SLUICE_CACHE:-$HOME/.cache/sluice}/bench/node"
if [ ! -d "$nodedir/node_modules/onnxruntime-node" ]; then
  mkdir -p "$nodedir"
  cp bench/serving/node/package.json "$nodedir/"
  (cd "$nodedir" && npm install --silent --ignore-scripts --no-audit --no-fund >/dev/null)
fi

# start runs a server in the background and waits for "listening on ADDR".
start() {
  : >"$work/server.out" # before the server starts, or a stale line could be read
  "$@" >>"$work/server.out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do
    if grep -q 'listening on' "$work/server.out"; then
      addr=$(grep -o 'listening on .*' "$work/server.out" | cut -d' ' -f3)
      return
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start: $*" >&2
  cat "$work/server.out" >&2
  exit 1
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# measure NAME WIDTH [FORMAT]: one loadgen run against $addr (TF Serving
# REST, or the v2 gRPC ModelInfer with FORMAT grpc), appended to results.
measure() {
  url="http://$addr/v1/models/bench:predict"
  [ "${3:-tf}" = grpc ] && url="http://$addr"
  "$work/loadgen" -url "$url" -format "${3:-tf}" -client "$client" -width "$2" -clients "$clients" -duration "$duration" |
    while IFS=$'\t' read -r c rps p50 p95 p99 errs _; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$c" "$rps" "$p50" "$p95" "$p99" "$errs"
    done >>"$work/results"
  stop
}

sluice() { # MODEL MAX_BATCH DELAY INSTANCES THREADS
  start env SLUICE_BENCH_SERVE=127.0.0.1:0 SLUICE_BENCH_MODEL="$1" SLUICE_BENCH_MAX_BATCH="$2" \
    SLUICE_BENCH_DELAY="$3" SLUICE_BENCH_INSTANCES="$4" SLUICE_BENCH_THREADS="$5" "$work/serving.test"
}

grid=${BENCH_GRID:-1}
for m in small large; do
  [ "$grid" = 0 ] && break
  : >"$work/results"
  model="$work/$m.onnx"
  width=20
  [ "$m" = large ] && width=64
  if [ "$m" = small ]; then
    start "$work/naive" -noinfer; measure "HTTP ceiling (Go net/http + JSON, no inference)" $width
    start "$work/naive" -noinfer -fasthttp; measure "fasthttp ceiling (Go fasthttp + JSON, no inference)" $width
  fi
  sluice "$model" 1 0 2 1; measure "Sluice, batcher off (max_batch_size 1, 2 instances)" $width
  # Batching settings per model, as a user would tune them: the cheap model
  # wants one instance and big batches, the compute-bound one two
  # single-threaded instances that alternate, one computing while the other
  # fills its batch.
  if [ "$m" = small ]; then
    on="64 1ms 1 1"; onname="max_batch_size 64, max_queue_delay 1ms, 1 instance"
  else
    on="32 2ms 2 1"; onname="max_batch_size 32, max_queue_delay 2ms, 2 instances"
  fi
  # shellcheck disable=SC2086
  sluice "$model" $on; measure "Sluice, batcher on ($onname)" $width
  # shellcheck disable=SC2086
  sluice "$model" $on; measure "Sluice over v2 gRPC, batcher on" $width grpc
  start "$work/naive" -model "$model"; measure "naive Go (ORT once per request)" $width
  NODE_PATH="$nodedir/node_modules" start node bench/serving/node/server.js "$model"; measure "Node onnxruntime-node" $width

  title="MLP 20→256→256→1"
  [ "$m" = large ] && title="MLP 64→1024→1024→1024→1 (compute-bound)"
  echo "### $title: one-row requests/s (p50 / p99 ms)"
  echo
  header="| server |"; rule="|---|"
  for c in ${clients//,/ }; do header="$header $c clients |"; rule="$rule---|"; done
  echo "$header"; echo "$rule"
  cut -f1 "$work/results" | uniq | while read -r name; do
    line="| $name |"
    while IFS=$'\t' read -r n c rps p50 p95 p99 errs; do
      [ "$n" = "$name" ] || continue
      cell="$rps ($p50 / $p99)"
      [ "$errs" != 0 ] && cell="$cell, $errs errors"
      line="$line $cell |"
    done <"$work/results"
    echo "$line"
  done
  echo
done

# once NAME WIDTH [FORMAT] [CLIENTS] [ROWS]: one loadgen run against $addr
# at one client count, ROWS rows per request (default 1), printed as "rps
# p50 p95 p99 errors total loadgen_cpu_us server_cpu_us" (requests, not
# rows; CPU per answered request over the whole run, from the load
# generator's rusage and the server's /proc/PID/stat). It runs in a
# command substitution, a subshell that cannot wait for the server: the
# caller stops it.
once() {
  url="http://$addr/v1/models/bench:predict"
  [ "${3:-tf}" = grpc ] && url="http://$addr"
  t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  out=$("$work/loadgen" -url "$url" -format "${3:-tf}" -client "$client" -width "$2" -clients "${4:-$last}" -rows "${5:-1}" -duration "$duration")
  t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  echo "$out" | cut -f2- | awk -F'\t' -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { OFS = "\t" } { print $0, ($6 > 0 ? (b - a) / hz * 1e6 / $6 : 0) }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
last=${clients##*,}

# Fields of once's output, for awk: 1 rps, 4 p99, 7 loadgen µs/request,
# 8 server µs/request.
: >"$work/small" >"$work/large" >"$work/batch"
for r in $(seq "$reps"); do
  start "$work/naive" -noinfer; ceil=$(once ceiling 20); stop
  sluice "$work/small.onnx" 64 1ms 1 1; small=$(once sluice 20); stop
  start "$work/naive" -noinfer -fasthttp; fceil=$(once ceiling 20); stop
  sluice "$work/large.onnx" 32 2ms 2 1; large=$(once sluice 64); stop
  # The same server with requests of 32 rows: "rows/s at the same batch
  # size" as raw ONNX Runtime's batches of 32 below.
  sluice "$work/large.onnx" 32 2ms 2 1; batch=$(once sluice 64 tf "$last" 32); stop
  start "$work/naive" -model "$work/large.onnx"; naive=$(once naive 64); stop
  NODE_PATH="$nodedir/node_modules" start node bench/serving/node/server.js "$work/large.onnx"; node=$(once node 64); stop
  # Raw ONNX Runtime with the batcher-on settings: 2 sessions of one
  # thread, batches of 32, back to back, no HTTP and no load generator.
  raw=$(SLUICE_BENCH_RAW=$duration SLUICE_BENCH_MODEL="$work/large.onnx" SLUICE_BENCH_MAX_BATCH=32 \
    SLUICE_BENCH_INSTANCES=2 SLUICE_BENCH_THREADS=1 "$work/serving.test" | awk '{ print $2 }')
  printf '%s\t%s\t%s\n' "$small" "$ceil" "$fceil" >>"$work/small"
  printf '%s\t%s\t%s\t%s\n' "$large" "$naive" "$node" "$raw" >>"$work/large"
  printf '%s\t%s\n' "$batch" "$raw" >>"$work/batch"
done

echo "### Targets at $last clients: the cheap model against the HTTP ceiling, $reps rounds (servers alternated)"
echo
echo "Server CPU is µs per request over each run; the estimate is what the ratio would be if the server and the load generator had the two cores to themselves: (L + ceiling CPU) / (L + Sluice CPU), L the load generator's µs per request."
echo
echo "The ceiling is the issue's: Go net/http + encoding/json, no inference. Sluice serves HTTP/1.1 with fasthttp, so a fasthttp + encoding/json server doing no inference is a second, stricter yardstick beside it."
echo
echo "| round | Sluice rps (p99 ms) | ceiling rps (p99 ms) | ratio (≥ 0.9) | Sluice CPU µs/req | ceiling CPU µs/req | load generator µs/req | estimate | fasthttp ceiling rps (p99 ms) | Sluice / fasthttp ceiling | fasthttp ceiling CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
awk -F'\t' '{ L = ($7 + $15) / 2; printf "| %d | %s (%s) | %s (%s) | %.2f | %.1f | %.1f | %.1f | %.2f | %s (%s) | %.2f | %.1f |\n", NR, $1, $4, $9, $12, $1 / $9, $8, $16, L, (L + $16) / (L + $8), $17, $20, $1 / $17, $24 }' "$work/small"
echo
echo "### Targets at $last clients: the compute-bound model against the peers and raw ONNX Runtime, $reps rounds"
echo
echo "One-row requests; raw ONNX Runtime runs batches of 32, so the Sluice / raw column compares different batch sizes (see the 32-row table below for the issue's \"same batch size\")."
echo
echo "| round | Sluice rps (p99 ms) | naive Go rps (p99 ms) | Node rps (p99 ms) | Sluice / better peer (≥ 3×, lower p99) | raw ORT rows/s (batch 32) | Sluice 1-row / raw | Sluice server CPU µs/req |"
echo "|---|---|---|---|---|---|---|---|"
awk -F'\t' '{ best = $9; bp = $12; if ($17 > best) { best = $17; bp = $20 }
  printf "| %d | %s (%s) | %s (%s) | %s (%s) | %.2f×, p99 %s vs %s | %s | %.2f | %.1f |\n", NR, $1, $4, $9, $12, $17, $20, $1 / best, $4, bp, $25, $1 / $25, $8 }' "$work/large"
echo
echo "### Targets at $last clients: the compute-bound model with 32-row requests against raw ONNX Runtime at batch 32, $reps rounds"
echo
echo "| round | Sluice rows/s (requests/s, p99 ms) | raw ORT rows/s | Sluice / raw (≥ 0.7) | Sluice server CPU µs/row | load generator µs/row |"
echo "|---|---|---|---|---|---|"
awk -F'\t' '{ printf "| %d | %.0f (%s, %s) | %s | %.2f | %.1f | %.1f |\n", NR, $1 * 32, $1, $4, $9, $1 * 32 / $9, $8 / 32, $7 / 32 }' "$work/batch"
echo
small_ratio=$(awk -F'\t' '{ print $1 / $9 }' "$work/small" | median)
small_est=$(awk -F'\t' '{ L = ($7 + $15) / 2; print (L + $16) / (L + $8) }' "$work/small" | median)
fast_ratio=$(awk -F'\t' '{ print $1 / $17 }' "$work/small" | median)
peer_ratio=$(awk -F'\t' '{ best = $9; if ($17 > best) best = $17; print $1 / best }' "$work/large" | median)
raw_ratio=$(awk -F'\t' '{ print $1 / $25 }' "$work/large" | median)
batch_ratio=$(awk -F'\t' '{ print $1 * 32 / $9 }' "$work/batch" | median)
printf "Medians of the rounds: Sluice / HTTP ceiling %.2f (target ≥ 0.9; CPU estimate %.2f; against the fasthttp ceiling %.2f); Sluice / better peer %.2f× (target ≥ 3); Sluice / raw ONNX Runtime at batch 32, 32-row requests %.2f (target ≥ 0.7; one-row requests against the same raw figure %.2f).\n\n" \
  "$small_ratio" "$small_est" "$fast_ratio" "$peer_ratio" "$batch_ratio" "$raw_ratio"

# Hot swaps under load: the small model at the largest client count,
# without swaps, then with 100 swaps (load, warm, switch, drain) starting
# after the load generator's warm-up, one every 25ms (or as fast as they
# go), both measured for BENCH_SWAP_DURATION (default 6s) so that the
# swaps fall inside the measured time; the server says over how long they
# ran.
duration=${BENCH_SWAP_DURATION:-6s}
sluice "$work/small.onnx" 64 1ms 1 1
calm=$(once sluice 20); stop
start env SLUICE_BENCH_SWAP_EVERY=25ms SLUICE_BENCH_SWAP_AFTER=1s SLUICE_BENCH_SWAPS=100 SLUICE_BENCH_SERVE=127.0.0.1:0 \
  SLUICE_BENCH_MODEL="$work/small.onnx" SLUICE_BENCH_MAX_BATCH=64 SLUICE_BENCH_DELAY=1ms "$work/serving.test"
swapping=$(once sluice 20); stop
swaps=$(grep -o 'swaps [0-9]* failed [0-9]* over [0-9.]*s' "$work/server.out" | awk '{ printf "%s swaps in %s, %s refused", $2, $6, $4 }')
echo "### Hot swaps under load: MLP 20→256→256→1, $last clients, $duration"
echo
echo "| | requests/s | p50 ms | p99 ms | failed requests |"
echo "|---|---|---|---|---|"
echo "$calm" | awk -F'\t' '{ printf "| no swaps | %s | %s | %s | %s |\n", $1, $2, $4, $5 }'
echo "$swapping" | awk -F'\t' -v s="$swaps" '{ printf "| 100 swaps, one every 25ms (%s) | %s | %s | %s | %s |\n", s, $1, $2, $4, $5 }'
echo

BENCH_DURATION=${BENCH_DURATION:-3s} bench/serving/features.sh
