"""Large files written as a stream: the backup archive (a temporary file renamed into place at
the end, removed on any failure) and what a restore puts back (new files, never through a link).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from harborctl.errors import FilesystemError
from harborctl.files.safe import make_dirs, set_dir_mode_owner


class NoSpaceError(FilesystemError):
    """The disk filled while writing; ``written`` bytes had gone out when it did."""

    def __init__(self, path: Path, written: int) -> None:
        super().__init__(f"no space left on the device holding {path.parent}")
        self.path = path
        self.written = written


WRITEBACK_STEP = 32 << 20


def start_writeback(fd: int, start: int, length: int) -> None:
    """Ask the kernel to write ``length`` bytes from ``start`` to disk now, and to drop them
    from the page cache once they are clean: a large stream is on disk by the time it ends
    (the final fsync waits for little) and does not push other programs' files out of memory.
    (POSIX_FADV_DONTNEED starts writeback of dirty pages and drops only clean ones.)"""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None and length > 0:
        with contextlib.suppress(OSError):
            advise(fd, start, length, os.POSIX_FADV_DONTNEED)


class AtomicOutput:
    """A file that appears at ``path`` (mode ``mode``) only once ``commit`` is called: until
    then it is a hidden temporary file in the same folder, removed by ``discard``. Written
    data is sent to disk as it goes (``start_writeback``, every ``WRITEBACK_STEP`` bytes)."""

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = path
        self.written = 0
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                        dir=path.parent)
        except OSError as exc:
            raise FilesystemError(f"cannot write in {path.parent}: {exc.strerror}",
                                  hint="check the folder exists and is writable") from exc
        self._tmp = Path(name)
        os.fchmod(fd, mode)
        self._handle = os.fdopen(fd, "wb", buffering=1 << 20)
        self._marks = (0, 0)  # where the last two writeback steps began

    def write(self, data: bytes | memoryview) -> int:
        try:
            self._handle.write(data)
            self.written += len(data)
            if self.written - self._marks[1] >= WRITEBACK_STEP:
                self._handle.flush()
                # the step before the last is clean by now: dropped; the last: written out
                start_writeback(self._handle.fileno(), self._marks[0],
                                self.written - self._marks[0])
                self._marks = (self._marks[1], self.written)
        except OSError as exc:
            raise self._failed(exc) from exc
        return len(data)

    def _failed(self, exc: OSError) -> FilesystemError:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return NoSpaceError(self.path, self.written)
        return FilesystemError(f"cannot write {self.path}: {exc.strerror}")

    def commit(self) -> None:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.discard()
            raise self._failed(exc) from exc

    def discard(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._handle.close()  # may fail again on a full disk: the file goes anyway
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


def restore_dir(path: Path, root: Path, mode: int, owner: tuple[int, int] | None) -> None:
    """A folder of the data volume, with its recorded mode and owner (links refused)."""
    make_dirs(path, root, mode)
    set_dir_mode_owner(path, mode, owner)


def restore_file(path: Path, root: Path, chunks: Iterable[bytes], mode: int,
                 owner: tuple[int, int] | None) -> None:
    """A new file with ``chunks`` as content: created exclusively (an existing file or a link
    in its place is refused), then given its mode and owner through its descriptor."""
    make_dirs(path.parent, root)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
    except OSError as exc:
        raise FilesystemError(f"cannot create {path}: {exc.strerror}",
                              hint="restore writes only where nothing is (use --force to "
                                   "replace the data)") from exc
    try:
        with os.fdopen(fd, "wb", buffering=0) as handle:
            size = 0
            for chunk in chunks:
                size += handle.write(chunk) or 0
            if size >= WRITEBACK_STEP:
                start_writeback(handle.fileno(), 0, size)
            if owner is not None:
                os.fchown(handle.fileno(), *owner)
            os.fchmod(handle.fileno(), stat.S_IMODE(mode))
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise FilesystemError(f"cannot write {path}: {exc.strerror}") from exc


def chown_no_follow(path: Path, owner: tuple[int, int]) -> None:
    """Give a file harborctl just wrote its recorded owner (a link is never followed)."""
    try:
        os.chown(path, *owner, follow_symlinks=False)
    except PermissionError:
        return  # not root: the file stays ours, as prepare leaves it
    except OSError as exc:
        raise FilesystemError(f"cannot set the owner of {path}: {exc.strerror}") from exc
