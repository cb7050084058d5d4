"""docker-compose 1.29 and harborctl see each other's projects (labels only)."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.converge.apply import converge
from harborctl.engine.converge.containers import list_project_containers
from tests.integration.engine.engine_stack import Recorder, Stack, skip_or_fail, status_now

pytestmark = pytest.mark.docker


def compose(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    program = shutil.which("docker-compose")
    if program is None:
        skip_or_fail("docker-compose 1.29 is not installed (apt-get install docker-compose)")
    return subprocess.run([program, "-p", stack.name, "-f", str(stack.compose_file), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_docker_compose_ps_lists_harborctl_project(engine: SdkEngine, stack: Stack,
                                                   report: Recorder) -> None:
    converge(engine, stack.load(), report, timeout=60)
    listed = compose(stack, "ps")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("Up (healthy)") == 3
    quiet = compose(stack, "ps", "-q")
    ours = {c.id for c in list_project_containers(engine, stack.name)}
    assert set(quiet.stdout.split()) == ours
    services = compose(stack, "ps", "--services")
    assert set(services.stdout.split()) == {"log", "web", "app", "cron"}


def test_status_reads_a_docker_compose_project(engine: SdkEngine, stack: Stack,
                                               report: Recorder) -> None:
    up = compose(stack, "up", "-d")
    assert up.returncode == 0, up.stderr
    project = stack.load()
    deadline = time.monotonic() + 30
    status = status_now(engine, project)
    while not status.overall_ok and time.monotonic() < deadline:
        time.sleep(0.2)
        status = status_now(engine, project)
    assert status.overall_ok, status.problems
    assert {s.container for s in status.services} == {
        f"{stack.name}-{s}" for s in ("log", "web", "app", "cron")}

    # harborctl takes such a project over: no harborctl hash, so every service is recreated.
    result = converge(engine, project, report, timeout=60)
    assert {a.kind for a in result.actions} == {"recreate"}
    assert "not created by harborctl" in result.actions[0].reason
    assert status_now(engine, project).overall_ok

