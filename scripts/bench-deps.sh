#!/usr/bin/env bash
# Installs the Debian tools the benchmarks compare against, when missing.
# Benchmarks run Debian's /usr/bin/python3, which sees these packages
# (a python3 earlier on PATH, such as pyenv's, would not).
set -euo pipefail
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
/usr/bin/python3 -c 'import pandas' 2>/dev/null || need+=(python3-pandas)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || need+=(python3-sklearn)
/usr/bin/python3 -c 'import scipy' 2>/dev/null || need+=(python3-scipy)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} with apt-get" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
