"""The test host's own Docker daemon, which scripts/setup-test-host.sh started: find it, ask
whether it answers, restart it, save its goroutine dump. Only tests that say so restart it, and
only under the shared engine lock (/tmp/harborctl-engine.lock)."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from harborctl.engine.api.socket_client import DEFAULT_SOCKET, LightClient
from harborctl.errors import DockerUnavailableError

PIDFILE = Path("/var/run/docker.pid")
DUMP_DIR = Path("/var/run/docker")
# exactly how scripts/setup-test-host.sh starts it
START = "setsid dockerd >/var/log/harborctl-test-dockerd.log 2>&1 </dev/null &"
# Set while a test stops or restarts the daemon on purpose: the watchdog (tests/watchdog.py)
# does not count the silence as a hang.
MAINTENANCE = threading.Event()


def dockerd_pid() -> int | None:
    try:
        pid = int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None
    return pid if comm == "dockerd" else None


def answers(timeout: float = 3.0) -> bool:
    try:
        LightClient(DEFAULT_SOCKET, timeout).api_version()
    except DockerUnavailableError:
        return False
    return True


def wait_answering(bound: float) -> float:
    """Seconds until the engine answered; RuntimeError after ``bound``."""
    started = time.monotonic()
    while not answers(2.0):
        if time.monotonic() - started > bound:
            raise RuntimeError(f"dockerd did not answer within {bound:g} s")
        time.sleep(0.2)
    return time.monotonic() - started


def stop_dockerd(bound: float = 60.0) -> None:
    """SIGTERM (what a shutdown sends), SIGKILL after ``bound``; returns once it has exited."""
    pid = dockerd_pid()
    if pid is None:
        return
    MAINTENANCE.set()
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + bound
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
        time.sleep(0.1)


def start_dockerd(bound: float = 60.0) -> float:
    MAINTENANCE.set()
    try:
        if dockerd_pid() is None:
            subprocess.run(START, shell=True, check=True)
        return wait_answering(bound)
    finally:
        MAINTENANCE.clear()


def restart_dockerd(bound: float = 60.0) -> float:
    """Stop the daemon, start it again; the seconds from the new start until it answered."""
    MAINTENANCE.set()
    try:
        stop_dockerd(bound)
        return start_dockerd(bound)
    finally:
        MAINTENANCE.clear()


def ensure_answering(bound: float = 60.0) -> None:
    """Leave the engine running and answering whatever happened (a test's clean-up)."""
    if answers():
        return
    if dockerd_pid() is None:
        start_dockerd(bound)
        return
    restart_dockerd(bound)


def goroutine_dump(bound: float = 10.0) -> str | None:
    """SIGUSR1 to the daemon: it writes its goroutine stacks under /var/run/docker/; the path."""
    pid = dockerd_pid()
    if pid is None:
        return None
    before = set(glob.glob(str(DUMP_DIR / "goroutine-stacks-*.log")))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        new = set(glob.glob(str(DUMP_DIR / "goroutine-stacks-*.log"))) - before
        if new:
            return sorted(new)[-1]
        time.sleep(0.1)
    return None
