"""stop, start, restart and down on the fake engine, with and without a process to watch."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.converge.apply import converge
from harborctl.engine.lifecycle import stopping
from harborctl.engine.lifecycle.operations import down, restart, start
from harborctl.engine.lifecycle.stopping import stop_project
from harborctl.errors import DockerUnavailableError, EngineError, HarborctlError
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.engine.fake_stack import write_project

pytestmark = pytest.mark.usefixtures("fast", "free_ports")


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


@pytest.fixture
def project(tmp_path: Path, engine: FakeEngine) -> ComposeProject:
    made = write_project(tmp_path / "stack")
    converge(engine, made, Lines(), timeout=5)
    engine.calls.clear()
    return made


def test_stop_goes_dependents_first_and_log_last(engine: FakeEngine,
                                                 project: ComposeProject) -> None:
    report = Lines()
    stopped = stop_project(engine, project, report, timeout=3)
    assert sorted(stopped) == ["app", "cron", "log", "web"]
    order = engine.names_of("stop_container")
    assert order.index("app") < order.index("web") < order.index("log")
    assert order[-1] == "log"
    # log is reported stopped after everything that depends on it; cron depends on nothing, so
    # its line may come before or after log's (the stops run in threads)
    assert report.index("stopped stack-app") < report.index("stopped stack-web") \
        < report.index("stopped stack-log")
    assert "stopped stack-cron" in report
    assert {c.status for c in engine.containers.values()} == {"exited"}
    assert stop_project(engine, project, report) == []
    assert report[-1] == "stack: nothing was running"


def test_stop_refused_by_the_engine_names_the_service(engine: FakeEngine,
                                                      project: ComposeProject) -> None:
    engine.fail("stop_container", EngineError("cannot kill: permission denied", 500), "web")
    with pytest.raises(HarborctlError, match="^cannot stop the container of service web: "
                                             "cannot kill: permission denied"):
        stop_project(engine, project, Lines())
    assert "log" not in engine.names_of("stop_container")  # log outlives what writes to it


def test_a_hung_stop_fails_naming_the_service(engine: FakeEngine,
                                              project: ComposeProject) -> None:
    engine.hang("stop_container", "app")
    started = time.monotonic()
    with pytest.raises(DockerUnavailableError, match="^stopping the container of service app: "):
        stop_project(engine, project, Lines())
    assert time.monotonic() - started < 5


def test_no_inspect_answer_falls_back_to_the_stop_answer(engine: FakeEngine,
                                                         project: ComposeProject) -> None:
    engine.hang("inspect_container")
    assert sorted(stop_project(engine, project, Lines())) == ["app", "cron", "log", "web"]


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "30"])
    yield process
    process.kill()
    process.wait()


def test_a_watched_process_exit_lets_the_next_stop_begin(
    engine: FakeEngine, project: ComposeProject, child: subprocess.Popen[bytes],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where a pidfd can be had (our own child here), its exit is what the next stop waits for."""
    engine.pid = child.pid
    (tmp_path / "proc" / str(child.pid)).mkdir(parents=True)
    app = engine.by_service("app")[0].id
    (tmp_path / "proc" / str(child.pid) / "cgroup").write_text(f"0::/docker/{app}\n")
    watched = stopping.open_exit_watch
    monkeypatch.setattr(stopping, "open_exit_watch",
                        lambda cid, pid: watched(cid, pid, tmp_path / "proc"))
    original = engine.stop_container
    events: list[str] = []

    def stop_app_slowly(container_id: str, timeout: int) -> None:
        events.append(f"stop {engine.containers[container_id].service}")
        if container_id == app:
            child.terminate()  # the process exits at once, the engine answers later
            time.sleep(0.3)
            events.append("app answered")
        original(container_id, timeout)

    monkeypatch.setattr(engine, "stop_container", stop_app_slowly)
    report = Lines()
    stop_project(engine, project, report)
    assert events.index("stop web") < events.index("app answered")
    assert report.index("stopped stack-app") < report.index("stopped stack-web")


def test_start_restart_and_down(engine: FakeEngine, project: ComposeProject) -> None:
    stop_project(engine, project, Lines())
    engine.by_service("cron")[0].status = "paused"
    report = Lines()
    result = start(engine, project, report)
    assert sorted(result.started) == ["app", "cron", "log", "web"]
    assert result.already_running == ()
    assert engine.names_of("unpause_container") == ["cron"]
    assert {c.status for c in engine.containers.values()} == {"running"}
    started = engine.names_of("start_container")
    assert started.index("log") < started.index("web") < started.index("app")
    assert "started stack-cron" in report

    again = restart(engine, project, Lines())
    assert sorted(again.started) == ["app", "cron", "log", "web"]
    assert start(engine, project, Lines()).already_running == project.service_names

    report = Lines()
    gone = down(engine, project, report)
    assert sorted(gone.containers) == ["stack-app", "stack-cron", "stack-log", "stack-web"]
    assert sorted(gone.networks) == ["stack_back", "stack_harbor"]
    assert not engine.containers and not engine.networks


def test_start_with_nothing_to_start(engine: FakeEngine, tmp_path: Path) -> None:
    report = Lines()
    result = start(engine, write_project(tmp_path / "other"), report)
    assert result.nothing_to_start and sorted(result.missing) == ["app", "cron", "log", "web"]


def test_start_of_a_partial_project(engine: FakeEngine, project: ComposeProject) -> None:
    stop_project(engine, project, Lines())
    engine.remove_container(engine.by_service("cron")[0].id)
    report = Lines()
    result = start(engine, project, report)
    assert result.missing == ("cron",)
    assert "cron has no container; converge creates it" in report


def test_start_of_a_container_whose_network_was_removed_says_to_install(
        engine: FakeEngine, project: ComposeProject) -> None:
    stop_project(engine, project, Lines())
    engine.fail("start_container", EngineError(
        "network 5f0c8a1e2b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d not found", 404))
    with pytest.raises(HarborctlError, match="cannot start the container of service log") as caught:
        start(engine, project, Lines())
    assert caught.value.hint is not None and "harborctl install" in caught.value.hint


def test_down_when_a_network_is_still_used(engine: FakeEngine, project: ComposeProject) -> None:
    engine.fail("remove_network", EngineError("network has active endpoints", 403))
    with pytest.raises(HarborctlError, match="cannot remove network stack_") as caught:
        down(engine, project, Lines())
    assert caught.value.hint == "a container outside the project may still use it"


def test_a_network_still_releasing_an_endpoint_is_removed_once_free() -> None:
    from harborctl.engine.converge.containers import remove_networks
    from harborctl.errors import EngineError
    from tests.unit.engine.fake_engine import FakeEngine

    engine = FakeEngine()
    engine.create_network("p_harbor", "bridge", {"com.docker.compose.project": "p"})
    busy = EngineError("error while removing network: network p_harbor has active endpoints")
    engine.fail("remove_network", busy, times=2)
    assert remove_networks(engine, "p", Lines()) == ["p_harbor"]
    assert engine.list_networks() == []


def test_start_from_what_an_engine_restart_leaves(engine: FakeEngine,
                                                  project: ComposeProject) -> None:
    """The log container restarted by the engine, every other one exited by the logging
    driver's refusal at the engine's start (and refused once more while rsyslog comes up):
    start brings all back, log's dependents only after it."""
    from tests.unit.engine.fake_engine import LOGGING_DRIVER_REFUSAL

    for container in engine.containers.values():
        if container.service != "log":
            container.status, container.exit_code = "exited", 128
    engine.fail("start_container", EngineError(LOGGING_DRIVER_REFUSAL, 500), "web", times=1)
    report = Lines()
    result = start(engine, project, report)
    assert sorted(result.started) == ["app", "cron", "web"]
    assert result.already_running == ("log",)
    assert {c.status for c in engine.containers.values()} == {"running"}
    assert "web: logging driver not ready yet, retrying" in report
    assert engine.names_of("start_container")[-1] == "app"  # after web, which it depends on
