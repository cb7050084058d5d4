"""The CLI through click's CliRunner: exit codes, where messages go, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner

GOOD = "hostname = harbor.example.com\nharbor_admin_password = S3cret\ndb_password = x1\n"
THREE_MISTAKES = (
    "hostname = reg.mydomain.com\n"
    "harbor_admin_password = S3cret\n"
    "http_port = eighty\n"
    "db_password = x1\n"
    "redis_db_index = 1,2\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "harbor.cfg"
    path.write_text(text)
    return path


def test_check_valid_config_exits_0(tmp_path: Path) -> None:
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert "is valid (0 error(s), 1 warning(s))" in result.stdout
    assert "plain http" in result.stdout


def test_check_reports_three_mistakes_with_lines_and_exits_3(tmp_path: Path) -> None:
    cfg = write(tmp_path, THREE_MISTAKES)
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(cfg)])
    assert result.exit_code == 3
    errors = [line for line in result.stdout.splitlines() if line.startswith(f"{cfg}:")
              and ": warning: " not in line]
    assert [line.split(": ")[0:2] for line in errors] == [
        [f"{cfg}:1", "hostname"], [f"{cfg}:3", "http_port"], [f"{cfg}:5", "redis_db_index"]]
    assert f"Error: {cfg} is invalid: 3 error(s)" in result.stderr
    assert "Traceback" not in result.output


def test_check_json(tmp_path: Path) -> None:
    cfg = write(tmp_path, THREE_MISTAKES)
    result = cli_runner().invoke(cli, ["config", "check", "--json", "-c", str(cfg)])
    assert result.exit_code == 3
    payload = json.loads(result.stdout)
    assert payload["valid"] is False and payload["errors"] == 3
    assert [p["line"] for p in payload["problems"] if p["severity"] == "error"] == [1, 3, 5]
    assert "S3cret" not in result.stdout


def test_missing_config_is_exit_3_with_hint(tmp_path: Path) -> None:
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(tmp_path / "nope.cfg")])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: {tmp_path / 'nope.cfg'}: no such file")
    assert "hint: copy harbor.cfg.example" in result.stderr


def test_unknown_command_is_usage_error() -> None:
    result = cli_runner().invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_unexpected_error_is_one_line_unless_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug inside a command (not a usage error click catches first) reaches the boundary.
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("something nobody planned for")

    monkeypatch.setattr("harborctl.config.check_config", broken)
    cfg = write(tmp_path, "hostname = reg.example.com\n")
    result = cli_runner().invoke(cli, ["config", "check", "-c", str(cfg)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: unexpected RuntimeError: something nobody planned for"
    assert lines[1:] == ["  hint: re-run with --debug to see where it happened"]

    debug = cli_runner().invoke(cli, ["--debug", "config", "check", "-c", str(cfg)])
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "in broken" in debug.stderr  # the traceback reaches into the failing function


def test_help_lists_exit_codes() -> None:
    result = cli_runner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "3 invalid config" in result.stdout


def test_console_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "harborctl"
    if not script.exists():
        if os.environ.get("HARBORCTL_REQUIRE_DOCKER") == "1":  # set by scripts/test.sh as root
            pytest.fail(f"{script} is missing: scripts/test.sh installs harborctl into its venv")
        pytest.skip("harborctl is not installed in this interpreter's environment")
    cfg = write(tmp_path, THREE_MISTAKES)
    run = subprocess.run([str(script), "config", "check", "-c", str(cfg)], capture_output=True,
                         text=True, env={**os.environ, "NO_COLOR": "1"}, check=False)
    assert run.returncode == 3
    assert f"{cfg}:3: http_port: 'eighty' is not a whole number" in run.stdout
    assert "Traceback" not in run.stderr
    module = subprocess.run([sys.executable, "-m", "harborctl", "--version"], capture_output=True,
                            text=True, check=False)
    assert module.returncode == 0 and "harborctl" in module.stdout


def test_ctrl_c_during_install_says_at_which_step_and_exits_130(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harborctl.install

    def interrupted(config_path: Path, project_dir: Path, report: Any, *args: Any) -> None:
        report("Step 0: checking the environment")
        report("Step 2: prepare")
        raise KeyboardInterrupt

    monkeypatch.setattr(harborctl.install, "install", interrupted)
    result = cli_runner().invoke(cli, ["install", "-c", str(write(tmp_path, GOOD))])
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-2:] == [
        "Error: interrupted (Ctrl-C) during Step 2",
        "  hint: nothing half-done is used; run 'harborctl install' again to finish"]
    assert "Aborted" not in result.output and "Traceback" not in result.output
