#!/usr/bin/env bash
# Serving throughput and latency, one run side by side: a closed-loop load
# generator on 127.0.0.1 sends one-row TF Serving predict requests from 1 to
# 64 clients to
#   - Sluice with the batcher off (max_batch_size 1) and on (REST, and the
#     same over the Open Inference Protocol's gRPC ModelInfer),
#   - a naive Go server calling ONNX Runtime once per request (naive/),
#   - a Node onnxruntime-node server (node/),
#   - and, for the small model, a Go net/http + JSON handler doing no
#     inference at all: the HTTP ceiling for one-row requests,
# for an MLP 20→256→256→1 (cheap: HTTP dominates) and a compute-bound MLP
# 64→1024→1024→1024→1; then Sluice at 64 clients with and without a hot
# swap every 30ms (failed requests, p99). Prints markdown.
#
# BENCH_DURATION (default 3s) is measured per client count after 1s of
# warm-up; BENCH_CLIENTS (default 1,2,4,8,16,64) lists the counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${BENCH_DURATION:-3s}
clients=${BENCH_CLIENTS:-1,2,4,8,16,64}
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
  "$work/loadgen" -url "$url" -format "${3:-tf}" -width "$2" -clients "$clients" -duration "$duration" |
    while IFS=$'\t' read -r c rps p50 p95 p99 errs; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$c" "$rps" "$p50" "$p95" "$p99" "$errs"
    done >>"$work/results"
  stop
}

sluice() { # MODEL MAX_BATCH DELAY INSTANCES THREADS
  start env SLUICE_BENCH_SERVE=127.0.0.1:0 SLUICE_BENCH_MODEL="$1" SLUICE_BENCH_MAX_BATCH="$2" \
    SLUICE_BENCH_DELAY="$3" SLUICE_BENCH_INSTANCES="$4" SLUICE_BENCH_THREADS="$5" "$work/serving.test"
}

for m in small large; do
  : >"$work/results"
  model="$work/$m.onnx"
  width=20
  [ "$m" = large ] && width=64
  if [ "$m" = small ]; then
    start "$work/naive" -noinfer; measure "HTTP ceiling (Go net/http + JSON, no inference)" $width
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
  # Targets at the largest client count.
  last=${clients##*,}
  at() { awk -F'\t' -v n="$1" -v c="$last" -v f="$2" 'index($1, n) == 1 && $2 == c { print $f }' "$work/results"; }
  on=$(at "Sluice, batcher on" 3); onp99=$(at "Sluice, batcher on" 6)
  naive=$(at "naive Go" 3); node=$(at "Node" 3)
  best=$naive; bestp99=$(at "naive Go" 6); bestname="naive Go"
  if awk -v a="$node" -v b="$naive" 'BEGIN { exit !(a > b) }'; then best=$node; bestp99=$(at "Node" 6); bestname="Node"; fi
  if [ "$m" = small ]; then
    ceil=$(at "HTTP ceiling" 3)
    awk -v s="$on" -v c="$ceil" -v n="$last" 'BEGIN { printf "At %d clients: Sluice (batcher on) / HTTP ceiling = %.2f (target ≥ 0.9)\n\n", n, s / c }'
  else
    awk -v s="$on" -v b="$best" -v sp="$onp99" -v bp="$bestp99" -v bn="$bestname" -v n="$last" \
      'BEGIN { printf "At %d clients: Sluice (batcher on) / %s (the better peer) = %.2f× (target ≥ 3), p99 %.2f ms vs %.2f ms (target lower)\n\n", n, bn, s / b, sp, bp }'
  fi
done

# Hot swaps under load: the small model at 64 clients, without and with a
# swap (load, warm, switch, drain) every 30ms.
last=${clients##*,}
sluice "$work/small.onnx" 64 1ms 1 1
calm=$("$work/loadgen" -url "http://$addr/v1/models/bench:predict" -width 20 -clients "$last" -duration "$duration")
stop
start env SLUICE_BENCH_SWAP_EVERY=30ms SLUICE_BENCH_SERVE=127.0.0.1:0 SLUICE_BENCH_MODEL="$work/small.onnx" \
  SLUICE_BENCH_MAX_BATCH=64 SLUICE_BENCH_DELAY=1ms "$work/serving.test"
swapping=$("$work/loadgen" -url "http://$addr/v1/models/bench:predict" -width 20 -clients "$last" -duration "$duration")
stop
swaps=$(grep -o 'swaps [0-9]* failed [0-9]*' "$work/server.out" | awk '{ printf "%s swaps, %s refused", $2, $4 }')
echo "### Hot swaps under load: MLP 20→256→256→1, $last clients, $duration"
echo
echo "| | requests/s | p50 ms | p99 ms | failed requests |"
echo "|---|---|---|---|---|"
echo "$calm" | awk -F'\t' '{ printf "| no swaps | %s | %s | %s | %s |\n", $2, $3, $5, $6 }'
echo "$swapping" | awk -F'\t' -v s="$swaps" '{ printf "| a swap every 30ms (%s) | %s | %s | %s | %s |\n", s, $2, $3, $5, $6 }'
echo
