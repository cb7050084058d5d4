"""The services of one deployment: the release profile's records resolved for one Config, as the
compose template and the installer read them (images named, conditions decided, paths filled)."""

from __future__ import annotations

from dataclasses import dataclass

from harborctl.config.model import Config
from harborctl.plan.profile import HealthCheck, ProfileConfig, ReleaseProfile, Service
from harborctl.plan.releases import profile_of


@dataclass(frozen=True)
class ResolvedVolume:
    text: str  # source:target[:options]
    quoted: bool  # the source is a path from harbor.cfg, so it is quoted for YAML


@dataclass(frozen=True)
class ResolvedNetwork:
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedDependency:
    service: str
    condition: str  # compose's depends_on condition
    awaited: bool = True  # False: listed under x-harborctl-start-without


@dataclass(frozen=True)
class ComposeService:
    """One entry of docker-compose.yml's services."""

    name: str
    container_name: str
    image: str
    env_file: str | None
    caps: tuple[str, ...]
    syslog: bool
    volumes: tuple[ResolvedVolume, ...]
    networks: tuple[ResolvedNetwork, ...]
    networks_as_mapping: bool  # written as a mapping when the service has any alias
    ports: tuple[str, ...]  # "[bind:]host:container"
    health: HealthCheck | None
    depends_on: tuple[ResolvedDependency, ...]
    layout: tuple[str, ...]
    cpu_quota: int | None = None


def services_of(config: Config) -> tuple[str, ...]:
    """The names of the services deployed for ``config``, in start-file order."""
    return tuple(s.name for s in profile_of(config).enabled(config))


def host_ports(config: Config) -> tuple[int, ...]:
    """Every port the deployment publishes on the host, ascending."""
    return profile_of(config).host_ports(config)


def compose_services(profile: ReleaseProfile, config: ProfileConfig
                     ) -> tuple[ComposeService, ...]:
    enabled = profile.enabled(config)
    deployed = {s.name for s in enabled}
    healthy = profile.healthy()
    paths = config.volume_roots()
    return tuple(_resolve(profile, s, config, deployed, healthy, paths) for s in enabled)


def _resolve(profile: ReleaseProfile, service: Service, config: ProfileConfig, deployed: set[str],
             healthy: frozenset[str], paths: dict[str, str]) -> ComposeService:
    volumes = tuple(
        ResolvedVolume(":".join(part for part in (v.source.format(**paths), v.target, v.options)
                                if part), quoted=v.source.startswith("{"))
        for v in service.volumes if v.when(config)
    )
    ports = tuple(
        ":".join(str(part) for part in (p.bind, p.host_port(config), p.container) if part)
        for p in service.ports if p.when(config)
    )
    depends = tuple(
        ResolvedDependency(d.service, d.condition(healthy), d.awaited)
        for d in service.depends_on if d.service in deployed and d.when(config)
    )
    return ComposeService(
        name=service.name,
        container_name=service.container_name,
        image=profile.image(service.name, config.image_source),
        env_file=service.env_file,
        caps=service.caps,
        syslog=service.syslog,
        volumes=volumes,
        networks=tuple(ResolvedNetwork(n.network, n.aliases) for n in service.networks
                       if n.when(config)),
        networks_as_mapping=any(n.aliases for n in service.networks),
        ports=ports,
        health=service.health,
        depends_on=depends,
        layout=service.layout,
        cpu_quota=service.cpu_quota,
    )


def compose_networks(profile: ReleaseProfile, services: tuple[ComposeService, ...]
                     ) -> tuple[str, ...]:
    """The networks joined by at least one of ``services``, in the profile's order."""
    joined = {n.name for s in services for n in s.networks}
    return tuple(name for name in profile.networks if name in joined)
