"""Reading an archive once, from start to end (``backup_archive`` writes it).

The tar framing is read here, not by tarfile: each byte is hashed once, as the writer did (a
listed member's content into its own sha256, compared with the manifest; the rest into the
trailer's sha256), and the content is read in large blocks without tarfile's re-slicing. Format 1
archives hashed every byte into the trailer; they are still read. Each member's content goes to
a visitor as it comes: the same pass checks the archive and feeds a restore, which must keep
what it is given aside until ``read_archive`` returns (the checks end with the stream).
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from harborctl.errors import ArchiveError
from harborctl.ops.backup_archive import COPY_BUFFER, ENCRYPTED_PREFIX
from harborctl.ops.backup_crypto import DecryptingReader
from harborctl.ops.backup_format import (
    HEADER_NAME,
    MANIFEST_NAME,
    TRAILER_LEN,
    Entry,
    Header,
    Manifest,
    compare,
    parse_header,
    parse_manifest,
    safe_member_name,
    trailer_digest,
)

BLOCK = tarfile.BLOCKSIZE
UNCHANGED = "nothing was changed"
_HEADER_LIMIT = 1 << 20
_MANIFEST_LIMIT = 256 << 20  # about a million entries
_PAX_LIMIT = 1 << 16
_PARALLEL_MIN = 256 << 10  # smaller blocks are hashed at once


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    mode: int
    uid: int
    gid: int
    is_dir: bool


Visitor = Callable[[Member, Iterator[bytes]], None]


class _PlainSource:
    """The tar bytes of an unencrypted archive: everything before the trailer."""

    def __init__(self, handle: BinaryIO, size: int, name: str) -> None:
        if size < TRAILER_LEN:
            raise ArchiveError(f"{name} is truncated: it is too short to be a backup",
                               hint=UNCHANGED)
        self._handle, self._left, self._name = handle, size - TRAILER_LEN, name

    def read(self, size: int) -> bytes:
        data = self._handle.read(min(size, self._left))
        self._left -= len(data)
        return data

    def finish(self, framing: str) -> None:
        stated = trailer_digest(self._handle.read(TRAILER_LEN + 1))
        if stated is None:
            raise ArchiveError(f"{self._name} is truncated or corrupt: its end marker is "
                               "missing", hint=UNCHANGED)
        if stated != framing:
            raise ArchiveError(f"{self._name} is corrupt: its content does not match the "
                               "checksum at its end", hint=UNCHANGED)


Source = Union[_PlainSource, DecryptingReader]


class _TarStream:
    """Exact reads from the source; framing into one hash, content into the caller's."""

    def __init__(self, source: Source, name: str, hasher: ThreadPoolExecutor) -> None:
        self._source, self.name, self._hasher = source, name, hasher
        self.framing = hashlib.sha256()
        self.hash_content_as_framing = True  # until the header says format 2 or later

    def _exact(self, size: int) -> bytes:
        data = self._source.read(size)
        if len(data) == size:
            return data
        parts = [data]
        size -= len(data)
        while size > 0:
            more = self._source.read(size)
            if not more:
                raise ArchiveError(f"{self.name} is truncated: it ends inside a member",
                                   hint=UNCHANGED)
            parts.append(more)
            size -= len(more)
        return b"".join(parts)

    def frame(self, size: int) -> bytes:
        data = self._exact(size)
        self.framing.update(data)
        return data

    def content(self, size: int, digest: hashlib._Hash) -> Iterator[bytes]:
        """The content in large blocks; each is hashed on the other core while the caller
        writes it (sha256 and writes release the GIL), in order: one block at a time."""
        hashing: Future[None] | None = None
        try:
            while size > 0:
                data = self._exact(min(COPY_BUFFER, size))
                if hashing is not None:
                    hashing.result()
                    hashing = None
                if self.hash_content_as_framing:
                    self.framing.update(data)
                    digest.update(data)
                elif len(data) >= _PARALLEL_MIN:
                    hashing = self._hasher.submit(digest.update, data)
                else:
                    digest.update(data)
                size -= len(data)
                yield data
        finally:
            if hashing is not None:
                hashing.result()

    def padding(self, size: int) -> None:
        if size % BLOCK:
            self.frame(BLOCK - size % BLOCK)

    def finish(self) -> None:
        """Check the end: the trailer (plain), the final chunk (encrypted chunks authenticate
        the framing too)."""
        if isinstance(self._source, DecryptingReader):
            self._source.finish()
        else:
            self._source.finish(self.framing.hexdigest())

    def rest(self) -> None:
        """What follows the end blocks (NUL padding to a record): framing too."""
        while True:
            data = self._source.read(COPY_BUFFER)
            if not data:
                return
            self.framing.update(data)

    def next_info(self) -> tarfile.TarInfo | None:
        """The next member's header (a pax header applied), None at the end of the archive."""
        block = self.frame(BLOCK)
        if block == tarfile.NUL * BLOCK:
            return None
        info = self._parse(block)
        if info.type != tarfile.XHDTYPE:
            return info
        if info.size > _PAX_LIMIT:
            raise ArchiveError(f"{self.name} is corrupt: an extended header is too large",
                               hint=UNCHANGED)
        records = self.frame(info.size)
        self.padding(info.size)
        block = self.frame(BLOCK)
        if block == tarfile.NUL * BLOCK:
            raise ArchiveError(f"{self.name} is corrupt: an extended header ends the archive",
                               hint=UNCHANGED)
        info = self._parse(block)
        _apply_pax(info, records, self.name)
        if info.isdir():  # tar writes a folder's name with a final "/" (frombuf drops it)
            info.name = info.name.rstrip("/")
        return info

    def _parse(self, block: bytes) -> tarfile.TarInfo:
        try:
            return tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise ArchiveError(f"{self.name} is corrupt: a member's header is damaged ({exc})",
                               hint=UNCHANGED) from exc


def _apply_pax(info: tarfile.TarInfo, records: bytes, name: str) -> None:
    """The fields of a pax extended header (``LENGTH KEY=VALUE\\n`` records) that the writer
    uses: path, size, uid, gid."""
    position = 0
    try:
        while position < len(records):
            length = int(records[position:records.index(b" ", position)])
            record = records[position:position + length]
            if length <= 0 or not record.endswith(b"\n"):
                raise ValueError(record)
            key, value = record[record.index(b" ") + 1:-1].split(b"=", 1)
            if key == b"path":
                info.name = value.decode("utf-8", "surrogateescape")
            elif key in (b"size", b"uid", b"gid"):
                setattr(info, key.decode(), int(value))
            position += length
    except ValueError:
        raise ArchiveError(f"{name} is corrupt: an extended header is damaged",
                           hint=UNCHANGED) from None


def _open_source(handle: BinaryIO, passphrase: bytes | None, name: str) -> Source:
    start = handle.read(len(ENCRYPTED_PREFIX) + 1)
    handle.seek(0)
    if not start.startswith(ENCRYPTED_PREFIX):
        return _PlainSource(handle, os.fstat(handle.fileno()).st_size, name)
    if start[-1] != 1:
        raise ArchiveError(f"{name} is encrypted with a newer framing ({start[-1]}) than this "
                           "harborctl reads",
                           hint="restore it with the harborctl version that wrote it or a "
                                f"newer one; {UNCHANGED}")
    if passphrase is None:
        raise ArchiveError(f"{name} is encrypted",
                           hint="give the passphrase with --passphrase-file FILE")
    return DecryptingReader(handle, passphrase, name)


def read_archive(path: Path, passphrase: bytes | None, visit: Visitor,
                 started: Callable[[Header], None] | None = None) -> Manifest:
    """Read ``path`` once; call ``started`` with its header, then ``visit`` for every member
    between the header and the manifest (it may leave its content unread); raise
    ``ArchiveError`` on any damage (at the latest once the whole stream is read)."""
    name = str(path)
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below, whatever happens
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from exc
    with handle, ThreadPoolExecutor(1, thread_name_prefix="harborctl-hash") as hasher:
        stream = _TarStream(_open_source(handle, passphrase, name), name, hasher)
        manifest, found = _read_members(stream, visit, started)
        stream.finish()
    compare(manifest, found, name)
    return manifest


def _read_members(stream: _TarStream, visit: Visitor,
                  started: Callable[[Header], None] | None) -> tuple[Manifest, dict[str, Entry]]:
    name = stream.name
    found: dict[str, Entry] = {}
    header: Header | None = None
    while True:
        info = stream.next_info()
        if info is None:
            break
        if not safe_member_name(info.name) or info.type not in (
                tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE):
            raise ArchiveError(f"{name} is corrupt or not harborctl's: it holds {info.name!r}, "
                               "which harborctl never writes", hint=UNCHANGED)
        size = info.size if info.isreg() else 0
        if header is None or info.name == MANIFEST_NAME:
            expected = HEADER_NAME if header is None else MANIFEST_NAME
            if info.name != expected or not info.isreg():
                raise ArchiveError(f"{name} is not a harborctl backup (it does not start with "
                                   f"{HEADER_NAME})", hint=UNCHANGED)
            if size > (_HEADER_LIMIT if header is None else _MANIFEST_LIMIT):
                raise ArchiveError(f"{name} is corrupt: its {info.name} is too large",
                                   hint=UNCHANGED)
            raw = stream.frame(size)
            stream.padding(size)
            if header is None:
                header = parse_header(raw, name)
                stream.hash_content_as_framing = header.format < 2
                if started is not None:
                    started(header)
                continue
            manifest = parse_manifest(raw, name)
            if stream.next_info() is not None:
                raise ArchiveError(f"{name} is corrupt: a member follows its manifest",
                                   hint=UNCHANGED)
            stream.rest()
            return manifest, found
        digest = hashlib.sha256()
        chunks = stream.content(size, digest)
        visit(Member(info.name, size, info.mode, info.uid, info.gid, info.isdir()), chunks)
        for _ in chunks:  # what the visitor left unread is still read and checked
            pass
        stream.padding(size)
        if info.isreg():
            found[info.name] = Entry(info.name, size, digest.hexdigest())
    if header is None:
        raise ArchiveError(f"{name} is empty or not a harborctl backup", hint=UNCHANGED)
    stream.rest()
    stream.finish()  # a damaged stream explains a missing manifest best
    raise ArchiveError(f"{name} is truncated: its manifest is missing", hint=UNCHANGED)
