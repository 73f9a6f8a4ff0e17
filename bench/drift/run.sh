#!/usr/bin/env bash
# Drift benchmark: Sluice side by side with scipy/numpy on the same data, in
# one run.
#
#   KS + PSI  ROWS reference × ROWS current rows × FEATURES numerical features:
#             runtime/drift's BenchmarkKSPSI vs scipy.stats.ks_2samp plus numpy
#             PSI on shared decile edges (bench/drift/peer.py); every statistic
#             is checked equal to 1e-9.
#   report    a policy over REPORT (ROWSxCOLS) current rows against a reference
#             of as many rows: fit time, report time, peak RSS.
#   capture   predict latency over HTTP at 64 clients with every request
#             captured into the state file vs capture off (engine's
#             BenchmarkPredictCapture, eight alternating rounds: best of each,
#             the median round's ratio, CPU per request).
#
# Data is generated once into $SLUICE_CACHE/bench (outside the repository).
# Prints markdown.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-1000000}
FEATURES=${FEATURES:-20}
REPORT=${REPORT:-1000000x1000}
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=${SLUICE_BENCH_DRIFT_DIR:-$CACHE/bench/drift-$ROWS-$FEATURES}
PY=${PYTHON:-/usr/bin/python3}

"$PY" -c 'import scipy, numpy' 2>/dev/null || { echo "scipy/numpy missing for $PY: run make bench-deps" >&2; exit 1; }
if [ ! -f "$DIR/cur.f64" ]; then
  echo "generating $FEATURES × $ROWS rows in $DIR" >&2
  go run ./bench/drift/gen -dir "$DIR" -rows "$ROWS" -features "$FEATURES"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/drift.test" ./runtime/drift
go test -c -o "$tmp/engine.test" ./engine

echo "peer: scipy ks_2samp + numpy PSI" >&2
"$PY" bench/drift/peer.py "$DIR" "$FEATURES" >"$tmp/peer.json"
echo "sluice: KS + PSI" >&2
(cd runtime/drift && SLUICE_BENCH_DRIFT_DIR="$DIR" SLUICE_BENCH_DRIFT_FEATURES="$FEATURES" SLUICE_BENCH_DRIFT_PEER="$tmp/peer.json" \
  "$tmp/drift.test" -test.run '^$' -test.bench 'KSPSI' -test.benchtime 3x) >"$tmp/ks.txt"
grep -q '^ok\|^PASS' "$tmp/ks.txt" || { cat "$tmp/ks.txt" >&2; echo "statistics differ from the peer's" >&2; exit 1; }
echo "sluice: report $REPORT" >&2
(cd runtime/drift && SLUICE_BENCH_DRIFT_REPORT="$REPORT" "$tmp/drift.test" -test.run '^$' -test.bench 'Report' -test.benchtime 1x) >"$tmp/report.txt"
echo "sluice: predict with capture on and off" >&2
(cd engine && "$tmp/engine.test" -test.run '^$' -test.bench 'PredictCapture' -test.benchtime 1x) >"$tmp/capture.txt"

calc() { awk "BEGIN { print $* }"; }
metric() { awk -v n="$1" -v u="$2" '$1 ~ n { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$3"; }
ks_s=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ks_seconds"])' "$tmp/peer.json")
psi_s=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["psi_seconds"])' "$tmp/peer.json")
peer=$(calc "$ks_s + $psi_s")
one=$(calc "$(metric 'cold-1cpu' ns/op "$tmp/ks.txt") / 1e9")
par=$(calc "$(metric 'KSPSI/cold-' ns/op "$tmp/ks.txt" | tail -1) / 1e9")
fitted=$(calc "$(metric 'fitted' ns/op "$tmp/ks.txt") / 1e9")
diff=$(metric 'cold-1cpu' max-abs-diff "$tmp/ks.txt")
rep=$(calc "$(metric 'Report' ns/op "$tmp/report.txt") / 1e9")
fit=$(metric 'Report' fit-s "$tmp/report.txt")
rss=$(metric 'Report' peak-rss-MB "$tmp/report.txt")
p99_off=$(metric 'PredictCapture' p99-off-ms "$tmp/capture.txt")
p99_on=$(metric 'PredictCapture' p99-on-ms "$tmp/capture.txt")
p99_ratio=$(metric 'PredictCapture' p99-ratio "$tmp/capture.txt")
p99_median=$(metric 'PredictCapture' p99-ratio-median "$tmp/capture.txt")
cpu_off=$(metric 'PredictCapture' cpu-us/req-off "$tmp/capture.txt")
cpu_on=$(metric 'PredictCapture' cpu-us/req-on "$tmp/capture.txt")
dropped=$(metric 'PredictCapture' dropped "$tmp/capture.txt")

printf '\nDrift, %s × %s rows × %s features (%s, %s CPUs)\n\n' "$ROWS" "$ROWS" "$FEATURES" "$(uname -m)" "$(nproc)"
echo '| figure | Sluice | peer | ratio |'
echo '|---|---|---|---|'
printf '| KS + PSI, everything from raw samples, 1 core | %.2f s | scipy ks_2samp %.2f s + numpy PSI %.2f s = %.2f s | %.1fx faster |\n' "$one" "$ks_s" "$psi_s" "$peer" "$(calc "$peer / $one")"
printf '| the same on %s cores | %.2f s | same | %.1fx faster |\n' "$(nproc)" "$par" "$(calc "$peer / $par")"
printf '| with the reference fitted once (a drift check) | %.2f s | same | %.1fx faster |\n' "$fitted" "$(calc "$peer / $fitted")"
printf '| largest difference from scipy/numpy over %s × 3 statistics | %s | | (≤ 1e-9) |\n' "$FEATURES" "$diff"
printf '| report over %s current rows × columns | %.1f s, peak RSS %.0f MB (reference fit once: %.1f s) | | |\n' "$REPORT" "$rep" "$rss" "$fit"
printf '| predict p99 at 64 clients, capture 100%% vs off (best round of 8 each) | %.1f ms vs %.1f ms (%s rows dropped) | | %.2f (≤ 1.05) |\n' "$p99_on" "$p99_off" "$dropped" "$p99_ratio"
printf '| the median round'"'"'s p99 ratio; CPU per request (clients included), capture on vs off | %.1f µs vs %.1f µs | | %.2f (≤ 1.05) |\n' "$cpu_on" "$cpu_off" "$p99_median"
