"""The encrypted form of a backup archive: the tar stream cut into chunks, each sealed with
AES-256-GCM under a key derived from the operator's passphrase with scrypt.

Layout: ``MAGIC | log2(n) r p | salt(16) | nonce prefix(4) | key check(16)`` then chunks, each
``length(4, big-endian) | ciphertext+tag``. A chunk's nonce is the prefix and its index; its
associated data is the header, its index and a final-chunk flag. So a flipped bit, a chunk
dropped, repeated or moved, or an archive cut after any chunk fails to authenticate: the reader
accepts exactly the chunks the writer sealed, in order, ending with the one marked final.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from harborctl.errors import ArchiveError

MAGIC = b"HCBKENC\x01"  # the crypto framing's own version is the last byte
CHUNK = 1 << 20  # plaintext bytes per chunk: memory stays at a few of these
TAG = 16
SALT_LEN = 16
PREFIX_LEN = 4
SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P = 15, 8, 1  # about 32 MiB and 0.1 s to derive
_PARAMS = struct.Struct(">BBB")
_LENGTH = struct.Struct(">I")
HEADER_LEN = len(MAGIC) + _PARAMS.size + SALT_LEN + PREFIX_LEN + TAG
_CHECK_INDEX = (1 << 64) - 1  # never a chunk's index


def _key(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    if not 10 <= log2_n <= 22 or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ArchiveError("the archive's key derivation parameters are out of range "
                           "(a damaged header)")
    return Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">Q", index)


def _aad(header: bytes, index: int, final: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if final else 0)


class EncryptingWriter:
    """A write-only stream that seals what it is given into ``out``; ``close`` writes the final
    chunk (call it once, after the last write)."""

    def __init__(self, out: BinaryIO, passphrase: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt, prefix = os.urandom(SALT_LEN), os.urandom(PREFIX_LEN)
        self._core = MAGIC + _PARAMS.pack(SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P) + salt + prefix
        self._aead = AESGCM(_key(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P))
        self._prefix = prefix
        check = self._aead.encrypt(_nonce(prefix, _CHECK_INDEX), b"", self._core)
        self._out = out
        self._out.write(self._core + check)
        self._buffer = bytearray()
        self._index = 0

    def write(self, data: bytes | memoryview) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index), plain,
                                    _aad(self._core, self._index, final))
        self._out.write(_LENGTH.pack(len(sealed)))
        self._out.write(sealed)
        self._index += 1

    def close(self) -> None:
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()


class DecryptingReader:
    """A read-only stream of the plaintext of an encrypted archive; ``finish`` checks that the
    final chunk was reached and nothing follows it."""

    def __init__(self, source: BinaryIO, passphrase: bytes, name: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._name = name
        header = _read_exact(source, HEADER_LEN)
        if len(header) < HEADER_LEN or not header.startswith(MAGIC):
            raise ArchiveError(f"{name} is truncated: its encryption header is incomplete")
        core, check = header[:-TAG], header[-TAG:]
        log2_n, r, p = _PARAMS.unpack_from(core, len(MAGIC))
        offset = len(MAGIC) + _PARAMS.size
        salt = core[offset:offset + SALT_LEN]
        self._prefix = core[offset + SALT_LEN:]
        self._aead = AESGCM(_key(passphrase, salt, log2_n, r, p))
        self._core = core
        from cryptography.exceptions import InvalidTag

        self._invalid = InvalidTag
        try:
            self._aead.decrypt(_nonce(self._prefix, _CHECK_INDEX), check, core)
        except InvalidTag:
            raise ArchiveError(
                f"cannot decrypt {name}: the passphrase is wrong (or the archive's header is "
                "damaged)", hint="check the passphrase file given with --passphrase-file; "
                "nothing was changed") from None
        self._source = source
        self._index = 0
        self._final = False
        self._plain = bytearray()

    def _next_chunk(self) -> None:
        length_bytes = _read_exact(self._source, _LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            raise ArchiveError(f"{self._name} is truncated: it ends after chunk {self._index} "
                               "without the final chunk", hint="nothing was changed")
        (length,) = _LENGTH.unpack(length_bytes)
        if not TAG <= length <= CHUNK + TAG:
            raise ArchiveError(f"{self._name} is corrupt: chunk {self._index} has an "
                               f"impossible length {length}", hint="nothing was changed")
        sealed = _read_exact(self._source, length)
        if len(sealed) < length:
            raise ArchiveError(f"{self._name} is truncated inside chunk {self._index}",
                               hint="nothing was changed")
        nonce = _nonce(self._prefix, self._index)
        for final in (False, True):
            try:
                plain = self._aead.decrypt(nonce, sealed, _aad(self._core, self._index, final))
            except self._invalid:
                continue
            self._plain += plain
            self._final = final
            self._index += 1
            return
        raise ArchiveError(f"{self._name} is corrupt: chunk {self._index} does not "
                           "authenticate (damaged, reordered or tampered with)",
                           hint="nothing was changed")

    def read(self, size: int = -1) -> bytes:
        while not self._final and (size < 0 or len(self._plain) < size):
            self._next_chunk()
        if size < 0:
            size = len(self._plain)
        data = bytes(self._plain[:size])
        del self._plain[:size]
        return data

    def finish(self) -> None:
        while not self._final:
            self._next_chunk()
            self._plain.clear()
        if self._source.read(1):
            raise ArchiveError(f"{self._name} is corrupt: data follows its final chunk",
                               hint="nothing was changed")


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts = []
    while size > 0:
        part = source.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def is_encrypted(first_bytes: bytes) -> bool:
    return first_bytes.startswith(MAGIC)
