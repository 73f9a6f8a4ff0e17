#!/usr/bin/env bash
# The daemon's figures: commit-to-served latency and resident memory on the
# example (served.py), commit-to-applied of a feature view (latency.py), and
# the periodic re-check of an unchanged revision beside a plain load + plan
# of the same number of resources (engine's BenchmarkPlan).
set -euo pipefail
cd "$(dirname "$0")/../.."
COMMITS=${COMMITS:-50}
bin=$(mktemp -d)/sluice
go build -o "$bin" ./cmd/sluice
echo '### Commit to served, resident memory (examples/repo)'
echo
echo "Command: \`bench/daemon/served.py --sluice $bin --commits $COMMITS\`"
echo '```'
python3 bench/daemon/served.py --sluice "$bin" --commits "$COMMITS"
echo '```'
echo
echo '### Commit to applied (one feature view)'
echo '```'
python3 bench/daemon/latency.py --sluice "$bin" --commits "$COMMITS"
echo '```'
echo
echo '### Re-check of an unchanged revision'
echo
re=$(go test -run '^$' -bench 'BenchmarkRecheckUnchanged/resources=1000$' -benchtime 5x -count 1 ./engine/daemon)
pl=$(go test -run '^$' -bench 'BenchmarkPlan/(load|plan)/resources=1000$' -benchtime 5x -count 1 ./engine)
echo "$re"$'\n'"$pl" | grep -E '^Benchmark' >&2
ns() { echo "$1" | awk -v name="$2" '$1 ~ name {print $3}' | head -1; }
r=$(ns "$re" 'resources=1000-'); l=$(ns "$pl" 'load/resources=1000-'); p=$(ns "$pl" 'plan/resources=1000-')
awk -v r="$r" -v l="$l" -v p="$p" 'BEGIN {
  printf "| 1,000 resources | time |\n|---|---|\n"
  printf "| daemon re-check (read the commit from git, load, plan, nothing to apply) | %.0f ms |\n", r/1e6
  printf "| load + plan from memory (engine BenchmarkPlan) | %.0f ms |\n", (l+p)/1e6
  printf "| ratio | %.2f |\n", r/(l+p)
}'
echo
echo "Command: \`bench/daemon/run.sh\` (go test -bench BenchmarkRecheckUnchanged ./engine/daemon; go test -bench BenchmarkPlan ./engine)"
