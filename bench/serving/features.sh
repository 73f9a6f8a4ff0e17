#!/usr/bin/env bash
# Online feature reads over HTTP: `sluice serve` on a repository with two
# online feature views of 50 and 250 float64 fields over 10,000 users
# (materialized by the serve's own apply into its SQLite online store),
# then Feast's POST /get-online-features for 1, 10 and 100 entities × all
# 50 or all 250 features, from one closed-loop client (latency, not
# throughput: each request alone on the server). Prints markdown.
#
# BENCH_DURATION (default 3s) is measured per cell after 1s of warm-up.
# Expects bench/serving/run.sh's $work layout when called from it, else
# builds what it needs into its own temporary directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${BENCH_DURATION:-3s}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/sluice" ./cmd/sluice
go build -o "$work/loadgen" ./bench/serving/loadgen

repo=$work/repo
mkdir -p "$repo/data" "$repo/specs"
awk 'BEGIN {
  srand(42)
  printf "user_id,ts"
  for (j = 0; j < 250; j++) printf ",f%d", j
  printf "\n"
  for (i = 0; i < 10000; i++) {
    printf "%d,2026-11-01T00:00:00Z", 1000 + i
    for (j = 0; j < 250; j++) printf ",%.4f", rand() * 100
    printf "\n"
  }
}' >"$repo/data/users.csv"
{
  echo 'package sluice'
  echo
  echo 'sources: users: {path: "data/users.csv", timestamp: "ts"}'
  echo 'entities: user: {join_key: "user_id", type: "int64"}'
  for n in 50 250; do
    printf 'features: wide%d: {entities: ["user"], source: "users", ttl: "87600h", online: true, fields: {' "$n"
    for ((j = 0; j < n; j++)); do printf ' f%d: type: "float64",' "$j"; done
    echo ' }}'
  done
} >"$repo/specs/main.cue"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.email=bench@sluice -c user.name=bench commit -qm "wide feature views"

: >"$work/serve.out"
"$work/sluice" --state "$work/state.db" serve --repo "$repo" --path specs --listen 127.0.0.1:0 >"$work/apply.out" 2>"$work/serve.out" &
pid=$!
addr=""
for _ in $(seq 1200); do
  addr=$(grep -o 'listening on http://[^ ]*' "$work/serve.out" | cut -d/ -f3 || true)
  [ -n "$addr" ] && grep -q 'Apply' "$work/apply.out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$addr" ] || ! grep -q 'Apply' "$work/apply.out"; then
  echo "sluice serve did not apply and listen:" >&2
  cat "$work/serve.out" "$work/apply.out" >&2
  exit 1
fi

# body N F: a Feast request for N users and all F features of wideF.
body() {
  awk -v n="$1" -v f="$2" 'BEGIN {
    printf "{\"features\":["
    for (j = 0; j < f; j++) printf "%s\"wide%d:f%d\"", (j ? "," : ""), f, j
    printf "],\"entities\":{\"user_id\":["
    for (i = 0; i < n; i++) printf "%s%d", (i ? "," : ""), 1000 + (i * 97) % 10000
    printf "]}}"
  }'
}

echo "### Online feature reads over HTTP (Feast's POST /get-online-features, one client)"
echo
echo "| entities × features | requests/s | p50 ms | p95 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|"
for f in 50 250; do
  for n in 1 10 100; do
    body "$n" "$f" >"$work/body.json"
    # One request first: it must succeed and hold every entity's values.
    curl -sf -H 'Content-Type: application/json' --data-binary @"$work/body.json" "http://$addr/get-online-features" >"$work/resp.json"
    grep -q '"PRESENT"' "$work/resp.json" || { echo "no PRESENT values for $n × $f:" >&2; head -c 600 "$work/resp.json" >&2; exit 1; }
    "$work/loadgen" -url "http://$addr/get-online-features" -body "$work/body.json" -clients 1 -duration "$duration" |
      awk -F'\t' -v n="$n" -v f="$f" '{ printf "| %d × %d | %s | %s | %s | %s | %s |\n", n, f, $2, $3, $4, $5, $6 }'
  done
done
echo
