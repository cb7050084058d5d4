"""A small Docker client on the standard library, for the commands that must start fast:
status (one list call) and stop. It answers the ``EngineReader`` calls of engine/api/interface.py.

Importing the docker package (requests, urllib3 ...) costs about 0.1 s, more than the whole
answer of a status; a GET on the engine's UNIX socket needs none of it."""

from __future__ import annotations

import _socket  # socket.py adds nothing used here but costs 2-3 ms to import (enum, selectors)
import os

from harborctl.engine.api.jsonwire import filters_query, loads
from harborctl.engine.status.summary import ListedContainer
from harborctl.errors import DockerUnavailableError, EngineNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from harborctl.engine.api.interface import (
        ContainerDetails,
        EngineInfo,
        Filters,
        ImageSummary,
    )

DEFAULT_SOCKET = "/var/run/docker.sock"
LOOK_S = 30  # = hangs.LOOK_S, not imported: status must not pay for that module
STOP_EXTRA_S = 30  # = hangs.STOP_EXTRA_S
MINIMUM_API_VERSION = "1.39"  # Docker Engine 18.09
API_VERSION = "v" + MINIMUM_API_VERSION  # newer engines answer the oldest version we need


class SocketApi:
    def __init__(self, path: str, timeout: float = LOOK_S) -> None:
        self.path = path
        self.timeout = timeout
        self.server_version = ""

    def get(self, endpoint: str, call: str = "") -> Any:
        status, body = self.request("GET", endpoint, call=call)
        if status == 404:
            raise EngineNotFoundError(f"the Docker engine has no {endpoint.split('?')[0]}", 404)
        if not 200 <= status < 300:
            raise DockerUnavailableError(
                f"the Docker engine answered {status} to GET {endpoint}: "
                f"{body.decode(errors='replace').strip()[:200]}")
        return loads(body)

    def request(self, method: str, endpoint: str, wait: float | None = None, call: str = ""
                ) -> tuple[int, bytes]:
        """One request in HTTP/1.0: the engine answers with a plain body and closes, so neither
        chunking nor keep-alive needs handling (and http.client's imports are spared). No
        answer within ``wait`` (default: the client's timeout) is an ``EngineHungError`` naming
        ``call``."""
        seconds = wait or self.timeout
        try:
            return self._exchange(method, endpoint, seconds)
        except _socket.timeout as exc:  # TimeoutError from 3.10 on
            from harborctl.engine.api.hangs import no_answer

            raise no_answer(call or f"{method} {endpoint.split('?')[0]}", seconds,
                            self._version_for_advice(endpoint)) from exc
        except OSError as exc:
            raise DockerUnavailableError(
                f"cannot reach the Docker engine at {self.path}: {exc.strerror or exc}",
                hint="is dockerd running? are you root or in the docker group?") from exc

    def _exchange(self, method: str, endpoint: str, seconds: float) -> tuple[int, bytes]:
        request = (f"{method} /{API_VERSION}{endpoint} HTTP/1.0\r\nHost: docker\r\n"
                   "Content-Length: 0\r\n\r\n").encode()
        chunks: list[bytes] = []
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.settimeout(seconds)
            sock.connect(self.path)
            sock.sendall(request)
            while chunk := sock.recv(1 << 16):
                chunks.append(chunk)
        finally:
            sock.close()
        head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
        parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
        return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), body

    def _version_for_advice(self, endpoint: str) -> str:
        """The engine's version for the advice on a hang: remembered, or asked briefly (a
        deadlocked engine still answers calls that touch no stuck container)."""
        if self.server_version or endpoint.startswith("/version"):
            return self.server_version
        from harborctl.engine.api.hangs import PROBE_VERSION_S

        try:
            status, body = self._exchange("GET", "/version", PROBE_VERSION_S)
            if status == 200:
                self.server_version = str(loads(body).get("Version") or "")
        except OSError:
            pass
        return self.server_version


class LightClient:
    """The ``EngineReader`` of engine/api/interface.py on the engine's UNIX socket."""

    def __init__(self, path: str, timeout: float = LOOK_S) -> None:
        self.api = SocketApi(path, timeout)

    def api_version(self) -> str:
        answer = self.api.get("/version", "the version request")
        self.api.server_version = str(answer.get("Version") or "")
        return str(answer.get("ApiVersion", "0"))

    def server_version(self) -> str:
        """The engine's version ("20.10.24"), asked once."""
        if not self.api.server_version:
            self.api_version()
        return self.api.server_version

    def list_containers(self, filters: Filters | None = None) -> list[ListedContainer]:
        query = "?all=1"
        if filters:
            query += "&filters=" + filters_query(filters)
        return [ListedContainer(entry) for entry in
                self.api.get(f"/containers/json{query}", "the list of containers")]

    def inspect_container(self, container_id: str) -> ContainerDetails:
        from harborctl.engine.api.interface import container_details

        return container_details(self.api.get(f"/containers/{container_id}/json",
                                              f"the inspect of container {container_id[:12]}"))

    def stop_container(self, container_id: str, timeout: int) -> None:
        """Stop a container (already stopped or gone: nothing to do)."""
        status, body = self.api.request("POST", f"/containers/{container_id}/stop?t={timeout}",
                                        wait=timeout + STOP_EXTRA_S,
                                        call=f"the stop of container {container_id[:12]}")
        if status not in (204, 304, 404):
            raise DockerUnavailableError(
                f"the Docker engine answered {status} to stopping {container_id[:12]}: "
                f"{body.decode(errors='replace').strip()[:200]}")

    def list_images(self) -> list[ImageSummary]:
        from harborctl.engine.api.interface import image_summaries

        return image_summaries(self.api.get("/images/json", "the list of images"))

    def engine_info(self) -> EngineInfo:
        from harborctl.engine.api.interface import engine_info

        return engine_info(self.api.get("/info", "the info request"))

    def close(self) -> None:
        """Nothing held: every request has its own connection."""


def socket_path() -> str | None:
    """The engine's UNIX socket, or None when DOCKER_HOST names something else (tcp, ssh)."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    return None


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def check_api_version(api_version: str) -> None:
    if version_tuple(api_version) < version_tuple(MINIMUM_API_VERSION):
        raise DockerUnavailableError(
            f"the Docker engine speaks API {api_version}; harborctl needs at least "
            f"{MINIMUM_API_VERSION} (Docker 18.09)",
            hint="upgrade the Docker engine on this host",
        )
