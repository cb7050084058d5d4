#!/usr/bin/env bash
# Install (or converge) Harbor on this Docker host: creates harborctl's own virtualenv next to this
# script the first time, puts `harborctl` on the PATH, then runs 'harborctl install' with the
# arguments given here.
#   ./install.sh [--with-notary] [--with-clair] [--with-chartmuseum] [-c harbor.cfg] ...
#   ./install.sh [--with-trivy] [-c harbor.yml] ...          (Harbor 2.15)
# Environment: PYTHON (the interpreter for the virtualenv, else the newest usable one found),
# HARBORCTL_VENV (the virtualenv's folder), HARBORCTL_BIN_DIR (where the `harborctl` link goes,
# /usr/local/bin).
set -euo pipefail

# Whether $1 runs as Python >= 3.9 with a working venv (Debian splits ensurepip out of python3).
usable_python() {
  "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' >/dev/null 2>&1
}

# The interpreter to create the virtualenv with: $PYTHON, else the newest usable one on the PATH.
choose_python() {
  local candidate
  if [ -n "${PYTHON:-}" ]; then
    usable_python "$PYTHON" && { echo "$PYTHON"; return 0; }
    echo "Error: PYTHON=$PYTHON is not Python 3.9 or newer with venv (on Debian: apt-get install python3-venv)." >&2
    return 1
  fi
  for candidate in python3.13 python3.12 python3.11 python3.10 python3.9 python3; do
    command -v "$candidate" >/dev/null 2>&1 && usable_python "$candidate" \
      && { command -v "$candidate"; return 0; }
  done
  echo "Error: harborctl needs Python 3.9 or newer with venv; none of python3.13 ... python3.9," \
       "python3 on the PATH is (on Debian/Ubuntu: apt-get install python3-venv; on RHEL-like" \
       "hosts: dnf install python3), or set PYTHON=/path/to/python3." >&2
  return 1
}

# Put `harborctl` on the PATH as a link to $1 in $HARBORCTL_BIN_DIR, unless another program has
# that name there (never replaced). Prints the command to type: `harborctl` or the full path.
link_harborctl() {
  local command="$1" bin_dir="${HARBORCTL_BIN_DIR:-/usr/local/bin}"
  local link="$bin_dir/harborctl" reason=""
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$command" ]; then
    :  # ours already
  elif [ -e "$link" ] || [ -L "$link" ]; then
    reason="$link is another program (or a link to one); it was left as it is"
  elif [ ! -d "$bin_dir" ] || [ ! -w "$bin_dir" ]; then
    reason="$bin_dir is not writable here (run ./install.sh as root to link it there)"
  elif ln -s "$command" "$link" 2>/dev/null; then
    echo "Linked $link -> $command" >&2
  else
    reason="creating $link failed"
  fi
  if [ -z "$reason" ] && [ "$(type -P harborctl || true)" != "$link" ]; then
    reason="$bin_dir is not the first place on the PATH with a harborctl"
  fi
  if [ -n "$reason" ]; then
    echo "harborctl is not on the PATH: $reason; type its full path: $command" >&2
    echo "$command"
  else
    echo "harborctl"
  fi
}

main() {
  local here venv stamp python command rc=0 pip_source
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  venv="${HARBORCTL_VENV:-$here/.harborctl-venv}"

  # Reinstall only when harborctl changed since the last install into this venv. The offline
  # bundle (scripts/make-bundle.sh) carries it and every dependency as wheels in wheels/: then
  # pip gets --no-index and never looks at the network.
  if compgen -G "$here/wheels/harborctl-*.whl" >/dev/null; then
    pip_source=(--no-index --find-links "$here/wheels" harborctl)
    stamp="$(cd "$here/wheels" && sha256sum harborctl-*.whl | sha256sum | cut -c1-16)"
  else
    pip_source=("$here")
    stamp="$(cd "$here" && find harborctl templates scripts/harborctl pyproject.toml setup.py \
      -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
  fi
  if [ ! -x "$venv/bin/harborctl" ] || [ "$(cat "$venv/.harborctl-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "Setting up harborctl in $venv ..."
    if [ ! -x "$venv/bin/python" ]; then
      python="$(choose_python)" || exit 1
      echo "Using $("$python" -c 'import sys; print("Python %d.%d.%d" % sys.version_info[:3])') ($python)"
      "$python" -m venv "$venv" || {
        echo "Error: cannot create a virtualenv with $python (on Debian: apt-get install python3-venv)." >&2
        exit 1
      }
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_source[@]}" || {
      echo "Error: installing harborctl into $venv failed (see the pip output above)." >&2
      exit 1
    }
    echo "$stamp" > "$venv/.harborctl-stamp"
  fi

  command="$(link_harborctl "$(cd "$venv/bin" && pwd)/harborctl")"
  cd "$here"
  "$venv/bin/harborctl" install "$@" || rc=$?
  if [ "$rc" = 0 ]; then
    echo "Next, every service's state: $command status"
  fi
  exit "$rc"
}

# Sourced (the tests call the functions above), it only defines them.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
