"""stop, start, restart and down of a project's containers, in dependency order.

``stop`` goes in reverse order (the service everybody depends on, log, last); ``start`` gates
each service on its dependencies as ``converge`` does. ``down`` never touches bind-mounted data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harborctl.engine.api.interface import Engine
from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.converge.containers import (
    list_project_containers,
    remove_container,
    remove_networks,
    start_container,
)
from harborctl.engine.converge.runner import run_by_dependencies
from harborctl.engine.lifecycle.health import DEFAULT_TIMEOUT, ReadinessWaiter
from harborctl.engine.lifecycle.stopping import DEFAULT_STOP_TIMEOUT, stop_containers, stop_project

Report = Callable[[str], None]


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


def start(
    engine: Engine,
    project: ComposeProject,
    report: Report,
    timeout: float = DEFAULT_TIMEOUT,
) -> StartResult:
    """Start existing containers in dependency order and wait until they are ready.

    Creates nothing: a service without a container is listed in ``missing``; with no container
    at all the result says ``nothing_to_start``.
    """
    containers = list_project_containers(engine, project.name)
    by_service = {c.service: c for c in sorted(containers, key=lambda c: not c.running)}
    missing = tuple(s for s in project.service_names if s not in by_service)
    present = [s for s in project.service_names if s in by_service]
    if not present:
        report(f"{project.name}: no container to start; install (or converge) first")
        return StartResult((), (), missing)
    for service in missing:
        report(f"{service} has no container; converge creates it")
    waiter = ReadinessWaiter(engine, report, timeout)
    for service in present:
        waiter.set_container(service, by_service[service].id,
                             started=not by_service[service].running)
    to_start = [s for s in present if not by_service[s].running]

    def step(service: str) -> Callable[[], None]:
        def run() -> None:
            container = by_service[service]
            if container.state == "paused":
                engine.unpause_container(container.id)
            else:
                start_container(engine, service, container.id, report)
            report(f"started {container.name}")
        return run

    run_by_dependencies(project, {s: step(s) for s in to_start}, waiter, report, wait_for=present)
    running = tuple(s for s in present if s not in to_start)
    return StartResult(tuple(to_start), running, missing)


def restart(
    engine: Engine,
    project: ComposeProject,
    report: Report,
    timeout: int = DEFAULT_STOP_TIMEOUT,
    health_timeout: float = DEFAULT_TIMEOUT,
) -> StartResult:
    """Stop everything (dependents first), then start it again with health gating."""
    stop_project(engine, project, report, timeout)
    return start(engine, project, report, health_timeout)


def down(
    engine: Engine,
    project: ComposeProject,
    report: Report,
    timeout: int = DEFAULT_STOP_TIMEOUT,
) -> DownResult:
    """Stop and remove the project's containers, then its networks. Bind-mounted host folders
    (the data volume, common/config) are never touched; anonymous volumes are kept too."""
    containers = list_project_containers(engine, project.name)
    stop_containers(engine, project, containers, report, timeout)
    removed = []
    for c in containers:
        remove_container(engine, c.service, c.id)
        report(f"removed {c.name}")
        removed.append(c.name)
    networks = remove_networks(engine, project.name, report)
    return DownResult(tuple(removed), tuple(networks))
