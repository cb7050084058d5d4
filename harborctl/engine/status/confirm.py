"""``status`` between a start and Docker's first health check.

Docker reports ``starting`` until its first check, one interval (10 s as rendered) after the
start; ``install`` and ``start`` return as soon as each service's own check passes, so a
``status`` right after them would call services that harborctl just found ready ``starting``.
For those rows only, harborctl runs the service's check itself, now, and shows it ``healthy
(checked now)`` when it passes; a row whose check fails stays ``starting``, a problem.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harborctl.engine.api.interface import Engine
from harborctl.engine.lifecycle.health import check_now
from harborctl.engine.status.report import ProjectStatus, ServiceStatus


def confirm_starting(engine: Engine, status: ProjectStatus) -> ProjectStatus:
    """``status`` with each ``starting`` row whose own check passes now marked healthy."""
    starting = [s for s in status.services if s.starting]
    if not starting:
        return status
    with ThreadPoolExecutor(max_workers=len(starting)) as pool:
        passed = dict(zip((s.container_id for s in starting),
                          pool.map(lambda s: check_now(engine, s.container_id), starting)))

    def row(s: ServiceStatus) -> ServiceStatus:
        return s.checked_healthy() if passed.get(s.container_id) else s

    return ProjectStatus(status.project, tuple(row(s) for s in status.services))
