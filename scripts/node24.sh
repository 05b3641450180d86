#!/usr/bin/env bash
# Prints the directory of a Node.js 24 `node` binary, installed from the npm registry (the
# node-linux-<arch> package, which ships the official binary) into a cache directory and reused from there.
# It carries no npm: `PATH="$(bash scripts/node24.sh):$PATH" npm test` runs this machine's npm, and the
# tests, under Node 24.
#
# Environment: NODE24_VERSION (default below: the version the image's tests are run with), NODE_CACHE_DIR
# (default ${XDG_CACHE_HOME:-~/.cache}/selligent-export/node).
set -euo pipefail

version=${NODE24_VERSION:-24.22.3}
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node24.sh: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
cache=${NODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/selligent-export/node}
dir="$cache/$version"
bin="$dir/node_modules/node-linux-$arch/bin"

if ! [ -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.install.XXXXXX")
  # Installed apart from the project (its own prefix, no lock file), so the project's tree is untouched.
  (cd "$tmp" && npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node-linux-$arch@$version" >&2) || { rm -rf "$tmp"; echo "node24.sh: npm install node-linux-$arch@$version failed" >&2; exit 1; }
  [ "$("$tmp/node_modules/node-linux-$arch/bin/node" --version)" = "v$version" ] \
    || { rm -rf "$tmp"; echo "node24.sh: the installed node is not v$version" >&2; exit 1; }
  rm -rf "$dir"
  mv "$tmp" "$dir"
fi
printf '%s\n' "$bin"
