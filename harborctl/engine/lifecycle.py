"""stop, start, restart and down of a project's containers, in dependency order.

``stop`` goes in reverse order (the service everybody depends on, log, last); ``start`` gates
each service on its dependencies as ``converge`` does. ``down`` never touches bind-mounted data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import docker

from harborctl.engine.containers import (
    list_project_containers,
    remove_container,
    remove_networks,
    start_container,
    stop_container,
)
from harborctl.engine.health import DEFAULT_TIMEOUT, ReadinessWaiter
from harborctl.engine.model import ComposeProject, ContainerInfo, stop_levels
from harborctl.engine.runner import in_parallel, run_levels

Report = Callable[[str], None]
DEFAULT_STOP_TIMEOUT = 10


@dataclass(frozen=True)
class StartResult:
    started: tuple[str, ...]
    already_running: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def nothing_to_start(self) -> bool:
        """True when the project has no container at all (install or ``up`` first)."""
        return not self.started and not self.already_running


@dataclass(frozen=True)
class DownResult:
    containers: tuple[str, ...]
    networks: tuple[str, ...]


def _grace(project: ComposeProject, service: str, timeout: int) -> int:
    if service in project.service_names:
        own = project.service(service).stop_timeout_s
        if own is not None:
            return own
    return timeout


def _stop_all(
    client: docker.DockerClient,
    project: ComposeProject,
    containers: list[ContainerInfo],
    report: Report,
    timeout: int,
) -> list[str]:
    running: dict[str, list[ContainerInfo]] = {}
    for c in containers:
        if c.state in ("running", "paused", "restarting"):
            running.setdefault(c.service, []).append(c)
    known = set(project.service_names)
    waves = [[s for s in running if s not in known]]
    waves += [list(level) for level in stop_levels(project.services)]
    stopped: list[str] = []

    def stop_service(service: str) -> None:
        for c in running.get(service, []):
            stop_container(client, service, c.id, _grace(project, service, timeout))
            report(f"stopped {c.name}")
            stopped.append(service)

    for wave in waves:
        in_parallel([s for s in wave if s in running], stop_service, report)
    return stopped


def stop(
    client: docker.DockerClient,
    project: ComposeProject,
    report: Report,
    timeout: int = DEFAULT_STOP_TIMEOUT,
) -> list[str]:
    """Stop the running containers, dependents first; return the services stopped."""
    containers = list_project_containers(client, project.name)
    stopped = _stop_all(client, project, containers, report, timeout)
    if not stopped:
        report(f"{project.name}: nothing was running")
    return stopped


def start(
    client: docker.DockerClient,
    project: ComposeProject,
    report: Report,
    timeout: float = DEFAULT_TIMEOUT,
    accelerate: bool = True,
) -> StartResult:
    """Start existing containers in dependency order and wait until they are ready.

    Creates nothing: a service without a container is listed in ``missing``; with no container
    at all the result says ``nothing_to_start``.
    """
    containers = list_project_containers(client, project.name)
    by_service = {c.service: c for c in sorted(containers, key=lambda c: not c.running)}
    missing = tuple(s for s in project.service_names if s not in by_service)
    present = [s for s in project.service_names if s in by_service]
    if not present:
        report(f"{project.name}: no container to start; install (or converge) first")
        return StartResult((), (), missing)
    for service in missing:
        report(f"{service} has no container; converge creates it")
    waiter = ReadinessWaiter(client, report, timeout, accelerate)
    for service in present:
        waiter.set_container(service, by_service[service].id)
    to_start = [s for s in present if not by_service[s].running]

    def step(service: str) -> Callable[[], None]:
        def run() -> None:
            container = by_service[service]
            if container.state == "paused":
                client.api.unpause(container.id)
            else:
                start_container(client, service, container.id, report)
            report(f"started {container.name}")
        return run

    run_levels(project, {s: step(s) for s in to_start}, waiter, report, wait_for=present)
    running = tuple(s for s in present if s not in to_start)
    return StartResult(tuple(to_start), running, missing)


def restart(
    client: docker.DockerClient,
    project: ComposeProject,
    report: Report,
    timeout: int = DEFAULT_STOP_TIMEOUT,
    health_timeout: float = DEFAULT_TIMEOUT,
) -> StartResult:
    """Stop everything (dependents first), then start it again with health gating."""
    stop(client, project, report, timeout)
    return start(client, project, report, health_timeout)


def down(
    client: docker.DockerClient,
    project: ComposeProject,
    report: Report,
    timeout: int = DEFAULT_STOP_TIMEOUT,
) -> DownResult:
    """Stop and remove the project's containers, then its networks. Bind-mounted host folders
    (the data volume, common/config) are never touched; anonymous volumes are kept too."""
    containers = list_project_containers(client, project.name)
    _stop_all(client, project, containers, report, timeout)
    removed = []
    for c in containers:
        remove_container(client, c.service, c.id)
        report(f"removed {c.name}")
        removed.append(c.name)
    networks = remove_networks(client, project.name, report)
    return DownResult(tuple(removed), tuple(networks))
