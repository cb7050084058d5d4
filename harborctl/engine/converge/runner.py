"""Run per-service steps in dependency order: each service's step as soon as its own
dependencies allow, not when a whole level of the graph is done.

Before its step, each service waits for each of its dependencies as its ``depends_on`` condition
says: the dependency's own step done (if it has one), then running for ``service_started`` or
ready for ``service_healthy`` — compose's meaning of the two. An unrelated slow service delays
nothing; a service with only ``service_started`` edges starts as soon as what it depends on has
been started. A dependency named in the service's ``x-harborctl-start-without`` is not waited
for at all: the service retries it (the release profile says why, per edge).
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Protocol

from harborctl.engine.compose.model import ComposeProject, Condition, dependency_levels
from harborctl.errors import HarborctlError

Report = Callable[[str], None]
Step = Callable[[], None]


class Gate(Protocol):
    """What the scheduler needs of a ``ReadinessWaiter``."""

    def wait(self, service: str, condition: Condition = "service_healthy") -> object: ...


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


# Steps that run at once. The engine does much of a container start under locks of its own
# (network set-up, the logging driver's connection): eight starts at once each took 1.4-2.7 s
# on a busy 2-core host, where compose, starting one at a time, starts the database 0.5 s after
# the log service. Two at a time keeps the engine busy; which two is what matters (below).
STEPS_AT_ONCE = 2
# The steps one readiness releases (all those waiting on the log service) arrive within a few
# milliseconds of each other, the first-served first: each waits this long before it may take
# a slot, so that the one the most services wait on is among those to choose from. The first
# install on the test host started the portal and registryctl before the database without it.
SETTLE = 0.03


def dependents_count(project: ComposeProject) -> dict[str, int]:
    """How many services wait on each service, directly or through others."""
    waiting_on: dict[str, set[str]] = {name: set() for name in project.service_names}
    for level in dependency_levels(project.services):
        for name in level:
            for dep in project.service(name).depends_on:
                if dep.service in waiting_on:
                    waiting_on[dep.service].add(name)
    counted: dict[str, set[str]] = {}

    def reach(name: str) -> set[str]:
        if name not in counted:
            found: set[str] = set()
            for dependent in waiting_on[name]:
                found |= {dependent} | reach(dependent)
            counted[name] = found
        return counted[name]

    return {name: len(reach(name)) for name in waiting_on}


class _Admission:
    """At most ``at_once`` steps at a time; a free slot goes to the waiting step of the service
    that the most services wait on (the database before the portal), then in ``order``: the
    long pole of an install is the database's first start, not the number of starts."""

    def __init__(self, at_once: int, order: Sequence[str], rank: Mapping[str, int]) -> None:
        self._free = at_once
        self._key = {name: (-rank.get(name, 0), i) for i, name in enumerate(order)}
        self._waiting: list[tuple[int, int]] = []
        self._changed = threading.Condition()

    @contextmanager
    def slot(self, name: str) -> Iterator[None]:
        key = self._key[name]
        eligible = time.monotonic() + SETTLE
        with self._changed:
            heapq.heappush(self._waiting, key)
            while True:
                left = eligible - time.monotonic()
                if left <= 0 and self._free and self._waiting[0] == key:
                    break
                self._changed.wait(left if left > 0 else None)
            heapq.heappop(self._waiting)
            self._free -= 1
            self._changed.notify_all()
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._changed.notify_all()


def run_by_dependencies(
    project: ComposeProject,
    steps: Mapping[str, Step],
    waiter: Gate,
    report: Report,
    wait_for: Iterable[str] = (),
) -> None:
    """Run ``steps``, each once its own dependencies are ready for its ``depends_on`` condition;
    then wait until every service of ``wait_for`` is ready: its own health check passing, where
    it has one (``health.wait_ready``). Once a step has failed no further step begins; the
    first failure (in dependency order) is raised."""
    # In level order, so that the pool's threads are handed out dependencies first.
    order = [name for level in dependency_levels(project.services) for name in level
             if name in steps]
    done = {name: threading.Event() for name in order}
    failed: list[str] = []
    lock = threading.Lock()
    admission = _Admission(STEPS_AT_ONCE, order, dependents_count(project))

    def run_one(name: str) -> None:
        try:
            service = project.service(name)
            for dep in service.depends_on:
                if dep.service in service.start_without:
                    continue  # it retries this one by itself
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
            with admission.slot(name):
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
    in_parallel(final, lambda name: waiter.wait(name, "service_healthy"), report)
