"""Applying a whole deployment: what changes, the folders with their modes, the all-or-nothing
write (through ``journal``), and the sweep of files harborctl itself generated before."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harborctl.errors import FilesystemError
from harborctl.files import journal
from harborctl.files.safe import (
    DEFAULT_DIR_MODE,
    SYMLINK,
    check_no_links,
    make_dirs,
    mode_no_follow,
    read_no_follow,
    root_of,
    set_dir_mode_owner,
)

if TYPE_CHECKING:  # the plan package pulls in jinja2: keep it out of light imports of this module
    from harborctl.plan.model import Deployment, Owner, PlannedFile


@dataclass(frozen=True)
class Change:
    path: Path
    kind: str  # "create", "update", "remove"
    old: bytes | None  # b"" for a symbolic link, whose target is never read
    new: bytes | None
    secret: bool


@dataclass(frozen=True)
class Folder:
    path: Path
    mode: int
    owner: Owner | None
    # A folder the operator named (project, data_volume, ...) that the plan does not: created
    # when missing, but its mode is the operator's.
    is_root: bool


@dataclass
class ApplyResult:
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # operator files left in generated_root


def folders(deployment: Deployment, roots: Iterable[Path]) -> list[Folder]:
    """Every folder of the deployment, parents first: the planned ones with their mode, and the
    parents of every planned file (0755). A folder planned twice gets the stricter mode."""
    roots = tuple(roots)
    found: dict[Path, Folder] = {}

    def add(path: Path, mode: int, owner: Owner | None, is_root: bool) -> None:
        old = found.get(path)
        if old is not None:
            mode, owner = old.mode & mode, owner or old.owner
            is_root = is_root and old.is_root
        found[path] = Folder(path, mode, owner, is_root)

    for planned_dir in deployment.dirs:
        add(planned_dir.path, planned_dir.mode, planned_dir.owner, False)
    for planned_file in deployment.files:
        root = root_of(planned_file.path, roots)
        for parent in planned_file.path.parents:
            add(parent, DEFAULT_DIR_MODE, None, parent == root)
            if parent == root:
                break
    return sorted(found.values(), key=lambda f: len(f.path.parts))


def _recorded_removals(deployment: Deployment, recorded: Iterable[Path]) -> list[Change]:
    planned = {f.path for f in deployment.files}
    changes = []
    for path in sorted(set(recorded) - planned):
        if deployment.generated_root not in path.parents:
            continue  # only common/config is swept; secrets and data are never removed
        check_no_links(path.parent, deployment.project_dir)
        if os.path.lexists(path) and not path.is_dir():
            old = read_no_follow(path)
            changes.append(Change(path, "remove", old if isinstance(old, bytes) else b"",
                                  None, True))
    return changes


def operator_files(deployment: Deployment, recorded: Iterable[Path]) -> list[Path]:
    """Files in generated_root that harborctl neither plans nor wrote: the operator's own."""
    known = {f.path for f in deployment.files} | set(recorded)
    kept = []
    for folder, _, names in os.walk(deployment.generated_root):  # never descends into a link
        for name in names:
            path = Path(folder) / name
            if path not in known and not name.startswith("."):
                kept.append(path)
    return sorted(kept)


def remove_old_staging_copies(deployment: Deployment) -> None:
    """Delete the temporary copies (``.NAME.XXXXXXXX``, often of a secret) that harborctl before
    the journal left beside a planned file when it was killed half-way."""
    for planned_file in deployment.files:
        pattern = re.compile(re.escape(f".{planned_file.path.name}.") + r"[a-z0-9_]{8}")
        try:
            names = os.listdir(planned_file.path.parent)
        except OSError:
            continue
        for name in names:
            leftover = planned_file.path.parent / name
            if pattern.fullmatch(name) and os.path.isfile(leftover) \
                    and not os.path.islink(leftover):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(leftover)


def plan_changes(deployment: Deployment, roots: Iterable[Path],
                 recorded: Iterable[Path] = ()) -> list[Change]:
    """Compare the planned files with the disk, without following any link; refuse a link where
    harborctl creates folders. ``recorded``: the files the last prepare generated."""
    roots = tuple(roots)
    check_no_links(deployment.generated_root, deployment.project_dir)
    for folder in folders(deployment, roots):
        check_no_links(folder.path, root_of(folder.path, roots))
    changes: list[Change] = []
    for planned_file in deployment.files:
        old = read_no_follow(planned_file.path)
        if old is None:
            changes.append(Change(planned_file.path, "create", None, planned_file.content,
                                  planned_file.secret))
        elif old is SYMLINK:  # the link itself is replaced; what it points to is never read
            changes.append(Change(planned_file.path, "update", b"", planned_file.content,
                                  planned_file.secret))
        elif (old != planned_file.content
              or mode_no_follow(planned_file.path) != planned_file.mode):
            changes.append(Change(planned_file.path, "update", old if isinstance(old, bytes)
                                  else b"", planned_file.content, planned_file.secret))
    return changes + _recorded_removals(deployment, recorded)


def _apply_folders(deployment: Deployment, roots: tuple[Path, ...], as_root: bool,
                   warnings: list[str]) -> None:
    for folder in folders(deployment, roots):
        make_dirs(folder.path, root_of(folder.path, roots), folder.mode)
        if folder.is_root or (folder.path in roots and os.path.islink(folder.path)):
            continue  # the operator's folder (or link) by name: its mode is theirs
        owner = folder.owner
        if owner is not None and not as_root:
            warnings.append(f"warning: not root: {folder.path} keeps its owner (Harbor expects "
                            f"{owner[0]}:{owner[1]})")
            owner = None
        if not set_dir_mode_owner(folder.path, folder.mode, owner):
            warnings.append(f"warning: {folder.path} is not harborctl's to change: it keeps "
                            f"its mode (planned {folder.mode:o})")


def _stage(planned: PlannedFile, as_root: bool) -> None:
    staged = journal.staging_path(planned.path)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise FilesystemError(f"cannot write {planned.path}: {exc.strerror}",
                              hint="check the folder is writable (run as root?)") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(fd, planned.mode)
            if as_root and planned.owner is not None:
                os.fchown(fd, *planned.owner)
            handle.write(planned.content)
            handle.flush()
            os.fsync(fd)
    except OSError as exc:
        raise FilesystemError(f"cannot write {planned.path}: {exc.strerror}") from exc


def apply_deployment(deployment: Deployment, roots: Iterable[Path],
                     recorded: Iterable[Path] = ()) -> ApplyResult:
    """Write what changed, all or nothing, even if the process is killed half-way (see
    ``journal``). Files of generated_root that harborctl did not record are kept."""
    roots = tuple(roots)
    as_root = os.geteuid() == 0
    project = deployment.project_dir
    make_dirs(project, root_of(project, roots))
    journal.recover(project)
    result = ApplyResult(changes=plan_changes(deployment, roots, recorded),
                         kept=operator_files(deployment, recorded))
    _apply_folders(deployment, roots, as_root, result.warnings)
    remove_old_staging_copies(deployment)
    by_path = {f.path: f for f in deployment.files}
    targets = tuple(c.path for c in result.changes if c.kind != "remove")
    removals = tuple(c.path for c in result.changes if c.kind == "remove")
    if not targets and not removals:
        return result
    counter = journal.RenameCounter()
    journal.write_journal(project, journal.Journal("staging", targets, removals), counter)
    try:
        for target in targets:
            _stage(by_path[target], as_root)
            counter.tick()
    except BaseException:
        journal.discard_staging(targets)
        with contextlib.suppress(OSError):
            os.unlink(project / journal.JOURNAL_NAME)
        raise
    committed = journal.Journal("commit", targets, removals)
    journal.write_journal(project, committed, counter)
    journal.play(project, committed, counter)
    return result
