"""Run per-service steps level by level in dependency order, a level's services in parallel.

Before its step, each service waits for each of its dependencies as its ``depends_on`` condition
says (running for ``service_started``, ready for ``service_healthy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from harborctl.engine.compose.model import ComposeProject, dependency_levels
from harborctl.engine.lifecycle.health import ReadinessWaiter
from harborctl.errors import HarborctlError

Report = Callable[[str], None]
Step = Callable[[], None]


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
            if exc is not None:
                failures.append(exc)
                if len(failures) > 1:
                    report(f"{name} failed too: {str(exc).splitlines()[0]}")
    if failures:
        raise failures[0]


def run_levels(
    project: ComposeProject,
    steps: Mapping[str, Step],
    waiter: ReadinessWaiter,
    report: Report,
    wait_for: Iterable[str] = (),
) -> None:
    """Run ``steps`` in dependency order, gating each on its dependencies; then wait until
    every service of ``wait_for`` is ready: healthy as Docker reports it, where it has a check."""

    def run_one(name: str) -> None:
        for dep in project.service(name).depends_on:
            try:
                waiter.wait(dep.service, dep.condition)
            except HarborctlError:
                report(f"{name} not started: its dependency {dep.service} is not ready")
                raise
        steps[name]()

    for level in dependency_levels(project.services):
        in_parallel([name for name in level if name in steps], run_one, report)
    final = [name for name in project.service_names if name in set(wait_for)]
    in_parallel(final, lambda name: waiter.wait(name, "service_healthy", False), report)
