"""Where the output of the certificate commands cannot go: a closed pipe, a full device.

Run as a real process: the failure is on the process's own stdout, and so is Python's last
flush at exit, which must not add noise either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.unit.test_cert_cli import https_config

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell tool killed by the signal returns


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("out")
    config = https_config(folder)
    made = cli_runner().invoke(cli, ["gencert", "-c", str(config)])
    assert made.exit_code == 0, made.output
    return config


def harborctl(args: list[str], stdout: int) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "harborctl", *args], stdout=stdout,
                          stderr=subprocess.PIPE, timeout=60, check=False)


@pytest.mark.parametrize("command", [["certs"], ["trust", "--print"], ["gencert"]])
def test_a_closed_pipe_ends_quietly(cfg: Path, command: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write fails
    try:
        run = harborctl([*command, "-c", str(cfg)], write_end)
    finally:
        os.close(write_end)
    assert run.stderr == b""
    assert run.returncode == EXIT_BROKEN_PIPE


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [["certs"], ["trust", "--print"]])
def test_a_full_output_device_is_one_error_line(cfg: Path, command: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        run = harborctl([*command, "-c", str(cfg)], full.fileno())
    assert run.returncode == 1
    assert run.stderr.decode() == (
        "Error: cannot write the output: No space left on device\n"
    )
