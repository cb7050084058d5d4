"""Reading the per-service log files without loading them: the last lines by seeking back from
the end, every line from the start as a stream, and following files that logrotate truncates
(``copytruncate``, as harborctl's logrotate.conf does) or replaces."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_BLOCK = 64 * 1024


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def last_lines(path: Path, count: int, keep_partial: bool = True) -> tuple[list[str], int]:
    """The last ``count`` lines of ``path`` and the offset just after the last whole line.

    Reads blocks backwards from the end, so a file of any size costs about ``count`` lines of
    memory. A last line without its line break (rsyslog may be writing it) is one of the lines
    when ``keep_partial``; it is never counted in the offset, so a follower starts at it."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        chunks: list[bytes] = []
        breaks, position = 0, size
        while position > 0 and breaks <= count:
            step = min(_BLOCK, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step)
            chunks.insert(0, chunk)
            breaks += chunk.count(b"\n")
    data = b"".join(chunks)
    whole, _, partial = data.rpartition(b"\n")
    lines = [_decode(line) for line in whole.split(b"\n")] if whole or data.startswith(b"\n") \
        else []
    if position > 0 and lines:  # the first piece is the end of a line we did not read whole
        lines = lines[1:]
    if partial and keep_partial:
        lines.append(_decode(partial))
    end = size - len(partial)
    return (lines[-count:] if count > 0 else []), end


def all_lines(path: Path, keep_partial: bool = True) -> Iterator[str]:
    """Every line from the start, one at a time (for --since: the file is never held whole)."""
    with open(path, "rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n") and not keep_partial:
                return
            yield _decode(raw.rstrip(b"\n"))


@dataclass
class _Position:
    inode: int
    offset: int
    pending: bytes = b""


class FileFollower:
    """New whole lines of one file at each ``poll``, from ``offset`` on.

    logrotate's ``copytruncate`` empties the file in place (the size drops below what was
    read: start again at 0); a ``create`` rotation renames it and makes a new one (another
    inode: finish the old file through the open handle, then read the new one from 0). A line
    is given only once its line break is written."""

    def __init__(self, path: Path, offset: int) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._position: _Position | None = None
        self._open(offset)

    def _open(self, offset: int) -> None:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - held across polls, closed in close()
        except OSError:
            self._file, self._position = None, None
            return
        inode = os.fstat(handle.fileno()).st_ino
        size = os.fstat(handle.fileno()).st_size
        start = offset if offset <= size else 0
        handle.seek(start)
        self._file, self._position = handle, _Position(inode, start)

    def poll(self) -> list[str]:
        if self._file is None or self._position is None:
            self._open(0)
            return self._read_new() if self._file is not None else []
        try:
            current = os.stat(self.path)
        except OSError:
            return self._read_new()  # renamed away, not yet re-created: finish what we hold
        lines: list[str] = []
        if current.st_ino != self._position.inode:
            lines = self._read_new()
            self.close()
            self._open(0)
        elif current.st_size < self._position.offset:
            self._file.seek(0)  # truncated: what was pending is gone with the old content
            self._position = _Position(self._position.inode, 0)
        return lines + self._read_new()

    def _read_new(self) -> list[str]:
        if self._file is None or self._position is None:
            return []
        data = self._position.pending + self._file.read()
        self._position.offset = self._file.tell()
        whole, _, partial = data.rpartition(b"\n")
        self._position.pending = partial
        if not whole and not data.startswith(b"\n"):
            return []
        return [_decode(line) for line in whole.split(b"\n")]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
