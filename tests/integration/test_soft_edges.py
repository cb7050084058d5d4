"""Each start edge of Harbor 1.7.5, on the real engine with the goharbor/* test images.

Soft edges (service_started): the dependency is held back — its container runs, its process
only starts DELAY seconds later — and every service depending on it softly is started before it
could possibly be ready, yet reaches healthy with no error and no restart. The hard edge to the
log service: with the log service held back, no service logging to it is started before it
listens (no refusal by the syslog driver, not even one retried)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harborctl.cli.app import cli
from harborctl.engine.api.docker_sdk import SdkEngine, connect
from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import (
    ComposeProject,
    Dependency,
    Healthcheck,
    NetworkAttachment,
    Service,
)
from harborctl.engine.converge.apply import converge
from harborctl.engine.lifecycle.operations import down
from tests.cli_runner import cli_runner
from tests.integration.test_deployment import free_port

pytestmark = pytest.mark.docker

DELAY = 8  # seconds a held-back service's process waits before it starts
LOG_DELAY = 5


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


@dataclasses.dataclass
class Rendered:
    folder: Path
    engine: SdkEngine
    client: Any

    def project(self) -> ComposeProject:
        return load_compose(self.folder / "docker-compose.yml", "harbor", environ={})

    def held_back(self, service: str, seconds: int) -> ComposeProject:
        """The project with ``service``'s process started ``seconds`` after its container."""
        project = self.project()
        target = project.service(service)
        image = self.client.images.get(target.image).attrs["Config"]
        original = [*(image.get("Entrypoint") or []), *(image.get("Cmd") or [])]
        wrapped = dataclasses.replace(
            target, entrypoint=("/bin/sh", "-c", f'sleep {seconds}; exec "$@"', "late",
                                *original), command=None)
        services = tuple(wrapped if s.name == service else s for s in project.services)
        return dataclasses.replace(project, services=services)


@pytest.fixture(scope="module")
def rendered(harbor_images: list[str], tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Rendered]:
    root = tmp_path_factory.mktemp("edges")
    folder = root / "harbor"
    folder.mkdir()
    cfg = folder / "harbor.cfg"
    cfg.write_text(
        f"hostname = harbor.test.local\nhttp_port = {free_port()}\n"
        "harbor_admin_password = Adm1n-pass\ndb_password = db-pass-1\n"
        f"data_volume = {root}/data\nsecretkey_path = {root}/data\nlog_location = {root}/log\n"
        "with_chartmuseum = on\n")
    result = cli_runner().invoke(cli, ["prepare", "-c", str(cfg)])
    assert result.exit_code == 0, result.output
    engine = connect(timeout=120)
    state = Rendered(folder, engine, engine.client)
    yield state
    down(engine, state.project(), lambda _line: None)


@pytest.fixture
def fresh(rendered: Rendered) -> Iterator[Rendered]:
    """No container before the test, none after it (the data folders stay)."""
    down(rendered.engine, rendered.project(), lambda _line: None)
    yield rendered
    down(rendered.engine, rendered.project(), lambda _line: None)


def started_at(attrs: dict[str, Any]) -> datetime:
    text = attrs["State"]["StartedAt"]  # RFC 3339 with nanoseconds
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}")


def containers(r: Rendered) -> dict[str, dict[str, Any]]:
    found = r.client.api.containers(
        all=True, filters={"label": "com.docker.compose.project=harbor"})
    inspected = [r.client.api.inspect_container(c["Id"]) for c in found]
    return {a["Config"]["Labels"]["com.docker.compose.service"]: a for a in inspected}


def soft_dependents(project: ComposeProject, service: str) -> list[str]:
    return [s.name for s in project.services for d in s.depends_on
            if d.service == service and d.condition == "service_started"]


def after_dockers_first_checks(r: Rendered, within: float = 40) -> dict[str, dict[str, Any]]:
    """The containers once Docker has a verdict on each (its first check runs 10 s after a
    start; converge returns as soon as harborctl's own run of each check passes)."""
    deadline = time.monotonic() + within
    while True:
        found = containers(r)
        starting = [name for name, attrs in found.items()
                    if (attrs["State"].get("Health") or {}).get("Status") == "starting"]
        if not starting or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def assert_all_healthy_without_a_restart(found: dict[str, dict[str, Any]]) -> None:
    for name, attrs in found.items():
        state = attrs["State"]
        assert state["Status"] == "running", name
        assert (state.get("Health") or {}).get("Status", "healthy") == "healthy", name
        assert attrs["RestartCount"] == 0, f"{name} crashed and was restarted"


# Every 1.7.5 dependency with a soft edge to it in this deployment (chartmuseum on).
SOFT_DEPENDENCIES = ("postgresql", "adminserver", "registry", "redis", "core", "portal")


@pytest.mark.parametrize("late", SOFT_DEPENDENCIES)
def test_a_soft_edge_survives_its_dependency_coming_up_late(fresh: Rendered, late: str) -> None:
    project = fresh.held_back(late, DELAY)
    dependents = soft_dependents(project, late)
    assert dependents, f"nothing depends softly on {late}: the list above is stale"
    report = Lines()
    converge(fresh.engine, project, report, timeout=120)

    assert not [line for line in report if "not started" in line or "failed" in line
                or "retrying" in line]
    found = after_dockers_first_checks(fresh)
    assert set(found) == set(project.service_names)
    assert_all_healthy_without_a_restart(found)
    # It could not be ready before its process began; they were started before that (and,
    # where harborctl awaits the edge, after the dependency's own start).
    earliest_ready = started_at(found[late]) + timedelta(seconds=DELAY)
    for name in dependents:
        assert started_at(found[name]) < earliest_ready, name
        if late not in project.service(name).start_without:
            assert started_at(found[late]) <= started_at(found[name]), name


def unawaited_dependencies(project: ComposeProject) -> list[str]:
    return sorted({name for s in project.services for name in s.start_without})


# Every dependency that some service names under x-harborctl-start-without.
UNAWAITED = ("adminserver", "core", "postgresql", "redis", "registry")


def test_the_list_of_unawaited_dependencies_is_current(rendered: Rendered) -> None:
    assert unawaited_dependencies(rendered.project()) == list(UNAWAITED)


@pytest.mark.parametrize("late", UNAWAITED)
def test_a_service_started_without_its_dependency_survives_its_container_starting_late(
        fresh: Rendered, late: str) -> None:
    """x-harborctl-start-without: the dependency's container itself starts DELAY seconds
    later (held behind a gate service), so its name is not even in Docker's DNS when the
    services that start without it begin; they retry and still reach healthy, unrestarted."""
    project = fresh.project()
    image = project.service("log").image
    gate = Service(
        name="gate", image=image, container_name="harborctl-test-gate",
        entrypoint=("/bin/sh", "-c", f"trap 'exit 0' TERM; sleep {DELAY}; touch /tmp/open; "
                                     "sleep 3600 & wait"),
        networks=(NetworkAttachment("harbor"),),
        healthcheck=Healthcheck(test=("CMD-SHELL", "test -f /tmp/open"),
                                interval_ns=200_000_000, retries=1000))
    held = project.service(late)
    held = dataclasses.replace(held, depends_on=(*held.depends_on,
                                                 Dependency("gate", "service_healthy")))
    services = tuple(held if s.name == late else s for s in project.services)
    project = dataclasses.replace(project, services=(gate, *services))
    without = [s.name for s in project.services if late in s.start_without]
    report = Lines()
    converge(fresh.engine, project, report, timeout=120)

    assert not [line for line in report if "not started" in line or "failed" in line]
    found = after_dockers_first_checks(fresh)
    assert_all_healthy_without_a_restart(found)
    for name in without:
        assert started_at(found[name]) < started_at(found[late]), name


def test_no_syslog_service_starts_before_the_log_service_listens(fresh: Rendered) -> None:
    project = fresh.held_back("log", LOG_DELAY)
    report = Lines()
    converge(fresh.engine, project, report, timeout=120)

    # Not even a start refused by the syslog driver and retried: the race did not happen.
    assert not [line for line in report if "logging driver" in line or "retrying" in line]
    found = after_dockers_first_checks(fresh)
    assert_all_healthy_without_a_restart(found)
    listening = started_at(found["log"]) + timedelta(seconds=LOG_DELAY)
    syslog = [s.name for s in project.services
              if s.logging is not None and s.logging.driver == "syslog"]
    assert len(syslog) == len(found) - 1
    for name in syslog:
        assert started_at(found[name]) >= listening, name
