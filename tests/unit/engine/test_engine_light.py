"""The docker-free parts behind fast status, stop and no-op install: container list entries,
stop ordering by dependents, the converged check."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ContainerInfo
from harborctl.engine.converge.planning import Action, already_converged
from harborctl.engine.lifecycle.stopping import run_graph, stop_order
from harborctl.engine.status.summary import health_from_status, uptime_from_status

COMPOSE = """\
version: '2.3'
services:
  log: {image: "log:1", container_name: harbor-log}
  db: {image: "db:1", depends_on: [log]}
  core: {image: "core:1", depends_on: [log, db]}
  portal: {image: "portal:1", depends_on: [core]}
  proxy: {image: "proxy:1", depends_on: [core, portal, db]}
  jobs: {image: "jobs:1", depends_on: [core]}
"""


@pytest.fixture
def project(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "harbor").mkdir()
    (tmp_path / "harbor/docker-compose.yml").write_text(COMPOSE)
    return load_compose(tmp_path / "harbor/docker-compose.yml", environ={})


def entry(name: str, service: str, state: str, status: str) -> dict[str, object]:
    return {
        "Id": f"id-{name}", "Names": [f"/{name}"], "Image": f"{service}:1",
        "ImageID": "sha256:abc", "State": state, "Status": status,
        "Labels": {"com.docker.compose.project": "harbor", "com.docker.compose.service": service},
        "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                  {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                  {"PrivatePort": 443, "Type": "tcp"}],
    }


def test_container_from_list_entry() -> None:
    info = ContainerInfo.from_summary(entry("nginx", "proxy", "running", "Up 3 minutes (healthy)"))
    assert (info.name, info.service, info.state, info.health) == ("nginx", "proxy", "running",
                                                                  "healthy")
    assert info.image_id == "sha256:abc"
    assert [p.describe() for p in info.ports] == ["0.0.0.0:8080->80/tcp", ":::8080->80/tcp"]
    assert info.uptime_s == 180


@pytest.mark.parametrize(("status", "health"), [
    ("Up 5 seconds (healthy)", "healthy"), ("Up 2 hours (unhealthy)", "unhealthy"),
    ("Up 1 second (health: starting)", "starting"), ("Up 4 days", None),
    ("Exited (0) 3 minutes ago", None)])
def test_health_from_status(status: str, health: str | None) -> None:
    assert health_from_status(status) == health


@pytest.mark.parametrize(("status", "seconds"), [
    ("Up Less than a second", 0.5), ("Up 1 second", 1), ("Up 45 seconds (healthy)", 45),
    ("Up About a minute", 60), ("Up About an hour", 3600), ("Up 3 days", 3 * 86400),
    ("Up 2 weeks (Paused)", 14 * 86400), ("Up 7 minutes (health: starting)", 420),
    ("Up", None), ("Up About", None), ("Up 3 fortnights", None),
    ("Exited (1) 2 seconds ago", None), ("Created", None)])
def test_uptime_from_status(status: str, seconds: float | None) -> None:
    assert uptime_from_status(status) == seconds


def test_stop_order_waits_for_dependents_only(project) -> None:  # type: ignore[no-untyped-def]
    after = stop_order(project, {"log", "db", "core", "portal", "proxy", "jobs", "stray"})
    assert after["proxy"] == {"stray"}
    assert after["portal"] == {"proxy", "stray"}
    assert after["core"] == {"portal", "proxy", "jobs", "stray"}
    assert after["db"] == {"core", "portal", "proxy", "jobs", "stray"}
    assert after["log"] == {"db", "core", "portal", "proxy", "jobs", "stray"}
    assert after["stray"] == set()
    # jobs depends on log only through core; with core already stopped, log still waits for it
    partial = stop_order(project, {"log", "jobs"})
    assert partial == {"log": {"jobs"}, "jobs": set()}


def test_run_graph_respects_order_and_runs_ready_ones_together() -> None:
    after = {"a": set(), "b": set(), "c": {"a"}, "d": {"b", "c"}}
    done: list[str] = []
    running: set[str] = set()
    overlap: list[set[str]] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        with lock:
            assert after[name] <= set(done), name
            running.add(name)
            overlap.append(set(running))
        time.sleep(0.05)
        with lock:
            running.discard(name)
            done.append(name)

    run_graph(after, work)
    assert done[-1] == "d" and done.index("c") > done.index("a")
    assert any({"a", "b"} <= seen for seen in overlap)


def test_run_graph_raises_the_failure_and_starts_nothing_after_it() -> None:
    started: list[str] = []

    def work(name: str) -> None:
        started.append(name)
        if name == "a":
            raise RuntimeError("a failed")

    with pytest.raises(RuntimeError, match="a failed"):
        run_graph({"a": set(), "b": {"a"}}, work)
    assert started == ["a"]


def test_already_converged(project) -> None:  # type: ignore[no-untyped-def]
    def action(kind: str, status: str, state: str = "running") -> Action:
        container = ContainerInfo.from_summary(entry("x", "core", state, status))
        return Action(kind, "core", "", container)  # type: ignore[arg-type]

    assert already_converged([action("noop", "Up 2 minutes (healthy)")])
    assert already_converged([action("noop", "Up 2 minutes")])
    assert not already_converged([action("noop", "Up 2 seconds (health: starting)")])
    assert not already_converged([action("noop", "Exited (0)", "exited")])
    assert not already_converged([action("start", "Exited (0)", "exited")])
