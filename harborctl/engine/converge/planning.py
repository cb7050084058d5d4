"""Deciding what converging a project takes, per service: pure, and free of the docker package
(the inputs come from list calls that the light socket client answers too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harborctl.engine.api.interface import EngineReader
from harborctl.engine.compose import labels as lbl
from harborctl.engine.compose.model import ComposeProject, ContainerInfo, Service, dependency_levels
from harborctl.engine.images.inventory import image_ids, missing_images_error
from harborctl.engine.status.listing import list_project_containers

ActionKind = Literal["noop", "start", "create", "recreate", "restart", "remove"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    service: str
    reason: str
    container: ContainerInfo | None = None
    level: int = 0
    desired_hash: str = ""

    def describe(self) -> str:
        name = f" ({self.container.name})" if self.container else ""
        return f"{self.kind} {self.service}{name}: {self.reason}"


@dataclass(frozen=True)
class ConvergeResult:
    project: str
    actions: tuple[Action, ...]
    seconds: float

    @property
    def changed(self) -> bool:
        return any(a.kind != "noop" for a in self.actions)


@dataclass(frozen=True)
class ProjectPlan:
    """What converging a project takes, with the containers it was decided from."""

    existing: tuple[ContainerInfo, ...]
    actions: tuple[Action, ...]


def plan_converge(
    project: ComposeProject,
    existing: list[ContainerInfo],
    image_ids: Mapping[str, str],
    file_digests: Mapping[str, str],
) -> list[Action]:
    """Decide per service: noop, start, create, recreate, restart; remove what is not in the file.

    Removals come first, then services level by level (dependencies before dependents). A
    service whose dependency gets a new container (or is restarted) is restarted, so that it
    resolves names and reconnects its log stream again.
    """
    ours = [c for c in existing if c.project == project.name]
    actions: list[Action] = []
    by_service: dict[str, list[ContainerInfo]] = {}
    for container in ours:
        if container.service in project.service_names:
            by_service.setdefault(container.service, []).append(container)
        else:
            actions.append(Action("remove", container.service,
                                  "its service is no longer in the compose file", container))
    renewed: set[str] = set()
    for level, names in enumerate(dependency_levels(project.services)):
        for name in names:
            service = project.service(name)
            image_id = image_ids.get(service.image)
            if not image_id:
                raise missing_images_error([service.image])
            desired = lbl.harborctl_hash(project, service, image_id, file_digests)
            candidates = sorted(by_service.get(name, []), key=lambda c: (
                c.harborctl_hash != desired, c.labels.get(lbl.NUMBER) != "1", not c.running))
            for extra in candidates[1:]:
                actions.append(Action("remove", name, "a second container of the service", extra))
            current = candidates[0] if candidates else None
            upstream = sorted(d.service for d in service.depends_on if d.service in renewed)
            if current is None:
                action = Action("create", name, "no container yet", None, level, desired)
            elif current.harborctl_hash != desired:
                action = Action("recreate", name, _why_recreate(current, service, image_id),
                                current, level, desired)
            elif upstream and current.running:
                action = Action("restart", name, f"{', '.join(upstream)} got restarted or renewed",
                                current, level, desired)
            elif not current.running and current.state != "restarting":
                action = Action("start", name, f"its container is {current.state}", current,
                                level, desired)
            else:
                action = Action("noop", name, "up to date", current, level, desired)
            if action.kind in ("create", "recreate", "restart"):
                renewed.add(name)
            actions.append(action)
    return actions


def _why_recreate(current: ContainerInfo, service: Service, image_id: str) -> str:
    if current.harborctl_hash is None:
        return "it was not created by harborctl (no io.harborctl.hash label)"
    if current.labels.get(lbl.CONFIG_HASH) != lbl.config_hash(service):
        return "its definition in the compose file changed"
    if current.image_id and current.image_id != image_id:
        return f"its image {service.image} changed"
    return "a mounted config file or env file changed"


def plan_project(
    engine: EngineReader, project: ComposeProject,
    existing: Sequence[ContainerInfo] | None = None,
) -> ProjectPlan:
    """The plan for ``project`` as it stands: the image list, the file digests, and the list of
    the project's containers unless ``existing`` already is that list."""
    found = list(existing) if existing is not None else list_project_containers(engine,
                                                                                project.name)
    ids = image_ids(engine, sorted({s.image for s in project.services}))
    missing = sorted({s.image for s in project.services if s.image not in ids})
    if missing:
        raise missing_images_error(missing)
    actions = plan_converge(project, found, ids, lbl.file_digests(project))
    return ProjectPlan(tuple(found), tuple(actions))


def already_converged(actions: Sequence[Action]) -> bool:
    """Nothing to do and every service ready: running, and healthy where it has a check."""
    for action in actions:
        if action.kind != "noop" or action.container is None:
            return False
        container = action.container
        if not container.running or container.health not in (None, "healthy"):
            return False
    return True
