"""What runs: one label query, then pure summarising and formatting for the CLI to print.

Lean on purpose, like summary.py: no dataclasses, typing or datetime at import time, so that
`harborctl status` answers in little more than the interpreter's start-up."""

from __future__ import annotations

from harborctl.engine.status.summary import list_project

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any, Protocol

    from harborctl.engine.status.summary import ContainerLister

    class ServiceView(Protocol):
        @property
        def name(self) -> str: ...

        @property
        def image(self) -> str: ...

    class ProjectView(Protocol):
        """What a status needs of a project: a ComposeProject or a cached service list."""

        @property
        def name(self) -> str: ...

        @property
        def services(self) -> Sequence[ServiceView]: ...

        def container_name(self, service: Any) -> str: ...

    class ContainerView(Protocol):
        """What a status needs of a container: a ContainerInfo or a ListedContainer."""

        @property
        def id(self) -> str: ...

        @property
        def name(self) -> str: ...

        @property
        def service(self) -> str: ...

        @property
        def state(self) -> str: ...

        @property
        def health(self) -> str | None: ...

        @property
        def image(self) -> str: ...

        @property
        def started_at(self) -> str: ...

        @property
        def uptime_s(self) -> float | None: ...

        @property
        def running(self) -> bool: ...

        @property
        def port_texts(self) -> tuple[str, ...]: ...

STATUS_FORMAT_VERSION = 1
HEADER = ("SERVICE", "CONTAINER", "STATE", "HEALTH", "UPTIME", "PORTS", "IMAGE")


class ServiceStatus:
    """One service's row. ``health`` is Docker's word, except with ``checked_now``: Docker had not
    run its first check yet (``starting``) and harborctl ran the service's own check just now,
    which passed (``health`` is then ``healthy``)."""

    __slots__ = ("service", "container", "container_id", "state", "health", "uptime_s", "ports",
                 "image", "in_compose_file", "checked_now")

    def __init__(self, service: str, container: str, container_id: str, state: str,
                 health: str | None, uptime_s: float | None, ports: tuple[str, ...], image: str,
                 in_compose_file: bool = True, checked_now: bool = False) -> None:
        self.service = service
        self.container = container
        self.container_id = container_id
        self.state = state
        self.health = health
        self.uptime_s = uptime_s
        self.ports = ports
        self.image = image
        self.in_compose_file = in_compose_file
        self.checked_now = checked_now

    @property
    def starting(self) -> bool:
        """Running, and Docker has no verdict yet."""
        return self.state == "running" and self.health == "starting"

    def checked_healthy(self) -> ServiceStatus:
        return ServiceStatus(self.service, self.container, self.container_id, self.state,
                             "healthy", self.uptime_s, self.ports, self.image,
                             self.in_compose_file, True)

    @property
    def ok(self) -> bool:
        return self.state == "running" and self.health in (None, "healthy")


class ProjectStatus:
    __slots__ = ("project", "services")

    def __init__(self, project: str, services: tuple[ServiceStatus, ...]) -> None:
        self.project = project
        self.services = services

    @property
    def problems(self) -> tuple[str, ...]:
        """One sentence per service of the compose file that is not up (empty when all are)."""
        result = []
        for s in self.services:
            if not s.in_compose_file or s.ok:
                continue
            if s.state == "missing":
                result.append(f"{s.service} has no container")
            elif s.state != "running":
                result.append(f"{s.service} ({s.container}) is {s.state}")
            else:
                result.append(f"{s.service} ({s.container}) is {s.health}")
        return tuple(result)

    @property
    def overall_ok(self) -> bool:
        return not self.problems


def _parse_time(text: str) -> datetime | None:
    if not text or text.startswith("0001-"):
        return None
    from datetime import datetime, timezone
    head, _, fraction = text.rstrip("Z").partition(".")
    try:
        moment = datetime.fromisoformat(head)
    except ValueError:
        return None
    if fraction.isdigit():
        moment = moment.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return moment.replace(tzinfo=timezone.utc)


def only_services(status: ProjectStatus, names: Sequence[str]) -> ProjectStatus:
    """The rows of the services ``names``, in their order; a name that is no service of the
    compose file (nor a container of the project) is a usage error listing the known ones."""
    by_name = {s.service: s for s in status.services}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        from harborctl.errors import UsageError

        raise UsageError(f"no service {', '.join(unknown)} in the project",
                         hint=f"its services: {', '.join(by_name)}")
    return ProjectStatus(status.project, tuple(by_name[name] for name in dict.fromkeys(names)))


def summarize(
    project: ProjectView, containers: Sequence[ContainerView], now: datetime | None = None
) -> ProjectStatus:
    """Pure: per service of the file its container (or ``missing``); then containers of the
    project whose service is no longer in the file. ``now`` only matters for containers known
    by their start time (inspected ones); listed ones carry their uptime."""
    by_service: dict[str, ContainerView] = {}
    for c in sorted(containers, key=lambda c: (not c.running, c.name)):
        by_service.setdefault(c.service, c)
    rows: list[ServiceStatus] = []
    for service in project.services:
        found = by_service.get(service.name)
        if found is None:
            rows.append(ServiceStatus(service.name, project.container_name(service), "",
                                      "missing", None, None, (), service.image))
        else:
            rows.append(_row(found, now, True))
    names = {service.name for service in project.services}
    rows.extend(_row(c, now, False) for c in containers if c.service not in names)
    return ProjectStatus(project.name, tuple(rows))


def _row(container: ContainerView, now: datetime | None, in_file: bool) -> ServiceStatus:
    started = _parse_time(container.started_at)
    uptime = None
    if started and container.running:
        from datetime import datetime, timezone

        uptime = ((now or datetime.now(timezone.utc)) - started).total_seconds()
    if uptime is None and container.running:
        uptime = container.uptime_s
    return ServiceStatus(
        service=container.service,
        container=container.name,
        container_id=container.id,
        state=container.state,
        health=container.health,
        uptime_s=uptime,
        ports=container.port_texts,
        image=container.image,
        in_compose_file=in_file,
    )


def project_status(
    engine: ContainerLister, project: ProjectView, now: datetime | None = None
) -> ProjectStatus:
    """Status of every service, from one label query (works for a docker-compose project too)."""
    return summarize(project, list_project(engine, project.name), now)


def format_uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def status_rows(status: ProjectStatus) -> list[tuple[str, ...]]:
    """A header row then one row per service, all strings, for a table."""
    rows: list[tuple[str, ...]] = [HEADER]
    for s in status.services:
        name = s.service if s.in_compose_file else f"{s.service} (not in compose file)"
        health = f"{s.health} (checked now)" if s.checked_now else s.health or "-"
        rows.append((name, s.container, s.state, health, format_uptime(s.uptime_s),
                     ", ".join(s.ports) or "-", s.image))
    return rows


def status_table(status: ProjectStatus) -> str:
    """The rows as aligned text columns, one line each."""
    rows = status_rows(status)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                     .rstrip() for row in rows)


def status_dict(status: ProjectStatus) -> dict[str, Any]:
    """A JSON-able, versioned description for scripts."""
    return {
        "format_version": STATUS_FORMAT_VERSION,
        "project": status.project,
        "ok": status.overall_ok,
        "problems": list(status.problems),
        "services": [
            {
                "service": s.service,
                "container": s.container,
                "container_id": s.container_id,
                "state": s.state,
                "health": s.health,
                "uptime_seconds": None if s.uptime_s is None else round(s.uptime_s, 1),
                # who said it: Docker's check, or harborctl's run of it before Docker's first
                "health_checked_by": (None if s.health is None
                                      else "harborctl" if s.checked_now else "docker"),
                "ports": list(s.ports),
                "image": s.image,
                "in_compose_file": s.in_compose_file,
                "ok": s.ok,
            }
            for s in status.services
        ],
    }
