"""stop / start / restart / down against the real engine."""

from __future__ import annotations

import os
import time

import docker
import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.converge.apply import converge
from harborctl.engine.converge.containers import list_project_containers
from harborctl.engine.lifecycle.exitwatch import open_exit_watch
from harborctl.engine.lifecycle.operations import down, restart, start
from harborctl.engine.lifecycle.stopping import stop_project
from tests.integration.engine.engine_stack import Recorder, Stack, status_now

pytestmark = pytest.mark.docker


def states(engine: SdkEngine, stack: Stack) -> dict[str, str]:
    return {c.service: c.state for c in list_project_containers(engine, stack.name)}


def _watchable(client: docker.DockerClient, container_id: str) -> bool:
    fd = open_exit_watch(container_id, client.api.inspect_container(container_id)["State"]["Pid"])
    if fd is None:
        return False
    os.close(fd)
    return True


def test_stop_start_restart_down(client: docker.DockerClient, engine: SdkEngine, stack: Stack,
                                 report: Recorder) -> None:
    project = stack.load()
    assert start(engine, project, report).nothing_to_start
    converge(engine, project, report, timeout=60)
    ids = {c.service: c.id for c in list_project_containers(engine, stack.name)}

    report.lines.clear()
    watched = {c.service: _watchable(client, c.id)
               for c in list_project_containers(engine, stack.name)}
    assert all(watched.values()), f"no exit watch from this host's PID namespace: {watched}"
    began = time.monotonic()
    stopped = stop_project(engine, project, report)
    assert time.monotonic() - began < 8, "a stop waited for a timeout"
    assert set(stopped) == {"log", "web", "app", "cron"}
    exited_at = {c.service: client.api.inspect_container(c.id)["State"]["FinishedAt"]
                 for c in list_project_containers(engine, stack.name)}
    for service in project.services:  # (RFC 3339 times of one day and zone sort as text)
        for dependency in service.depends_on:
            assert exited_at[service.name] <= exited_at[dependency.service], exited_at
    order = [line.removeprefix("stopped ") for line in report.lines if line.startswith("stopped")]
    assert order[-1] == f"{stack.name}-log"
    assert order.index(f"{stack.name}-app") < order.index(f"{stack.name}-web")
    assert set(states(engine, stack).values()) == {"exited"}
    assert not status_now(engine, project).overall_ok
    assert stop_project(engine, project, report) == []

    result = start(engine, project, report)
    assert not result.nothing_to_start
    assert set(result.started) == {"log", "web", "app", "cron"}
    assert status_now(engine, project).overall_ok
    assert {c.service: c.id for c in list_project_containers(engine, stack.name)} == ids

    result = restart(engine, project, report)
    assert set(result.started) == {"log", "web", "app", "cron"}
    assert status_now(engine, project).overall_ok

    data_file = stack.root / "data/app.txt"
    assert data_file.read_text() == "started\n"
    outcome = down(engine, project, report)
    assert set(outcome.containers) == {f"{stack.name}-{s}" for s in ("log", "web", "app", "cron")}
    assert outcome.networks == (f"{stack.name}_harbor",)
    assert list_project_containers(engine, stack.name) == []
    assert client.networks.list(
        filters={"label": f"com.docker.compose.project={stack.name}"}) == []
    assert data_file.read_text() == "started\n"
    assert (stack.root / "common/config/web/index.html").is_file()
    assert start(engine, project, report).nothing_to_start
