#!/usr/bin/env bash
# Fetches the ONNX Runtime shared library from the npm package onnxruntime-node
# into the cache folder, once. Prints the library's path.
set -euo pipefail
version="${ORT_NPM_VERSION:-1.30.0}"
cache="${SLUICE_CACHE:-$HOME/.cache/sluice}"
dir="$cache/onnxruntime-node-$version"
lib="$dir/libonnxruntime.so.1"
if [ -s "$lib" ]; then
  echo "$lib"
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetching onnxruntime-node@$version from npm" >&2
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null 2>"$work/npm.log") || {
  cat "$work/npm.log" >&2
  echo "npm pack onnxruntime-node@$version failed" >&2
  exit 1
}
tar -xzf "$work"/onnxruntime-node-*.tgz -C "$work" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
cp "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "$lib"
