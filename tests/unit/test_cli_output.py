"""What the CLI prints for scripts and plain terminals: ``--version``, and no escape codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harborctl import __version__
from harborctl.cli.app import cli
from harborctl.plan.harbor_1_7 import HARBOR_1_7
from harborctl.plan.harbor_2_15 import HARBOR_2_15
from tests.cli_runner import cli_runner

MISTAKES = "hostname = reg.mydomain.com\nharbor_admin_password = S3cret\nhttp_port = eighty\n"


def test_version_names_harborctl_and_the_harbor_release_it_deploys() -> None:
    result = cli_runner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == (f"harborctl {__version__} (deploys Harbor {HARBOR_1_7.release}, "
                             f"{HARBOR_2_15.release})\n")
    assert "1.7.5" in result.stdout


def test_version_of_the_installed_command_in_a_subprocess() -> None:
    run = subprocess.run([sys.executable, "-m", "harborctl", "--version"], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"harborctl {__version__} (deploys Harbor 1.7.5, 2.15.2)"


COMMANDS = [
    ["--help"],
    ["--version"],
    ["config", "check", "-c", "{cfg}"],
    ["config", "check", "--json", "-c", "{cfg}"],
    ["prepare", "--dry-run", "-c", "{cfg}"],
    ["frobnicate"],
    ["certs", "-c", "{missing}"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args))
def test_no_escape_codes_even_where_colour_would_be_allowed(tmp_path: Path,
                                                            args: list[str]) -> None:
    """click strips escape codes when the output is no terminal; color=True keeps any: none
    must come from harborctl itself."""
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(MISTAKES)
    filled = [a.format(cfg=cfg, missing=tmp_path / "none.cfg") for a in args]
    result = cli_runner().invoke(cli, filled, color=True)
    assert result.output.strip(), "the command printed nothing: the check would prove nothing"
    assert "\x1b" not in result.output


def test_no_escape_codes_with_no_color_and_no_terminal(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(MISTAKES)
    for args in (["config", "check", "-c", str(cfg)], ["--help"], ["frobnicate"]):
        run = subprocess.run([sys.executable, "-m", "harborctl", *args], capture_output=True,
                             text=True, env={**os.environ, "NO_COLOR": "1"}, check=False)
        assert run.stdout or run.stderr
        assert "\x1b" not in run.stdout + run.stderr, args
