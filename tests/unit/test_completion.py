"""Shell completion through click's own machinery: the words a shell gets back for commands,
options and the services of the project's compose file. The words are asked in this process
(as click's main answers them); the scripts each shell sources, the project folder as the
default and bash filling COMPREPLY run in processes of their own, as a shell runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner

COMPOSE = """\
version: "2.3"
services:
  log:
    image: goharbor/harbor-log:v1.7.5
    container_name: harbor-log
  registry:
    image: goharbor/registry-photon:v2.6.2-v1.7.5
    container_name: registry
  registryctl:
    image: goharbor/harbor-registryctl:v1.7.5
    container_name: registryctl
"""


def complete(words: str) -> list[str]:
    """What harborctl answers bash for the command line ``words`` (the cursor on the last)."""
    line = words.split(" ")
    run = cli_runner({"_HARBORCTL_COMPLETE": "bash_complete", "COMP_WORDS": words,
                      "COMP_CWORD": str(len(line) - 1)}).invoke(cli, [], prog_name="harborctl")
    assert run.exit_code == 0 and run.stderr == "", run.output
    return [entry.split(",", 1)[1] for entry in run.stdout.splitlines()
            if entry.startswith("plain,")]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    return tmp_path


def test_commands_complete() -> None:
    assert complete("harborctl st") == ["start", "status", "stop"]
    assert "completion" in complete("harborctl ")
    assert complete("harborctl config ") == ["check", "migrate"]


def test_options_complete() -> None:
    options = complete("harborctl status --")
    assert {"--config", "--project-dir", "--project-name", "--json", "--help"} <= set(options)
    assert "--with-notary" in complete("harborctl install --with-")


def test_status_completes_the_compose_files_services(project: Path) -> None:
    cfg = project / "harbor.cfg"
    assert complete(f"harborctl status -c {cfg} ") == ["log", "registry", "registryctl"]
    assert complete(f"harborctl status -c {cfg} reg") == ["registry", "registryctl"]
    # one named already is not offered again
    assert complete(f"harborctl status -c {cfg} registry reg") == ["registryctl"]
    assert complete(f"harborctl status --project-dir {project} l") == ["log"]


def test_logs_completes_the_compose_files_services(project: Path) -> None:
    cfg = project / "harbor.cfg"
    assert complete(f"harborctl logs -c {cfg} -f reg") == ["registry", "registryctl"]


def test_status_in_the_project_folder_needs_no_option(project: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "harborctl"], capture_output=True, text=True,
                         check=False, cwd=project,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
                              "_HARBORCTL_COMPLETE": "bash_complete",
                              "COMP_WORDS": "harborctl status r", "COMP_CWORD": "2"})
    assert run.stdout.splitlines() == ["plain,registry", "plain,registryctl"], run.stderr


def test_no_compose_file_completes_no_service_and_prints_no_error(tmp_path: Path) -> None:
    assert complete(f"harborctl status -c {tmp_path}/harbor.cfg ") == []
    (tmp_path / "docker-compose.yml").write_text("services: [not, a, mapping\n")
    assert complete(f"harborctl status -c {tmp_path}/harbor.cfg ") == []


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nosort -F"),
                                               ("zsh", "#compdef harborctl"),
                                               ("fish", "complete --no-files --command harborctl")])
def test_completion_prints_each_shells_script(shell: str, marker: str) -> None:
    run = cli_runner().invoke(cli, ["completion", shell], prog_name="harborctl")
    assert run.exit_code == 0, run.output
    assert marker in run.stdout and f"_HARBORCTL_COMPLETE={shell}_complete" in run.stdout


def test_an_unknown_shell_is_a_usage_error() -> None:
    run = cli_runner().invoke(cli, ["completion", "tcsh"], prog_name="harborctl")
    assert run.exit_code == 2 and "tcsh" in run.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_bash_script_fills_compreply(project: Path, tmp_path: Path) -> None:
    """The printed bash script itself, as bash runs it on <Tab>."""
    launcher = tmp_path / "bin" / "harborctl"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harborctl "$@"\n')
    launcher.chmod(0o755)
    script = subprocess.run([str(launcher), "completion", "bash"], capture_output=True,
                            text=True, check=True).stdout
    session = (f"{script}\nCOMP_WORDS=(harborctl status -c {project}/harbor.cfg reg)\n"
               "COMP_CWORD=4\n_harborctl_completion harborctl\n"
               "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    run = subprocess.run(["bash", "-c", session], capture_output=True, text=True, check=False,
                         env={**os.environ, "PATH": f"{launcher.parent}:{os.environ['PATH']}"})
    assert run.stdout.splitlines() == ["registry", "registryctl"], run.stderr
