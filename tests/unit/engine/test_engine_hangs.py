"""An engine that stops answering: named in one sentence with the advice (exit 4), and the
stop deadlock of Docker 20.10.0-20.10.26 (moby/moby#46661) not provoked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from harborctl.engine.api import socket_client
from harborctl.engine.api.hangs import deadlock_warning, has_known_deadlock, hung_hint, no_answer
from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.converge.apply import converge
from harborctl.engine.lifecycle.stopping import stop_project
from harborctl.errors import EngineHungError
from tests.cli_runner import cli_runner
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.engine.fake_stack import write_project
from tests.unit.engine.test_engine_seam import CannedEngine, http
from tests.unit.prepare_support import write_config

pytestmark = pytest.mark.usefixtures("fast", "free_ports")


@pytest.mark.parametrize(("version", "defective"), [
    ("20.10.0", True), ("20.10.24", True), ("20.10.24+dfsg1", True), ("20.10.26", True),
    ("20.10.27", False), ("23.0.1", False), ("24.0.7", False), ("19.03.15", False),
    ("20.10", False), ("", False), ("master-dockerproject-2023", False)])
def test_the_defective_versions(version: str, defective: bool) -> None:
    assert has_known_deadlock(version) is defective
    assert (deadlock_warning(version) is not None) is defective


def test_the_advice_names_the_bug_only_where_it_applies() -> None:
    assert "moby/moby#46661" in hung_hint("20.10.24")
    assert "fixed in 20.10.27" in hung_hint("20.10.24")
    assert "moby" not in hung_hint("24.0.7")
    assert "systemctl restart docker" in hung_hint("24.0.7")
    assert "likely the known deadlock" in hung_hint("")  # version unknown: said as a maybe
    error = no_answer("the stop of container 0123456789ab", 40, "20.10.24")
    assert error.exit_code == 4
    assert error.message == ("the Docker engine did not answer the stop of container "
                             "0123456789ab within 40 s and may be hung")


class Overlaps(FakeEngine):
    """Stops that take a while, counting how many run at the same time."""

    def __init__(self, version: str) -> None:
        super().__init__({"busybox:1": "sha256:busybox"})
        self.info = type(self.info)(version, "", "/var/lib/docker")
        self.running = 0
        self.most = 0
        self.count_lock = threading.Lock()

    def stop_container(self, container_id: str, timeout: int) -> None:
        with self.count_lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        super().stop_container(container_id, timeout)
        with self.count_lock:
            self.running -= 1


def stopped_with(version: str, tmp_path: Path) -> tuple[Overlaps, list[str]]:
    engine = Overlaps(version)
    project: ComposeProject = write_project(tmp_path / "stack")
    converge(engine, project, lambda _: None, timeout=5)
    engine.calls.clear()
    lines: list[str] = []
    assert sorted(stop_project(engine, project, lines.append)) == ["app", "cron", "log", "web"]
    return engine, lines


def test_a_defective_engine_gets_one_stop_at_a_time(tmp_path: Path) -> None:
    engine, lines = stopped_with("20.10.24", tmp_path)
    assert engine.most == 1
    order = engine.names_of("stop_container")
    assert order.index("app") < order.index("web") < order.index("log") == 3
    assert lines[-1] == "stopped stack-log"
    # each stop waited for the engine's answer: no exit watch, so no inspect in between
    assert "inspect_container" not in [call for call, _ in engine.calls]


def test_a_sound_engine_stops_independent_services_together(tmp_path: Path) -> None:
    engine, _ = stopped_with("24.0.7", tmp_path)
    assert engine.most >= 2  # app and cron: neither depends on the other


def deployment_with_one_proxy(tmp_path: Path) -> Path:
    cfg = write_config(tmp_path)
    assert cli_runner().invoke(cli, ["prepare", "-c", str(cfg)]).exit_code == 0
    return cfg


def listed(project: str) -> bytes:
    return (b'[{"Id": "0123456789abcdef", "Names": ["/nginx"], "State": "running", '
            b'"Status": "Up 3 minutes (healthy)", "Labels": {"com.docker.compose.project": "'
            + project.encode() + b'", "com.docker.compose.service": "proxy"}}]')


def test_a_hung_stop_through_the_cli_is_one_sentence_and_exit_4(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = deployment_with_one_proxy(tmp_path)
    sock = str(tmp_path / "engine.sock")
    hung = CannedEngine(sock, [http("200 OK", listed(tmp_path.name)),
                        http("200 OK", b'{"Version": "20.10.24", "ApiVersion": "1.41"}'),
                        None])
    monkeypatch.setattr(socket_client, "STOP_EXTRA_S", 0.3)
    started = time.monotonic()
    result = cli_runner({"DOCKER_HOST": f"unix://{sock}"}).invoke(
        cli, ["stop", "-c", str(cfg), "--timeout", "0"])
    assert time.monotonic() - started < 10
    assert result.exit_code == 4, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == ("Error: stopping the container of service proxy: the Docker engine did "
                        "not answer the stop of container 0123456789ab within 0.3 s and may be "
                        "hung")
    assert "moby/moby#46661" in lines[1] and "systemctl restart docker" in lines[1]
    assert "urllib3" not in result.output and "Pool" not in result.output
    assert "Traceback" not in result.output
    assert hung.requests[2].startswith(b"POST /v1.39/containers/0123456789abcdef/stop?t=0 ")


def test_a_hung_status_is_exit_4_naming_the_call(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = deployment_with_one_proxy(tmp_path)
    sock = str(tmp_path / "engine.sock")
    hung = CannedEngine(sock, [None, http("200 OK", b'{"Version": "24.0.7"}')])
    monkeypatch.setattr(socket_client.LightClient.__init__, "__defaults__", (0.3,))
    result = cli_runner({"DOCKER_HOST": f"unix://{sock}"}).invoke(
        cli, ["status", "-c", str(cfg)])
    assert result.exit_code == 4, result.output
    assert ("the Docker engine did not answer the list of containers within 0.3 s"
            in result.stderr)
    assert "moby" not in result.stderr  # 24.0.7 has no known deadlock
    assert len(hung.requests) == 2


def test_a_hung_engine_during_the_fake_install_stops_naming_the_call(
        engine: FakeEngine, tmp_path: Path) -> None:
    project = write_project(tmp_path / "stack")
    engine.hang("create_container", "web")
    with pytest.raises(EngineHungError) as caught:
        converge(engine, project, lambda _: None, timeout=5)
    assert "create_container of web" in caught.value.message
    assert caught.value.exit_code == 4


def test_waiting_for_the_engine_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from harborctl.engine.api import waiting
    from harborctl.errors import DockerUnavailableError

    monkeypatch.setattr(waiting, "POLL_S", 0.01)
    answers = iter([False, False, True])

    def probe() -> None:
        if not next(answers):
            raise DockerUnavailableError("cannot reach the Docker engine: Connection refused")

    said: list[str] = []
    assert waiting.wait_for_engine(5, said.append, probe) < 5
    assert said == ["waiting for the Docker engine to answer"]  # once

    def never() -> None:
        raise DockerUnavailableError("cannot reach the Docker engine: No such file or directory")

    with pytest.raises(DockerUnavailableError) as caught:
        waiting.wait_for_engine(0.05, said.append, never)
    assert caught.value.message.startswith("the Docker engine did not answer within 0.05 s of "
                                           "waiting for it: cannot reach")
    assert caught.value.exit_code == 4


@pytest.mark.long
def test_start_waits_for_the_engine_named_by_docker_host(tmp_path: Path) -> None:
    cfg = deployment_with_one_proxy(tmp_path)
    result = cli_runner({"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}).invoke(
        cli, ["start", "-c", str(cfg), "--wait-engine", "0.3"])
    assert result.exit_code == 4, result.output
    assert "did not answer within 0.3 s of waiting for it" in result.stderr
    assert "waiting for the Docker engine to answer" in result.stdout
