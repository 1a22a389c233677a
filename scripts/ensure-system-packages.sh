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

# The Python client's suite (clients/python, run by `npm test`) needs Debian's python3-httpx,
# python3-cryptography and python3-pytest (PyPI is not used); install them the same way.
_continuum_python_ok() {
  sh "$(dirname "${BASH_SOURCE[0]}")/../clients/python/python.sh" -c "import pytest" > /dev/null 2>&1
}
if ! _continuum_python_ok; then
  _continuum_apt=""
  if [ "$(id -u)" = "0" ]; then _continuum_apt="apt-get"; elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then _continuum_apt="sudo apt-get"; fi
  if [ -n "$_continuum_apt" ] && command -v apt-get > /dev/null 2>&1; then
    echo "continuum-proxy: installing python3-httpx python3-cryptography python3-pytest (Debian packages) for the Python client tests" >&2
    DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q python3-httpx python3-cryptography python3-pytest > /dev/null 2>&1 ||
      { $_continuum_apt update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q python3-httpx python3-cryptography python3-pytest > /dev/null 2>&1; } ||
      echo "continuum-proxy: could not install the Python packages; the Python client tests will fail" >&2
    _continuum_python_ok || echo "continuum-proxy: python3 still cannot import httpx, cryptography and pytest" >&2
  else
    echo "continuum-proxy: python3-httpx, python3-cryptography or python3-pytest is missing and cannot be installed here (apt-get needs root)" >&2
  fi
fi

# The browser client tests (test/browser) drive a real headless Chromium through playwright-core,
# which never downloads a browser: Debian's chromium package is installed the same way.
if ! command -v chromium > /dev/null 2>&1; then
  _continuum_apt=""
  if [ "$(id -u)" = "0" ]; then _continuum_apt="apt-get"; elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then _continuum_apt="sudo apt-get"; fi
  if [ -n "$_continuum_apt" ] && command -v apt-get > /dev/null 2>&1; then
    echo "continuum-proxy: installing chromium (Debian package) for the browser client tests" >&2
    DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q chromium > /dev/null 2>&1 ||
      { $_continuum_apt update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive $_continuum_apt install -y -q chromium > /dev/null 2>&1; } ||
      echo "continuum-proxy: could not install chromium; the browser client tests will fail" >&2
  else
    echo "continuum-proxy: chromium is missing and cannot be installed here (apt-get needs root)" >&2
  fi
fi
