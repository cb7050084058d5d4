"""The ``Engine`` of engine/api/interface.py on the docker SDK: the only module importing
``docker``.

Importing it costs 0.1-0.2 s (requests, urllib3 ...), so it is imported only once something
must change on the engine; status, stop and a no-op install run on the socket client instead.
Every exception of the SDK (and of requests underneath it) leaves this module as one of
harborctl's own errors.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import docker
import requests.exceptions
from docker.types import LogConfig

from harborctl.engine.api.hangs import CHANGE_S, no_answer
from harborctl.engine.api.interface import (
    ContainerDetails,
    ContainerSpec,
    EngineInfo,
    ExecInput,
    ExecResult,
    ExecStatus,
    Filters,
    ImageSummary,
    NetworkSummary,
    PullProgress,
    container_details,
    engine_info,
    image_summaries,
)
from harborctl.engine.api.socket_client import check_api_version
from harborctl.engine.status.summary import ListedContainer
from harborctl.errors import (
    DockerUnavailableError,
    EngineConflictError,
    EngineError,
    EngineNotFoundError,
    ExecFailedError,
)

DEFAULT_TIMEOUT = CHANGE_S
STDERR_TAIL = 4096  # of a failed exec's stderr, kept for its error message
EXEC_END_WAIT = 60.0  # seconds for a command to end once its stdin is closed and output read


def connect(timeout: int = DEFAULT_TIMEOUT) -> SdkEngine:
    """The engine named by ``DOCKER_HOST`` (default ``/var/run/docker.sock``).

    Raises ``DockerUnavailableError`` with advice when the engine cannot be reached or its API
    is older than ``MINIMUM_API_VERSION``. ``timeout`` is per request, in seconds; loading a large
    image bundle needs a generous one.
    """
    try:
        client = docker.from_env(timeout=timeout)
        version = client.version()
        api_version = str(version.get("ApiVersion", "0"))
    except (requests.exceptions.RequestException, docker.errors.DockerException) as exc:
        if _timed_out(exc):
            raise no_answer("the version request", timeout) from exc
        text = _reason(exc)
        if "Permission denied" in text or f"Errno {errno.EACCES}" in text:
            hint = ("run harborctl as root, or add your user to the docker group "
                    "(then log in again)")
        else:
            hint = ("is dockerd running (`systemctl status docker` / `service docker status`)? "
                    "is /var/run/docker.sock there and reachable (or DOCKER_HOST set right)? "
                    "are you root or in the docker group?")
        raise DockerUnavailableError(f"cannot reach the Docker engine: {text}", hint=hint) from exc
    try:
        check_api_version(api_version)
    except DockerUnavailableError:
        client.close()
        raise
    return SdkEngine(client, api_version, timeout, str(version.get("Version") or ""))


def explain(exc: docker.errors.APIError) -> str:
    """The engine's own sentence for a refusal, without the HTTP wrapping around it."""
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


def _reason(exc: BaseException) -> str:
    """The operating system's reason under requests' and urllib3's wrapping (their text names
    connection pools and retries, nothing an operator can act on)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return str(current.strerror)
        todo.extend([*current.args, current.__cause__, current.__context__])
    return "no connection"


def _timed_out(exc: BaseException) -> bool:
    # a read timeout while a streamed body is read surfaces as a ConnectionError
    return isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower()


@contextlib.contextmanager
def _translated(describe: Callable[[docker.errors.APIError], str] = explain,
                call: str = "a request", seconds: float = DEFAULT_TIMEOUT,
                server_version: str = "") -> Iterator[None]:
    """The SDK's exceptions as harborctl's: a refusal as EngineError, no answer within
    ``seconds`` as EngineHungError naming ``call``, no connection as DockerUnavailableError."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise EngineNotFoundError(describe(exc), 404) from exc
    except docker.errors.APIError as exc:
        status = int(exc.status_code or 0)
        kind = EngineConflictError if status == 409 else EngineError
        raise kind(describe(exc), status) from exc
    except (requests.exceptions.RequestException, docker.errors.DockerException) as exc:
        if _timed_out(exc):
            raise no_answer(call, seconds, server_version) from exc
        raise DockerUnavailableError(f"cannot reach the Docker engine: {_reason(exc)}",
                                     hint="is dockerd running?") from exc


def create_kwargs(api: docker.APIClient, spec: ContainerSpec) -> dict[str, Any]:
    """The keyword arguments of ``api.create_container`` for ``spec``."""
    port_bindings: dict[str, list[Any]] = {}
    for port in spec.ports:
        binding: Any = (port.host_ip, port.host_port) if port.host_ip else port.host_port
        port_bindings.setdefault(f"{port.container_port}/{port.protocol}", []).append(binding)
    host_kwargs: dict[str, Any] = {
        "binds": list(spec.binds),
        "port_bindings": port_bindings,
        "cap_drop": list(spec.cap_drop) or None,
        "cap_add": list(spec.cap_add) or None,
        "dns_search": list(spec.dns_search) or None,
        "init": spec.init,
        "cpu_quota": spec.cpu_quota,
    }
    if spec.restart_policy:
        name, _, count = spec.restart_policy.partition(":")
        host_kwargs["restart_policy"] = {"Name": name, "MaximumRetryCount": int(count or 0)}
    if spec.log_driver:
        host_kwargs["log_config"] = LogConfig(type=spec.log_driver, config=dict(spec.log_options))
    host_config = api.create_host_config(**{k: v for k, v in host_kwargs.items() if v is not None})
    networking_config = api.create_networking_config(
        {spec.network: api.create_endpoint_config(aliases=list(spec.network_aliases))})
    kwargs: dict[str, Any] = {
        "image": spec.image,
        "name": spec.name,
        "command": list(spec.command) if spec.command is not None else None,
        "entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
        "environment": dict(spec.environment),
        "labels": dict(spec.labels),
        "host_config": host_config,
        "networking_config": networking_config,
        "ports": sorted({(p.container_port, p.protocol) for p in spec.ports}),
        "user": spec.user,
        "stop_timeout": spec.stop_timeout_s,
        "detach": True,
    }
    check = spec.healthcheck
    if check is not None:
        raw = {"test": list(check.test) if check.test is not None else None,
               "interval": check.interval_ns, "timeout": check.timeout_ns,
               "retries": check.retries, "start_period": check.start_period_ns}
        kwargs["healthcheck"] = {k: v for k, v in raw.items() if v is not None}
    return {k: v for k, v in kwargs.items() if v is not None}


class SdkEngine:
    """``Engine`` over ``docker.DockerClient`` (its low-level ``APIClient``)."""

    def __init__(self, client: docker.DockerClient, api_version: str = "",
                 timeout: float = DEFAULT_TIMEOUT, server_version: str = "") -> None:
        self.client = client
        self._api: docker.APIClient = client.api
        self._api_version = api_version
        self._timeout = timeout
        self._server_version = server_version

    def _calling(self, call: str, seconds: float | None = None,
                 describe: Callable[[docker.errors.APIError], str] = explain
                 ) -> contextlib.AbstractContextManager[None]:
        return _translated(describe, call, self._timeout if seconds is None else seconds,
                           self._server_version)

    def api_version(self) -> str:
        if not self._api_version:
            with self._calling("the version request"):
                self._api_version = str(self._api.version().get("ApiVersion", "0"))
        return self._api_version

    def server_version(self) -> str:
        if not self._server_version:
            with self._calling("the version request"):
                self._server_version = str(self._api.version().get("Version") or "")
        return self._server_version

    def list_containers(self, filters: Filters | None = None) -> list[ListedContainer]:
        with self._calling("the list of containers"):
            found = self._api.containers(all=True, filters=dict(filters) if filters else None)
        return [ListedContainer(entry) for entry in found]

    def inspect_container(self, container_id: str) -> ContainerDetails:
        with self._calling(f"the inspect of container {container_id[:12]}"):
            return container_details(self._api.inspect_container(container_id))

    def stop_container(self, container_id: str, timeout: int) -> None:
        try:
            # the SDK waits for the grace period on top of its own timeout
            with self._calling(f"the stop of container {container_id[:12]}",
                               timeout + self._timeout):
                self._api.stop(container_id, timeout=timeout)
        except EngineNotFoundError:
            return

    def list_images(self) -> list[ImageSummary]:
        with self._calling("the list of images"):
            return image_summaries(self._api.images())

    def engine_info(self) -> EngineInfo:
        with self._calling("the info request"):
            return engine_info(self._api.info())

    def create_container(self, spec: ContainerSpec) -> str:
        with self._calling(f"the creation of container {spec.name}"):
            return str(self._api.create_container(**create_kwargs(self._api, spec))["Id"])

    def connect_network(self, container_id: str, network: str, aliases: Sequence[str]) -> None:
        with self._calling(f"connecting container {container_id[:12]} to network {network}"):
            self._api.connect_container_to_network(container_id, network, aliases=list(aliases))

    def start_container(self, container_id: str) -> None:
        with self._calling(f"the start of container {container_id[:12]}"):
            self._api.start(container_id)

    def unpause_container(self, container_id: str) -> None:
        with self._calling(f"the unpause of container {container_id[:12]}"):
            self._api.unpause(container_id)

    def remove_container(self, container_id: str) -> None:
        with self._calling(f"the removal of container {container_id[:12]}"):
            self._api.remove_container(container_id, force=True)

    def container_logs(self, container_id: str, tail: int) -> str:
        with self._calling(f"the logs of container {container_id[:12]}"):
            raw = self._api.logs(container_id, tail=tail)
        return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)

    def start_exec(self, container_id: str, command: Sequence[str]) -> str:
        with self._calling(f"a command in container {container_id[:12]}"):
            exec_id = str(self._api.exec_create(container_id, list(command), stdout=False,
                                                stderr=False)["Id"])
            self._api.exec_start(exec_id, detach=True)
        return exec_id

    def exec_status(self, exec_id: str) -> ExecStatus:
        with self._calling(f"the state of command {exec_id[:12]}"):
            info = self._api.exec_inspect(exec_id)
        code = info.get("ExitCode")
        return ExecStatus(bool(info.get("Running")), int(code) if code is not None else None)

    def run_exec(self, container_id: str, command: Sequence[str]) -> ExecResult:
        with self._calling(f"a command in container {container_id[:12]}"):
            exec_id = self._api.exec_create(container_id, list(command))["Id"]
            output = self._api.exec_start(exec_id)
            code = self._api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(int(code or 0), output if isinstance(output, bytes) else b"")

    def exec_stream(self, container_id: str, command: Sequence[str]) -> Iterator[bytes]:
        with _translated():
            exec_id = str(self._api.exec_create(container_id, list(command), stdout=True,
                                                stderr=True)["Id"])
            frames = self._api.exec_start(exec_id, stream=True, demux=True)
        tail = bytearray()
        with _translated():
            for out, err in frames:
                if err:
                    tail += err
                    del tail[:-STDERR_TAIL]
                if out:
                    yield out
        code = self._exit_code(exec_id)
        if code != 0:
            raise exec_failed(command, code, bytes(tail))

    def _exit_code(self, exec_id: str) -> int:
        deadline = time.monotonic() + EXEC_END_WAIT
        while True:
            with _translated():
                info = self._api.exec_inspect(exec_id)
            if not info.get("Running") or time.monotonic() > deadline:
                code = info.get("ExitCode")
                return int(code) if code is not None else -1
            time.sleep(0.05)

    def open_exec_input(self, container_id: str, command: Sequence[str]) -> ExecInput:
        with _translated():
            exec_id = str(self._api.exec_create(container_id, list(command), stdin=True,
                                                stdout=True, stderr=True)["Id"])
            response = self._api.exec_start(exec_id, socket=True)
        return _SdkExecInput(self, exec_id, list(command), response)

    def list_networks(self, filters: Filters | None = None,
                      names: Sequence[str] | None = None) -> list[NetworkSummary]:
        with self._calling("the list of networks"):
            found = self._api.networks(names=list(names) if names is not None else None,
                                       filters=dict(filters) if filters else None)
        return [NetworkSummary(str(n["Id"]), str(n["Name"])) for n in found]

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        with self._calling(f"the creation of network {name}"):
            self._api.create_network(name, driver=driver, labels=dict(labels),
                                     check_duplicate=True)

    def remove_network(self, network_id: str) -> None:
        with self._calling(f"the removal of network {network_id[:12]}"):
            self._api.remove_network(network_id)

    def load_images(self, archive: Iterable[bytes]) -> None:
        # no bound on the whole load (a bundle may hold gigabytes): the engine must keep
        # answering, each read within the client's timeout
        with self._calling("the load of the image bundle", describe=str):
            for message in self._api.load_image(archive):
                if isinstance(message, dict) and message.get("error"):
                    raise EngineError(str(message["error"]))

    def pull_image(self, repository: str, tag: str) -> Iterator[PullProgress]:
        with self._calling(f"the pull of {repository}:{tag}", describe=str):
            # The SDK sends the login `docker login` stored for the image's registry; read the
            # config again, so that a login made after this client was opened counts too.
            self._api.reload_config()
            for message in self._api.pull(repository, tag=tag, stream=True, decode=True):
                if message.get("error"):
                    raise EngineError(str(message["error"]))
                status = str(message.get("status") or "")
                if status.startswith("Digest: "):
                    yield PullProgress("", 0, 0, digest=status.removeprefix("Digest: ").strip())
                    continue
                detail = message.get("progressDetail") or {}
                if message.get("id") and detail.get("total"):
                    yield PullProgress(str(message["id"]), int(detail.get("current") or 0),
                                       int(detail["total"]))

    def close(self) -> None:
        self.client.close()


def exec_failed(command: Sequence[str], code: int, stderr: bytes) -> ExecFailedError:
    said = stderr.decode(errors="replace").strip().splitlines()[-5:]
    what = " ".join(command[:3])
    return ExecFailedError(f"`{what}` in the container exited with {code}"
                           + (": " + " | ".join(said) if said else ""))


class _SdkExecInput:
    """The hijacked connection of an exec started with stdin: writes go to the command's stdin;
    a thread reads its (multiplexed) output meanwhile, so that a talkative command never blocks
    on a full pipe while we write."""

    def __init__(self, engine: SdkEngine, exec_id: str, command: list[str], response: Any
                 ) -> None:
        self._engine = engine
        self._exec_id = exec_id
        self._command = command
        self._response = response
        self._sock: socket.socket = getattr(response, "_sock", response)
        self._sock.settimeout(None)  # the load may be silent for long; the end is waited for
        self._output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="harborctl-exec-output")
        self._reader.start()

    def _read(self) -> None:
        from docker.utils.socket import frames_iter

        try:
            for _stream, data in frames_iter(self._response, tty=False):
                self._output += data
                del self._output[:-STDERR_TAIL]
        except OSError:
            return

    def write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:  # the command ended early (psql stopped on an error)
            self._reader.join(EXEC_END_WAIT)
            code = self._engine._exit_code(self._exec_id)
            raise exec_failed(self._command, code, bytes(self._output)) from exc

    def finish(self) -> ExecResult:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
        self._reader.join(EXEC_END_WAIT)
        code = self._engine._exit_code(self._exec_id)
        self._close()
        if code != 0:
            raise exec_failed(self._command, code, bytes(self._output))
        return ExecResult(code, bytes(self._output))

    def abort(self) -> None:
        self._close()

    def _close(self) -> None:
        for closing in (self._sock, self._response):
            with contextlib.suppress(OSError):
                closing.close()
