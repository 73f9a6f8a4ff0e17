#!/usr/bin/env bash
# Runs every benchmark and prints markdown for BENCHMARKS.md. Each script
# measures Sluice and its peer (or limit) in the same run and prints a ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# Benchmark run $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores, $(go version | cut -d' ' -f3)"
echo
for script in bench/plan.sh bench/features/run.sh bench/training/run.sh bench/serving/run.sh bench/daemon/run.sh bench/drift/run.sh; do
  if [ -x "$script" ]; then
    echo "## $script"
    echo
    "$script"
    echo
  fi
done
