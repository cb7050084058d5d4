"""Another process holding one of harborctl's lock files, as a second harborctl would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harborctl.files.lock import LOCK_NAME

HOLD = ("import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n")


def hold_lock(folder: Path, seconds: float, name: str = LOCK_NAME) -> subprocess.Popen[str]:
    """A process that holds the lock ``name`` of ``folder`` for ``seconds`` (held on return)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder / name), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder
