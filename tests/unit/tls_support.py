"""What the certificate tests share: a fixed moment, and openssl as an independent checker."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")


def openssl(*args: str) -> str:
    assert OPENSSL is not None
    result = subprocess.run(
        [OPENSSL, *args], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def write(folder: Path, name: str, content: bytes) -> str:
    path = folder / name
    path.write_bytes(content)
    return str(path)
