"""The seam's two real implementations without an engine: answers parsed, SDK errors translated."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import docker
import pytest
import requests

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.api.interface import (
    ContainerDetails,
    HealthProbe,
    ImageSummary,
    container_details,
    image_summaries,
)
from harborctl.engine.api.socket_client import LightClient
from harborctl.errors import (
    DockerUnavailableError,
    EngineConflictError,
    EngineError,
    EngineHungError,
    EngineNotFoundError,
)

INSPECT = {
    "Id": "abc", "Name": "/harbor-core",
    "State": {"Status": "running", "ExitCode": 0, "Pid": 4242, "FinishedAt": "0001-01-01",
              "Health": {"Status": "starting",
                         "Log": [{"ExitCode": 1, "Output": "refused"},
                                 {"ExitCode": 7, "Output": "timeout"}]}},
    "Config": {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f x"], "Timeout": 2_000_000_000}},
    "HostConfig": {"RestartPolicy": {"Name": "always"}, "LogConfig": {"Type": "syslog"}},
}


def test_inspect_document_to_details() -> None:
    assert container_details(INSPECT) == ContainerDetails(
        id="abc", name="harbor-core", status="running", exit_code=0, pid=4242,
        health="starting", last_probe=HealthProbe(7, "timeout"),
        healthcheck_test=("CMD-SHELL", "curl -f x"), healthcheck_timeout_ns=2_000_000_000,
        restart_policy="always", log_driver="syslog", finished_at="0001-01-01")
    bare = container_details({"Id": "x", "State": {"Status": "exited", "Pid": 0}})
    assert bare.health is None and bare.last_probe is None and bare.healthcheck_test == ()


def test_image_list_to_summaries() -> None:
    raw = [{"Id": "sha256:1", "RepoTags": ["a:1", "b:2"]}, {"Id": "sha256:2", "RepoTags": None}]
    assert image_summaries(raw) == [ImageSummary("sha256:1", ("a:1", "b:2")),
                                    ImageSummary("sha256:2", ())]
    assert image_summaries({"message": "not a list"}) == []


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    kind = docker.errors.NotFound if status == 404 else docker.errors.APIError
    return kind("engine said no", response=response, explanation=explanation)


class Raising:
    """An SDK low-level client whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(*args: object, **kwargs: object) -> None:
            raise self.error
        return call


class Client:
    def __init__(self, error: Exception) -> None:
        self.api = Raising(error)


def sdk(error: Exception) -> SdkEngine:
    return SdkEngine(Client(error))  # type: ignore[arg-type]


@pytest.mark.parametrize(("error", "kind", "message"), [
    (api_error(404, "No such container: abc"), EngineNotFoundError, "No such container: abc"),
    (api_error(409, "name in use"), EngineConflictError, "name in use"),
    (api_error(500, "failed to initialize logging driver"), EngineError,
     "failed to initialize logging driver"),
    (requests.exceptions.ReadTimeout("Read timed out."), EngineHungError,
     "the Docker engine did not answer the start of container abc within 60 s and may be hung"),
    (requests.exceptions.ConnectionError(OSError(111, "Connection refused")),
     DockerUnavailableError, "cannot reach the Docker engine: Connection refused"),
])
def test_sdk_errors_become_harborctl_errors(error: Exception, kind: type[Exception],
                                            message: str) -> None:
    with pytest.raises(kind) as caught:
        sdk(error).start_container("abc")
    assert caught.value.message == message  # type: ignore[attr-defined]
    assert caught.value.__cause__ is error


def test_stopping_a_container_that_is_gone_is_no_error() -> None:
    sdk(api_error(404, "No such container")).stop_container("abc", 1)
    with pytest.raises(EngineError, match="cannot kill"):
        sdk(api_error(500, "cannot kill")).stop_container("abc", 1)


class CannedEngine:
    """A UNIX socket that answers each request with the next canned HTTP reply (or, for
    ``None``, never: a hung engine)."""

    def __init__(self, path: str, replies: list[bytes | None]) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen()
        self.requests: list[bytes] = []
        self.replies = replies
        self.held: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        for reply in self.replies:
            conn, _ = self.server.accept()
            self.requests.append(conn.recv(65536).split(b"\r\n", 1)[0])
            if reply is None:
                self.held.append(conn)
                continue
            conn.sendall(reply)
            conn.close()


def http(status: str, body: bytes) -> bytes:
    return f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n\r\n".encode() + body


def test_light_client_answers_the_reader_calls(tmp_path: Path) -> None:
    path = str(tmp_path / "engine.sock")
    listed = (b'[{"Id": "c1", "Names": ["/harbor-log"], "State": "running", '
              b'"Status": "Up 3 minutes (healthy)", "Labels": {"com.docker.compose.project": '
              b'"harbor", "com.docker.compose.service": "log"}}]')
    engine = CannedEngine(path, [
        http("200 OK", b'{"ApiVersion": "1.41"}'), http("200 OK", listed),
        http("200 OK", json.dumps(INSPECT).encode()), http("404 Not Found", b'{"message": "x"}'),
        http("204 No Content", b""), http("500 Server Error", b'{"message": "broken"}'),
        http("200 OK", b'[{"Id": "sha256:1", "RepoTags": ["a:1"]}]')])
    light = LightClient(path)
    assert light.api_version() == "1.41"
    [log] = light.list_containers({"label": ["com.docker.compose.project=harbor"]})
    assert (log.name, log.service, log.health, log.names) == ("harbor-log", "log", "healthy",
                                                              ("harbor-log",))
    assert light.inspect_container("abc").pid == 4242
    with pytest.raises(EngineNotFoundError):
        light.inspect_container("gone")
    light.stop_container("abc", 3)
    with pytest.raises(DockerUnavailableError, match="answered 500 to stopping abc: "):
        light.stop_container("abc", 3)
    assert light.list_images() == [ImageSummary("sha256:1", ("a:1",))]
    assert engine.requests[1].startswith(b"GET /v1.39/containers/json?all=1&filters=%7B%22label")
    assert engine.requests[4] == b"POST /v1.39/containers/abc/stop?t=3 HTTP/1.0"


def test_a_hung_engine_times_out_on_the_light_client(tmp_path: Path) -> None:
    path = str(tmp_path / "engine.sock")
    hung = CannedEngine(path, [None, http("200 OK", b'{"Version": "20.10.24"}')])
    light = LightClient(path, timeout=0.2)
    with pytest.raises(EngineHungError) as caught:
        light.list_containers()
    assert caught.value.message == ("the Docker engine did not answer the list of containers "
                                    "within 0.2 s and may be hung")
    assert caught.value.exit_code == 4
    # the version asked once the call hung (a deadlocked engine still answers it) names the bug
    assert "Docker 20.10.24 has a known deadlock" in str(caught.value.hint)
    assert "moby/moby#46661" in str(caught.value.hint)
    assert "systemctl restart docker" in str(caught.value.hint)
    assert len(hung.requests) == 2 and hung.requests[1].startswith(b"GET /v1.39/version ")


def test_inspect_gives_the_ids_of_the_networks_joined() -> None:
    details = container_details({"Id": "c", "NetworkSettings": {"Networks": {
        "harbor_harbor": {"NetworkID": "n1"}, "other": {"NetworkID": "n2"}}}})
    assert details.network_ids == ("n1", "n2")
    assert container_details({"Id": "c"}).network_ids == ()
