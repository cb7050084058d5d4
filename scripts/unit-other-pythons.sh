#!/usr/bin/env bash
# The unit suite on every Python harborctl supports (3.9-3.13) except the one given (the main
# suite's, which runs it already): each in its own virtualenv .venv-py3.X/, two at a time.
#   ./scripts/unit-other-pythons.sh [3.11]
# Interpreters come from pyenv's versions or python3.X on the PATH. As root (CI) a missing one
# is a failure: CI must test all five; otherwise it is skipped with a warning.
# Exit 1 when a suite failed or an interpreter is missing as root; each suite's last lines then.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

supported=(3.9 3.10 3.11 3.12 3.13)
already_tested="${1:-}"
jobs="${HARBORCTL_UNIT_JOBS:-2}"

# The newest 3.X interpreter found, checked by running it (a pyenv shim of an inactive
# version exists on the PATH but does not run).
find_python() {
  local version="$1" root candidate
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  while IFS= read -r candidate; do
    if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != (${version/./, }))" \
         2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done < <(ls -d "$root/versions/$version".*/bin/python3 2>/dev/null | sort -V -r
           command -v "python$version" || true)
  return 1
}

versions=()
missing=()
for version in "${supported[@]}"; do
  [ "$version" = "$already_tested" ] && continue
  if python="$(find_python "$version")"; then
    venv=".venv-py$version"
    # One after the other: editable installs write harborctl.egg-info in the source tree.
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]' \
      >"$venv/pip.log" 2>&1 || { echo "unit py$version: pip install failed:"; tail -20 "$venv/pip.log"; exit 1; }
    versions+=("$version")
  else
    missing+=("$version")
  fi
done

run_suite() {
  local version="$1" venv=".venv-py$1" started=$SECONDS rc=0
  "$venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider >"$venv/unit.log" 2>&1 || rc=$?
  echo "$rc $((SECONDS - started))" >"$venv/unit.result"
}

for version in "${versions[@]}"; do
  rm -f ".venv-py$version/unit.result"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_suite "$version" &
done
wait

failed=0
for version in "${versions[@]}"; do
  venv=".venv-py$version"
  read -r rc seconds <"$venv/unit.result"
  if [ "$rc" = 0 ]; then
    echo "unit py$version: $(tail -1 "$venv/unit.log") [${seconds} s]"
  else
    failed=1
    echo "unit py$version: FAILED (exit $rc, ${seconds} s); its last lines:"
    tail -25 "$venv/unit.log" | sed 's/^/  /'
  fi
done
for version in "${missing[@]}"; do
  if [ "$(id -u)" = 0 ]; then
    failed=1
    echo "unit py$version: FAILED: no Python $version found (pyenv install $version, or python$version on the PATH)"
  else
    echo "unit py$version: skipped: no Python $version found (as root this fails)"
  fi
done
exit "$failed"
