"""Finding a project's containers (by label only) and turning a compose service into one."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from harborctl.engine.api.interface import ContainerSpec, HealthcheckSpec, PortBinding
from harborctl.engine.compose import labels as lbl
from harborctl.engine.compose.model import ComposeProject, Service
from harborctl.engine.compose.syntax import read_env_file
from harborctl.engine.status.listing import list_project_containers
from harborctl.engine.status.summary import project_filter
from harborctl.errors import (
    DockerUnavailableError,
    EngineError,
    EngineNotFoundError,
    FilesystemError,
    HarborctlError,
)

if TYPE_CHECKING:
    from harborctl.engine.api.interface import Engine

Report = Callable[[str], None]
__all__ = ["list_project_containers"]  # kept importable from here

LOGGING_DRIVER_ERROR = "failed to initialize logging driver"
_NETWORK_GONE = re.compile(r"network \S+ not found")
START_RETRY_DELAY_S = 0.25  # between two starts refused by the logging driver


def service_environment(
    service: Service, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """env files first, then ``environment`` on top; a value-less entry comes from ``environ``."""
    env = os.environ if environ is None else environ
    result: dict[str, str] = {}
    for path in service.env_files:
        try:
            result.update(read_env_file(path))
        except OSError as exc:
            raise FilesystemError(
                f"cannot read env file {path} of service {service.name}: {exc.strerror}",
                hint="render the configuration again (it writes every env file)",
            ) from exc
    for key, value in service.environment:
        if value is not None:
            result[key] = value
        elif key in env:
            result[key] = env[key]
    return result


def container_spec(
    project: ComposeProject,
    service: Service,
    desired_hash: str,
    environ: Mapping[str, str] | None = None,
) -> ContainerSpec:
    """What the service's container is created with (attached to its first network only)."""
    name = project.container_name(service)
    first = service.networks[0]
    check = service.healthcheck
    return ContainerSpec(
        image=service.image,
        name=name,
        labels=lbl.container_labels(project, service, desired_hash),
        environment=service_environment(service, environ),
        network=project.network_name(first.name),
        network_aliases=tuple(network_aliases(service, name, first.aliases)),
        command=tuple(service.command) if service.command is not None else None,
        entrypoint=tuple(service.entrypoint) if service.entrypoint is not None else None,
        user=service.user,
        binds=tuple(m.bind_spec() for m in service.volumes),
        ports=tuple(PortBinding(p.container_port, p.protocol, p.host_port, p.host_ip)
                    for p in service.ports),
        cap_drop=tuple(service.cap_drop),
        cap_add=tuple(service.cap_add),
        dns_search=tuple(service.dns_search),
        init=service.init,
        restart_policy=service.restart or "",
        log_driver=service.logging.driver if service.logging else "",
        log_options=dict(service.logging.options) if service.logging else {},
        stop_timeout_s=service.stop_timeout_s,
        cpu_quota=service.cpu_quota,
        healthcheck=None if check is None else HealthcheckSpec(
            check.test, check.interval_ns, check.timeout_ns, check.retries, check.start_period_ns),
    )


def network_aliases(service: Service, container_name: str, extra: tuple[str, ...]) -> list[str]:
    """Service name and container name on every network (Harbor's services need both)."""
    return list(dict.fromkeys([service.name, container_name, *extra]))


def create_container(
    engine: Engine,
    project: ComposeProject,
    service: Service,
    desired_hash: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Create the service's container, attach it to all its networks, return its ID."""
    spec = container_spec(project, service, desired_hash, environ)
    try:
        container_id = engine.create_container(spec)
        for attachment in service.networks[1:]:
            engine.connect_network(container_id, project.network_name(attachment.name),
                                   network_aliases(service, spec.name, attachment.aliases))
    except EngineError as exc:
        raise HarborctlError(
            f"cannot create the container of service {service.name}: {exc.message}"
        ) from exc
    except DockerUnavailableError as exc:
        raise exc.during(f"creating the container of service {service.name}") from exc
    return container_id


def start_container(
    engine: Engine,
    service: str,
    container_id: str,
    report: Report,
    attempts: int = 20,
    delay: float | None = None,
) -> None:
    """Start a container; retry a refused logging driver (the log service may not listen yet)."""
    for attempt in range(1, attempts + 1):
        try:
            engine.start_container(container_id)
            return
        except DockerUnavailableError as exc:
            raise exc.during(f"starting the container of service {service}") from exc
        except EngineError as exc:
            if LOGGING_DRIVER_ERROR in exc.message and attempt < attempts:
                if attempt == 1:
                    report(f"{service}: logging driver not ready yet, retrying")
                time.sleep(START_RETRY_DELAY_S if delay is None else delay)
                continue
            hint = None
            if LOGGING_DRIVER_ERROR in exc.message:
                hint = "the log service does not accept connections: check its container and port"
            elif _NETWORK_GONE.search(exc.message):
                # A container keeps the ID of the network it joined: once that network was
                # removed by hand, only a new container starts (lifecycle/vanished.py).
                hint = ("its network was removed: run 'harborctl install', which creates the "
                        "container again (the data is kept)")
            raise HarborctlError(
                f"cannot start the container of service {service}: {exc.message}", hint=hint
            ) from exc


def remove_container(engine: Engine, service: str, container_id: str) -> None:
    """Remove a container (forcefully if still running); its anonymous volumes are kept."""
    try:
        engine.remove_container(container_id)
    except EngineNotFoundError:
        return
    except EngineError as exc:
        raise HarborctlError(
            f"cannot remove the container of service {service}: {exc.message}"
        ) from exc


def find_name_conflicts(
    engine: Engine, names: list[str], ours: set[str]
) -> list[tuple[str, str, str]]:
    """Containers named like one we must create that are not ours: ``(name, id, owner)``."""
    wanted = set(names)
    if not wanted:
        return []  # nothing to create: no list call
    conflicts = []
    for container in engine.list_containers():
        for name in container.names:
            if name in wanted and container.id not in ours:
                conflicts.append((name, container.id, container.project))
    return conflicts


def ensure_networks(engine: Engine, project: ComposeProject, report: Report) -> None:
    """Create the project's networks that do not exist yet (found by label)."""
    have = {n.name for n in engine.list_networks(filters=project_filter(project.name))}
    for network in project.networks:
        full = project.network_name(network.name)
        if full in have:
            continue
        if any(n.name == full for n in engine.list_networks(names=[full])):
            report(f"network {full} exists without the project's labels: using it")
            continue
        try:
            engine.create_network(full, network.driver or "bridge",
                                  lbl.network_labels(project, network.name))
        except EngineError as exc:
            raise HarborctlError(f"cannot create network {full}: {exc.message}") from exc
        report(f"created network {full}")


def remove_networks(engine: Engine, project_name: str, report: Report) -> list[str]:
    """Remove every network labelled with the project; return their names."""
    removed = []
    for network in engine.list_networks(filters=project_filter(project_name)):
        try:
            _remove_network(engine, network.id)
        except EngineNotFoundError:
            continue
        except EngineError as exc:
            raise HarborctlError(
                f"cannot remove network {network.name}: {exc.message}",
                hint="a container outside the project may still use it",
            ) from exc
        removed.append(network.name)
        report(f"removed network {network.name}")
    return removed


# The engine lets go of a just-removed container's endpoint a moment after the removal answers
# (seen once in about ten `down`s on Docker 20.10): "has active endpoints" is retried that long.
ENDPOINT_RELEASE_S = 5.0
ENDPOINT_RETRY_S = 0.2


def _remove_network(engine: Engine, network_id: str) -> None:
    deadline = time.monotonic() + ENDPOINT_RELEASE_S
    while True:
        try:
            engine.remove_network(network_id)
            return
        except EngineNotFoundError:
            raise
        except EngineError as exc:
            if "active endpoints" not in exc.message or time.monotonic() >= deadline:
                raise
            time.sleep(ENDPOINT_RETRY_S)
