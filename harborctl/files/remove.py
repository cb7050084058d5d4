"""Deleting what a caller names (the operator's --purge-data, a stale cache): never a link's
target, and nothing beside the named path."""

from __future__ import annotations

import shutil
from pathlib import Path

from harborctl.errors import FilesystemError


def remove_path(path: Path) -> None:
    """Delete a file, a link (not what it points at) or a whole folder; a link inside the folder
    is removed as a link (``shutil.rmtree`` never descends through one). Gone already: fine."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise FilesystemError(f"cannot delete {path}: {exc.strerror}") from exc
