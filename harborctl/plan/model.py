"""What a deployment consists of, as values: rendered files and data directories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harborctl.config.model import Components

Owner = tuple[int, int]


@dataclass(frozen=True)
class PlannedFile:
    path: Path  # absolute
    content: bytes
    mode: int = 0o644
    owner: Owner | None = None
    secret: bool = False  # never shown in a diff


@dataclass(frozen=True)
class PlannedDir:
    path: Path
    mode: int = 0o755
    owner: Owner | None = None


@dataclass(frozen=True)
class Deployment:
    project_dir: Path
    files: tuple[PlannedFile, ...]
    dirs: tuple[PlannedDir, ...]
    services: tuple[str, ...]
    components: Components
    generated_root: Path  # common/config: files in it that are no longer planned are removed
    masked: tuple[str, ...] = ()  # secret strings to hide in any output
