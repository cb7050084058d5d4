"""A private folder beside a restore's targets, where the archive is unpacked while it is being
checked: nothing is moved into place before the whole archive checks out, and on any failure the
folder goes (with the parents it had to create), so that nothing is changed.

It lives in the folder that will hold the targets (same filesystem: moving into place is a
rename), mode 0700, and nothing in it is ever reached through a link.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harborctl.errors import FilesystemError
from harborctl.files.remove import remove_path
from harborctl.files.safe import check_no_links, make_dirs, missing_folders
from harborctl.files.stream import restore_dir, restore_file

PREFIX = ".harborctl-restore-"


class StagingFolder:
    def __init__(self, parent: Path) -> None:
        self._created = missing_folders(parent)
        make_dirs(parent, parent)  # the operator may have made data_volume a link
        try:
            self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # mode 0700
        except OSError as exc:
            self._remove_created()
            raise FilesystemError(f"cannot create a folder in {parent}: {exc.strerror}",
                                  hint="check the folder is writable") from exc
        self.parent = parent

    def _inside(self, relative: str) -> Path:
        path = self.path / relative
        if self.path not in path.parents:
            raise FilesystemError(f"{relative} is outside the restore's staging folder")
        return path

    def put_dir(self, relative: str, mode: int, owner: tuple[int, int] | None) -> None:
        restore_dir(self._inside(relative), self.path, mode, owner)

    def put_file(self, relative: str, chunks: Iterable[bytes], mode: int,
                 owner: tuple[int, int] | None) -> None:
        restore_file(self._inside(relative), self.path, chunks, mode, owner)

    def append(self, relative: str, chunks: Iterable[bytes]) -> None:
        """Add ``chunks`` at the end of a private file (0600), created when missing."""
        path = self._inside(relative)
        make_dirs(path.parent, self.path, 0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb", buffering=0) as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except OSError as exc:
            raise FilesystemError(f"cannot write {path}: {exc.strerror}") from exc

    def holds(self, relative: str) -> bool:
        return os.path.lexists(self._inside(relative))

    def move_into_place(self, relative: str, target: Path) -> None:
        """Rename a staged folder to ``target`` (in the staging folder's parent), replacing an
        empty folder tree there; the caller has made sure it holds no file."""
        if target.parent != self.parent:
            raise FilesystemError(f"{target} is not beside the staging folder {self.path}")
        check_no_links(target, self.parent)
        if os.path.lexists(target):
            remove_path(target)
        try:
            os.rename(self._inside(relative), target)
        except OSError as exc:
            raise FilesystemError(f"cannot move the restored {relative} to {target}: "
                                  f"{exc.strerror}") from exc

    def remove(self) -> None:
        """The folder and what is left in it; then the parents it created, if still empty."""
        with contextlib.suppress(FilesystemError):
            remove_path(self.path)
        self._remove_created()

    def _remove_created(self) -> None:
        for folder in self._created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
