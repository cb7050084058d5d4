"""Faults on the real engine, each with one sentence, its exit code, the state unchanged or
converged, and a re-run that completes once the cause is gone: a container or the network
removed by hand, a data folder that is read-only or on a full disk, a socket the user may not
open, the engine restarted in the middle of an install."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import REPO
from tests.enginectl import ensure_answering, restart_dockerd
from tests.integration.test_deployment import Deployment

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def deployment(harbor_images: list[str], tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("faults"))
    assert d.run("install").exit_code == 0
    yield d
    ensure_answering()
    d.run("down")
    for container in d.containers().values():
        container.remove(force=True)


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs (mounted read-write; a test may remount it)."""
    where = tmp_path / "small"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def all_healthy(deployment: Deployment) -> None:
    status = deployment.run("status")
    assert status.exit_code == 0, status.output
    assert len(deployment.containers()) == 10


def test_a_container_removed_by_hand(deployment: Deployment) -> None:
    deployment.containers()["core"].remove(force=True)
    status = deployment.run("status")
    assert status.exit_code == 5
    assert "core" in status.stderr
    again = deployment.run("install")
    assert again.exit_code == 0, again.output
    all_healthy(deployment)


def test_the_network_removed_by_hand(deployment: Deployment) -> None:
    assert deployment.run("stop").exit_code == 0
    client = docker.from_env()
    try:
        [network] = client.networks.list(filters={"label": "com.docker.compose.project=harbor"})
        network.remove()
    finally:
        client.close()
    start = deployment.run("start")
    assert start.exit_code != 0
    assert "Traceback" not in start.output
    assert start.stderr.startswith("Error: ")
    again = deployment.run("install")
    assert again.exit_code == 0, again.output
    all_healthy(deployment)


def with_data_volume(deployment: Deployment, folder: Path) -> str:
    good = deployment.cfg.read_text()
    deployment.cfg.write_text(good.replace(f"data_volume = {deployment.root}/data",
                                           f"data_volume = {folder}/data"))
    return good


def test_a_data_folder_on_a_full_disk(deployment: Deployment, mounted: Path) -> None:
    before = deployment.ids()
    good = with_data_volume(deployment, mounted)
    try:
        result = deployment.run("install")
    finally:
        deployment.cfg.write_text(good)
    assert result.exit_code == 6, result.output
    assert f"MiB free under {mounted}" in result.stderr
    assert deployment.ids() == before  # nothing touched
    assert deployment.run("install").exit_code == 0
    all_healthy(deployment)


def test_a_read_only_data_folder(deployment: Deployment, mounted: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    before = deployment.ids()
    good = with_data_volume(deployment, mounted)
    try:
        result = deployment.run("install")
    finally:
        deployment.cfg.write_text(good)
    assert result.exit_code == 6, result.output
    assert f"{mounted} is not a writable folder" in result.stderr
    assert deployment.ids() == before


def test_a_socket_the_user_may_not_open(deployment: Deployment, tmp_path: Path) -> None:
    # An engine socket of another user, mode 0600, and harborctl as root without the
    # capabilities that bypass file permissions: the refusal a user outside the docker group
    # gets, while the checkout and the venv stay readable (a clean clone may sit in a 0700
    # folder that another uid could not even import harborctl from).
    path = tmp_path / "engine.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()
        os.chown(path, 65534, 65534)
        os.chmod(path, 0o600)
        drop = "-dac_override,-dac_read_search"
        env = {**os.environ, "PYTHONPATH": str(REPO), "DOCKER_HOST": f"unix://{path}"}
        run = subprocess.run(  # install asks the engine before it reads anything
            ["setpriv", "--bounding-set", drop, "--inh-caps", drop, sys.executable,
             "-m", "harborctl", "install", "-c", str(deployment.cfg)],
            capture_output=True, text=True, env=env, check=False, cwd="/")
    assert run.returncode == 4, run.stderr
    lines = run.stderr.splitlines()
    assert lines[0].startswith("Error: cannot reach the Docker engine"), lines
    assert "Permission denied" in lines[0]
    assert "docker group" in lines[1]
    assert "Traceback" not in run.stderr
    all_healthy(deployment)  # nothing stopped


def test_the_engine_restarted_in_the_middle_of_an_install(deployment: Deployment) -> None:
    assert deployment.run("down").exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harborctl", "install", "-c", str(deployment.cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if line.startswith("started "):
                restart_dockerd()
                break
        out, err = process.communicate(timeout=600)
    finally:
        ensure_answering()
    if process.returncode != 0:  # it may also have won the race and finished
        assert process.returncode in (1, 4, 5), err
        assert "Traceback" not in err and err.startswith("Error: "), err
    again = deployment.run("install")
    assert again.exit_code == 0, again.output
    all_healthy(deployment)
