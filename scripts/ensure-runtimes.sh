#!/usr/bin/env bash
# Source (or run) this before the tests: test/runtimes runs the client in Deno and Bun, as
# docs/browser.md promises. Their official builds come from the npm registry (the only registry
# the machines reach) as the platform packages the `deno` and `bun` npm packages pull in,
# pinned here and installed into the ignored .tools/runtimes folder. Linux x64 only, like the
# Node provisioning; elsewhere set CONTINUUM_DENO and CONTINUUM_BUN to local binaries.
_continuum_runtimes_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/runtimes"
_continuum_runtimes_wanted="@deno/linux-x64-glibc@2.9.6 @oven/bun-linux-x64@1.4.5"
_continuum_runtimes_ok() {
  local package version
  for package in $_continuum_runtimes_wanted; do
    version="${package##*@}"
    [ "$(node -p "try { require('$_continuum_runtimes_root/node_modules/${package%@*}/package.json').version } catch { '' }" 2>/dev/null)" = "$version" ] || return 1
  done
}
if [ -z "${CONTINUUM_DENO:-}${CONTINUUM_BUN:-}" ] && ! _continuum_runtimes_ok; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "continuum-proxy: the Deno and Bun client tests need CONTINUUM_DENO and CONTINUUM_BUN here (automatic install: Linux x64 only)" >&2
  else
    echo "continuum-proxy: installing Deno and Bun into .tools/runtimes for the client tests" >&2
    mkdir -p "$_continuum_runtimes_root"
    # shellcheck disable=SC2086 # the list is words on purpose
    npm install --silent --no-save --no-audit --no-fund --no-package-lock --prefix "$_continuum_runtimes_root" $_continuum_runtimes_wanted >&2 ||
      echo "continuum-proxy: installing Deno and Bun failed (offline?); the Deno and Bun client tests will fail" >&2
  fi
fi
