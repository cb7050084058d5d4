"""What a Harbor release consists of, as data: one frozen record per service, per file, per folder.

A release profile (``ReleaseProfile``) is a table, not code: the planner, the renderer of
docker-compose.yml and the installer all read the same table. Harbor 1.7.5's table is
``harborctl.plan.harbor_1_7``. A second release (2.x) is added by writing a second table module
(its services, images, health checks, files...) and naming it in ``harborctl.plan.releases``;
nothing in this module, the planner or templates/docker-compose.yml.j2 changes for it. Only the
per-service config templates (templates/<service>/) a new release needs are new files.

Conditions are predicates on the validated config (``When``), so that "notary is on" or "the
database is bundled" is written once, next to the fact it governs. Each table's predicates take
its own release's config type (harbor.cfg's ``Config``, harbor.yml's ``Config2``); what the
shared code reads of either is ``ProfileConfig``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from harborctl.config.model import OperatorFile
from harborctl.plan.model import Owner


class ProfileConfig(Protocol):
    """What the planner's shared code reads of a validated config of any release."""

    @property
    def image_source(self) -> str:
        """Where the images come from (a registry and namespace, such as 'goharbor')."""

    def volume_roots(self) -> dict[str, str]:
        """The host paths volumes name ({data}, {log_location}...), without a trailing '/'."""


# A table's predicate takes its own release's config type: Any here, as Callable parameters do
# not accept a narrower type where a Protocol is declared.
Config = Any
When = Callable[[Config], bool]


def always(_config: Config) -> bool:
    return True


@dataclass(frozen=True)
class HealthCheck:
    """Docker's own check of a service. Docker runs it through ``exec`` (about 0.1 CPU s each on
    a 2-core test host): every 1 s on ten services that kept half the host busy for as long as
    Harbor ran, and slowed an install by as much. Every 10 s costs a twentieth of that; harborctl
    does not wait for Docker's first check to say a service is ready (it runs the check itself,
    engine/lifecycle/health.py). Twelve failures in a row, two minutes, make it unhealthy."""

    test: tuple[str, ...]  # compose's form: ("CMD", ...) or ("CMD-SHELL", "a command")
    interval: str = "10s"
    timeout: str = "5s"
    retries: int = 12


@dataclass(frozen=True)
class HostPort:
    """A port published on the host; ``host`` is fixed or read from the Config."""

    host: int | Callable[[Config], int]
    container: int
    bind: str = ""  # host address; "" is every address
    when: When = always

    def host_port(self, config: Config) -> int:
        return self.host if isinstance(self.host, int) else self.host(config)


@dataclass(frozen=True)
class Dependency:
    """A start edge, decided per edge: ``hard`` when the dependent cannot survive starting
    before ``service`` is ready (compose's ``service_healthy``, where the dependency has a health
    check), soft when it only needs ``service`` started (``service_started``: running, its name
    in Docker's DNS) because it waits or retries by itself. ``why`` says which, and how we know.
    The edge is dropped when ``service`` is not deployed, or ``when`` is false.

    ``awaited=False`` (soft edges only): the dependent does not need ``service`` to start, or
    retries it on any failure (a name not yet in Docker's DNS included), so harborctl starts it
    without waiting even for the dependency's start; docker-compose.yml keeps the edge for
    compose and lists it under ``x-harborctl-start-without``. An awaited soft edge is one where
    the dependent needs the name at start (nginx's upstreams)."""

    service: str
    hard: bool
    why: str
    when: When = always
    awaited: bool = True

    def __post_init__(self) -> None:
        if self.hard and not self.awaited:
            raise ValueError(f"a hard edge to {self.service} is always awaited")

    def condition(self, healthy: frozenset[str]) -> str:
        """Compose's ``depends_on`` condition; ``healthy``: the services with a health check."""
        return "service_healthy" if self.hard and self.service in healthy else "service_started"


@dataclass(frozen=True)
class NetworkJoin:
    """A network the service joins. A service with an alias on any network lists its networks
    as a mapping in docker-compose.yml, the others as a list."""

    network: str
    aliases: tuple[str, ...] = ()
    when: When = always


GENERATED_SOURCE = "./common/config/"  # a Volume source in the rendered configuration


@dataclass(frozen=True)
class Volume:
    """A bind mount ``source:target[:options]``. ``source`` may name a path of harbor.cfg as
    {data}, {log_location} or {secretkey}; such a source is quoted in docker-compose.yml."""

    source: str
    target: str
    options: str = "z"
    when: When = always


@dataclass(frozen=True)
class Service:
    name: str
    container_name: str
    repository: str  # image repository under the image source
    tag: str  # tag pattern; {release} is the Harbor release
    caps: tuple[str, ...]  # cap_add (everything else is dropped)
    networks: tuple[NetworkJoin, ...]
    enabled: When = always
    health: HealthCheck | None = None
    ports: tuple[HostPort, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    syslog: bool = True  # logs through the log service
    volumes: tuple[Volume, ...] = ()
    env_file: str | None = None  # under common/config
    cpu_quota: int | None = None  # CPU time per 100 ms period, in µs (50000: half a core)
    # The order of the keys of the service's entry in docker-compose.yml ("common" is restart,
    # capabilities, dns and logging); a key the service has no value for is left out.
    layout: tuple[str, ...] = ("env_file", "common", "volumes", "networks", "ports", "health",
                               "depends_on")


@dataclass(frozen=True)
class ConfigFile:
    """A file rendered from templates/<template> to common/config/<dest>. It is planned with its
    service unless ``when`` says otherwise."""

    service: str
    template: str
    dest: str
    mode: int = 0o644
    owner: Owner | None = None
    when: When | None = None


@dataclass(frozen=True)
class CopiedFile:
    """A file of the operator's, named in harbor.cfg and read at validation (``source`` finds
    it in the Config), copied to common/config/<dest> while ``service`` is deployed."""

    service: str
    dest: str
    source: Callable[[Config], OperatorFile | None]
    mode: int = 0o644
    owner: Owner | None = None


@dataclass(frozen=True)
class DataDir:
    """A folder made before start, planned while ``service`` is deployed. ``root`` is "data"
    (data_volume), "log" (log_location) or "generated" (common/config)."""

    service: str
    root: str
    path: str
    mode: int = 0o755
    owner: Owner | None = None


@dataclass(frozen=True)
class ReleaseProfile:
    release: str
    services: tuple[Service, ...]  # in the order of docker-compose.yml
    networks: tuple[str, ...]  # every network a service may join, in the order they are defined
    files: tuple[ConfigFile, ...]  # in the order they are planned
    dirs: tuple[DataDir, ...]
    log_port: int  # where the daemon sends the services' syslog (127.0.0.1)
    service_uid: Owner  # what Harbor's images run as: owner of their files and keys
    # The template of the settings a reload re-applies (reload_config); the planner gives it a
    # reload_key that is a hash of what it renders, so the key moves exactly when they do.
    reloaded_settings: str | None = None
    copies: tuple[CopiedFile, ...] = ()

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def enabled(self, config: Config) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.enabled(config))

    def healthy(self) -> frozenset[str]:
        """The services with a health check: the others are waited for as "started"."""
        return frozenset(s.name for s in self.services if s.health is not None)

    def image(self, name: str, source: str) -> str:
        service = self.service(name)
        return f"{source}/{service.repository}:{service.tag.format(release=self.release)}"

    def host_ports(self, config: Config) -> tuple[int, ...]:
        return tuple(sorted({port.host_port(config) for service in self.enabled(config)
                             for port in service.ports if port.when(config)}))

    def files_of(self, config: Config) -> tuple[ConfigFile, ...]:
        names = {s.name for s in self.enabled(config)}
        return tuple(f for f in self.files
                     if (f.when(config) if f.when is not None else f.service in names))

    def copies_of(self, config: Config) -> tuple[tuple[CopiedFile, OperatorFile], ...]:
        names = {s.name for s in self.enabled(config)}
        found = ((copy, copy.source(config)) for copy in self.copies if copy.service in names)
        return tuple((copy, file) for copy, file in found if file is not None)

    def mount_points(self, config: Config) -> tuple[str, ...]:
        """Files (paths under common/config) that Docker would make itself: a service binds a
        folder of common/config and a file inside that folder's target (2.15's registry:
        registry/ at /etc/registry/ and the token certificate at /etc/registry/root.crt), so
        Docker creates an empty file in the host folder as the mount point. Planned (empty) by
        harborctl, the folder stays as prepare left it, and so does its hash."""
        points: list[str] = []
        for service in self.enabled(config):
            volumes = [v for v in service.volumes if v.when(config)]
            for outer in volumes:
                if not outer.source.startswith(GENERATED_SOURCE):
                    continue
                folder = outer.target.rstrip("/") + "/"
                base = outer.source[len(GENERATED_SOURCE):].rstrip("/")
                points += [f"{base}/{inner.target[len(folder):]}" for inner in volumes
                           if inner is not outer and inner.target.startswith(folder)
                           and not inner.source.endswith("/")]
        return tuple(dict.fromkeys(points))

    def dirs_of(self, config: Config) -> tuple[DataDir, ...]:
        names = {s.name for s in self.enabled(config)}
        return tuple(d for d in self.dirs if d.service in names)
