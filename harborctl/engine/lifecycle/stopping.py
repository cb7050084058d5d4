"""Stopping a project: each service as soon as the processes of every service depending on it
have exited.

Free of the docker package: it needs only the ``EngineReader`` calls (list, inspect, stop), which
the light socket client answers as well as the docker SDK adapter."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from harborctl.engine.api.hangs import has_known_deadlock
from harborctl.engine.compose.model import ComposeProject, ContainerInfo
from harborctl.engine.lifecycle.exitwatch import has_exited, open_exit_watch
from harborctl.engine.status.listing import list_project_containers
from harborctl.errors import DockerUnavailableError, EngineError, HarborctlError

if TYPE_CHECKING:
    from harborctl.engine.api.interface import EngineReader

Report = Callable[[str], None]
DEFAULT_STOP_TIMEOUT = 10
_ACTIVE = ("running", "paused", "restarting")


def grace(project: ComposeProject, service: str, timeout: int) -> int:
    if service in project.service_names:
        own = project.service(service).stop_timeout_s
        if own is not None:
            return own
    return timeout


def stop_order(project: ComposeProject, services: set[str]) -> dict[str, set[str]]:
    """For each service to stop, the services that must be stopped before it: every one that
    depends on it, directly or through others (log outlives all that write to it, even when a
    service in between is already stopped), and first of all containers of services no longer
    in the compose file."""
    known = set(project.service_names)
    strays = {s for s in services if s not in known}
    dependents: dict[str, set[str]] = {name: set() for name in known}
    for svc in project.services:
        for dep in svc.depends_on:
            if dep.service in dependents:
                dependents[dep.service].add(svc.name)

    def closure(name: str, seen: set[str]) -> set[str]:
        for dependent in dependents.get(name, set()) - seen:
            seen.add(dependent)
            closure(dependent, seen)
        return seen

    after = {name: closure(name, set()) & services for name in services - strays}
    for name in after:
        after[name] |= strays
    after.update({name: set() for name in strays})
    return after


def run_graph(after: dict[str, set[str]], work: Callable[[str], object],
              workers: int | None = None) -> None:
    """Run ``work(name)`` for every name once all of ``after[name]`` are done; as many at once
    as are ready (at most ``workers``). The first failure is raised once the running ones have
    finished."""
    done: set[str] = set()
    pending = dict(after)
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers or max(1, len(after)),
                            thread_name_prefix="stop") as pool:
        running: dict[Future[object], str] = {}
        while pending or running:
            if failure is None:
                for name in [n for n, needs in pending.items() if needs <= done]:
                    del pending[name]
                    running[pool.submit(work, name)] = name
            if not running:
                if pending and failure is None:
                    raise HarborctlError(f"cannot order the stop of: {', '.join(sorted(pending))}")
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                if future.exception() is not None and failure is None:
                    failure = future.exception()
                done.add(name)
    if failure is not None:
        raise failure


def one_at_a_time(engine: EngineReader) -> bool:
    """Whether the engine has the stop deadlock of moby/moby#46661 (Docker 20.10.0-20.10.26),
    which concurrent stops of containers on one network provoke."""
    try:
        return has_known_deadlock(engine.server_version())
    except DockerUnavailableError:
        return True  # unknown: the careful way; the stop's own calls will say what is wrong


def stop_containers(engine: EngineReader, project: ComposeProject, containers: list[ContainerInfo],
                    report: Report, timeout: int, serial: bool | None = None) -> list[str]:
    """Stop the active ones among ``containers``, each service once the processes of all that
    depend on it have exited; return when the engine has finished stopping every one.

    ``serial`` (by default: on an engine with the known stop deadlock) stops one container at
    a time and waits for the engine's answer before the next: no stop overlaps the engine's
    tidying up of the previous container's network endpoint."""
    by_service: dict[str, list[ContainerInfo]] = {}
    for c in containers:
        if c.state in _ACTIVE:
            by_service.setdefault(c.service, []).append(c)
    if not by_service:
        return []
    if serial is None:
        serial = one_at_a_time(engine)
    if serial:
        return _stop_serially(engine, project, by_service, report, timeout)
    stopped: list[str] = []
    requests: list[Future[None]] = []
    lock = threading.Lock()

    with ThreadPoolExecutor(max_workers=max(1, len(containers)),
                            thread_name_prefix="stop-request") as engine_calls:
        def stop_service(service: str) -> None:
            for c in by_service[service]:
                watch = _exit_watch(engine, c.id)
                request = engine_calls.submit(
                    stop_container, engine, service, c.id, grace(project, service, timeout))
                with lock:
                    requests.append(request)
                _wait_stopped(request, watch)
                report(f"stopped {c.name}")
                with lock:
                    stopped.append(service)

        try:
            run_graph(stop_order(project, set(by_service)), stop_service)
        finally:
            wait(requests)
    for request in requests:
        request.result()  # the first failure of the engine, if any, once all have answered
    return stopped


def _stop_serially(engine: EngineReader, project: ComposeProject,
                   by_service: dict[str, list[ContainerInfo]], report: Report, timeout: int
                   ) -> list[str]:
    stopped: list[str] = []

    def stop_service(service: str) -> None:
        for c in by_service[service]:
            stop_container(engine, service, c.id, grace(project, service, timeout))
            report(f"stopped {c.name}")
        stopped.append(service)

    run_graph(stop_order(project, set(by_service)), stop_service, workers=1)
    return stopped


def stop_container(engine: EngineReader, service: str, container_id: str, timeout: int) -> None:
    """Stop a container (already stopped or gone: nothing to do)."""
    try:
        engine.stop_container(container_id, timeout)
    except EngineError as exc:
        raise HarborctlError(f"cannot stop the container of service {service}: {exc.message}"
                             ) from exc
    except DockerUnavailableError as exc:
        raise exc.during(f"stopping the container of service {service}") from exc


def _exit_watch(engine: EngineReader, container_id: str) -> int | None:
    try:
        pid = engine.inspect_container(container_id).pid
    except HarborctlError:  # gone already, or no answer: the stop request's answer decides
        return None
    return open_exit_watch(container_id, pid)


def _wait_stopped(request: Future[None], watch: int | None) -> None:
    """Until the container's process has exited (when watched) or the engine answered."""
    if watch is None:
        request.result()
        return
    try:
        while not has_exited(watch, 0.05):
            if request.done():
                request.result()  # the engine failed (raises) or stopped it without an exit seen
                return
    finally:
        os.close(watch)


def stop_project(engine: EngineReader, project: ComposeProject, report: Report,
                 timeout: int = DEFAULT_STOP_TIMEOUT) -> list[str]:
    """Stop the running containers, dependents first; return the services stopped."""
    stopped = stop_containers(engine, project, list_project_containers(engine, project.name),
                              report, timeout)
    if not stopped:
        report(f"{project.name}: nothing was running")
    return stopped
