#!/usr/bin/env bash
# Source this file before the tests: the shared-state tests start real redis-server processes
# (standalone and a 3-master cluster), so Debian's redis-server package must be installed. On a
# machine without it, it is installed with apt-get (root, or sudo without a password); otherwise
# the tests that need it fail with a message that names the package.
if ! command -v redis-server > /dev/null 2>&1 || ! command -v redis-cli > /dev/null 2>&1; then
  _continuum_apt=""
  if [ "$(id -u)" = "0" ]; then _continuum_apt="apt-get"; elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then _continuum_apt="sudo apt-get"; fi
  if [ -n "$_continuum_apt" ] && command -v apt-get > /dev/null 2>&1; then
    echo "continuum-proxy: installing redis-server (Debian package) for the shared-state tests" >&2
    DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q redis-server > /dev/null 2>&1 ||
      { $_continuum_apt update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q redis-server > /dev/null 2>&1; } ||
      echo "continuum-proxy: could not install redis-server; the Redis tests will fail" >&2
  else
    echo "continuum-proxy: redis-server is missing and cannot be installed here (apt-get needs root)" >&2
  fi
fi
