#!/usr/bin/env bash
# The whole test suite, from a clean clone: sets up the host (Debian packages, Docker engine),
# a virtualenv with harborctl and its test tools, then lint, types and pytest; the unit suite
# also on every other supported Python (scripts/unit-other-pythons.sh).
#   ./scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" = 0 ]; then
  bash scripts/setup-test-host.sh
  # The host is set up: a missing engine or validator is now a failure, not a skip.
  export HARBORCTL_REQUIRE_DOCKER=1 HARBORCTL_REQUIRE_VALIDATORS=1
else
  echo "test: not root: skipping host setup (Docker and validator tests need it)" >&2
fi

venv="${HARBORCTL_TEST_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The unit suite on the other supported Pythons runs while lint and types do; its summary is
# printed before the main suite, whose closing line stays the last one (CI reads it).
main_python="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
others_log="$(mktemp)"
# A process group of its own, so that an early exit (lint failed) also stops its pytest runs.
setsid bash scripts/unit-other-pythons.sh "$main_python" >"$others_log" 2>&1 &
others=$!
trap 'kill -- -"$others" 2>/dev/null || true; rm -f "$others_log"' EXIT

"$venv/bin/ruff" check harborctl tests bench
"$venv/bin/mypy" harborctl

others_rc=0
wait "$others" || others_rc=$?
cat "$others_log"
[ "$others_rc" = 0 ] || { echo "test: the unit suite failed on another Python (above)" >&2; exit 1; }
trap - EXIT
rm -f "$others_log"
# The sampling tests go about three times as deep here as in a developer's unit run
# (tests/depth.py); the other Pythons above run the quick depth.
export HARBORCTL_TEST_DEPTH="${HARBORCTL_TEST_DEPTH:-thorough}"
# pytest exits 5 when it collected no test: that is a failure here too (set -e).
exec "$venv/bin/python" -m pytest "$@"
