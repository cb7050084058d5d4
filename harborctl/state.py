"""What the last prepare of a project recorded (common/config/harborctl.json): the components it
enabled, the hash of the compose file it wrote, the files it generated, and where the data
volume and the secretkey were. Read by prepare, and by down --purge-data before deleting."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

STATE_FILE = "harborctl.json"


def state_path(project_dir: Path) -> Path:
    return project_dir / "common" / "config" / STATE_FILE


def read_state(project_dir: Path) -> dict[str, Any]:
    """The recorded state, {} when there is none (or it is not harborctl's: a link, garbage)."""
    try:
        fd = os.open(state_path(project_dir), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd) as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def recorded_files(project_dir: Path, state: dict[str, Any]) -> frozenset[Path]:
    """The files under common/config that the last prepare generated (never a path outside)."""
    root = project_dir / "common" / "config"
    names = state.get("generated")
    if not isinstance(names, list):
        return frozenset()
    found = set()
    for name in names:
        if not isinstance(name, str):
            continue
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            continue
        found.add(root / relative)
    return frozenset(found)


def recorded_path(state: dict[str, Any], key: str) -> Path | None:
    value = state.get(key)
    return Path(value) if isinstance(value, str) and value.startswith("/") else None
