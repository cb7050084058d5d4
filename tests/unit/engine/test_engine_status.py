"""Pure status summary and formatting."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ContainerInfo
from harborctl.engine.status.report import (
    format_uptime,
    only_services,
    status_dict,
    status_rows,
    summarize,
)
from harborctl.errors import UsageError

COMPOSE = """\
version: '2'
services:
  log: {image: "log:1", container_name: harbor-log}
  core: {image: "core:1"}
  proxy: {image: "proxy:1", container_name: nginx}
  db: {image: "db:1"}
"""
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def attrs(name: str, service: str, status: str, health: str | None = None) -> ContainerInfo:
    state: dict[str, object] = {"Status": status, "StartedAt": "2024-05-01T11:58:55.123456789Z"}
    if health:
        state["Health"] = {"Status": health}
    return ContainerInfo.from_attrs({
        "Id": f"id-{name}", "Name": f"/{name}", "Image": "sha256:abc", "State": state,
        "Config": {"Image": f"{service}:1", "Labels": {
            "com.docker.compose.project": "harbor", "com.docker.compose.service": service}},
        "HostConfig": {"RestartPolicy": {"Name": "always"}, "LogConfig": {"Type": "syslog"}},
        "NetworkSettings": {"Ports": {
            "10514/tcp": [{"HostIp": "127.0.0.1", "HostPort": "1514"}], "80/tcp": None}},
    })


def test_summary(tmp_path: Path) -> None:
    (tmp_path / "harbor").mkdir()
    (tmp_path / "harbor/docker-compose.yml").write_text(COMPOSE)
    project = load_compose(tmp_path / "harbor/docker-compose.yml", environ={})
    containers = [
        attrs("harbor-log", "log", "running", "healthy"),
        attrs("harbor_core_1", "core", "running", "starting"),
        attrs("nginx", "proxy", "exited"),
        attrs("clair", "clair", "running"),
    ]
    status = summarize(project, containers, NOW)
    assert not status.overall_ok
    assert status.problems == (
        "core (harbor_core_1) is starting", "proxy (nginx) is exited", "db has no container")
    log = status.services[0]
    assert log.ok and log.container == "harbor-log" and log.uptime_s is not None
    assert round(log.uptime_s) == 65
    assert log.ports == ("127.0.0.1:1514->10514/tcp",)
    rows = status_rows(status)
    assert rows[0][0] == "SERVICE"
    assert rows[1] == ("log", "harbor-log", "running", "healthy", "1m 4s",
                       "127.0.0.1:1514->10514/tcp", "log:1")
    assert rows[3][4] == "-"
    assert rows[4][:3] == ("db", "harbor_db_1", "missing")
    assert rows[5][0] == "clair (not in compose file)"
    data = status_dict(status)
    assert data["format_version"] == 1 and data["ok"] is False
    assert [s["service"] for s in data["services"]] == ["log", "core", "proxy", "db", "clair"]

    fine = summarize(project, [attrs(n, s, "running", h) for n, s, h in [
        ("harbor-log", "log", "healthy"), ("c", "core", None), ("nginx", "proxy", "healthy"),
        ("d", "db", None)]], NOW)
    assert fine.overall_ok and fine.problems == ()


def test_status_of_the_services_named(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    project = load_compose(tmp_path / "docker-compose.yml", environ={})
    status = summarize(project, [attrs("harbor-log", "log", "running", "healthy"),
                                 attrs("nginx", "proxy", "exited")], NOW)
    log_only = only_services(status, ["log"])
    assert [s.service for s in log_only.services] == ["log"] and log_only.overall_ok
    both = only_services(status, ["proxy", "log", "proxy"])
    assert [s.service for s in both.services] == ["proxy", "log"]
    assert both.problems == ("proxy (nginx) is exited",)
    with pytest.raises(UsageError, match="no service portal, x in the project") as refused:
        only_services(status, ["portal", "log", "x"])
    assert refused.value.hint == "its services: log, core, proxy, db"


def test_format_uptime() -> None:
    assert format_uptime(None) == "-"
    assert format_uptime(5.9) == "5s"
    assert format_uptime(3 * 3600 + 120) == "3h 2m"
    assert format_uptime(2 * 86400 + 3600) == "2d 1h"
