#!/usr/bin/env bash
# Feature store benchmark: Sluice side by side with its peers on the same
# files, on this machine, in one run.
#
#   materialize  a ROWS-row CSV into the offline store  vs  sqlite3 .import
#   history      point-in-time join of ENTITIES rows     vs  pandas merge_asof
#   online       one-entity lookups in process (p50/p99)
#
# Data is generated once into $SLUICE_CACHE/bench (outside the repository).
# Each side runs REPEAT times, interleaved where cheap; the best run counts,
# as the machine may be shared. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-10000000}
ENTITIES=${ENTITIES:-1000000}
REPEAT=${REPEAT:-3}
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=${SLUICE_BENCH_FEATURES_DIR:-$CACHE/bench/features-$ROWS-$ENTITIES}
PY=${PYTHON:-/usr/bin/python3}
export SLUICE_BENCH_FEATURES_DIR=$DIR

command -v sqlite3 >/dev/null || { echo "sqlite3 CLI missing: run make bench-deps" >&2; exit 1; }
"$PY" -c 'import pandas' 2>/dev/null || { echo "pandas missing for $PY: run make bench-deps" >&2; exit 1; }

if [ ! -f "$DIR/entities.csv" ]; then
  echo "generating $ROWS feature rows and $ENTITIES entity rows in $DIR" >&2
  go run ./bench/features/gen -dir "$DIR" -rows "$ROWS" -entities "$ENTITIES"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/features.test" ./runtime/features

# calc evaluates an arithmetic expression.
calc() { awk "BEGIN { print $* }"; }
# best prints the smallest (or, with -max, largest) number on stdin.
best() { sort -g ${1:+-r} | head -1; }
# metric prints the value before unit on benchmark lines matching name.
metric() { awk -v n="$1" -v u="$2" '$1 ~ n { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$3"; }

: >"$tmp/import.txt"
: >"$tmp/materialize.txt"
for i in $(seq "$REPEAT"); do
  echo "materialize, run $i of $REPEAT" >&2
  rm -f "$tmp/import.db"
  start=$(date +%s.%N)
  sqlite3 "$tmp/import.db" -cmd ".mode csv" ".import $DIR/transactions.csv tx"
  end=$(date +%s.%N)
  calc "$ROWS / ($end - $start)" >>"$tmp/import.txt"
  rm -f "$tmp/import.db"
  (cd runtime/features && "$tmp/features.test" -test.run '^$' -test.bench 'MaterializeCSV' -test.benchtime 1x) >>"$tmp/materialize.txt"
done

echo "history and online" >&2
: >"$tmp/pandas.txt"
for i in $(seq "$REPEAT"); do
  "$PY" bench/features/asof.py "$DIR" >>"$tmp/pandas.txt"
done
(cd runtime/features && "$tmp/features.test" -test.run '^$' -test.bench 'History|OnlineGet' -test.benchtime 1x -test.count "$REPEAT") >"$tmp/retrieval.txt"

imp=$(best -max <"$tmp/import.txt")
off=$(metric 'MaterializeCSV/offline-' rows/s "$tmp/materialize.txt" | best -max)
onl=$(metric 'MaterializeCSV/offline.online' rows/s "$tmp/materialize.txt" | best -max)
pd_s=$(awk '{print $1}' "$tmp/pandas.txt" | best)
pd_matched=$(awk '{print $3}' "$tmp/pandas.txt" | head -1)
hist_ns=$(metric 'History' ns/op "$tmp/retrieval.txt" | best)
hist_matched=$(metric 'History' matched "$tmp/retrieval.txt" | head -1)
p50=$(metric 'OnlineGet' p50-ns "$tmp/retrieval.txt" | best)
p99=$(metric 'OnlineGet' p99-ns "$tmp/retrieval.txt" | best)
hist_s=$(calc "$hist_ns / 1e9")

printf '\nFeature store, %s feature rows, %s entity rows, best of %s (%s, %s CPUs)\n\n' "$ROWS" "$ENTITIES" "$REPEAT" "$(uname -m)" "$(nproc)"
echo '| figure | Sluice | peer | ratio |'
echo '|---|---|---|---|'
printf '| materialize CSV → offline store | %.0f rows/s | sqlite3 .import: %.0f rows/s | %.2f |\n' "$off" "$imp" "$(calc "$off / $imp")"
printf '| materialize CSV → offline + online | %.0f rows/s | sqlite3 .import: %.0f rows/s | %.2f |\n' "$onl" "$imp" "$(calc "$onl / $imp")"
printf '| point-in-time join (matched %.0f / %.0f) | %.2f s | pandas merge_asof incl. sorts: %.2f s | %.1fx faster |\n' "$hist_matched" "$pd_matched" "$hist_s" "$pd_s" "$(calc "$pd_s / $hist_s")"
printf '| online get, one entity, in process | p50 %.1f µs, p99 %.1f µs | target p99 < 100 µs | |\n' "$(calc "$p50 / 1000")" "$(calc "$p99 / 1000")"
