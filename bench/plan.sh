#!/usr/bin/env bash
# plan over 1,000 and 10,000 resources (CUE load and plan against a state
# that holds them), and the 10,000/1,000 ratio: 10 means linear.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -run '^$' -bench 'BenchmarkPlan' -benchtime 3x -count 1 ./engine)
echo "$out" | grep -E '^Benchmark' >&2
ns() { echo "$out" | awk -v name="$1" '$1 ~ name {print $3}' | head -1; }
l1=$(ns 'load/resources=1000-'); l10=$(ns 'load/resources=10000-')
p1=$(ns 'plan/resources=1000-'); p10=$(ns 'plan/resources=10000-')
awk -v l1="$l1" -v l10="$l10" -v p1="$p1" -v p10="$p10" 'BEGIN {
  printf "| step | 1,000 resources | 10,000 resources | ratio 10k/1k (10 = linear) |\n|---|---|---|---|\n"
  printf "| load CUE | %.0f ms | %.0f ms | %.1f |\n", l1/1e6, l10/1e6, l10/l1
  printf "| plan | %.0f ms | %.0f ms | %.1f |\n", p1/1e6, p10/1e6, p10/p1
  printf "| load + plan | %.0f ms | %.0f ms | %.1f |\n", (l1+p1)/1e6, (l10+p10)/1e6, (l10+p10)/(l1+p1)
}'
echo
echo "Command: \`bench/plan.sh\` (go test -bench BenchmarkPlan ./engine)"
