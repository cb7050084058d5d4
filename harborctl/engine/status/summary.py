"""Entries of the engine's container list (``GET /containers/json``), read without any import.

`harborctl status` is run by operators' scripts and monitors, often every few seconds; its whole
path (this module, report.py, the socket client, the service list) stays free of typing, re,
dataclasses, json and pathlib, which would cost more than the answer itself (each is several
milliseconds to import). Type names are imported for the type checker only."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, Protocol

    class ContainerLister(Protocol):
        """The one engine call a status needs (engine/api/interface.py's EngineReader has it)."""

        def list_containers(
            self, filters: Mapping[str, Sequence[str]] | None = None
        ) -> list[ListedContainer]: ...

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
ONEOFF_LABEL = "com.docker.compose.oneoff"

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400,
          "month": 30 * 86400, "year": 365 * 86400}
_HEALTH_MARKERS = (("(healthy)", "healthy"), ("(unhealthy)", "unhealthy"),
                   ("(health: starting)", "starting"))


def project_filter(project_name: str, extra: Iterable[str] = ()) -> dict[str, list[str]]:
    """The ``filters`` argument that finds a project's resources by label, and by label only."""
    return {"label": [f"{PROJECT_LABEL}={project_name}", *extra]}


def health_from_status(text: str) -> str | None:
    """The health Docker appends to a running container's status text, if any."""
    for marker, health in _HEALTH_MARKERS:
        if marker in text:
            return health
    return None


def uptime_from_status(text: str) -> float | None:
    """Seconds up, from Docker's rounded words ("Up 5 minutes", "Up About an hour",
    "Up Less than a second")."""
    if not text.startswith("Up "):
        return None
    words = text[3:].split()
    if words[:3] == ["Less", "than", "a"]:
        amount, rest = 0.5, words[3:]
    elif words[:1] == ["About"] and words[1:2] in (["a"], ["an"]):
        amount, rest = 1.0, words[2:]
    elif words and words[0].isdigit():
        amount, rest = float(words[0]), words[1:]
    else:
        return None
    unit = rest[0].removesuffix("s") if rest else ""
    return amount * _UNITS[unit] if unit in _UNITS else None


def describe_port(host_port: int, container_port: int, host_ip: str, protocol: str) -> str:
    host = f"{host_ip}:{host_port}" if host_ip else str(host_port)
    return f"{host}->{container_port}/{protocol}"


def published_ports(entry: Mapping[str, Any]) -> list[tuple[int, int, str, str]]:
    """The published ports of a list entry, each once, by container port then host address."""
    ports = {(int(p["PublicPort"]), int(p["PrivatePort"]), str(p.get("IP") or ""),
              str(p.get("Type") or "tcp"))
             for p in entry.get("Ports") or () if p.get("PublicPort")}
    return sorted(ports, key=lambda p: (p[1], p[2]))


class ListedContainer:
    """One container as the list describes it: no start time (the uptime comes from the status
    words) and no health field (read from the same words)."""

    __slots__ = ("id", "name", "names", "project", "service", "state", "health", "labels", "image",
                 "image_id", "ports", "uptime_s", "started_at")

    def __init__(self, entry: Mapping[str, Any]) -> None:
        labels: dict[str, str] = dict(entry.get("Labels") or {})
        status_text = str(entry.get("Status", ""))
        names = entry.get("Names") or [""]
        self.id = str(entry.get("Id", ""))
        self.name = str(names[0]).lstrip("/")
        self.names = tuple(str(name).lstrip("/") for name in names)
        self.project = labels.get(PROJECT_LABEL, "")
        self.service = labels.get(SERVICE_LABEL, "")
        self.state = str(entry.get("State", ""))
        self.health = health_from_status(status_text)
        self.labels = labels
        self.image = str(entry.get("Image", ""))
        self.image_id = str(entry.get("ImageID", ""))
        self.ports = published_ports(entry)
        self.uptime_s = uptime_from_status(status_text)
        self.started_at = ""

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def oneoff(self) -> bool:
        return self.labels.get(ONEOFF_LABEL, "False") == "True"

    @property
    def port_texts(self) -> tuple[str, ...]:
        return tuple(describe_port(*port) for port in self.ports)


def list_project(engine: ContainerLister, project_name: str) -> list[ListedContainer]:
    """Every container of the project (one list call by label), one-off ones left out."""
    return [c for c in engine.list_containers(project_filter(project_name)) if not c.oneoff]
