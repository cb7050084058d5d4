"""Run per-service steps in dependency order: each service's step as soon as its own
dependencies allow, not when a whole level of the graph is done.

Before its step, each service waits for each of its dependencies as its ``depends_on`` condition
says: the dependency's own step done (if it has one), then running for ``service_started`` or
ready for ``service_healthy`` — compose's meaning of the two. An unrelated slow service delays
nothing; a service with only ``service_started`` edges starts as soon as what it depends on has
been started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from harborctl.engine.compose.model import ComposeProject, Condition, dependency_levels
from harborctl.errors import HarborctlError

Report = Callable[[str], None]
Step = Callable[[], None]


class Gate(Protocol):
    """What the scheduler needs of a ``ReadinessWaiter``."""

    def wait(self, service: str, condition: Condition = "service_healthy",
             trust_probe: bool = True) -> object: ...


class _NotStarted(Exception):
    """A step not run because a step before it failed (that failure is the one raised)."""


def in_parallel(names: Sequence[str], work: Callable[[str], object], report: Report) -> None:
    """Call ``work(name)`` for every name at once; raise the first failure (in ``names`` order)."""
    if not names:
        return
    if len(names) == 1:
        work(names[0])
        return
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="harborctl") as pool:
        futures = [(name, pool.submit(work, name)) for name in names]
        failures: list[BaseException] = []
        for name, future in futures:
            exc = future.exception()
            if exc is None or isinstance(exc, _NotStarted):
                continue
            failures.append(exc)
            if len(failures) > 1:
                report(f"{name} failed too: {str(exc).splitlines()[0]}")
    if failures:
        raise failures[0]


def run_by_dependencies(
    project: ComposeProject,
    steps: Mapping[str, Step],
    waiter: Gate,
    report: Report,
    wait_for: Iterable[str] = (),
) -> None:
    """Run ``steps``, each once its own dependencies are ready for its ``depends_on`` condition;
    then wait until every service of ``wait_for`` is ready: healthy as Docker reports it, where
    it has a check. Once a step has failed no further step begins; the first failure (in
    dependency order) is raised."""
    # In level order, so that the pool's threads are handed out dependencies first.
    order = [name for level in dependency_levels(project.services) for name in level
             if name in steps]
    done = {name: threading.Event() for name in order}
    failed: list[str] = []
    lock = threading.Lock()

    def run_one(name: str) -> None:
        try:
            for dep in project.service(name).depends_on:
                if dep.service in done:
                    # Its step first: until then the waiter may know only its old container.
                    done[dep.service].wait()
                    if dep.service in failed:
                        raise _NotStarted(name)
                try:
                    waiter.wait(dep.service, dep.condition)
                except HarborctlError:
                    report(f"{name} not started: its dependency {dep.service} is not ready")
                    raise
            if failed:
                raise _NotStarted(name)
            steps[name]()
        except BaseException:
            with lock:
                failed.append(name)
            raise
        finally:
            done[name].set()

    in_parallel(order, run_one, report)
    final = [name for name in project.service_names if name in set(wait_for)]
    in_parallel(final, lambda name: waiter.wait(name, "service_healthy", False), report)
