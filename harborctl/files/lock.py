"""One harborctl writer per folder (a project, a certificate folder) at a time.

Two prepares run together used to interleave their secrets (mismatched CORE_SECRETs); two
gencerts their key/certificate pairs. An advisory ``flock`` on a file in the folder serialises
them; the kernel releases it when the process ends, however it ends, so a killed run never
leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from harborctl.errors import BusyError, FilesystemError

LOCK_NAME = ".harborctl.lock"
# Backup and restore span the engine, the data volume and, for restore, prepares of their own
# (which take and release LOCK_NAME, not re-entrant): each holds this second lock of the project
# for its whole run, so that two of them never interleave. Taken before LOCK_NAME, never after.
OPERATION_LOCK_NAME = ".harborctl-operation.lock"
WAIT_SECONDS = 5.0  # long enough for a prepare to finish; short enough for a person waiting


@contextlib.contextmanager
def folder_lock(folder: Path, what: str, wait_seconds: float | None = None,
                name: str = LOCK_NAME) -> Iterator[None]:
    """Hold the lock ``name`` of ``folder`` (which must exist) while the block runs.

    ``what`` names the work for the message a second writer gets, e.g. "the project /opt/harbor".
    """
    path = folder / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise FilesystemError(f"cannot open the lock file {path}: {exc.strerror}",
                              hint="a symbolic link there is refused; remove it") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FilesystemError(f"{path} is not a regular file", hint="remove it")
        deadline = time.monotonic() + (WAIT_SECONDS if wait_seconds is None else wait_seconds)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"another harborctl is working on {what}",
                        hint=f"wait for it to finish and run again (it holds {path})",
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def is_held(folder: Path, name: str = LOCK_NAME) -> bool:
    """Whether a process holds the lock ``name`` of ``folder`` now (no lock file: no). Asks with
    a shared lock, so that two readers asking at once do not see each other."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the shared lock, when it was granted
    return False
