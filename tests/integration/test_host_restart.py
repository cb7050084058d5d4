"""A host reboot as the engine sees it: the Docker daemon stops under a healthy deployment and
starts again. The engine alone brings back only the log service (every other container's
syslog driver finds nothing listening yet); the boot unit's ExecStart brings back the rest.

Restarts the test host's own daemon: run it under the shared engine lock."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.enginectl import ensure_answering, restart_dockerd
from tests.integration.test_deployment import Deployment

pytestmark = pytest.mark.docker

ENGINE_BOUND_S = 90  # for the daemon to stop and answer again
LOG_BOUND_S = 30  # for rsyslog to write a line it received


@pytest.fixture
def deployment(harbor_images: list[str], tmp_path: Path) -> Iterator[Deployment]:
    d = Deployment(tmp_path)
    try:
        yield d
    finally:
        ensure_answering()
        d.run("down")
        for container in d.containers().values():
            container.remove(force=True)


def exec_start(unit_text: str) -> list[str]:
    line = next(x for x in unit_text.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


def core_startups(deployment: Deployment) -> int:
    log = deployment.root / "log" / "core.log"
    return log.read_text(errors="replace").count("token signing key id") if log.exists() else 0


def test_engine_restart_then_the_boot_units_command_brings_all_back(
        deployment: Deployment) -> None:
    assert deployment.run("install").exit_code == 0
    unit = deployment.run("boot-unit")
    assert unit.exit_code == 0, unit.output
    command = exec_start(unit.stdout)
    assert command[-2:] == ["--wait-engine", "120"]
    startups = core_startups(deployment)
    assert startups >= 1

    try:
        engine_back_s = restart_dockerd(ENGINE_BOUND_S)
        states = {s: c.status for s, c in deployment.containers().items()}
        # what the engine alone does (the failure the unit exists for); a faster log service
        # may save a few, so only "not all running" is asserted
        exited = sorted(s for s, state in states.items() if state != "running")
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's harborctl
        ran = subprocess.run(command, capture_output=True, text=True, check=False, env=env,
                             timeout=600)
        healthy_s = time.monotonic() - started
    finally:
        ensure_answering()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    status = deployment.run("status", "--json")
    assert status.exit_code == 0, status.output
    services = json.loads(status.stdout)["services"]
    assert len(services) == 10
    assert {s["state"] for s in services} == {"running"}
    deadline = time.monotonic() + LOG_BOUND_S
    while core_startups(deployment) <= startups and time.monotonic() < deadline:
        time.sleep(0.2)
    assert core_startups(deployment) > startups, "core's start-up line after the restart is lost"
    print(f"\nengine answered {engine_back_s:.1f} s after its start; not running then: "
          f"{exited}; the unit's ExecStart: all healthy in {healthy_s:.1f} s")
