"""Finding a project's containers: one list call by label, never one inspect per container.

Kept free of the docker package so that `harborctl status` can run on the light socket client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harborctl.engine.compose.model import ContainerInfo
from harborctl.engine.status.summary import list_project

if TYPE_CHECKING:
    from harborctl.engine.status.summary import ContainerLister


def list_project_containers(engine: ContainerLister, project_name: str) -> list[ContainerInfo]:
    """Every container of the project (one ``list`` call by label), one-off ones left out."""
    return [ContainerInfo.from_listed(c) for c in list_project(engine, project_name)]
