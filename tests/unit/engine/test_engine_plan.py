"""The pure converge planner against a fake list of containers."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.engine.compose import labels as lbl
from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ComposeProject, ContainerInfo
from harborctl.engine.converge.apply import Action, plan_converge
from harborctl.errors import HarborctlError

COMPOSE = """\
version: '2.1'
services:
  log:
    image: log:1
  registry:
    image: registry:1
    depends_on: {log: {condition: service_healthy}}
  db:
    image: db:1
    depends_on: [log]
  core:
    image: core:1
    depends_on: [registry, db]
  proxy:
    image: proxy:1
    volumes: ["./common/config/nginx:/etc/nginx"]
    depends_on: [core]
  cron:
    image: cron:1
"""
IMAGES = {f"{name}:1": f"sha256:{name}" for name in ("log", "registry", "db", "core", "proxy",
                                                      "cron")}


@pytest.fixture
def project(tmp_path: Path) -> ComposeProject:
    (tmp_path / "harbor/common/config/nginx").mkdir(parents=True)
    (tmp_path / "harbor/common/config/nginx/nginx.conf").write_text("events {}\n")
    (tmp_path / "harbor/docker-compose.yml").write_text(COMPOSE)
    return load_compose(tmp_path / "harbor/docker-compose.yml", environ={})


def container(project: ComposeProject, service: str, state: str = "running",
              hash_: str | None = None, **labels: str) -> ContainerInfo:
    svc = project.service(service) if service in project.service_names else None
    if hash_ is None and svc is not None:
        hash_ = lbl.harborctl_hash(project, svc, IMAGES[svc.image], lbl.file_digests(project))
    all_labels = {lbl.PROJECT: project.name, lbl.SERVICE: service, lbl.NUMBER: "1"}
    if svc is not None:
        all_labels[lbl.CONFIG_HASH] = lbl.config_hash(svc)
    if hash_:
        all_labels[lbl.HARBORCTL_HASH] = hash_
    all_labels.update(labels)
    return ContainerInfo(id=f"id-{service}", name=f"harbor_{service}_1", project=project.name,
                         service=service, state=state, labels=all_labels,
                         image_id=IMAGES.get(f"{service}:1", ""))


def kinds(actions: list[Action]) -> dict[str, str]:
    return {a.service: a.kind for a in actions}


def plan(project: ComposeProject, existing: list[ContainerInfo]) -> list[Action]:
    return plan_converge(project, existing, IMAGES, lbl.file_digests(project))


def test_fresh_project_creates_everything_level_by_level(project: ComposeProject) -> None:
    actions = plan(project, [])
    assert [(a.service, a.kind, a.level) for a in actions] == [
        ("log", "create", 0), ("cron", "create", 0), ("registry", "create", 1),
        ("db", "create", 1), ("core", "create", 2), ("proxy", "create", 3)]


def test_everything_up_to_date_is_noop(project: ComposeProject) -> None:
    existing = [container(project, s) for s in project.service_names]
    assert set(kinds(plan(project, existing)).values()) == {"noop"}


def test_stopped_is_started(project: ComposeProject) -> None:
    existing = [container(project, s, state="exited" if s == "db" else "running")
                for s in project.service_names]
    actions = plan(project, existing)
    assert kinds(actions)["db"] == "start"
    assert [a.reason for a in actions if a.service == "db"] == ["its container is exited"]
    assert {k for s, k in kinds(actions).items() if s != "db"} == {"noop"}


def test_changed_mounted_file_recreates_only_that_leaf(project: ComposeProject) -> None:
    existing = [container(project, s) for s in project.service_names]
    (project.working_dir / "common/config/nginx/nginx.conf").write_text("events { }\n")
    actions = plan(project, existing)
    assert kinds(actions)["proxy"] == "recreate"
    assert "mounted config file" in next(a.reason for a in actions if a.service == "proxy")
    assert {k for s, k in kinds(actions).items() if s != "proxy"} == {"noop"}


def test_recreated_dependency_restarts_dependents(project: ComposeProject) -> None:
    existing = [container(project, s, hash_="old" if s == "registry" else None)
                for s in project.service_names]
    result = kinds(plan(project, existing))
    assert result == {"log": "noop", "cron": "noop", "registry": "recreate", "db": "noop",
                      "core": "restart", "proxy": "restart"}


def test_reasons_for_recreate(project: ComposeProject) -> None:
    foreign = container(project, "cron")
    foreign = ContainerInfo(**{**foreign.__dict__, "labels": {
        k: v for k, v in foreign.labels.items() if k != lbl.HARBORCTL_HASH}})
    new_image = container(project, "log", hash_="stale")
    new_image = ContainerInfo(**{**new_image.__dict__, "image_id": "sha256:older"})
    edited = container(project, "db", hash_="stale", **{lbl.CONFIG_HASH: "before"})
    reasons = {a.service: a.reason for a in plan(project, [foreign, new_image, edited])}
    assert "not created by harborctl" in reasons["cron"]
    assert "image log:1 changed" in reasons["log"]
    assert "definition in the compose file changed" in reasons["db"]


def test_services_gone_from_the_file_are_removed_first(project: ComposeProject) -> None:
    existing = [container(project, s) for s in project.service_names]
    existing.append(container(project, "clair"))
    other_project = ContainerInfo(id="x", name="x", project="other", service="clair",
                                  state="running")
    actions = plan(project, [*existing, other_project])
    assert actions[0].kind == "remove"
    assert actions[0].service == "clair"
    assert actions[0].reason == "its service is no longer in the compose file"
    assert sum(1 for a in actions if a.kind == "remove") == 1


def test_second_container_of_a_service_is_removed(project: ComposeProject) -> None:
    existing = [container(project, s) for s in project.service_names]
    extra = ContainerInfo(**{**container(project, "cron").__dict__, "id": "id-cron-2",
                             "labels": {**container(project, "cron").labels, lbl.NUMBER: "2"}})
    actions = plan(project, [*existing, extra])
    removed = [a for a in actions if a.kind == "remove"]
    assert [a.container.id for a in removed if a.container] == ["id-cron-2"]


def test_missing_image_is_an_error(project: ComposeProject) -> None:
    with pytest.raises(HarborctlError, match="proxy:1"):
        plan_converge(project, [], {k: v for k, v in IMAGES.items() if k != "proxy:1"}, {})
