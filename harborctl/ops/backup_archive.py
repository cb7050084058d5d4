"""Writing and reading the archive stream (``backup_format`` says what is in it).

``ArchiveWriter`` turns members into a tar stream, hashing each one for the manifest, into an
output object that only needs ``write`` (plain: a whole-stream sha256 and the trailer at the end;
encrypted: ``backup_crypto.EncryptingWriter``). ``read_archive`` reads an archive once, from
start to end, checks every member against the manifest and the stream against its trailer or
its authentication, and hands each member's content to a visitor as it goes: the same code
verifies before a restore and feeds the restore itself.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

from harborctl.errors import ArchiveError, FilesystemError
from harborctl.ops.backup_crypto import DecryptingReader, EncryptingWriter
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
    trailer,
    trailer_digest,
)

COPY_BUFFER = 1 << 20
ENCRYPTED_PREFIX = b"HCBKENC"


class Output(Protocol):
    def write(self, data: bytes) -> int: ...


class _PlainSink:
    def __init__(self, out: Output) -> None:
        self._out = out
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._out.write(data)
        return len(data)

    def close(self) -> None:
        self._out.write(trailer(self._hash.hexdigest()))


class ArchiveWriter:
    """Members in, a tar stream out; ``close`` adds the manifest and seals the stream.

    The tar framing is written here (headers from ``TarInfo.tobuf``, content copied straight
    through, NUL padding): tarfile's stream mode re-slices its buffer for every 10 KiB record,
    which took half the time of a backup."""

    def __init__(self, out: BinaryIO, header: Header, passphrase: bytes | None) -> None:
        self._sink: EncryptingWriter | _PlainSink = (
            EncryptingWriter(out, passphrase) if passphrase is not None else _PlainSink(out))
        self._offset = 0
        self._header = header
        self._entries: list[Entry] = []
        self._add(HEADER_NAME, header.to_json(), 0o600)

    def _write(self, data: bytes) -> None:
        self._sink.write(data)
        self._offset += len(data)

    def _begin(self, info: tarfile.TarInfo) -> None:
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _pad(self) -> None:
        remainder = self._offset % tarfile.BLOCKSIZE
        if remainder:
            self._write(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))

    def _info(self, name: str, size: int, mode: int, owner: tuple[int, int] = (0, 0),
              mtime: float | None = None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, mode
        info.uid, info.gid = owner
        info.mtime = int(mtime) if mtime is not None else 0
        return info

    def _add(self, name: str, data: bytes, mode: int, owner: tuple[int, int] = (0, 0),
             mtime: float | None = None) -> None:
        self._begin(self._info(name, len(data), mode, owner, mtime))
        self._write(data)
        self._pad()

    def add_bytes(self, name: str, data: bytes, mode: int = 0o600,
                  owner: tuple[int, int] = (0, 0), mtime: float | None = None) -> None:
        self._add(name, data, mode, owner, mtime)
        self._entries.append(Entry(name, len(data), hashlib.sha256(data).hexdigest()))

    def add_dir(self, name: str, info: os.stat_result) -> None:
        member = self._info(name, 0, stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid),
                            info.st_mtime)
        member.type = tarfile.DIRTYPE
        self._begin(member)

    def add_open_file(self, name: str, handle: BinaryIO, info: os.stat_result) -> int:
        """A regular file already opened (never through a link), ``info.st_size`` bytes of it
        (a file that shrank meanwhile is an error); returns its size."""
        self._begin(self._info(name, info.st_size, stat.S_IMODE(info.st_mode),
                               (info.st_uid, info.st_gid), info.st_mtime))
        digest, left = hashlib.sha256(), info.st_size
        while left > 0:
            data = handle.read(min(COPY_BUFFER, left))
            if not data:
                raise FilesystemError(f"{name} shrank while it was being copied",
                                      hint="run backup again")
            digest.update(data)
            self._write(data)
            left -= len(data)
        self._pad()
        self._entries.append(Entry(name, info.st_size, digest.hexdigest()))
        return info.st_size

    def abandon(self) -> None:
        """Nothing more is written (the output is being discarded)."""
        self._entries.clear()

    def close(self) -> None:
        manifest = Manifest(self._header, tuple(self._entries))
        self._add(MANIFEST_NAME, manifest.to_json(), 0o600)
        self._write(tarfile.NUL * (2 * tarfile.BLOCKSIZE))  # the end of the archive
        remainder = self._offset % tarfile.RECORDSIZE
        if remainder:
            self._write(tarfile.NUL * (tarfile.RECORDSIZE - remainder))
        self._sink.close()


class _PlainSource:
    """The tar bytes of an unencrypted archive: everything before the trailer, hashed."""

    def __init__(self, source: BinaryIO, size: int, name: str) -> None:
        if size < TRAILER_LEN:
            raise ArchiveError(f"{name} is truncated: it is too short to be a backup",
                               hint="nothing was changed")
        self._source = source
        self._left = size - TRAILER_LEN
        self._hash = hashlib.sha256()
        self._name = name

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._source.read(size)
        self._left -= len(data)
        self._hash.update(data)
        return data

    def finish(self) -> None:
        while self._left > 0:
            if not self.read(COPY_BUFFER):
                break
        stated = trailer_digest(self._source.read(TRAILER_LEN + 1))
        if stated is None:
            raise ArchiveError(f"{self._name} is truncated or corrupt: its end marker is "
                               "missing", hint="nothing was changed")
        if stated != self._hash.hexdigest():
            raise ArchiveError(f"{self._name} is corrupt: its content does not match the "
                               "checksum at its end", hint="nothing was changed")


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    mode: int
    uid: int
    gid: int
    is_dir: bool


Visitor = Callable[[Member, Iterator[bytes]], None]


def read_archive(path: Path, passphrase: bytes | None, visit: Visitor) -> Manifest:
    """Read ``path`` once; call ``visit`` for every member between the header and the
    manifest (it may leave its content unread); raise ``ArchiveError`` on any damage."""
    name = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, whatever happens
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        start = handle.read(len(ENCRYPTED_PREFIX) + 1)
        handle.seek(0)
        source: _PlainSource | DecryptingReader
        if start.startswith(ENCRYPTED_PREFIX):
            if start[-1] != 1:
                raise ArchiveError(f"{name} is encrypted with a newer framing ({start[-1]}) "
                                   "than this harborctl reads",
                                   hint="restore it with the harborctl version that wrote it "
                                        "or a newer one; nothing was changed")
            if passphrase is None:
                raise ArchiveError(f"{name} is encrypted",
                                   hint="give the passphrase with --passphrase-file FILE")
            source = DecryptingReader(handle, passphrase, name)
        else:
            source = _PlainSource(handle, os.fstat(handle.fileno()).st_size, name)
        manifest = _read_members(source, name, visit)
        source.finish()
    return manifest


class _MemberContent:
    def __init__(self, handle: IO[bytes] | None) -> None:
        self._handle = handle
        self.hash = hashlib.sha256()
        self.count = 0

    def chunks(self) -> Iterator[bytes]:
        while self._handle is not None:
            data = self._handle.read(COPY_BUFFER)
            if not data:
                return
            self.hash.update(data)
            self.count += len(data)
            yield data


def _read_members(source: _PlainSource | DecryptingReader, name: str, visit: Visitor
                  ) -> Manifest:
    found: dict[str, Entry] = {}
    header: Header | None = None
    manifest: Manifest | None = None
    try:
        with tarfile.open(fileobj=cast(Any, source), mode="r|", bufsize=COPY_BUFFER) as tar:
            for info in tar:
                if manifest is not None:
                    raise ArchiveError(f"{name} is corrupt: {info.name} follows its manifest",
                                       hint="nothing was changed")
                if not safe_member_name(info.name) or not (info.isreg() or info.isdir()):
                    raise ArchiveError(f"{name} holds {info.name!r}, which harborctl never "
                                       "writes", hint="nothing was changed")
                content = tar.extractfile(info) if info.isreg() else None
                if header is None:
                    if info.name != HEADER_NAME or content is None:
                        raise ArchiveError(f"{name} is not a harborctl backup (it does not "
                                           f"start with {HEADER_NAME})",
                                           hint="nothing was changed")
                    header = parse_header(content.read(1 << 20), name)
                    continue
                if info.name == MANIFEST_NAME and content is not None:
                    manifest = parse_manifest(content.read(64 << 20), name)
                    continue
                reader = _MemberContent(content)
                stream = reader.chunks()
                visit(Member(info.name, info.size, info.mode, info.uid, info.gid,
                             info.isdir()), stream)
                for _ in stream:  # what the visitor left unread is still checked
                    pass
                if info.isreg():
                    found[info.name] = Entry(info.name, reader.count, reader.hash.hexdigest())
    except tarfile.TarError as exc:
        raise ArchiveError(f"{name} is corrupt or truncated: {exc}",
                           hint="nothing was changed") from exc
    if header is None:
        raise ArchiveError(f"{name} is empty or not a harborctl backup",
                           hint="nothing was changed")
    if manifest is None:
        source.finish()  # a damaged stream explains a missing manifest best
        raise ArchiveError(f"{name} is truncated: its manifest is missing",
                           hint="nothing was changed")
    compare(manifest, found, name)
    return manifest
