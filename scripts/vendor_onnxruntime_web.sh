#!/bin/sh
# Fetch the ONNX Runtime Web files the find page uses from npm (the pinned version) into
# static/vendor/onnxruntime-web/, and check that they are the files the repository records.
set -eu
VERSION=1.30.0
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/static/vendor/onnxruntime-web"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
for f in ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm \
         ort.webgpu.min.js ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm; do
  cp "$work/package/dist/$f" "$dest/$f"
done
cd "$dest"
grep -o '^| `[^`]*` | [^|]* | [0-9a-f]\{64\} |' README.md | sed 's/^| `\([^`]*\)` | [^|]* | \([0-9a-f]*\) |/\2  \1/' | sha256sum -c -
