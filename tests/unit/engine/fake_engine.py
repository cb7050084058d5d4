"""A stateful stand-in for the Docker engine, behind harborctl's ``Engine`` seam
(engine/api/interface.py).

Containers go through created -> running -> exited; a health check's verdict is scripted per
service (healthy after N inspects, never, unhealthy); networks, images and exec results are kept;
failures are injected per call: a refusal (``EngineError``, e.g. the syslog logging driver's) or
an engine that stops answering (``DockerUnavailableError``, as the real clients raise on a read
timeout). Every call is recorded in ``calls`` for tests that check the order of things.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from harborctl.engine.api.hangs import no_answer
from harborctl.engine.api.interface import (
    ContainerDetails,
    ContainerSpec,
    EngineInfo,
    ExecResult,
    ExecStatus,
    Filters,
    HealthProbe,
    ImageSummary,
    NetworkSummary,
    PullProgress,
)
from harborctl.engine.status.summary import PROJECT_LABEL, SERVICE_LABEL, ListedContainer
from harborctl.errors import (
    DockerUnavailableError,
    EngineConflictError,
    EngineError,
    EngineNotFoundError,
    ExecFailedError,
)

LOGGING_DRIVER_REFUSAL = ("failed to create task for container: failed to initialize logging "
                          "driver: dial tcp 127.0.0.1:1514: connect: connection refused")


def read_timeout(call: str, target: str = "", server_version: str = "") -> DockerUnavailableError:
    """What the adapters raise when the engine does not answer within the call's timeout."""
    return no_answer(f"{call} of {target}" if target else call, 60, server_version)


@dataclass
class HealthScript:
    """How a service's health check behaves once its container runs.

    ``healthy_after``: inspects while running before Docker reports healthy (None: never);
    ``unhealthy``: Docker reports unhealthy instead of starting; ``probe_exit``: exit code of the
    check command run through exec (harborctl's accelerated probe)."""

    healthy_after: int | None = 0
    unhealthy: bool = False
    probe_exit: int = 1
    probe_output: str = "connection refused"


@dataclass
class FakeContainer:
    id: str
    spec: ContainerSpec
    image_id: str
    status: str = "created"
    exit_code: int = 0
    inspects_running: int = 0
    restart_count: int = 0
    networks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.spec.labels.get(SERVICE_LABEL, "")


@dataclass
class FakeExecInput:
    """A command run with stdin: what was written to it, and whether it was finished."""

    service: str
    command: tuple[str, ...]
    exit_code: int = 0
    data: bytearray = field(default_factory=bytearray)
    state: str = "open"  # open, finished, aborted

    def write(self, data: bytes) -> None:
        assert self.state == "open", "write after finish"
        self.data += data

    def finish(self) -> ExecResult:
        self.state = "finished"
        if self.exit_code:
            raise ExecFailedError(f"`{' '.join(self.command[:3])}` in the container exited "
                                  f"with {self.exit_code}")
        return ExecResult(0, b"")

    def abort(self) -> None:
        self.state = "aborted"


@dataclass
class Failure:
    """An injected failure: ``error`` raised by ``call`` for ``target`` (a service or any)."""

    call: str
    error: Exception
    target: str = ""
    times: int = 1_000_000


class FakeEngine:
    """In-memory ``Engine``; not thread-unsafe: harborctl calls it from several threads."""

    def __init__(self, images: Mapping[str, str] | None = None) -> None:
        self.images: dict[str, str] = dict(images or {})
        self.containers: dict[str, FakeContainer] = {}
        self.networks: dict[str, tuple[str, Mapping[str, str]]] = {}
        self.health: dict[str, HealthScript] = {}
        self.exec_results: dict[tuple[str, ...], ExecResult] = {}
        # exec_stream: the stdout chunks per command (or the error it raises at its end)
        self.exec_outputs: dict[tuple[str, ...], list[bytes] | Exception] = {}
        self.exec_inputs: list[FakeExecInput] = []  # every exec opened with stdin
        self.exec_input_exit = 0  # the exit code those end with
        self.failures: list[Failure] = []
        self.calls: list[tuple[str, str]] = []
        self.loaded: list[int] = []
        self.pullable: dict[str, str] = {}  # image -> ID it gets when pulled
        self.registry = ""  # and every image whose name starts with this, when set
        self.drop_pulls: dict[str, int] = {}  # image -> how many pulls lose the link halfway
        self.digests: dict[str, str] = {}  # image -> repository@digest it carries once pulled
        self.served_digest: dict[str, str] = {}  # image -> a digest the registry claims instead
        self.version = "1.41"
        self.info = EngineInfo("24.0.7", "", "/var/lib/docker")
        self.pid = 0  # a container's pid as inspect gives it: 0, no process to watch
        self._ids = itertools.count(1)
        self._execs: dict[str, ExecStatus] = {}
        self._lock = threading.RLock()

    # -- set-up helpers -------------------------------------------------------------------

    def fail(self, call: str, error: Exception, target: str = "", times: int = 1_000_000) -> None:
        self.failures.append(Failure(call, error, target, times))

    def hang(self, call: str, target: str = "") -> None:
        """From now on ``call`` (for ``target``) never answers: it times out."""
        self.fail(call, read_timeout(call, target, self.info.server_version), target)

    def add_container(self, spec: ContainerSpec, status: str = "running") -> str:
        container_id = self.create_container(spec)
        self.containers[container_id].status = status
        self.calls.clear()
        return container_id

    def by_service(self, service: str) -> list[FakeContainer]:
        return [c for c in self.containers.values() if c.service == service]

    def names_of(self, call: str) -> list[str]:
        return [target for name, target in self.calls if name == call]

    # -- internals ------------------------------------------------------------------------

    def _call(self, call: str, target: str = "") -> None:
        with self._lock:
            self.calls.append((call, target))
            for failure in self.failures:
                if failure.call == call and failure.target in ("", target) and failure.times:
                    failure.times -= 1
                    raise failure.error

    def _get(self, container_id: str) -> FakeContainer:
        container = self.containers.get(container_id)
        if container is None:
            raise EngineNotFoundError(f"No such container: {container_id}", 404)
        return container

    def _health_of(self, container: FakeContainer) -> str | None:
        check = container.spec.healthcheck
        if check is None or check.test in (None, ("NONE",)) or container.status != "running":
            return None if check is None or check.test == ("NONE",) else "starting"
        script = self.health.get(container.service, HealthScript())
        if script.unhealthy:
            return "unhealthy"
        if script.healthy_after is not None and container.inspects_running > script.healthy_after:
            return "healthy"
        return "starting"

    @staticmethod
    def _matches(labels: Mapping[str, str], filters: Filters | None) -> bool:
        for wanted in (filters or {}).get("label", ()):
            key, has_value, value = wanted.partition("=")
            if key not in labels or (has_value and labels[key] != value):
                return False
        return True

    # -- EngineReader ---------------------------------------------------------------------

    def api_version(self) -> str:
        self._call("api_version")
        return self.version

    def server_version(self) -> str:
        return self.info.server_version

    def list_containers(self, filters: Filters | None = None) -> list[ListedContainer]:
        self._call("list_containers")
        with self._lock:
            found = [c for c in self.containers.values() if self._matches(c.spec.labels, filters)]
            return [ListedContainer(self._entry(c)) for c in found]

    def _entry(self, container: FakeContainer) -> dict[str, object]:
        health = self._health_of(container)
        status = "Created"
        if container.status == "running":
            shown = "health: starting" if health == "starting" else health
            status = "Up 2 seconds" + (f" ({shown})" if health else "")
        elif container.status == "exited":
            status = f"Exited ({container.exit_code}) 1 second ago"
        ports = [{"PublicPort": p.host_port, "PrivatePort": p.container_port, "IP": p.host_ip,
                  "Type": p.protocol} for p in container.spec.ports
                 if container.status == "running"]
        return {"Id": container.id, "Names": ["/" + container.spec.name],
                "Labels": dict(container.spec.labels), "State": container.status,
                "Status": status, "Image": container.spec.image, "ImageID": container.image_id,
                "Ports": ports}

    def inspect_container(self, container_id: str) -> ContainerDetails:
        with self._lock:
            container = self._get(container_id)
            self._call("inspect_container", container.service)
            if container.status == "running":
                container.inspects_running += 1
            health = self._health_of(container)
            script = self.health.get(container.service, HealthScript())
            check = container.spec.healthcheck
            return ContainerDetails(
                id=container.id, name=container.spec.name, status=container.status,
                exit_code=container.exit_code,
                pid=self.pid if container.status == "running" else 0,
                health=health,
                last_probe=(HealthProbe(script.probe_exit, script.probe_output)
                            if health in ("starting", "unhealthy") else None),
                healthcheck_test=tuple(check.test or ()) if check is not None else (),
                healthcheck_timeout_ns=(check.timeout_ns or 0) if check is not None else 0,
                restart_policy=container.spec.restart_policy.partition(":")[0],
                log_driver=container.spec.log_driver,
                restart_count=container.restart_count,
            )

    def stop_container(self, container_id: str, timeout: int) -> None:
        with self._lock:
            container = self.containers.get(container_id)
            self._call("stop_container", container.service if container else container_id)
            if container is not None and container.status in ("running", "paused", "restarting"):
                container.status, container.exit_code = "exited", 0
                container.inspects_running = 0

    def list_images(self) -> list[ImageSummary]:
        self._call("list_images")
        by_id: dict[str, list[str]] = {}
        for tag, image_id in self.images.items():
            by_id.setdefault(image_id, []).append(tag)
        return [ImageSummary(image_id, tuple(tags),
                             tuple(self.digests[t] for t in tags if t in self.digests))
                for image_id, tags in by_id.items()]

    def engine_info(self) -> EngineInfo:
        self._call("engine_info")
        return self.info

    # -- Engine ---------------------------------------------------------------------------

    def create_container(self, spec: ContainerSpec) -> str:
        with self._lock:
            self._call("create_container", spec.labels.get(SERVICE_LABEL, spec.name))
            if spec.image not in self.images:
                raise EngineNotFoundError(f"No such image: {spec.image}", 404)
            if any(c.spec.name == spec.name for c in self.containers.values()):
                raise EngineConflictError(f'Conflict. The container name "/{spec.name}" is '
                                          "already in use", 409)
            container_id = f"{next(self._ids):064x}"
            self.containers[container_id] = FakeContainer(
                container_id, spec, self.images[spec.image],
                networks={spec.network: spec.network_aliases})
            return container_id

    def connect_network(self, container_id: str, network: str, aliases: Sequence[str]) -> None:
        with self._lock:
            container = self._get(container_id)
            self._call("connect_network", container.service)
            container.networks[network] = tuple(aliases)

    def start_container(self, container_id: str) -> None:
        with self._lock:
            container = self._get(container_id)
            self._call("start_container", container.service)
            container.status, container.inspects_running = "running", 0

    def unpause_container(self, container_id: str) -> None:
        with self._lock:
            container = self._get(container_id)
            self._call("unpause_container", container.service)
            container.status = "running"

    def remove_container(self, container_id: str) -> None:
        with self._lock:
            container = self._get(container_id)
            self._call("remove_container", container.service)
            del self.containers[container_id]

    def container_logs(self, container_id: str, tail: int) -> str:
        container = self._get(container_id)
        self._call("container_logs", container.service)
        return f"{container.service}: starting\n{container.service}: waiting for the database\n"

    def start_exec(self, container_id: str, command: Sequence[str]) -> str:
        with self._lock:
            container = self._get(container_id)
            self._call("start_exec", container.service)
            if container.status != "running":
                raise EngineConflictError(f"Container {container_id} is not running", 409)
            exec_id = f"exec{next(self._ids)}"
            script = self.health.get(container.service, HealthScript())
            self._execs[exec_id] = ExecStatus(False, script.probe_exit)
            return exec_id

    def exec_status(self, exec_id: str) -> ExecStatus:
        self._call("exec_status", exec_id)
        if exec_id not in self._execs:
            raise EngineNotFoundError(f"No such exec instance: {exec_id}", 404)
        return self._execs[exec_id]

    def run_exec(self, container_id: str, command: Sequence[str]) -> ExecResult:
        container = self._get(container_id)
        self._call("run_exec", container.service)
        return self.exec_results.get(tuple(command), ExecResult(0, b""))

    def exec_stream(self, container_id: str, command: Sequence[str]) -> Iterator[bytes]:
        container = self._get(container_id)
        self._call("exec_stream", container.service)
        if container.status != "running":
            raise EngineConflictError(f"Container {container_id} is not running", 409)
        answer = self.exec_outputs.get(tuple(command), [b""])
        if isinstance(answer, Exception):
            raise answer
        yield from answer

    def open_exec_input(self, container_id: str, command: Sequence[str]) -> FakeExecInput:
        container = self._get(container_id)
        self._call("open_exec_input", container.service)
        if container.status != "running":
            raise EngineConflictError(f"Container {container_id} is not running", 409)
        opened = FakeExecInput(container.service, tuple(command), self.exec_input_exit)
        self.exec_inputs.append(opened)
        return opened

    def list_networks(self, filters: Filters | None = None,
                      names: Sequence[str] | None = None) -> list[NetworkSummary]:
        self._call("list_networks")
        return [NetworkSummary(network_id, name)
                for network_id, (name, labels) in self.networks.items()
                if self._matches(labels, filters) and (names is None or name in names)]

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        with self._lock:
            self._call("create_network", name)
            if any(existing == name for existing, _ in self.networks.values()):
                raise EngineConflictError(f"network with name {name} already exists", 409)
            self.networks[f"net{next(self._ids)}"] = (name, dict(labels))

    def remove_network(self, network_id: str) -> None:
        with self._lock:
            self._call("remove_network", network_id)
            if network_id not in self.networks:
                raise EngineNotFoundError(f"network {network_id} not found", 404)
            del self.networks[network_id]

    def load_images(self, archive: Iterable[bytes]) -> None:
        self._call("load_images")
        self.loaded.append(sum(len(chunk) for chunk in archive))

    def pull_image(self, repository: str, tag: str) -> Iterator[PullProgress]:
        name = f"{repository}{'@' if tag.startswith('sha256:') else ':'}{tag}"
        self._call("pull_image", name)
        if self.registry and name.startswith(self.registry):
            self.pullable.setdefault(name, "sha256:" + hashlib.sha256(name.encode()).hexdigest())
        if name not in self.pullable:
            raise EngineNotFoundError(f"pull access denied for {repository}, repository does "
                                      "not exist or may require 'docker login'", 404)
        for done in (0, 50, 100):
            yield PullProgress("layer1", done, 100)
            if done == 50 and self.drop_pulls.get(name, 0) > 0:
                self.drop_pulls[name] -= 1
                raise EngineError(f"read tcp 127.0.0.1:41234->{repository.split('/')[0]}: "
                                  "read: connection reset by peer", 500)
        self.images[name] = self.pullable[name]
        digest = "sha256:" + hashlib.sha256(self.pullable[name].encode()).hexdigest()
        self.digests[name] = f"{repository}@{digest}"
        yield PullProgress("", 0, 0, digest=self.served_digest.get(name, digest))

    def close(self) -> None:
        self._call("close")


def project_of(engine: FakeEngine, project: str) -> list[FakeContainer]:
    return [c for c in engine.containers.values() if c.spec.labels.get(PROJECT_LABEL) == project]
