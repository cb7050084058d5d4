#!/usr/bin/env bash
# The whole test suite, from a clean clone: sets up the host (Debian packages, Docker engine),
# a virtualenv with harborctl and its test tools, then lint, types and pytest.
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

"$venv/bin/ruff" check harborctl tests bench
"$venv/bin/mypy" harborctl
# pytest exits 5 when it collected no test: that is a failure here too (set -e).
exec "$venv/bin/python" -m pytest "$@"
