#!/usr/bin/env bash
# Install (or converge) Harbor on this Docker host: creates harborctl's own virtualenv next to this
# script the first time, then runs 'harborctl install' with the arguments given here.
#   ./install.sh [--with-notary] [--with-clair] [--with-chartmuseum] [-c harbor.cfg] ...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${HARBORCTL_VENV:-$here/.harborctl-venv}"
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Error: harborctl needs Python 3.11 or newer as '$python' (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

# Reinstall only when the sources changed since the last install into this venv.
stamp="$(cd "$here" && find harborctl templates scripts/harborctl pyproject.toml setup.py -type f \
  ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
if [ ! -x "$venv/bin/harborctl" ] || [ "$(cat "$venv/.harborctl-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "Setting up harborctl in $venv ..."
  if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv" || {
      echo "Error: cannot create a virtualenv (on Debian: apt-get install python3-venv)." >&2
      exit 1
    }
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$here" || {
    echo "Error: installing harborctl into $venv failed (see the pip output above)." >&2
    exit 1
  }
  echo "$stamp" > "$venv/.harborctl-stamp"
fi

cd "$here"
exec "$venv/bin/harborctl" install "$@"
