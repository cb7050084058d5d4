"""Bring the containers of a project in line with its compose file (what ``up -d`` does).

``plan_converge`` is pure: from the project, the containers found and the image/file digests it
decides per service. ``converge`` gathers those inputs, runs the plan and waits for health.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from harborctl.engine.api.interface import Engine
from harborctl.engine.compose.model import ComposeProject, ContainerInfo
from harborctl.engine.converge.containers import (
    create_container,
    ensure_networks,
    find_name_conflicts,
    remove_container,
    start_container,
)
from harborctl.engine.converge.planning import (
    Action,
    ConvergeResult,
    ProjectPlan,
    plan_converge,
    plan_project,
)
from harborctl.engine.converge.ports import ports_in_use
from harborctl.engine.converge.runner import in_parallel, run_by_dependencies
from harborctl.engine.lifecycle.health import DEFAULT_TIMEOUT, ReadinessWaiter
from harborctl.engine.lifecycle.stopping import DEFAULT_STOP_TIMEOUT, stop_container
from harborctl.errors import HarborctlError

Report = Callable[[str], None]


def converge(
    engine: Engine,
    project: ComposeProject,
    report: Report,
    *,
    plan: ProjectPlan | None = None,
    check_ports: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    stop_timeout: int = DEFAULT_STOP_TIMEOUT,
) -> ConvergeResult:
    """Create, recreate or start what the compose file asks for, then wait until all is ready.

    Raises ``HarborctlError`` (a missing image, a name or port taken by something else, a Docker
    refusal) before touching anything where it can, and ``UnhealthyError`` naming the service
    that did not become healthy within ``timeout`` seconds. ``plan`` is the plan when the caller
    has made it already; ``check_ports=False`` when it has checked the host ports too.
    """
    started = time.monotonic()
    if plan is None:
        plan = plan_project(engine, project)
    actions, existing = list(plan.actions), list(plan.existing)
    _preflight(engine, project, actions, existing, check_ports)
    for action in actions:
        if action.kind != "noop":
            report(action.describe())
    if not any(a.kind != "noop" for a in actions):
        report(f"{project.name}: everything is up to date")

    for action in actions:
        if action.kind == "remove" and action.container is not None:
            remove_container(engine, action.service, action.container.id)
    ensure_networks(engine, project, report)
    waiter = ReadinessWaiter(engine, report, timeout)
    by_service = {a.service: a for a in actions if a.kind != "remove"}
    for action in by_service.values():
        if action.container is not None:
            waiter.set_container(action.service, action.container.id)

    created = _create_up_front(engine, project, [a for a in by_service.values()
                                                 if a.kind == "create"], report)

    def step(action: Action) -> Callable[[], None]:
        def run() -> None:
            _execute(engine, project, action, waiter, report, stop_timeout,
                     created.get(action.service))
        return run

    steps = {a.service: step(a) for a in by_service.values() if a.kind != "noop"}
    run_by_dependencies(project, steps, waiter, report, wait_for=project.service_names)
    return ConvergeResult(project.name, tuple(actions), time.monotonic() - started)


# Containers created at once, not per level: each creation took 0.2-0.4 s on a 2-core host and
# was paid again at every link of the chain of readiness gates (log, database, adminserver, core,
# portal, proxy). Creating never starts anything, so no start order or gate changes (a syslog
# container may exist before the log service listens; it only must not start). At most this
# many at a time: the docker SDK keeps 10 connections per host and logs a warning beyond.
CREATE_AT_ONCE = 8


def _create_up_front(engine: Engine, project: ComposeProject, actions: list[Action],
                     report: Report) -> dict[str, str]:
    """Create the containers of ``actions`` (new services), in parallel; service -> ID."""
    created: dict[str, str] = {}

    def create(name: str) -> None:
        service = project.service(name)
        desired = next(a.desired_hash for a in actions if a.service == name)
        created[name] = create_container(engine, project, service, desired)
        report(f"created {project.container_name(service)}")

    names = [a.service for a in actions]
    for first in range(0, len(names), CREATE_AT_ONCE):
        in_parallel(names[first:first + CREATE_AT_ONCE], create, report)
    return created


def _execute(
    engine: Engine,
    project: ComposeProject,
    action: Action,
    waiter: ReadinessWaiter,
    report: Report,
    stop_timeout: int,
    created: str | None = None,
) -> None:
    """One service's step; ``created``: its container, when it was created up front."""
    service = project.service(action.service)
    grace = service.stop_timeout_s if service.stop_timeout_s is not None else stop_timeout
    old = action.container
    if action.kind == "recreate" and old is not None:
        stop_container(engine, service.name, old.id, grace)
        remove_container(engine, service.name, old.id)
    if created is not None:
        container_id = created
    elif action.kind in ("create", "recreate"):
        container_id = create_container(engine, project, service, action.desired_hash)
        report(f"created {project.container_name(service)}")
    else:
        assert old is not None
        container_id = old.id
        if action.kind == "restart":
            stop_container(engine, service.name, container_id, grace)
        elif old.state == "paused":
            engine.unpause_container(container_id)
            waiter.set_container(service.name, container_id, started=True)
            return
    waiter.set_container(service.name, container_id, started=True)
    start_container(engine, service.name, container_id, report)
    report(f"started {project.container_name(service)}")


def _preflight(
    engine: Engine,
    project: ComposeProject,
    actions: list[Action],
    existing: list[ContainerInfo],
    check_ports: bool,
) -> None:
    """Refuse before changing anything: a foreign container holding a name, or a busy port."""
    creating = [project.container_name(project.service(a.service))
                for a in actions if a.kind in ("create", "recreate")]
    ours = {c.id for c in existing}
    conflicts = find_name_conflicts(engine, creating, ours)
    if conflicts:
        name, cid, owner = conflicts[0]
        whose = f"project {owner}" if owner else "no compose project"
        raise HarborctlError(
            f"a container named {name} ({cid[:12]}) already exists and belongs to {whose}, "
            f"not to {project.name}",
            hint=f"remove it (`docker rm -f {name}`) if it is a leftover of an older install, "
                 "or stop whatever runs it; harborctl never removes containers it did not make",
        )
    if not check_ports:
        return
    held = {p.host_port for c in existing if c.running for p in c.ports}
    wanted = [p for a in actions if a.kind in ("create", "recreate", "start")
              for p in project.service(a.service).ports]
    busy = ports_in_use(wanted, ours=held)
    if busy:
        ports = ", ".join(str(p.host_port) for p in busy)
        raise HarborctlError(
            f"host port {ports} is already in use by another program",
            hint="stop what listens there (`ss -ltnp` shows it) or choose another port in "
                 "harbor.cfg and install again",
        )


__all__ = ["Action", "ConvergeResult", "converge", "plan_converge"]
