#!/usr/bin/env bash
# Source this file before the tests: it installs the Debian packages some tests drive for real,
# with apt-get (root, or sudo without a password), when what they provide is missing. Elsewhere
# the tests that need one fail with a message naming its package.
#   redis-server                     the shared-state tests (standalone servers and a 3-master cluster)
#   python3-httpx, -cryptography,    the Python client's suite (clients/python, run by `npm test`;
#   -pytest                          PyPI is not used)
#   chromium                         the browser client tests, through playwright-core (no download)
#   prometheus (promtool),           the metrics exposition checked by Prometheus's own linter and
#   python3-prometheus-client        by the official client's strict OpenMetrics parser
_continuum_python="$(dirname "${BASH_SOURCE[0]}")/../clients/python/python.sh"
_continuum_apt=""
if [ "$(id -u)" = "0" ]; then _continuum_apt="apt-get"; elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then _continuum_apt="sudo apt-get"; fi

# _continuum_ensure "<what needs it>" "<shell test that passes when present>" <packages...>
_continuum_ensure() {
  local purpose="$1" present="$2"
  shift 2
  if eval "$present" > /dev/null 2>&1; then return 0; fi
  if [ -z "$_continuum_apt" ] || ! command -v apt-get > /dev/null 2>&1; then
    echo "continuum-proxy: $* missing and cannot be installed here (apt-get needs root); $purpose will fail" >&2
    return 0
  fi
  echo "continuum-proxy: installing $* (Debian) for $purpose" >&2
  DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q --no-install-recommends "$@" > /dev/null 2>&1 ||
    { $_continuum_apt update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q --no-install-recommends "$@" > /dev/null 2>&1; } ||
    echo "continuum-proxy: could not install $*; $purpose will fail" >&2
  eval "$present" > /dev/null 2>&1 || echo "continuum-proxy: $* still missing after the install" >&2
}

_continuum_ensure "the Redis tests" "command -v redis-server && command -v redis-cli" redis-server
_continuum_ensure "the Python client tests" "sh '$_continuum_python' -c 'import httpx, cryptography, pytest'" \
  python3-httpx python3-cryptography python3-pytest
_continuum_ensure "the browser client tests" "command -v chromium" chromium
_continuum_ensure "the metrics exposition tests" \
  "command -v promtool && sh '$_continuum_python' -c 'import prometheus_client.openmetrics.parser'" \
  prometheus python3-prometheus-client
