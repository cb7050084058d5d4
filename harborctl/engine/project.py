"""Finding the deployment's compose file: a light module, so that status starts fast."""

from __future__ import annotations

from pathlib import Path

from harborctl.engine.compose import load_compose
from harborctl.engine.model import ComposeProject
from harborctl.errors import HarborctlError


def compose_project(project_dir: Path, project_name: str | None) -> ComposeProject:
    path = project_dir / "docker-compose.yml"
    if not path.exists():
        raise HarborctlError(f"{path} does not exist",
                             hint="run 'harborctl install' (or 'harborctl prepare') first")
    return load_compose(path, project_name)
