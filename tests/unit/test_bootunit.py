"""The boot unit: rendered for systemd, accepted by `systemd-analyze verify`, and what the CLI
writes with `boot-unit`."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harborctl.bootunit import (
    command_line,
    harborctl_command,
    install_unit,
    quote,
    render_unit,
    systemd_runs,
    unit_name,
)
from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.conftest import require_program
from tests.unit.prepare_support import write_config


def unit_lines(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            found.setdefault(key, []).append(value)
    return found


def test_the_unit_starts_after_the_engine_and_restarts_with_it(tmp_path: Path) -> None:
    cfg = tmp_path / "my harbor" / "harbor.cfg"
    unit = render_unit(["/usr/local/bin/harborctl"], cfg, "harbor")
    assert unit.name == "harbor-harbor.service"
    keys = unit_lines(unit.text)
    assert keys["Requires"] == ["docker.service"]
    assert "docker.service" in keys["After"][0].split()
    assert keys["PartOf"] == ["docker.service"]
    assert keys["Type"] == ["oneshot"] and keys["RemainAfterExit"] == ["yes"]
    assert keys["WantedBy"] == ["multi-user.target docker.service"]
    start = shlex.split(keys["ExecStart"][0])
    assert start == ["/usr/local/bin/harborctl", "start", "-c", str(cfg), "--wait-engine", "120"]
    assert shlex.split(keys["ExecStop"][0]) == ["/usr/local/bin/harborctl", "stop", "-c",
                                                str(cfg)]
    assert "Environment" not in keys


def test_project_dir_name_and_docker_host_are_carried(tmp_path: Path) -> None:
    unit = render_unit(["/h"], tmp_path / "harbor.cfg", "my_proj", tmp_path / "p", "my_proj",
                       "tcp://10.0.0.1:2375")
    keys = unit_lines(unit.text)
    assert unit.name == "harbor-my_proj.service"
    assert shlex.split(keys["ExecStart"][0])[4:] == [
        "--project-dir", str(tmp_path / "p"), "-p", "my_proj", "--wait-engine", "120"]
    assert keys["Environment"] == ["DOCKER_HOST=tcp://10.0.0.1:2375"]


def test_systemd_specials_are_escaped() -> None:
    assert quote("/a/b") == "/a/b"
    assert quote("a b") == '"a b"'
    assert quote('50%"$x') == '"50%%\\"$$x"'
    assert command_line(["x", "y z"]) == 'x "y z"'
    assert unit_name("a/b c") == "harbor-a-b-c.service"


def test_the_command_is_the_script_or_the_module(tmp_path: Path) -> None:
    script = tmp_path / "harborctl"
    script.write_text("#!/bin/sh\n")
    assert harborctl_command(str(script)) == [str(script)]
    assert harborctl_command("/x/pytest", "/usr/bin/python3") == ["/usr/bin/python3", "-m",
                                                                  "harborctl"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = require_program("/usr/bin/systemd-analyze")
    cfg = tmp_path / "with space" / "harbor.cfg"
    unit = render_unit(harborctl_command("pytest", sys.executable), cfg, "harbor")
    path = tmp_path / unit.name
    path.write_text(unit.text)
    verified = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True,
                              check=False)
    assert verified.returncode == 0, verified.stderr
    assert unit.name not in verified.stderr, verified.stderr  # no warning about our unit
    # and it can fail: a unit whose program does not exist is refused
    path.write_text(unit.text.replace(sys.executable, "/nonexistent/python"))
    refused = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True,
                             check=False)
    assert refused.returncode != 0


def test_install_unit_writes_0644_without_systemctl(tmp_path: Path) -> None:
    unit = render_unit(["/h"], tmp_path / "harbor.cfg", "harbor")
    path = install_unit(unit, tmp_path / "units", enable=False)
    assert path.read_text() == unit.text
    assert path.stat().st_mode & 0o777 == 0o644
    assert not systemd_runs(tmp_path / "no-such-dir")


def test_boot_unit_command_prints_and_installs(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path)
    assert cli_runner().invoke(cli, ["prepare", "-c", str(cfg)]).exit_code == 0
    printed = cli_runner().invoke(cli, ["boot-unit", "-c", str(cfg)])
    assert printed.exit_code == 0, printed.output
    assert f"start -c {cfg}" in printed.stdout
    units = tmp_path / "units"
    monkeypatch.setattr("harborctl.bootunit.UNIT_DIR", units)
    monkeypatch.setattr("harborctl.bootunit.SYSTEMD_RUNNING", tmp_path / "no-systemd")
    installed = cli_runner().invoke(cli, ["boot-unit", "-c", str(cfg), "--install"])
    assert installed.exit_code == 0, installed.output
    assert "systemd does not run here: not enabled" in installed.stdout
    name = f"harbor-{tmp_path.name}.service"
    assert (units / name).read_text() == printed.stdout


def test_boot_unit_without_a_deployment_says_install_first(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    result = cli_runner().invoke(cli, ["boot-unit", "-c", str(cfg)])
    assert result.exit_code == 1
    assert "install" in result.stderr
