#!/usr/bin/env bash
# Training benchmark: Sluice's built-in trainers side by side with
# scikit-learn (Debian's /usr/bin/python3 and python3-sklearn) on the same
# data and split, on this machine, in one run; and `sluice runs --filter`
# over 30,000 recorded runs of 100 metrics; and scoring the holdout with the
# exported forest in ONNX Runtime against the Go model and scikit-learn's
# predict_proba.
#
#   logistic_regression  vs LogisticRegression(solver="lbfgs")
#   random_forest        vs RandomForestClassifier(n_estimators=TREES, max_depth=10, n_jobs=2)
#
# The data set (make_classification, ROWS x 20, seed 42) is generated once
# into $SLUICE_CACHE/bench. Both sides train on the first 80% of its rows
# on two threads and score ROC AUC on the rest. Prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-1000000}
TREES=${TREES:-100}
CACHE=${SLUICE_CACHE:-$HOME/.cache/sluice}
DIR=${SLUICE_TRAINING_BENCH_DATA:-$CACHE/bench/training-$ROWS}
PY=${PYTHON:-/usr/bin/python3}

"$PY" -c 'import sklearn' 2>/dev/null || {
  echo "scikit-learn missing for $PY: apt-get install -y python3-sklearn" >&2
  exit 1
}
if [ ! -f "$DIR/y.f64" ]; then
  echo "generating $ROWS rows in $DIR" >&2
  "$PY" bench/training/sklearn_bench.py gen --dir "$DIR" --rows "$ROWS"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/training.test" ./runtime/training

echo "scikit-learn $("$PY" -c 'import sklearn; print(sklearn.__version__)'): fitting" >&2
"$PY" bench/training/sklearn_bench.py fit --dir "$DIR" --trees "$TREES" | tee "$tmp/sklearn.txt" >&2
echo "sluice: training" >&2
SLUICE_TRAINING_BENCH_DATA=$DIR SLUICE_BENCH_TREES=$TREES \
  "$tmp/training.test" -test.run '^$' -test.bench 'BenchmarkTrainVsSklearn' -test.benchtime 1x | tee "$tmp/sluice.txt" >&2
echo "sluice: scoring the exported forest" >&2
go test -c -o "$tmp/engine.test" ./engine
SLUICE_TRAINING_BENCH_DATA=$DIR SLUICE_BENCH_TREES=$TREES \
  "$tmp/engine.test" -test.run '^$' -test.bench 'BenchmarkForestScoring' -test.benchtime 5x | tee "$tmp/scoring.txt" >&2
echo "sluice: runs filter" >&2
"$tmp/training.test" -test.run '^$' -test.bench 'BenchmarkRunsFilter' -test.benchtime 10x | tee "$tmp/runs.txt" >&2

# sk prints scikit-learn's value of name; go the value before unit on
# Sluice's benchmark line for name.
sk() { awk -v n="$1" '$1 == n { print $2 }' "$tmp/sklearn.txt"; }
go_metric() { awk -v n="$1" -v u="$2" '$1 ~ n { for (i = 2; i <= NF; i++) if ($i == u) print $(i-1) }' "$3"; }

echo "| model ($ROWS rows x 20, 80/20 split) | sluice train | scikit-learn fit | time ratio (target) | sluice AUC | scikit-learn AUC | AUC Δ (target) |"
echo "|---|---|---|---|---|---|---|"
for m in logistic_regression random_forest; do
  ns=$(go_metric "TrainVsSklearn/$m-" ns/op "$tmp/sluice.txt")
  auc=$(go_metric "TrainVsSklearn/$m-" auc "$tmp/sluice.txt")
  awk -v m="$m" -v ns="$ns" -v auc="$auc" -v s="$(sk "${m}_seconds")" -v sauc="$(sk "${m}_auc")" -v trees="$TREES" 'BEGIN {
    target = (m == "logistic_regression") ? "≤ 1.5" : "≤ 2"
    atarget = (m == "logistic_regression") ? "≤ 0.005" : "≤ 0.01"
    name = (m == "random_forest") ? m " (" trees " trees, depth 10)" : m " (lbfgs)"
    d = auc - sauc
    printf "| %s | %.2f s | %.2f s | %.2fx (%s) | %.4f | %.4f | %+.4f (%s) |\n", name, ns/1e9, s, ns/1e9/s, target, auc, sauc, d, atarget
  }'
done
echo
ort=$(go_metric "ForestScoring/onnxruntime-" rows/s "$tmp/scoring.txt")
gom=$(go_metric "ForestScoring/go-" rows/s "$tmp/scoring.txt")
echo "| scoring the holdout ($((ROWS / 5)) rows x 20) with the forest ($TREES trees, depth 10), two threads | rows/s | against scikit-learn |"
echo "|---|---|---|"
awk -v ort="$ort" -v gom="$gom" -v sk="$(sk random_forest_predict_rows_per_second)" 'BEGIN {
  printf "| exported to ONNX, in ONNX Runtime (the serving runtime) | %.0f | %.2fx |\n", ort, ort / sk
  printf "| the Go model it was exported from | %.0f | %.2fx |\n", gom, gom / sk
  printf "| scikit-learn predict_proba (n_jobs=2) | %.0f | 1x |\n", sk
}'
echo
echo "| runs search over 30,000 runs x 100 metrics | time (target < 1 s) | runs returned |"
echo "|---|---|---|"
for c in mlflow or_parens; do
  ns=$(go_metric "RunsFilter/$c-" ns/op "$tmp/runs.txt")
  n=$(go_metric "RunsFilter/$c-" runs "$tmp/runs.txt")
  case $c in
    mlflow) q="\`metrics.m17 > 0.5 and params.max_depth = 15\`, order by metrics.m3 desc, max 100" ;;
    or_parens) q="\`(metrics.m17 > 0.9 and params.criterion = 'gini') or (tags.team LIKE 'ri%' and metrics.m42 < 0.05)\`, order by params.max_depth desc, metrics.m5, max 1000" ;;
  esac
  awk -v q="$q" -v ns="$ns" -v n="$n" 'BEGIN { printf "| %s | %.0f ms | %d |\n", q, ns/1e6, n }'
done
echo
echo "Command: \`bench/training/run.sh\` (ROWS=$ROWS TREES=$TREES; scikit-learn via $PY)"
