"""converge against the real engine: fresh, no-op, recreate on changes, refusals, failures."""

from __future__ import annotations

import contextlib
import socket
import time

import docker
import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.compose import labels as lbl
from harborctl.engine.converge.apply import converge
from harborctl.engine.converge.containers import list_project_containers
from harborctl.errors import HarborctlError, UnhealthyError
from tests.integration.engine.engine_stack import Recorder, Stack, status_now

pytestmark = pytest.mark.docker


def ids(engine: SdkEngine, stack: Stack) -> dict[str, str]:
    return {c.service: c.id for c in list_project_containers(engine, stack.name)}


def kinds(result_actions: tuple[object, ...]) -> dict[str, str]:
    return {a.service: a.kind for a in result_actions}  # type: ignore[attr-defined]


def test_fresh_converge_then_noop(client: docker.DockerClient, engine: SdkEngine,
                                  stack: Stack, report: Recorder) -> None:
    project = stack.load()
    first = converge(engine, project, report, timeout=60)
    assert set(kinds(first.actions).values()) == {"create"}
    status = status_now(engine, project)
    assert status.overall_ok, status.problems
    assert {s.service: s.health for s in status.services} == {
        "log": "healthy", "web": "healthy", "app": "healthy", "cron": None}
    # Every container is created up front; each starts in dependency order: nobody before the
    # log service was ready, app only once web was.
    lines = report.lines
    log_ready = next(i for i, line in enumerate(lines) if line.startswith("log is ready"))
    assert lines.index(f"created {stack.name}-app") < lines.index(f"started {stack.name}-log")
    assert lines.index(f"started {stack.name}-web") > log_ready
    assert lines.index(f"started {stack.name}-app") > next(
        i for i, line in enumerate(lines) if line.startswith("web is ready"))

    before = ids(engine, stack)
    second = converge(engine, stack.load(), report, timeout=60)
    assert set(kinds(second.actions).values()) == {"noop"}
    assert ids(engine, stack) == before
    assert report.lines[-1] == f"{stack.name}: everything is up to date"

    # The network carries compose's labels; both names resolve (app's health check uses them).
    network = client.networks.get(f"{stack.name}_harbor")
    assert network.attrs["Labels"][lbl.NETWORK] == "harbor"
    app = client.containers.get(f"{stack.name}-app")
    aliases = app.attrs["NetworkSettings"]["Networks"][f"{stack.name}_harbor"]["Aliases"]
    assert {"app", f"{stack.name}-app", "application"} <= set(aliases)
    # cpu_quota (Harbor caps clair with it) reaches the container's limits.
    assert client.containers.get(f"{stack.name}-cron").attrs["HostConfig"]["CpuQuota"] == 50000
    assert app.attrs["HostConfig"]["CpuQuota"] == 0

    # The app's stdout reached the log service through the syslog driver.
    log_file = stack.root / "data/log/all.log"
    deadline = time.monotonic() + 5
    while "app up one" not in (log_file.read_text() if log_file.exists() else ""):
        assert time.monotonic() < deadline, "no syslog line from app reached the log service"
        time.sleep(0.1)


def test_changes_recreate_only_what_changed(client: docker.DockerClient, engine: SdkEngine,
                                            stack: Stack, report: Recorder) -> None:
    converge(engine, stack.load(), report, timeout=60)
    before = ids(engine, stack)

    (stack.root / "common/config/app/app.conf").write_text("level=2\n")
    result = converge(engine, stack.load(), report, timeout=60)
    assert kinds(result.actions) == {"log": "noop", "cron": "noop", "web": "noop",
                                     "app": "recreate"}
    after = ids(engine, stack)
    assert after["app"] != before["app"]
    assert {s: after[s] for s in ("log", "web", "cron")} == {
        s: before[s] for s in ("log", "web", "cron")}

    # A file inside a mounted folder: web is recreated, app (depends on it) only restarted.
    (stack.root / "common/config/web/index.html").write_text("changed\n")
    result = converge(engine, stack.load(), report, timeout=60)
    assert kinds(result.actions) == {"log": "noop", "cron": "noop", "web": "recreate",
                                     "app": "restart"}
    again = ids(engine, stack)
    assert again["web"] != after["web"] and again["app"] == after["app"]

    # A hand edit of the compose file (an env var) recreates that service.
    stack.write(stack.compose_file.read_text().replace("MODE: one", "MODE: two"))
    result = converge(engine, stack.load(), report, timeout=60)
    assert kinds(result.actions)["app"] == "recreate"
    assert "definition in the compose file changed" in next(
        a.reason for a in result.actions if a.service == "app")
    env = client.containers.get(f"{stack.name}-app").attrs["Config"]["Env"]
    assert "MODE=two" in env
    assert status_now(engine, stack.load()).overall_ok


def test_removed_service_is_removed_and_said_so(engine: SdkEngine, stack: Stack,
                                                report: Recorder) -> None:
    converge(engine, stack.load(), report, timeout=60)
    text = stack.compose_file.read_text()
    stack.write(text[: text.index("  cron:")] + text[text.index("networks:\n  harbor:"):])
    result = converge(engine, stack.load(), report, timeout=60)
    removed = [a for a in result.actions if a.kind == "remove"]
    assert [a.service for a in removed] == ["cron"]
    assert "remove cron" in " ".join(report.lines)
    assert "no longer in the compose file" in " ".join(report.lines)
    assert "cron" not in ids(engine, stack)


def test_killed_container_makes_status_not_ok(client: docker.DockerClient, engine: SdkEngine,
                                              stack: Stack, report: Recorder) -> None:
    converge(engine, stack.load(), report, timeout=60)
    client.containers.get(f"{stack.name}-web").kill()
    status = status_now(engine, stack.load())
    assert not status.overall_ok
    assert any(p.startswith(f"web ({stack.name}-web) is exited") for p in status.problems)
    result = converge(engine, stack.load(), report, timeout=60)
    assert kinds(result.actions)["web"] == "start"
    assert status_now(engine, stack.load()).overall_ok


def test_never_healthy_service_names_itself(engine: SdkEngine, stack: Stack,
                                            report: Recorder) -> None:
    text = stack.compose_file.read_text().replace(
        '["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"]',
        '["CMD-SHELL", "echo probe says no; exit 1"]')
    stack.write(text)
    started = time.monotonic()
    with pytest.raises(UnhealthyError) as caught:
        converge(engine, stack.load(), report, timeout=3)
    assert time.monotonic() - started < 30
    message = caught.value.message
    assert message.startswith(f"service web ({stack.name}-web) did not become healthy within 3 s")
    assert "probe says no" in message
    assert caught.value.exit_code == 5
    # app was created up front but never started: it waits for web to be healthy.
    app = engine.inspect_container(ids(engine, stack)["app"])
    assert app.status == "created", app.status


def test_port_taken_by_a_foreign_socket(engine: SdkEngine, stack: Stack,
                                        report: Recorder) -> None:
    with socket.socket() as foreign:
        foreign.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        foreign.bind(("0.0.0.0", stack.ports["web"]))
        foreign.listen()
        with pytest.raises(HarborctlError) as caught:
            converge(engine, stack.load(), report, timeout=60)
    assert f"host port {stack.ports['web']} is already in use" in caught.value.message
    assert ids(engine, stack) == {}


def test_foreign_container_with_our_name(client: docker.DockerClient, engine: SdkEngine,
                                         stack: Stack, report: Recorder,
                                         busybox_image: str) -> None:
    foreign = client.containers.create(busybox_image, ["true"], name=f"{stack.name}-cron",
                                       labels={"harborctl.test": "1"})
    try:
        with pytest.raises(HarborctlError) as caught:
            converge(engine, stack.load(), report, timeout=60)
        assert f"a container named {stack.name}-cron" in caught.value.message
        assert caught.value.hint is not None
        assert f"docker rm -f {stack.name}-cron" in caught.value.hint
        assert ids(engine, stack) == {}
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            foreign.remove(force=True)

