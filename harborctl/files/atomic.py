"""Atomic single-file writes (keys, certificates, the services cache)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from harborctl.errors import FilesystemError
from harborctl.files.safe import make_dirs


def write_file_atomic(path: Path, content: bytes, mode: int = 0o644) -> None:
    """Write ``content`` to ``path`` so that readers see either the old file or the new one.

    The temporary file is created with ``mode`` already set, so a secret is never readable by
    others, not even for an instant.
    """
    path = Path(path)
    make_dirs(path.parent, path.parent)  # missing folders get 0755 whatever the umask
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise FilesystemError(
            f"cannot write {path}: {exc.strerror}", hint="check the folder exists and is writable"
        ) from exc
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise FilesystemError(f"cannot write {path}: {exc.strerror}") from exc
