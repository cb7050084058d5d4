"""The one typed seam between harborctl and a Docker engine.

Every engine call harborctl makes is a method of ``EngineReader`` (what the standard-library
socket client answers: enough for status and stop) or of ``Engine`` (everything, answered by the
docker SDK adapter, and by the fake engine of the unit tests). Answers are small frozen values,
never the engine's raw JSON, and failures are harborctl's own errors:

- ``EngineNotFoundError`` / ``EngineConflictError`` / ``EngineError`` when the engine refuses;
- ``DockerUnavailableError`` when it cannot be reached or stops answering (a read timeout).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from harborctl.engine.status.summary import ListedContainer

Filters = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class HealthProbe:
    """The last result of Docker's own health probe."""

    exit_code: int | None
    output: str


@dataclass(frozen=True)
class ContainerDetails:
    """What harborctl reads of a container's ``inspect``."""

    id: str
    name: str
    status: str  # created, running, paused, restarting, removing, exited, dead
    exit_code: int | None = None
    pid: int = 0
    health: str | None = None  # starting, healthy, unhealthy; None without a health check
    last_probe: HealthProbe | None = None
    healthcheck_test: tuple[str, ...] = ()
    healthcheck_timeout_ns: int = 0
    restart_policy: str = ""
    log_driver: str = ""
    finished_at: str = ""
    restart_count: int = 0  # restarts by the engine's restart policy since the last start
    network_ids: tuple[str, ...] = ()  # the networks it is attached to, by ID
    addresses: tuple[str, ...] = ()  # its IPv4 address on each of them, where it has one


@dataclass(frozen=True)
class EngineInfo:
    """What harborctl reads of the engine's ``info``."""

    server_version: str  # e.g. "20.10.24"
    system_time: str  # the engine's clock, RFC 3339 as it gives it; "" when it does not
    root_dir: str = ""


@dataclass(frozen=True)
class ImageSummary:
    id: str
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...] = ()  # ``repository@sha256:…`` of every registry it came from


@dataclass(frozen=True)
class NetworkSummary:
    id: str
    name: str


@dataclass(frozen=True)
class ExecStatus:
    running: bool
    exit_code: int | None


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: bytes


class ExecInput(Protocol):
    """A command running in a container with its stdin open: ``write`` feeds it, ``finish``
    closes stdin, waits for the end and returns the exit code with (the tail of) the output."""

    def write(self, data: bytes) -> None: ...

    def finish(self) -> ExecResult: ...

    def abort(self) -> None:
        """Close everything without waiting (the caller failed mid-way)."""
        ...


@dataclass(frozen=True)
class PullProgress:
    """One progress message of a pull: ``layer`` with ``current`` of ``total`` bytes; or, with
    ``digest`` set, the manifest digest the registry served (the pull's last message)."""

    layer: str
    current: int
    total: int
    digest: str = ""


@dataclass(frozen=True)
class PortBinding:
    container_port: int
    protocol: str
    host_port: int
    host_ip: str = ""


@dataclass(frozen=True)
class HealthcheckSpec:
    """Durations in nanoseconds; ``None`` keeps Docker's default."""

    test: tuple[str, ...] | None = None
    interval_ns: int | None = None
    timeout_ns: int | None = None
    retries: int | None = None
    start_period_ns: int | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """Everything a container is created with, attached to its first network only (the others
    are connected afterwards with ``connect_network``)."""

    image: str
    name: str
    labels: Mapping[str, str]
    environment: Mapping[str, str]
    network: str
    network_aliases: tuple[str, ...]
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    user: str | None = None
    binds: tuple[str, ...] = ()
    ports: tuple[PortBinding, ...] = ()
    cap_drop: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    init: bool | None = None
    restart_policy: str = ""  # "name" or "name:count" as in a compose file
    log_driver: str = ""
    log_options: Mapping[str, str] = field(default_factory=dict)
    stop_timeout_s: int | None = None
    healthcheck: HealthcheckSpec | None = None
    cpu_quota: int | None = None  # microseconds per 100 ms period


class EngineReader(Protocol):
    """The calls `status` and `stop` need: the light socket client answers them."""

    def api_version(self) -> str: ...

    def server_version(self) -> str:
        """The engine's own version ("20.10.24"): which known defects it has."""
        ...

    def list_containers(self, filters: Filters | None = None) -> list[ListedContainer]:
        """Every container (running or not) matching ``filters``."""
        ...

    def inspect_container(self, container_id: str) -> ContainerDetails:
        """Raises ``EngineNotFoundError`` when there is no such container."""
        ...

    def stop_container(self, container_id: str, timeout: int) -> None:
        """Stop it, killing it after ``timeout`` s; one already stopped or gone is no error."""
        ...

    def list_images(self) -> list[ImageSummary]: ...

    def engine_info(self) -> EngineInfo:
        """The engine's version and clock (``GET /info``)."""
        ...


class Engine(EngineReader, Protocol):
    """Every call harborctl makes of a Docker engine."""

    def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container; return its ID."""
        ...

    def connect_network(self, container_id: str, network: str, aliases: Sequence[str]) -> None:
        ...

    def start_container(self, container_id: str) -> None: ...

    def unpause_container(self, container_id: str) -> None: ...

    def remove_container(self, container_id: str) -> None:
        """Remove it, forcefully if running; its anonymous volumes are kept."""
        ...

    def container_logs(self, container_id: str, tail: int) -> str: ...

    def start_exec(self, container_id: str, command: Sequence[str]) -> str:
        """Start a command in a running container, detached; return the exec's ID."""
        ...

    def exec_status(self, exec_id: str) -> ExecStatus: ...

    def run_exec(self, container_id: str, command: Sequence[str]) -> ExecResult:
        """Run a command in a running container to its end: its exit code and output."""
        ...

    def exec_stream(self, container_id: str, command: Sequence[str]) -> Iterator[bytes]:
        """Run a command in a running container and yield its stdout as it comes (memory stays
        flat); at the end raise ``ExecFailedError`` (with the tail of its stderr) when it exited
        with another code than 0."""
        ...

    def open_exec_input(self, container_id: str, command: Sequence[str]) -> ExecInput:
        """Start a command in a running container with its stdin open for streaming."""
        ...

    def list_networks(self, filters: Filters | None = None,
                      names: Sequence[str] | None = None) -> list[NetworkSummary]: ...

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None: ...

    def remove_network(self, network_id: str) -> None: ...

    def load_images(self, archive: Iterable[bytes]) -> None:
        """Load a ``docker save`` archive, streamed."""
        ...

    def pull_image(self, repository: str, tag: str) -> Iterator[PullProgress]: ...

    def close(self) -> None: ...


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, (int, float)) else None


def container_details(raw: Mapping[str, object]) -> ContainerDetails:
    """The engine's ``inspect`` document (``GET /containers/{id}/json``) as ContainerDetails."""
    state = _mapping(raw.get("State"))
    health = _mapping(state.get("Health"))
    config = _mapping(raw.get("Config"))
    check = _mapping(config.get("Healthcheck"))
    host = _mapping(raw.get("HostConfig"))
    probes = health.get("Log")
    last_probe = None
    if isinstance(probes, list) and probes:
        last = _mapping(probes[-1])
        last_probe = HealthProbe(_int_or_none(last.get("ExitCode")), str(last.get("Output") or ""))
    test = check.get("Test")
    networks = [_mapping(n) for n in
                _mapping(_mapping(raw.get("NetworkSettings")).get("Networks")).values()]
    return ContainerDetails(
        id=str(raw.get("Id", "")),
        name=str(raw.get("Name", "")).lstrip("/"),
        status=str(state.get("Status", "")),
        exit_code=_int_or_none(state.get("ExitCode")),
        pid=_int_or_none(state.get("Pid")) or 0,
        health=str(health["Status"]) if health.get("Status") else None,
        last_probe=last_probe,
        healthcheck_test=tuple(str(t) for t in test) if isinstance(test, list) else (),
        healthcheck_timeout_ns=_int_or_none(check.get("Timeout")) or 0,
        restart_policy=str(_mapping(host.get("RestartPolicy")).get("Name") or ""),
        log_driver=str(_mapping(host.get("LogConfig")).get("Type") or ""),
        finished_at=str(state.get("FinishedAt") or ""),
        restart_count=_int_or_none(raw.get("RestartCount")) or 0,
        network_ids=tuple(str(n.get("NetworkID") or "") for n in networks),
        addresses=tuple(str(n["IPAddress"]) for n in networks if n.get("IPAddress")),
    )


def engine_info(raw: Mapping[str, object]) -> EngineInfo:
    """The engine's ``info`` document (``GET /info``) as EngineInfo."""
    return EngineInfo(str(raw.get("ServerVersion") or ""), str(raw.get("SystemTime") or ""),
                      str(raw.get("DockerRootDir") or ""))


def image_summaries(raw: object) -> list[ImageSummary]:
    """The engine's image list (``GET /images/json``) as ImageSummary values."""
    result = []
    for entry in raw if isinstance(raw, list) else []:
        fields = _mapping(entry)
        tags = fields.get("RepoTags")
        digests = fields.get("RepoDigests")
        result.append(ImageSummary(
            str(fields.get("Id", "")),
            tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            tuple(str(d) for d in digests) if isinstance(digests, list) else ()))
    return result


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}
