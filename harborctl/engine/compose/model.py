"""Typed, frozen model of the compose-file subset harborctl reads, and of containers found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harborctl.engine.status.summary import ListedContainer, describe_port

Condition = Literal["service_started", "service_healthy"]

DEFAULT_NETWORK = "default"


@dataclass(frozen=True)
class BindMount:
    """A short-syntax bind mount; ``source`` is absolute, ``options`` e.g. ``("ro", "z")``."""

    source: Path
    target: str
    options: tuple[str, ...] = ()

    @property
    def read_only(self) -> bool:
        return "ro" in self.options

    def bind_spec(self) -> str:
        """The ``host:container[:opts]`` string Docker's ``Binds`` expects."""
        spec = f"{self.source}:{self.target}"
        return f"{spec}:{','.join(self.options)}" if self.options else spec


@dataclass(frozen=True)
class PortMapping:
    host_port: int
    container_port: int
    host_ip: str = ""
    protocol: str = "tcp"

    def describe(self) -> str:
        return describe_port(self.host_port, self.container_port, self.host_ip, self.protocol)


@dataclass(frozen=True)
class NetworkAttachment:
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: Condition = "service_started"


@dataclass(frozen=True)
class Healthcheck:
    """Durations in nanoseconds (what the Docker API takes); ``None`` keeps Docker's default."""

    test: tuple[str, ...] | None = None
    interval_ns: int | None = None
    timeout_ns: int | None = None
    retries: int | None = None
    start_period_ns: int | None = None

    @property
    def disabled(self) -> bool:
        return self.test == ("NONE",)


@dataclass(frozen=True)
class Logging:
    driver: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    container_name: str | None = None
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    # ``None`` as a value: take it from harborctl's own environment, as compose does.
    environment: tuple[tuple[str, str | None], ...] = ()
    env_files: tuple[Path, ...] = ()
    volumes: tuple[BindMount, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    networks: tuple[NetworkAttachment, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    # x-harborctl-start-without: dependencies harborctl does not wait for before starting this
    # service (it retries them); compose still orders the starts by depends_on.
    start_without: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None
    restart: str | None = None
    cap_drop: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    logging: Logging | None = None
    user: str | None = None
    init: bool | None = None
    stop_grace_period_ns: int | None = None
    labels: tuple[tuple[str, str], ...] = ()
    cpu_quota: int | None = None  # microseconds of CPU per 100 ms period

    @property
    def stop_timeout_s(self) -> int | None:
        if self.stop_grace_period_ns is None:
            return None
        return max(0, round(self.stop_grace_period_ns / 1_000_000_000))


@dataclass(frozen=True)
class Network:
    name: str
    driver: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ComposeProject:
    name: str
    working_dir: Path
    config_files: tuple[Path, ...]
    version: str
    services: tuple[Service, ...]
    networks: tuple[Network, ...] = ()

    def service(self, name: str) -> Service:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.services)

    def network_name(self, network: str) -> str:
        """The Docker name of a compose network: ``<project>_<network>``."""
        return f"{self.name}_{network}"

    def container_name(self, service: Service) -> str:
        return service.container_name or f"{self.name}_{service.name}_1"


@dataclass(frozen=True)
class ContainerInfo:
    """What harborctl needs to know about one existing container (from ``inspect``)."""

    id: str
    name: str
    project: str
    service: str
    state: str
    health: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    image: str = ""
    image_id: str = ""
    started_at: str = ""
    restart_policy: str = ""
    exit_code: int = 0
    ports: tuple[PortMapping, ...] = ()
    log_driver: str = ""
    uptime_s: float | None = None  # known when built from the container list

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def port_texts(self) -> tuple[str, ...]:
        return tuple(p.describe() for p in self.ports)

    @property
    def harborctl_hash(self) -> str | None:
        return self.labels.get("io.harborctl.hash")

    @classmethod
    def from_summary(cls, entry: Mapping[str, Any]) -> ContainerInfo:
        """Build from one entry of the container *list* (``GET /containers/json``): one call for
        every container, instead of one inspect each (see summary.ListedContainer)."""
        return cls.from_listed(ListedContainer(entry))

    @classmethod
    def from_listed(cls, listed: ListedContainer) -> ContainerInfo:
        return cls(
            id=listed.id,
            name=listed.name,
            project=listed.project,
            service=listed.service,
            state=listed.state,
            health=listed.health,
            labels=listed.labels,
            image=listed.image,
            image_id=listed.image_id,
            ports=tuple(PortMapping(*port) for port in listed.ports),
            uptime_s=listed.uptime_s,
        )

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> ContainerInfo:
        """Build from the ``inspect`` payload of a container (``container.attrs``)."""
        config = attrs.get("Config") or {}
        labels: dict[str, str] = dict(config.get("Labels") or {})
        state = attrs.get("State") or {}
        health = (state.get("Health") or {}).get("Status")
        host_config = attrs.get("HostConfig") or {}
        ports: list[PortMapping] = []
        raw_ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
        for key, bindings in sorted(raw_ports.items()):
            cport, _, proto = key.partition("/")
            for binding in bindings or ():
                host_port = binding.get("HostPort") or ""
                if host_port.isdigit():
                    ports.append(
                        PortMapping(int(host_port), int(cport), binding.get("HostIp") or "",
                                    proto or "tcp")
                    )
        return cls(
            id=str(attrs.get("Id", "")),
            name=str(attrs.get("Name", "")).lstrip("/"),
            project=labels.get("com.docker.compose.project", ""),
            service=labels.get("com.docker.compose.service", ""),
            state=str(state.get("Status", "")),
            health=str(health) if health else None,
            labels=labels,
            image=str(config.get("Image", "")),
            image_id=str(attrs.get("Image", "")),
            started_at=str(state.get("StartedAt", "")),
            restart_policy=str((host_config.get("RestartPolicy") or {}).get("Name") or ""),
            exit_code=int(state.get("ExitCode") or 0),
            ports=tuple(ports),
            log_driver=str((host_config.get("LogConfig") or {}).get("Type") or ""),
        )


def dependency_levels(services: tuple[Service, ...] | list[Service]) -> tuple[tuple[str, ...], ...]:
    """Group service names by depth: level 0 depends on nothing, level n on levels < n.

    Names keep the file's order inside a level. Unknown dependencies are ignored here (the
    loader reports them); a cycle raises ``ValueError`` naming the services in it.
    """
    by_name = {s.name: s for s in services}
    depth: dict[str, int] = {}
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise ValueError(f"dependency cycle: {' -> '.join(cycle)}")
        visiting.append(name)
        deps = [d.service for d in by_name[name].depends_on if d.service in by_name]
        level = 1 + max((visit(d) for d in deps), default=-1)
        visiting.pop()
        depth[name] = level
        return level

    for svc in services:
        visit(svc.name)
    count = 1 + max(depth.values(), default=-1)
    return tuple(tuple(s.name for s in services if depth[s.name] == lvl) for lvl in range(count))
