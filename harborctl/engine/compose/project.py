"""Finding the deployment's compose file, and remembering its services for a fast status."""

from __future__ import annotations

import contextlib
from pathlib import Path

from harborctl.engine.compose.loader import load_compose, read_compose
from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.compose.service_list import CACHE_NAME, COMPOSE_NAME, service_list_text
from harborctl.errors import HarborctlError
from harborctl.files import write_file_atomic
from harborctl.files.remove import remove_path


def compose_project(project_dir: Path, project_name: str | None) -> ComposeProject:
    path = project_dir / COMPOSE_NAME
    if not path.exists():
        raise HarborctlError(f"{path} does not exist",
                             hint="run 'harborctl install' (or 'harborctl prepare') first")
    compose = read_compose(path)  # parsed and fingerprinted: the same bytes, read once
    project = load_compose(path, project_name, text=compose.decode("utf-8"))
    remember_services(project_dir, project, compose, project_name)
    return project


def remember_services(project_dir: Path, project: ComposeProject, compose: bytes,
                      project_name: str | None) -> None:
    """Best effort: a status without the cache is only slower (read-only folder, other user)."""
    text = service_list_text(project, compose, str(project_dir), project_name)
    cache = project_dir / CACHE_NAME
    if text is None:
        with contextlib.suppress(HarborctlError):
            remove_path(cache)
        return
    with contextlib.suppress(OSError, HarborctlError):
        if not cache.exists() or cache.read_text(encoding="utf-8") != text:
            write_file_atomic(cache, text.encode("utf-8"))
