"""All-or-nothing apply that survives a kill: staging files, a journal, and a roll-forward.

Every new content is first written beside its target as ``.NAME.harborctl-new`` (fsynced, with
its final mode and owner). The journal in the project folder lists them *before* they are made
("staging"), and is atomically rewritten as "commit" once all of them exist; that rewrite is the
point of no return. A run killed before it leaves the old tree, and the next run deletes the
staging files; a run killed after it leaves a journal that the next run plays to the end. Either
way no staging copy of a secret outlives the next run, and docker-compose.yml and the state file
never disagree for longer than that.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harborctl.errors import FilesystemError

JOURNAL_NAME = ".harborctl-apply.json"
STAGING_SUFFIX = ".harborctl-new"
# Test hook: exit abruptly after this many steps (journal writes, staged files, renames,
# removals), as a kill would; see tests/unit/test_apply_kill.py.
EXIT_AFTER_RENAME_ENV = "HARBORCTL_TEST_EXIT_AFTER_RENAME"


def staging_path(target: Path) -> Path:
    return target.parent / f".{target.name}{STAGING_SUFFIX}"


class RenameCounter:
    """Counts the steps between which a kill could fall; the test hook ends the process at one."""

    def __init__(self) -> None:
        value = os.environ.get(EXIT_AFTER_RENAME_ENV, "")
        self.exit_after = int(value) if value.isdigit() else 0
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.done == self.exit_after:
            os._exit(70)


@dataclass(frozen=True)
class Journal:
    state: str  # "staging" or "commit"
    targets: tuple[Path, ...]  # renamed from their staging path, in this order
    removals: tuple[Path, ...]


def _journal_path(project_dir: Path) -> Path:
    return project_dir / JOURNAL_NAME


def write_journal(project_dir: Path, journal: Journal, counter: RenameCounter | None) -> None:
    payload = {"version": 1, "state": journal.state,
               "targets": [str(t) for t in journal.targets],
               "removals": [str(r) for r in journal.removals]}
    final = _journal_path(project_dir)
    temporary = final.with_name(JOURNAL_NAME + ".tmp")
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    except OSError as exc:
        raise FilesystemError(f"cannot write {final}: {exc.strerror}") from exc
    if counter is not None:
        counter.tick()


def read_journal(project_dir: Path) -> Journal | None:
    path = _journal_path(project_dir)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FilesystemError(f"cannot read {path}: {exc.strerror}",
                              hint="it must be a regular file written by harborctl") from exc
    with os.fdopen(fd) as handle:
        try:
            payload = json.load(handle)
            state = payload["state"]
            targets = tuple(Path(t) for t in payload["targets"])
            removals = tuple(Path(r) for r in payload["removals"])
        except (ValueError, KeyError, TypeError) as exc:
            raise FilesystemError(f"{path} is not a journal harborctl can read",
                                  hint="check no prepare is running, delete it and run "
                                       "prepare again") from exc
    if state not in ("staging", "commit") or not all(p.is_absolute() for p in
                                                    (*targets, *removals)):
        raise FilesystemError(f"{path} is not a journal harborctl can read",
                              hint="check no prepare is running, delete it and run again")
    return Journal(state, targets, removals)


def discard_staging(targets: Sequence[Path]) -> None:
    for target in targets:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging_path(target))  # unlink removes a link itself, never its target


def play(project_dir: Path, journal: Journal, counter: RenameCounter | None) -> None:
    """Rename every staged file still waiting, remove the stale files, drop the journal."""
    try:
        for target in journal.targets:
            staged = staging_path(target)
            if os.path.lexists(staged):  # absent: renamed before an interruption
                os.replace(staged, target)
                if counter is not None:
                    counter.tick()
        for stale in journal.removals:
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISDIR(os.lstat(stale).st_mode):
                    os.unlink(stale)
                    if counter is not None:
                        counter.tick()
        os.unlink(_journal_path(project_dir))
    except OSError as exc:
        raise FilesystemError(f"cannot complete the apply in {project_dir}: {exc.strerror}",
                              hint="fix the cause and run prepare again: it completes it") from exc


def recover(project_dir: Path) -> str | None:
    """Finish or undo what a killed run left; a sentence for the operator when there was one."""
    journal = read_journal(project_dir)
    if journal is None:
        return None
    if journal.state == "staging":
        discard_staging(journal.targets)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_journal_path(project_dir))
        return "an interrupted prepare had not started to replace files: its staging files " \
               "were removed"
    play(project_dir, journal, None)
    return f"completed an interrupted prepare ({len(journal.targets)} file(s) put in place)"
