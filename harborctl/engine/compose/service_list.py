"""The services of a compose file, remembered beside it so that `harborctl status` need not read
YAML (importing PyYAML alone costs more than a whole status).

A few tab-separated lines in ``.harborctl-services``, rewritten whenever a command has parsed
the compose file, and trusted only while that file is byte for byte the one they describe
(same length and CRC-32) and the project is named the same way (same folder, same ``-p``).
A compose file that uses ``$VARIABLES`` is never remembered: its services depend on the
environment."""

from __future__ import annotations

import os
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harborctl.engine.compose.model import ComposeProject

COMPOSE_NAME = "docker-compose.yml"
CACHE_NAME = ".harborctl-services"
_FORMAT = "harborctl-services 1"


class ListedService:
    __slots__ = ("name", "container", "image")

    def __init__(self, name: str, container: str, image: str) -> None:
        self.name = name
        self.container = container
        self.image = image


class ServiceList:
    """The part of a ComposeProject a status needs: its name and its services in file order."""

    __slots__ = ("name", "services")

    def __init__(self, name: str, services: tuple[ListedService, ...]) -> None:
        self.name = name
        self.services = services

    def container_name(self, service: ListedService) -> str:
        return service.container


def normalize_project_name(name: str) -> str:
    """Lowercase and keep only ``[-_a-z0-9]``, as compose derives a project name from a folder."""
    return "".join(char for char in name.lower() if char in _NAME_CHARACTERS)


_NAME_CHARACTERS = frozenset("-_abcdefghijklmnopqrstuvwxyz0123456789")


def compose_fingerprint(content: bytes) -> str:
    return f"{len(content)}:{zlib.crc32(content):08x}"


def service_list_text(project: ComposeProject, compose: bytes, project_dir: str,
                      requested_name: str | None) -> str | None:
    """Pure: the cache's content for ``project``, parsed from ``compose`` in ``project_dir``
    (absolute: the default project name is the folder's) with ``-p requested_name`` if any.
    None when it cannot be remembered."""
    if b"$" in compose:
        return None
    rows: list[tuple[str, ...]] = [
        ("compose", compose_fingerprint(compose), project_dir, requested_name or ""),
        ("project", project.name)]
    rows += [("service", s.name, project.container_name(s), s.image) for s in project.services]
    fields = [field for row in rows for field in row]
    if any(char in field for field in fields for char in "\t\r\n"):
        return None
    return "\n".join([_FORMAT, *("\t".join(row) for row in rows)]) + "\n"


def read_service_list(project_dir: str, requested_name: str | None) -> ServiceList | None:
    """The remembered services when they still describe the compose file, else None.
    ``project_dir`` is absolute, spelt as pathlib spells it (normalised, no ``..``)."""
    try:
        with open(os.path.join(project_dir, COMPOSE_NAME), "rb") as compose_file:
            compose = compose_file.read()
        with open(os.path.join(project_dir, CACHE_NAME), encoding="utf-8") as cache_file:
            lines = cache_file.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    expected = f"compose\t{compose_fingerprint(compose)}\t{project_dir}\t{requested_name or ''}"
    if len(lines) < 3 or lines[0] != _FORMAT or lines[1] != expected:
        return None
    kind, _, name = lines[2].partition("\t")
    services = []
    for line in lines[3:]:
        parts = line.split("\t")
        if len(parts) != 4 or parts[0] != "service":
            return None
        services.append(ListedService(parts[1], parts[2], parts[3]))
    if kind != "project" or not name or not services:
        return None
    return ServiceList(name, tuple(services))
