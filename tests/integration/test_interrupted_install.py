"""install interrupted at each of its steps on the real engine: Ctrl-C stops it cleanly saying
at which step; SIGKILL leaves what the next install converges from. Either way the next
install reaches all healthy with the same secrets and keys, no temporary file, no stray
container or network."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import REPO
from tests.integration.test_deployment import Deployment

pytestmark = pytest.mark.docker

STEPS = ("Step 0", "Step 1", "Step 2", "Step 3", "Step 4")
KEPT = ("data/secretkey", "harbor/common/config/core/private_key.pem",
        "harbor/common/config/registry/root.crt", "harbor/common/config/db/env")


@pytest.fixture(scope="module")
def deployment(harbor_images: list[str], tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("interrupt"))
    yield d
    d.run("down")
    for container in d.containers().values():
        container.remove(force=True)


def interrupted_install(deployment: Deployment, step: str, sig: int
                        ) -> subprocess.CompletedProcess[str]:
    """Run install; send ``sig`` once it prints ``step`` (at Step 4: once it started one
    container, mid-way through the start)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "harborctl", "install", "-c", str(deployment.cfg)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    seen: list[str] = []
    trigger = "started " if step == "Step 4" else step
    for line in process.stdout:
        seen.append(line)
        if line.startswith(trigger) or (trigger == "started " and "started " in line):
            process.send_signal(sig)
            break
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(seen) + out, err)


def leftovers(root: Path) -> list[str]:
    """Temporary files of an atomic write or of the journal, wherever harborctl writes."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*")
                  if p.name.endswith(".harborctl-new") or p.name.startswith(".harborctl-apply")
                  or (p.is_file() and p.name.count(".") >= 2 and not p.name.startswith(
                      ".harborctl")))


def converges(deployment: Deployment, kept: dict[str, bytes]) -> None:
    again = deployment.run("install")
    assert again.exit_code == 0, again.output
    status = deployment.run("status")
    assert status.exit_code == 0, status.output
    assert len(deployment.containers()) == 10
    client = docker.from_env()
    try:
        networks = client.networks.list(filters={"label": "com.docker.compose.project=harbor"})
    finally:
        client.close()
    assert len(networks) == 1, [n.name for n in networks]
    assert {name: (deployment.root / name).read_bytes() for name in KEPT} == kept
    assert leftovers(deployment.root) == []


@pytest.mark.parametrize("step", STEPS)
def test_ctrl_c_at_each_step_stops_cleanly_and_the_next_install_converges(
        deployment: Deployment, step: str) -> None:
    if not deployment.containers():
        assert deployment.run("install").exit_code == 0
    kept = {name: (deployment.root / name).read_bytes() for name in KEPT}
    assert deployment.run("down").exit_code == 0  # Step 4 has ten containers to make
    stopped = interrupted_install(deployment, step, signal.SIGINT)
    assert stopped.returncode == 130, stopped.stdout + stopped.stderr
    said = [x for x in stopped.stderr.splitlines() if x.startswith("Error: interrupted")]
    assert len(said) == 1, stopped.stderr
    at = said[0].rsplit(" ", 1)[-1]
    assert at.isdigit() and int(at) >= int(step[-1]), said
    assert "Traceback" not in stopped.stderr and "Aborted" not in stopped.stderr
    converges(deployment, kept)


@pytest.mark.parametrize("step", STEPS)
def test_sigkill_at_each_step_then_install_converges(deployment: Deployment, step: str) -> None:
    if not deployment.containers():
        assert deployment.run("install").exit_code == 0
    kept = {name: (deployment.root / name).read_bytes() for name in KEPT}
    assert deployment.run("down").exit_code == 0
    killed = interrupted_install(deployment, step, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    time.sleep(0.1)
    converges(deployment, kept)
