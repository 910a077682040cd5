#!/usr/bin/env bash
# npm run tf:native - makes @tensorflow/tfjs-node work without its usual download host
# (docs/backends.md). Never run implicitly by npm ci.
#
# tfjs-node's install step downloads libtensorflow (C API, TF 2.9.1) from storage.googleapis.com.
# This script builds the same thing from registries that are reachable:
#   - the TensorFlow C library from Maven Central: the native jar of TensorFlow Java 0.5.0
#     (org.tensorflow:tensorflow-core-api:0.5.0:linux-x86_64 = TensorFlow 2.10.1), whose
#     libtensorflow_cc.so.2 exports the C and eager C API (TF_*, TFE_*) tfjs-node calls;
#   - the matching C headers from the PyPI wheel tensorflow-cpu==2.10.1 (tensorflow/include);
#   - the addon compiled from tfjs-node's own sources with node-gyp against the running Node.
# Downloads are cached in ${RECSYS_CACHE_DIR:-~/.cache/recsys}/tf-native.
set -euo pipefail
cd "$(dirname "$0")/.."

TFJS_NODE_VERSION=4.22.0
TF_JAVA_VERSION=0.5.0
TF_VERSION=2.10.1
CACHE="${RECSYS_CACHE_DIR:-$HOME/.cache/recsys}/tf-native"
DEPS="$CACHE/deps-$TF_VERSION"
say() { printf 'tf:native: %s\n' "$*"; }

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  say "only linux x86_64 is provided this way; elsewhere npm install @tensorflow/tfjs-node downloads it"
  exit 1
fi
for tool in curl unzip python3 make g++; do
  command -v "$tool" >/dev/null || { say "needs $tool (Debian: apt-get install -y curl unzip python3 make g++)"; exit 1; }
done
mkdir -p "$CACHE"

if [ ! -f "$DEPS/lib/libtensorflow_cc.so.2" ] || [ ! -f "$DEPS/include/tensorflow/c/c_api.h" ]; then
  jar="$CACHE/tensorflow-core-api-$TF_JAVA_VERSION-linux-x86_64.jar"
  if [ ! -f "$jar" ]; then
    say "downloading TensorFlow Java $TF_JAVA_VERSION native jar from Maven Central (117 MB)"
    curl -fsSL --retry 3 -o "$jar.part" \
      "https://repo1.maven.org/maven2/org/tensorflow/tensorflow-core-api/$TF_JAVA_VERSION/tensorflow-core-api-$TF_JAVA_VERSION-linux-x86_64.jar"
    mv "$jar.part" "$jar"
  fi
  wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$wheel" ]; then
    say "downloading the tensorflow-cpu $TF_VERSION wheel from PyPI for the C headers (215 MB)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.10 \
      --platform manylinux2014_x86_64 "tensorflow-cpu==$TF_VERSION" -d "$CACHE"
    wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl | head -1)
  fi
  say "unpacking the library and headers into $DEPS"
  rm -rf "$DEPS" "$CACHE/unpack"
  mkdir -p "$DEPS/lib" "$DEPS/include" "$CACHE/unpack"
  unzip -q -o "$jar" 'org/tensorflow/internal/c_api/linux-x86_64/*' -d "$CACHE/unpack"
  lib="$CACHE/unpack/org/tensorflow/internal/c_api/linux-x86_64"
  cp "$lib/libtensorflow_cc.so.2" "$lib/libtensorflow_framework.so.2" "$lib/LICENSE" "$DEPS/lib/"
  # tfjs-node links -ltensorflow: the C API lives in libtensorflow_cc here (its SONAME is kept).
  ln -sf libtensorflow_cc.so.2 "$DEPS/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$DEPS/lib/libtensorflow_framework.so"
  unzip -q -o "$wheel" 'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/*' -d "$CACHE/unpack"
  cp -r "$CACHE/unpack/tensorflow/include/tensorflow" "$DEPS/include/"
  rm -rf "$CACHE/unpack"
fi
[ "$(nm -D --defined-only "$DEPS/lib/libtensorflow_cc.so.2" | grep -c ' T TFE_Execute@')" -ge 1 ] ||
  { say "the library does not export the eager C API"; exit 1; }

say "installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION without its download step"
scripts/node24.sh npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null
pkg=node_modules/@tensorflow/tfjs-node
rm -rf "$pkg/deps"
ln -s "$DEPS" "$pkg/deps"

# The addon's place is where node-pre-gyp looks for it (lib/napi-vN for this Node's N-API).
module_path=$(cd "$pkg" && ../../../scripts/node24.sh node -e \
  "console.log(require('@mapbox/node-pre-gyp').find(require('path').resolve('package.json')))")
napi=$(basename "$(dirname "$module_path")" | sed 's/napi-v//')
node_bin=$(scripts/node24.sh node -p 'process.execPath')
node_dir=$(dirname "$(dirname "$node_bin")")
gyp=$(scripts/node24.sh node -p "require.resolve('node-gyp/bin/node-gyp.js', { paths: ['$(dirname "$(command -v npm)")/../lib/node_modules/npm', '/usr/lib/node_modules/npm'] })" 2>/dev/null || true)
[ -n "$gyp" ] && [ -f "$gyp" ] || gyp=/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || { say "node-gyp not found (it ships with npm)"; exit 1; }
say "compiling the addon (N-API $napi) with node-gyp against $node_dir"
(cd "$pkg" && "$node_bin" "$gyp" rebuild --nodedir="$node_dir" --module_name=tfjs_binding \
  --module_path="$(dirname "$module_path")" --napi_build_version="$napi" >"$CACHE/node-gyp.log" 2>&1) ||
  { tail -30 "$CACHE/node-gyp.log"; say "node-gyp failed (full log: $CACHE/node-gyp.log)"; exit 1; }

say "checking it: a matrix product on the native backend"
scripts/node24.sh node -e "
const util = require('node:util'); // as shared/model/tf-backend.ts does (removed in Node 23)
util.isNullOrUndefined ??= (v) => v === null || v === undefined;
util.isArray = Array.isArray;
const tf = require('@tensorflow/tfjs-node');
const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
if (tf.getBackend() !== 'tensorflow' || product[0] !== 17 || product[1] !== 39) process.exit(1);
console.log('tf:native: TensorFlow ' + tf.version.tfjs + ' (tfjs-node) on libtensorflow $TF_VERSION works');
"
