"""Finding a project's containers (by label only) and turning a compose service into one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import docker
from docker.types import LogConfig

from harborctl.engine import labels as lbl
from harborctl.engine.listing import list_project_containers
from harborctl.engine.model import ComposeProject, Service
from harborctl.engine.summary import project_filter
from harborctl.engine.syntax import read_env_file
from harborctl.errors import FilesystemError, HarborctlError

Report = Callable[[str], None]
__all__ = ["list_project_containers"]  # kept importable from here

LOGGING_DRIVER_ERROR = "failed to initialize logging driver"


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


def create_kwargs(
    api: docker.APIClient,
    project: ComposeProject,
    service: Service,
    desired_hash: str,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``api.create_container`` for ``service`` (first network only)."""
    port_bindings: dict[str, list[Any]] = {}
    for port in service.ports:
        key = f"{port.container_port}/{port.protocol}"
        binding: Any = (port.host_ip, port.host_port) if port.host_ip else port.host_port
        port_bindings.setdefault(key, []).append(binding)
    host_kwargs: dict[str, Any] = {
        "binds": [m.bind_spec() for m in service.volumes],
        "port_bindings": port_bindings,
        "cap_drop": list(service.cap_drop) or None,
        "cap_add": list(service.cap_add) or None,
        "dns_search": list(service.dns_search) or None,
        "init": service.init,
    }
    if service.restart:
        name, _, count = service.restart.partition(":")
        host_kwargs["restart_policy"] = {"Name": name, "MaximumRetryCount": int(count or 0)}
    if service.logging:
        host_kwargs["log_config"] = LogConfig(
            type=service.logging.driver, config=dict(service.logging.options)
        )
    host_config = api.create_host_config(**{k: v for k, v in host_kwargs.items() if v is not None})
    name = project.container_name(service)
    first = service.networks[0]
    networking_config = api.create_networking_config(
        {project.network_name(first.name): api.create_endpoint_config(
            aliases=network_aliases(service, name, first.aliases))}
    )
    kwargs: dict[str, Any] = {
        "image": service.image,
        "name": name,
        "command": list(service.command) if service.command is not None else None,
        "entrypoint": list(service.entrypoint) if service.entrypoint is not None else None,
        "environment": service_environment(service, environ),
        "labels": lbl.container_labels(project, service, desired_hash),
        "host_config": host_config,
        "networking_config": networking_config,
        "ports": sorted({(p.container_port, p.protocol) for p in service.ports}),
        "user": service.user,
        "stop_timeout": service.stop_timeout_s,
        "detach": True,
    }
    if service.healthcheck is not None:
        kwargs["healthcheck"] = _healthcheck(service)
    return {k: v for k, v in kwargs.items() if v is not None}


def _healthcheck(service: Service) -> dict[str, Any]:
    check = service.healthcheck
    assert check is not None
    raw = {
        "test": list(check.test) if check.test is not None else None,
        "interval": check.interval_ns,
        "timeout": check.timeout_ns,
        "retries": check.retries,
        "start_period": check.start_period_ns,
    }
    return {k: v for k, v in raw.items() if v is not None}


def network_aliases(service: Service, container_name: str, extra: tuple[str, ...]) -> list[str]:
    """Service name and container name on every network (Harbor's services need both)."""
    return list(dict.fromkeys([service.name, container_name, *extra]))


def create_container(
    client: docker.DockerClient,
    project: ComposeProject,
    service: Service,
    desired_hash: str,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Create the service's container, attach it to all its networks, return its ID."""
    api = client.api
    kwargs = create_kwargs(api, project, service, desired_hash, environ)
    try:
        container_id = str(api.create_container(**kwargs)["Id"])
        for attachment in service.networks[1:]:
            api.connect_container_to_network(
                container_id,
                project.network_name(attachment.name),
                aliases=network_aliases(service, kwargs["name"], attachment.aliases),
            )
    except docker.errors.APIError as exc:
        raise HarborctlError(
            f"cannot create the container of service {service.name}: {_explain(exc)}"
        ) from exc
    return container_id


def start_container(
    client: docker.DockerClient,
    service: str,
    container_id: str,
    report: Report,
    attempts: int = 20,
    delay: float = 0.25,
) -> None:
    """Start a container; retry a refused logging driver (the log service may not listen yet)."""
    for attempt in range(1, attempts + 1):
        try:
            client.api.start(container_id)
            return
        except docker.errors.APIError as exc:
            if LOGGING_DRIVER_ERROR in str(exc) and attempt < attempts:
                if attempt == 1:
                    report(f"{service}: logging driver not ready yet, retrying")
                time.sleep(delay)
                continue
            hint = None
            if LOGGING_DRIVER_ERROR in str(exc):
                hint = "the log service does not accept connections: check its container and port"
            raise HarborctlError(
                f"cannot start the container of service {service}: {_explain(exc)}", hint=hint
            ) from exc


def stop_container(
    client: docker.DockerClient, service: str, container_id: str, timeout: int
) -> None:
    try:
        client.api.stop(container_id, timeout=timeout)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        raise HarborctlError(f"cannot stop the container of service {service}: {_explain(exc)}"
                             ) from exc


def remove_container(client: docker.DockerClient, service: str, container_id: str) -> None:
    """Remove a container (forcefully if still running); its anonymous volumes are kept."""
    try:
        client.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        raise HarborctlError(
            f"cannot remove the container of service {service}: {_explain(exc)}"
        ) from exc


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


def find_name_conflicts(
    client: docker.DockerClient, names: list[str], ours: set[str]
) -> list[tuple[str, str, str]]:
    """Containers named like one we must create that are not ours: ``(name, id, owner)``."""
    wanted = set(names)
    conflicts = []
    for entry in client.api.containers(all=True):
        for raw_name in entry.get("Names") or ():
            name = raw_name.lstrip("/")
            if name in wanted and entry["Id"] not in ours:
                owner = (entry.get("Labels") or {}).get(lbl.PROJECT, "")
                conflicts.append((name, str(entry["Id"]), owner))
    return conflicts


def ensure_networks(client: docker.DockerClient, project: ComposeProject, report: Report) -> None:
    """Create the project's networks that do not exist yet (found by label)."""
    existing = client.api.networks(filters=project_filter(project.name))
    have = {n["Name"] for n in existing}
    for network in project.networks:
        full = project.network_name(network.name)
        if full in have:
            continue
        if any(n["Name"] == full for n in client.api.networks(names=[full])):
            report(f"network {full} exists without the project's labels: using it")
            continue
        try:
            client.api.create_network(
                full, driver=network.driver or "bridge",
                labels=lbl.network_labels(project, network.name), check_duplicate=True,
            )
        except docker.errors.APIError as exc:
            raise HarborctlError(f"cannot create network {full}: {_explain(exc)}") from exc
        report(f"created network {full}")


def remove_networks(client: docker.DockerClient, project_name: str, report: Report) -> list[str]:
    """Remove every network labelled with the project; return their names."""
    removed = []
    for network in client.api.networks(filters=project_filter(project_name)):
        try:
            client.api.remove_network(network["Id"])
        except docker.errors.NotFound:
            continue
        except docker.errors.APIError as exc:
            raise HarborctlError(
                f"cannot remove network {network['Name']}: {_explain(exc)}",
                hint="a container outside the project may still use it",
            ) from exc
        removed.append(str(network["Name"]))
        report(f"removed network {network['Name']}")
    return removed
