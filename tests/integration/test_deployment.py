"""harborctl drives a whole Harbor deployment (the goharbor/* test images) on the real engine.

The tests of this module share one deployment and run in order: install, no-op, reconfigure,
hand edit, failure, status, stop/start/restart, compose compatibility, down."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.conftest import require_program

pytestmark = pytest.mark.docker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


class Deployment:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / "harbor"
        self.project.mkdir()
        self.cfg = self.project / "harbor.cfg"
        self.port = free_port()
        self.cfg.write_text(
            f"hostname = harbor.test.local\nhttp_port = {self.port}\n"
            "harbor_admin_password = Adm1n-pass\ndb_password = db-pass-1\n"
            f"data_volume = {root}/data\nsecretkey_path = {root}/data\nlog_location = {root}/log\n"
        )

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return cli_runner(env).invoke(cli, [args[0], "-c", str(self.cfg), *args[1:]])

    def command(self, *args: str, env: dict[str, str] | None = None, importtime: bool = False
                ) -> subprocess.CompletedProcess[str]:
        """The installed `harborctl` command itself, in a process of its own."""
        python = [sys.executable, "-X", "importtime"] if importtime else [sys.executable]
        return subprocess.run([*python, str(Path(sys.executable).parent / "harborctl"), args[0],
                               "-c", str(self.cfg), *args[1:]],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, **(env or {})})

    def containers(self) -> dict[str, Any]:
        import docker

        client = docker.from_env()
        found = client.containers.list(
            all=True, filters={"label": "com.docker.compose.project=harbor"})
        return {c.labels["com.docker.compose.service"]: c for c in found}

    def ids(self) -> dict[str, str]:
        return {service: c.id for service, c in self.containers().items()}


@pytest.fixture(scope="module")
def deployment(harbor_images: list[str], tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("deploy"))
    yield d
    d.run("down")
    for container in d.containers().values():  # whatever down could not remove
        container.remove(force=True)


def test_fresh_install_reaches_all_healthy(deployment: Deployment) -> None:
    result = deployment.run("install")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for step in ("Step 0", "Step 1", "Step 2", "Step 3", "Step 4"):
        assert step in out
    assert f"Harbor is ready: http://harbor.test.local:{deployment.port}" in out
    assert f"docker login harbor.test.local:{deployment.port} -u admin" in out
    status = deployment.run("status", "--json")
    assert status.exit_code == 0, status.output
    payload = json.loads(status.stdout)
    assert payload["ok"] is True
    assert len(payload["services"]) == 10
    # right after the install Docker has not run most of its checks yet: status ran them
    assert {s["health"] for s in payload["services"]} == {"healthy"}
    assert "harborctl" in {s["health_checked_by"] for s in payload["services"]}
    assert {s["state"] for s in payload["services"]} == {"running"}


def imported_modules(importtime_output: str) -> list[str]:
    return [line.rsplit("|", 1)[1].strip() for line in importtime_output.splitlines()
            if line.startswith("import time:")]


def imported_by_main(importtime_output: str) -> set[str]:
    """What the command imported once running (not the interpreter's start-up, nor the site
    hooks of an editable install): every module finished after harborctl.cli was."""
    modules = imported_modules(importtime_output)
    return set(modules[modules.index("harborctl.cli") + 1:])


def wait_for_dockers_own_checks(deployment: Deployment, within: float = 40) -> None:
    """Until Docker has run its first check of every service (10 s after its start): before,
    `status` runs the checks itself (engine/status/confirm.py), through the full command."""
    deadline = time.monotonic() + within
    while True:
        services = json.loads(deployment.run("status", "--json").stdout)["services"]
        if all(s["health_checked_by"] in ("docker", None) for s in services):
            return
        assert time.monotonic() < deadline, services
        time.sleep(1)


def test_status_command_answers_without_click_yaml_or_docker(deployment: Deployment) -> None:
    wait_for_dockers_own_checks(deployment)
    quick = deployment.command("status", importtime=True)
    assert quick.returncode == 0, quick.stderr
    modules = imported_by_main(quick.stderr)
    assert not modules & {"click", "yaml", "docker", "json", "re", "typing", "dataclasses",
                          "pathlib", "socket"}
    assert "harborctl.cli.quick_status" in modules
    full = deployment.run("status")  # through click, the compose file read with PyYAML
    assert full.exit_code == 0
    strip = [line.split() for line in quick.stdout.splitlines()]
    assert [row[:4] for row in strip] == [line.split()[:4] for line in full.stdout.splitlines()]

    quick_json = json.loads(deployment.command("status", "--json").stdout)
    full_json = json.loads(deployment.run("status", "--json").stdout)
    for payload in (quick_json, full_json):
        for service in payload["services"]:
            del service["uptime_seconds"]
    assert quick_json == full_json

    (deployment.project / ".harborctl-services").unlink()  # forgotten: the full path answers
    slow = deployment.command("status", importtime=True)
    assert slow.returncode == 0, slow.stderr
    assert "click" in imported_by_main(slow.stderr)
    assert slow.stdout.split()[:7] == quick.stdout.split()[:7]
    assert (deployment.project / ".harborctl-services").exists()  # and remembered again


def test_second_install_changes_nothing(deployment: Deployment) -> None:
    before = deployment.ids()
    result = deployment.run("install")
    assert result.exit_code == 0, result.output
    assert "10 noop" in result.stdout
    assert deployment.ids() == before


def test_changed_key_recreates_only_services_whose_files_changed(deployment: Deployment) -> None:
    before = deployment.ids()
    deployment.cfg.write_text(deployment.cfg.read_text() + "max_job_workers = 4\n")
    result = deployment.run("install")
    assert result.exit_code == 0, result.output
    after = deployment.ids()
    recreated = {s for s in before if after[s] != before[s]}
    # jobservice/config.yml and adminserver/env hold max_job_workers
    assert recreated == {"jobservice", "adminserver"}


def test_hand_edit_of_compose_file_is_honoured(deployment: Deployment) -> None:
    before = deployment.ids()
    compose = deployment.project / "docker-compose.yml"
    compose.write_text(compose.read_text().replace(
        "    container_name: harbor-jobservice\n",
        "    container_name: harbor-jobservice\n    environment:\n      OPERATOR_NOTE: kept\n"))
    result = deployment.run("install")
    assert result.exit_code == 0, result.output
    assert "edited by hand" in result.stderr
    after = deployment.ids()
    assert {s for s in before if after[s] != before[s]} == {"jobservice"}
    env = deployment.containers()["jobservice"].attrs["Config"]["Env"]
    assert "OPERATOR_NOTE=kept" in env


def test_service_that_never_gets_healthy_stops_install_with_exit_5(
    deployment: Deployment,
) -> None:
    compose = deployment.project / "docker-compose.yml"
    good = compose.read_text()
    compose.write_text(good.replace(
        "    container_name: harbor-portal\n",
        "    container_name: harbor-portal\n    environment:\n"
        "      HARBORCTL_TEST_FAIL_HEALTH: \"1\"\n"))
    try:
        result = deployment.run("install", "--timeout", "10")
        assert result.exit_code == 5, result.output
        assert "portal" in result.stderr
        assert "Traceback" not in result.output
    finally:
        compose.write_text(good)
    assert deployment.run("install").exit_code == 0


def test_killed_container_makes_status_exit_5_naming_it(deployment: Deployment) -> None:
    deployment.containers()["registryctl"].kill()
    status = deployment.run("status")
    assert status.exit_code == 5
    assert "registryctl" in status.stderr
    restored = deployment.run("start")
    assert restored.exit_code == 0, restored.output
    assert deployment.run("status").exit_code == 0


def test_stop_then_start_brings_log_up_first(deployment: Deployment) -> None:
    stopped = deployment.run("stop")
    assert stopped.exit_code == 0, stopped.output
    lines = [line for line in stopped.stdout.splitlines() if line.startswith("stopped ")]
    assert lines[-2] == "stopped harbor-log"  # last before the summary line
    assert {c.status for c in deployment.containers().values()} == {"exited"}
    assert deployment.run("status").exit_code == 5
    started = deployment.run("start")
    assert started.exit_code == 0, started.output
    first = next(line for line in started.stdout.splitlines() if line.startswith("started "))
    assert first == "started harbor-log"
    assert deployment.run("status").exit_code == 0


def test_restart(deployment: Deployment) -> None:
    result = deployment.run("restart")
    assert result.exit_code == 0, result.output
    assert "restarted 10 service(s)" in result.stdout
    assert deployment.run("status").exit_code == 0


def test_docker_compose_129_lists_the_deployment(deployment: Deployment) -> None:
    compose = require_program("/usr/bin/docker-compose")
    run = subprocess.run([compose, "-f", "docker-compose.yml", "ps"], cwd=deployment.project,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    for name in ("harbor-log", "harbor-core", "nginx", "registry", "harbor-db"):
        assert name in run.stdout


def test_daemon_unreachable_is_exit_4_with_advice(deployment: Deployment) -> None:
    unreachable = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    result = deployment.run("status", env=unreachable)
    assert result.exit_code == 4, result.output
    assert "Error:" in result.stderr and "Traceback" not in result.output
    command = deployment.command("status", env=unreachable)  # the quick path hands it over
    assert command.returncode == 4, command.stderr
    assert command.stderr == result.stderr


def test_down_keeps_the_data(deployment: Deployment) -> None:
    data = deployment.root / "data"
    secretkey = (data / "secretkey").read_bytes()
    result = deployment.run("down")
    assert result.exit_code == 0, result.output
    assert deployment.containers() == {}
    assert (data / "secretkey").read_bytes() == secretkey
    assert any((data / "database").iterdir())
    nothing = deployment.run("start")
    assert nothing.exit_code == 2
    assert "install" in nothing.stderr


def test_port_taken_by_another_program_is_named(deployment: Deployment) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", deployment.port))
        sock.listen()
        result = deployment.run("install")
    assert result.exit_code != 0
    assert str(deployment.port) in result.stderr
    assert deployment.containers() == {}


def test_missing_image_without_bundle_names_it(deployment: Deployment) -> None:
    deployment.cfg.write_text(deployment.cfg.read_text() +
                              "image_source = mirror.invalid/goharbor\n")
    result = deployment.run("install")
    assert result.exit_code != 0
    assert "mirror.invalid/goharbor/harbor-core:v1.7.5" in result.stderr
    assert "bundle" in result.stderr
    assert os.path.exists(deployment.cfg)
