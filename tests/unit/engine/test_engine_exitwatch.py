"""The exit watch on a real child process, with the cgroup file it is checked against."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harborctl.engine.lifecycle.exitwatch import has_exited, open_exit_watch

CONTAINER_ID = "5ff22bec8650ba175642cba147ff7e4596f4d28be466d143ea776d7f04805668"


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "30"])
    yield process
    process.kill()
    process.wait()


def fake_proc(tmp_path: Path, pid: int, cgroup: str) -> Path:
    (tmp_path / str(pid)).mkdir()
    (tmp_path / str(pid) / "cgroup").write_text(cgroup)
    return tmp_path


def test_watch_sees_the_exit_of_the_process(child: subprocess.Popen[bytes],
                                             tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, child.pid, f"0::/docker/{CONTAINER_ID}\n")
    fd = open_exit_watch(CONTAINER_ID, child.pid, proc)
    assert fd is not None
    try:
        assert not has_exited(fd, 0.05)
        child.terminate()
        assert has_exited(fd, 5)
    finally:
        os.close(fd)


@pytest.mark.parametrize("cgroup", [
    "0::/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",  # another
    "0::/user.slice/user-0.slice/session-1.scope\n",  # not a container (e.g. a reused pid)
])
def test_no_watch_on_a_process_of_another_cgroup(child: subprocess.Popen[bytes], tmp_path: Path,
                                                 cgroup: str) -> None:
    assert open_exit_watch(CONTAINER_ID, child.pid, fake_proc(tmp_path, child.pid, cgroup)) is None


def test_no_watch_without_a_process(tmp_path: Path) -> None:
    assert open_exit_watch(CONTAINER_ID, 0, tmp_path) is None  # the engine's pid when stopped
    # a pid with no /proc entry of its own here (the engine in another PID namespace)
    assert open_exit_watch(CONTAINER_ID, os.getpid(), tmp_path) is None


def test_no_watch_on_a_process_that_has_gone(tmp_path: Path) -> None:
    gone = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    pid = int(gone.stdout)
    assert open_exit_watch(CONTAINER_ID, pid, fake_proc(tmp_path, pid, CONTAINER_ID)) is None
