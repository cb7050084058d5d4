"""The only module that writes to disk: atomic single-file writes (tree staging lives here too)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harborctl.errors import FilesystemError

if TYPE_CHECKING:  # the plan package pulls in jinja2: keep it out of light imports of this module
    from harborctl.plan.model import Deployment, PlannedDir, PlannedFile


def write_file_atomic(path: Path, content: bytes, mode: int = 0o644) -> None:
    """Write ``content`` to ``path`` so that readers see either the old file or the new one.

    The temporary file is created with ``mode`` already set, so a secret is never readable by
    others, not even for an instant.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
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


# ---- applying a whole deployment -------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: Path
    kind: str  # "create", "update", "remove"
    old: bytes | None
    new: bytes | None
    secret: bool


@dataclass
class ApplyResult:
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError as exc:
        raise FilesystemError(f"{path} is a folder where harborctl writes a file",
                              hint="move it away and run again") from exc
    except OSError as exc:
        raise FilesystemError(f"cannot read {path}: {exc.strerror}") from exc


def _mode_of(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return None


def plan_changes(deployment: Deployment) -> list[Change]:
    """Compare the planned files with the disk: what would be created, updated or removed."""
    changes: list[Change] = []
    planned = {f.path for f in deployment.files}
    for planned_file in deployment.files:
        old = _read(planned_file.path)
        if old is None:
            changes.append(Change(planned_file.path, "create", None, planned_file.content,
                                  planned_file.secret))
        elif old != planned_file.content or _mode_of(planned_file.path) != planned_file.mode:
            changes.append(Change(planned_file.path, "update", old, planned_file.content,
                                  planned_file.secret))
    root = deployment.generated_root
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
            if path not in planned and not path.name.startswith("."):
                changes.append(Change(path, "remove", _read(path), None, True))
    return changes


def _ensure_dir(planned: PlannedDir, as_root: bool, warnings: list[str]) -> None:
    try:
        planned.path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FilesystemError(f"cannot create the folder {planned.path}: {exc.strerror}",
                              hint="check the parent folder exists and is writable") from exc
    if planned.owner is None:
        return
    if not as_root:
        warnings.append(f"warning: not root: {planned.path} keeps its owner (Harbor expects "
                        f"{planned.owner[0]}:{planned.owner[1]})")
        return
    try:
        stat = planned.path.stat()
        if (stat.st_uid, stat.st_gid) != planned.owner:
            os.chown(planned.path, *planned.owner)
        if stat.st_mode & 0o7777 != planned.mode:
            os.chmod(planned.path, planned.mode)
    except OSError as exc:
        raise FilesystemError(f"cannot set the owner of {planned.path}: {exc.strerror}") from exc


def apply_deployment(deployment: Deployment) -> ApplyResult:
    """Write what changed, all or nothing.

    Every new content is first written to a temporary file beside its target; only when all of
    them are written are they renamed over the targets. A failure before that point removes the
    temporary files and leaves every previous file exactly as it was.
    """
    as_root = os.geteuid() == 0
    result = ApplyResult(changes=plan_changes(deployment))
    for planned_dir in deployment.dirs:
        _ensure_dir(planned_dir, as_root, result.warnings)
    by_path = {f.path: f for f in deployment.files}
    staged: list[tuple[str, Path]] = []
    try:
        for change in result.changes:
            if change.kind == "remove":
                continue
            staged.append((_stage(by_path[change.path], as_root), change.path))
    except BaseException:
        for tmp_name, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        raise
    for tmp_name, target in staged:
        os.replace(tmp_name, target)
    for change in result.changes:
        if change.kind == "remove":
            with contextlib.suppress(FileNotFoundError):
                change.path.unlink()
    return result


def _stage(planned: PlannedFile, as_root: bool) -> str:
    path = planned.path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise FilesystemError(f"cannot write {path}: {exc.strerror}",
                              hint="check the folder is writable (run as root?)") from exc
    try:
        os.fchmod(fd, planned.mode)
        if as_root and planned.owner is not None:
            os.fchown(fd, *planned.owner)
        with os.fdopen(fd, "wb") as handle:
            handle.write(planned.content)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise FilesystemError(f"cannot write {path}: {exc.strerror}") from exc
    return tmp_name
