"""Writing the archive stream (``backup_format`` says what is in it; ``backup_reader`` reads it).

``ArchiveWriter`` turns members into a tar stream into an output object that only needs
``write`` (plain: the trailer at the end; encrypted: ``backup_crypto.EncryptingWriter``). Every
byte is hashed once: a member's content into its manifest entry, everything else (tar headers,
padding, the header and manifest members, the end blocks) into the trailer's sha256. The
manifest holds every content hash, so the trailer seals the whole archive.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Protocol

from harborctl.errors import FilesystemError
from harborctl.ops.backup_crypto import EncryptingWriter
from harborctl.ops.backup_format import HEADER_NAME, MANIFEST_NAME, Entry, Header, Manifest, trailer

COPY_BUFFER = 4 << 20  # large reads and writes; the copy loop reuses one buffer
ENCRYPTED_PREFIX = b"HCBKENC"


class Output(Protocol):
    def write(self, data: bytes) -> int: ...


class _PlainSink:
    """The tar stream as it is, the framing hashed for the trailer."""

    def __init__(self, out: Output) -> None:
        self._out = out
        self._hash = hashlib.sha256()

    def frame(self, data: bytes) -> None:
        self._hash.update(data)
        self._out.write(data)

    def content(self, data: bytes | memoryview) -> None:
        self._out.write(data)  # type: ignore[arg-type]  # a memoryview writes as well

    def close(self) -> None:
        self._out.write(trailer(self._hash.hexdigest()))


class _SealedSink:
    """Encrypted: every byte is authenticated by its chunk, framing and content alike."""

    def __init__(self, out: BinaryIO, passphrase: bytes) -> None:
        self._writer = EncryptingWriter(out, passphrase)

    def frame(self, data: bytes) -> None:
        self._writer.write(data)

    def content(self, data: bytes | memoryview) -> None:
        self._writer.write(data)

    def close(self) -> None:
        self._writer.close()


class ArchiveWriter:
    """Members in, a tar stream out; ``close`` adds the manifest and seals the stream.

    The tar framing is written here (headers from ``TarInfo.tobuf``, content copied straight
    through, NUL padding): tarfile's stream mode re-slices its buffer for every 10 KiB record,
    which took half the time of a backup."""

    def __init__(self, out: BinaryIO, header: Header, passphrase: bytes | None) -> None:
        self._sink: _SealedSink | _PlainSink = (
            _SealedSink(out, passphrase) if passphrase is not None else _PlainSink(out))
        self._offset = 0
        self._header = header
        self._entries: list[Entry] = []
        self._buffer = bytearray(COPY_BUFFER)
        self._hasher: ThreadPoolExecutor | None = None
        self._add(HEADER_NAME, header.to_json(), 0o600)

    def _frame(self, data: bytes) -> None:
        self._sink.frame(data)
        self._offset += len(data)

    def _content(self, data: bytes | memoryview) -> None:
        self._sink.content(data)
        self._offset += len(data)

    def _begin(self, info: tarfile.TarInfo) -> None:
        self._frame(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    def _pad(self) -> None:
        remainder = self._offset % tarfile.BLOCKSIZE
        if remainder:
            self._frame(tarfile.NUL * (tarfile.BLOCKSIZE - remainder))

    def _info(self, name: str, size: int, mode: int, owner: tuple[int, int] = (0, 0),
              mtime: float | None = None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode = size, mode
        info.uid, info.gid = owner
        info.mtime = int(mtime) if mtime is not None else 0
        return info

    def _add(self, name: str, data: bytes, mode: int) -> None:
        """The header and manifest members: framing, in the trailer's hash."""
        self._begin(self._info(name, len(data), mode))
        self._frame(data)
        self._pad()

    def add_bytes(self, name: str, data: bytes, mode: int = 0o600,
                  owner: tuple[int, int] = (0, 0), mtime: float | None = None) -> None:
        self._begin(self._info(name, len(data), mode, owner, mtime))
        self._content(data)
        self._pad()
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
        if self._hasher is None:
            self._hasher = ThreadPoolExecutor(1, thread_name_prefix="harborctl-hash")
        hasher, view = self._hasher, memoryview(self._buffer)
        digest, left = hashlib.sha256(), info.st_size
        while left > 0:
            got = handle.readinto(view[:min(COPY_BUFFER, left)])  # type: ignore[attr-defined]
            if not got:
                raise FilesystemError(f"{name} shrank while it was being copied",
                                      hint="run backup again")
            # sha256 and the write both release the GIL: the chunk is hashed on the other
            # core while it is written, and the buffer is reused only once both are done
            hashed = hasher.submit(digest.update, view[:got])
            try:
                self._content(view[:got])
            finally:
                hashed.result()
            left -= got
        self._pad()
        self._entries.append(Entry(name, info.st_size, digest.hexdigest()))
        return info.st_size

    def _stop_hashing(self) -> None:
        if self._hasher is not None:
            self._hasher.shutdown()
            self._hasher = None

    def abandon(self) -> None:
        """Nothing more is written (the output is being discarded)."""
        self._entries.clear()
        self._stop_hashing()

    def close(self) -> None:
        self._stop_hashing()
        manifest = Manifest(self._header, tuple(self._entries))
        self._add(MANIFEST_NAME, manifest.to_json(), 0o600)
        self._frame(tarfile.NUL * (2 * tarfile.BLOCKSIZE))  # the end of the archive
        remainder = self._offset % tarfile.RECORDSIZE
        if remainder:
            self._frame(tarfile.NUL * (tarfile.RECORDSIZE - remainder))
        self._sink.close()
