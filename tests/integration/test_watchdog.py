"""The engine watchdog of the test harness (tests/watchdog.py) on the real engine: a docker test
whose engine call never returns is failed with the daemon's goroutine dump, the daemon is
restarted, and the run goes on. Restarts the test host's daemon: run under the engine lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.enginectl import answers, ensure_answering

pytestmark = pytest.mark.docker

HUNG_TEST = '''
import docker
import pytest


@pytest.mark.docker
def test_an_engine_call_that_never_returns():
    client = docker.from_env(timeout=None)
    for _ in client.events(decode=True):  # returns only when the daemon goes away
        pass


def test_the_run_goes_on():
    pass
'''


def test_a_hung_docker_test_fails_with_the_dump_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(HUNG_TEST)
    env = {**os.environ, "PYTHONPATH": str(REPO), "HARBORCTL_TEST_WATCHDOG_S": "3"}
    try:
        inner = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "tests.watchdog", "-q", "-p",
             "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_inner.py")],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=300)
    finally:
        ensure_answering()
    assert inner.returncode == 1, inner.stdout + inner.stderr
    assert "1 failed, 1 passed" in inner.stdout
    line = next(x for x in inner.stdout.splitlines() if "engine watchdog:" in x)
    assert "ran past its deadline of 3 s" in line
    assert "dockerd was restarted" in line
    dump = line.split("goroutine dump: ")[1].split(";")[0]
    assert dump.startswith("/var/run/docker/goroutine-stacks-"), line
    assert "goroutine" in Path(dump).read_text()[:2000]
    assert answers()
