#!/bin/sh
# Runs the Python that has the client's dependencies: $CONTINUUM_PYTHON when set, else Debian's
# /usr/bin/python3 (where apt-get installs python3-httpx, python3-cryptography and python3-pytest,
# see scripts/ensure-system-packages.sh), else the first python3 on PATH. A python3 from pyenv or
# a virtualenv earlier on PATH does not see Debian's packages.
set -eu
for candidate in "${CONTINUUM_PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" > /dev/null 2>&1 && "$candidate" -c "import httpx, cryptography" > /dev/null 2>&1; then
    exec "$candidate" "$@"
  fi
done
echo "continuum-client: no python3 with httpx and cryptography; install python3-httpx python3-cryptography python3-pytest (apt-get)" >&2
exit 1
