"""converge on the fake engine: creation in dependency order, idempotence, and its failures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.converge.apply import converge
from harborctl.errors import (
    DockerUnavailableError,
    EngineError,
    HarborctlError,
    UnhealthyError,
)
from tests.unit.engine.fake_engine import LOGGING_DRIVER_REFUSAL, FakeEngine, HealthScript
from tests.unit.engine.fake_stack import COMPOSE, write_project

pytestmark = pytest.mark.usefixtures("fast", "free_ports")


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


@pytest.fixture
def project(tmp_path: Path) -> ComposeProject:
    return write_project(tmp_path / "stack")


def kinds(actions: tuple[object, ...]) -> dict[str, str]:
    return {a.service: a.kind for a in actions}  # type: ignore[attr-defined]


def test_fresh_converge_creates_in_order_then_changes_nothing(
    engine: FakeEngine, project: ComposeProject
) -> None:
    report = Lines()
    first = converge(engine, project, report, timeout=5)
    assert kinds(first.actions) == dict.fromkeys(("log", "web", "cron", "app"), "create")
    assert first.changed
    assert sorted(name for name, _ in engine.networks.values()) == ["stack_back", "stack_harbor"]
    created = engine.names_of("create_container")
    assert sorted(created) == ["app", "cron", "log", "web"]
    # every container created up front, before the first start (creating starts nothing)
    first_start = next(i for i, call in enumerate(engine.calls) if call[0] == "start_container")
    assert all(i < first_start for i, call in enumerate(engine.calls)
               if call[0] == "create_container")
    started = engine.names_of("start_container")
    assert started.index("log") < started.index("web") < started.index("app")
    assert {c.status for c in engine.containers.values()} == {"running"}
    web = engine.by_service("web")[0]
    assert set(web.networks) == {"stack_harbor", "stack_back"}
    assert web.networks["stack_back"] == ("web", "stack-web")
    assert engine.by_service("app")[0].networks["stack_harbor"] == (
        "app", "stack-app", "application")
    assert "created network stack_harbor" in report
    assert "started stack-log" in report

    engine.calls.clear()
    second = converge(engine, project, report, timeout=5)
    assert set(kinds(second.actions).values()) == {"noop"}
    assert not second.changed
    assert report[-1] == "stack: everything is up to date"
    assert not engine.names_of("create_container") and not engine.names_of("start_container")


@pytest.mark.parametrize(("slow_call", "docker_checked"), [
    ("inspect_container", True),  # each look takes longer than the report's threshold
    # Right after an install Docker has run no check yet (``starting``): each service's own
    # check, run by harborctl, passes at its first run, however long that run takes.
    ("exec_status", False),
])
def test_a_no_op_converge_on_a_slow_engine_says_only_that_all_is_up_to_date(
    engine: FakeEngine, project: ComposeProject, monkeypatch: pytest.MonkeyPatch,
    slow_call: str, docker_checked: bool
) -> None:
    if not docker_checked:
        for service in project.service_names:
            engine.health[service] = HealthScript(healthy_after=None, probe_exit=0)
    converge(engine, project, Lines(), timeout=5)
    real_call = getattr(engine, slow_call)

    def slow(identifier: str) -> Any:
        time.sleep(0.08)  # a busy engine
        return real_call(identifier)

    monkeypatch.setattr(engine, slow_call, slow)
    report = Lines()
    again = converge(engine, project, report, timeout=5)
    assert set(kinds(again.actions).values()) == {"noop"}
    assert list(report) == ["stack: everything is up to date"], report


def test_a_changed_service_is_recreated_and_its_dependents_restarted(
    engine: FakeEngine, project: ComposeProject, tmp_path: Path
) -> None:
    converge(engine, project, Lines(), timeout=5)
    before = {c.service: c.id for c in engine.containers.values()}
    changed = write_project(tmp_path / "stack", COMPOSE.replace("MODE: one", "MODE: two"))
    (tmp_path / "stack" / "web.env").write_text("A=2\n")
    result = converge(engine, changed, Lines(), timeout=5)
    assert kinds(result.actions) == {"log": "noop", "web": "recreate", "cron": "noop",
                                     "app": "recreate"}
    after = {c.service: c.id for c in engine.containers.values()}
    assert after["log"] == before["log"] and after["web"] != before["web"]


def test_stopped_and_paused_containers_are_started(engine: FakeEngine,
                                                   project: ComposeProject) -> None:
    converge(engine, project, Lines(), timeout=5)
    engine.by_service("cron")[0].status = "exited"
    engine.by_service("app")[0].status = "paused"
    result = converge(engine, project, Lines(), timeout=5)
    assert kinds(result.actions)["cron"] == "start"
    assert engine.names_of("unpause_container") == ["app"]
    assert {c.status for c in engine.containers.values()} == {"running"}


def test_a_service_gone_from_the_file_is_removed(engine: FakeEngine, project: ComposeProject,
                                                 tmp_path: Path) -> None:
    converge(engine, project, Lines(), timeout=5)
    without_cron = COMPOSE[:COMPOSE.index("  cron:")] + COMPOSE[COMPOSE.index("networks:\n  "):]
    result = converge(engine, write_project(tmp_path / "stack", without_cron), Lines(), timeout=5)
    assert kinds(result.actions)["cron"] == "remove"
    assert not engine.by_service("cron")


def test_logging_driver_refusals_are_retried(engine: FakeEngine, project: ComposeProject) -> None:
    engine.fail("start_container", EngineError(LOGGING_DRIVER_REFUSAL, 500), "web", times=3)
    report = Lines()
    converge(engine, project, report, timeout=5)
    assert report.count("web: logging driver not ready yet, retrying") == 1
    assert engine.names_of("start_container").count("web") == 4


def test_a_start_that_keeps_failing_names_the_service(engine: FakeEngine,
                                                      project: ComposeProject) -> None:
    engine.fail("start_container", EngineError(LOGGING_DRIVER_REFUSAL, 500), "web")
    with pytest.raises(HarborctlError) as caught:
        converge(engine, project, Lines(), timeout=5)
    assert caught.value.message.startswith("cannot start the container of service web: ")
    assert caught.value.hint is not None and "log service" in caught.value.hint
    assert caught.value.exit_code == 1
    assert not engine.names_of("start_container").count("app")  # its dependency never came up


def test_a_health_check_that_never_passes(engine: FakeEngine, project: ComposeProject) -> None:
    engine.health["web"] = HealthScript(healthy_after=None)
    with pytest.raises(UnhealthyError) as caught:
        converge(engine, project, Lines(), timeout=0.2)
    assert caught.value.exit_code == 5
    message = caught.value.message
    assert message.startswith("service web (stack-web) did not become healthy within 0 s: "
                              "state running, health starting")
    assert "last health probe (exit 1): connection refused" in message
    assert "last log lines:" in message and "web: waiting for the database" in message
    assert "app" not in engine.names_of("start_container")  # created, never started


def test_an_unhealthy_service_without_logs(engine: FakeEngine, project: ComposeProject) -> None:
    engine.health["log"] = HealthScript(unhealthy=True)
    engine.fail("container_logs", EngineError("configured logging driver does not support "
                                              "reading", 501))
    with pytest.raises(UnhealthyError) as caught:
        converge(engine, project, Lines(), timeout=0.1)
    assert "health unhealthy" in caught.value.message
    assert "no log lines: the configured logging driver" in caught.value.message


def test_an_exited_container_fails_at_once(engine: FakeEngine, project: ComposeProject,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    original = engine.start_container

    def start_and_die(container_id: str) -> None:
        original(container_id)
        container = engine.containers[container_id]
        if container.service == "log":
            container.status, container.exit_code = "exited", 3

    monkeypatch.setattr(engine, "start_container", start_and_die)
    started = time.monotonic()
    with pytest.raises(UnhealthyError, match=r"service log \(stack-log\) exited with code 3"):
        converge(engine, project, Lines(), timeout=30)
    assert time.monotonic() - started < 5


def test_the_exec_probe_gates_dependents_before_docker_says_healthy(
    engine: FakeEngine, project: ComposeProject
) -> None:
    engine.health["log"] = HealthScript(healthy_after=40, probe_exit=0)
    report = Lines()
    converge(engine, project, report, timeout=5)
    assert "log" in engine.names_of("start_exec")
    web_started = engine.calls.index(("start_container", "web"))
    assert engine.calls[:web_started].count(("inspect_container", "log")) < 40


def test_an_engine_that_stops_answering_fails_fast_naming_the_service(
    engine: FakeEngine, project: ComposeProject
) -> None:
    engine.hang("inspect_container", "web")
    started = time.monotonic()
    with pytest.raises(DockerUnavailableError) as caught:
        converge(engine, project, Lines(), timeout=30)
    assert time.monotonic() - started < 5
    assert caught.value.exit_code == 4
    assert caught.value.message.startswith("waiting for service web: the Docker engine did not "
                                           "answer inspect_container of web within 60 s")


def test_a_hung_start_names_the_service(engine: FakeEngine, project: ComposeProject) -> None:
    engine.hang("start_container", "log")
    with pytest.raises(DockerUnavailableError, match="^starting the container of service log: "):
        converge(engine, project, Lines(), timeout=30)


def test_missing_image_fails_before_touching_anything(engine: FakeEngine,
                                                      project: ComposeProject) -> None:
    engine.images.clear()
    with pytest.raises(HarborctlError, match="image.s. not available on this host: busybox:1"):
        converge(engine, project, Lines(), timeout=5)
    assert not engine.containers and not engine.networks


def test_a_foreign_container_holding_a_name(engine: FakeEngine, project: ComposeProject) -> None:
    from harborctl.engine.converge.containers import container_spec

    foreign = container_spec(project, project.service("cron"), "x")
    engine.add_container(type(foreign)(**{**foreign.__dict__, "labels": {}}))
    with pytest.raises(HarborctlError, match="a container named stack-cron .* belongs to no "
                                             "compose project, not to stack"):
        converge(engine, project, Lines(), timeout=5)
    assert not engine.names_of("create_container")


def test_a_busy_host_port(engine: FakeEngine, project: ComposeProject,
                          free_ports: set[int]) -> None:
    free_ports.add(48080)
    with pytest.raises(HarborctlError, match="host port 48080 is already in use"):
        converge(engine, project, Lines(), timeout=5)
    assert not engine.containers


def test_create_refused(engine: FakeEngine, project: ComposeProject) -> None:
    engine.fail("create_container", EngineError("invalid mount config", 400), "web")
    with pytest.raises(HarborctlError,
                       match="cannot create the container of service web: invalid mount config"):
        converge(engine, project, Lines(), timeout=5)


def test_network_creation_refused(engine: FakeEngine, project: ComposeProject) -> None:
    engine.fail("create_network", EngineError("pool overlaps", 403))
    with pytest.raises(HarborctlError, match="cannot create network stack_harbor: pool overlaps"):
        converge(engine, project, Lines(), timeout=5)


def test_an_unlabelled_network_of_that_name_is_used(engine: FakeEngine,
                                                    project: ComposeProject) -> None:
    engine.networks["other"] = ("stack_harbor", {})
    report = Lines()
    converge(engine, project, report, timeout=5)
    assert "network stack_harbor exists without the project's labels: using it" in report
