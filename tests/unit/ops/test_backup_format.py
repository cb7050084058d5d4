"""The archive format on its own (no engine): a round trip, and every kind of damage found
before anything is handed on as trusted."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from harborctl.errors import ArchiveError
from harborctl.ops import backup_crypto
from harborctl.ops.backup_archive import ArchiveWriter
from harborctl.ops.backup_format import (
    FORMAT_VERSION,
    HEADER_NAME,
    Entry,
    Header,
    Manifest,
    dump_name,
    parse_dump_name,
    trailer,
    without_superuser_creation,
)
from harborctl.ops.backup_reader import Member, read_archive
from tests.depth import cases

PASS = b"s3cret passphrase"
LONG_DIR = "data/registry/docker/registry/v2/blobs/sha256/ab/" + "ab" * 32
HEADER = Header(FORMAT_VERSION, "0.1.0", "1.7.5", "2026-12-01T00:00:00Z",
                {"notary": False, "clair": False, "chartmuseum": True}, "harbor.example.com",
                True, ("a note",))


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at its smallest allowed cost: the damage tests derive the key hundreds of times."""
    monkeypatch.setattr(backup_crypto, "SCRYPT_LOG2_N", 10)


def write(path: Path, passphrase: bytes | None = None, big: int = 3000) -> None:
    with open(path, "wb") as out:
        writer = ArchiveWriter(out, HEADER, passphrase)  # type: ignore[arg-type]
        writer.add_bytes("config/harbor.cfg", b"hostname = harbor.example.com\n")
        writer.add_bytes("secrets/secretkey", b"0123456789abcdef", 0o600, (10000, 10000))
        writer.add_bytes(dump_name(0, "globals", 0), b"CREATE ROLE postgres;\nALTER ROLE x;\n")
        writer.add_dir(LONG_DIR, Path(path).parent.stat())  # a pax header holds its name
        data = Path(str(path) + ".src")
        data.write_bytes(bytes(range(256)) * (big // 256 + 1))
        with open(data, "rb") as handle:
            writer.add_open_file("data/registry/blob", handle, data.stat())
        writer.close()


def read(path: Path, passphrase: bytes | None = None) -> dict[str, bytes]:
    found: dict[str, bytes] = {}

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        found[member.name] = b"".join(chunks)

    read_archive(path, passphrase, visit)
    return found


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_round_trip(tmp_path: Path, passphrase: bytes | None) -> None:
    archive = tmp_path / "a.tar"
    write(archive, passphrase)
    found = read(archive, passphrase)
    assert found["secrets/secretkey"] == b"0123456789abcdef"
    assert found["data/registry/blob"] == (tmp_path / "a.tar.src").read_bytes()
    assert list(found) == ["config/harbor.cfg", "secrets/secretkey",
                           "database/00-globals.sql.0000", LONG_DIR, "data/registry/blob"]


def test_plain_archive_is_a_tar_anyone_can_list(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    write(archive)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
    assert names[0] == HEADER_NAME and names[-1] == "MANIFEST.json"
    assert manifest["format"] == FORMAT_VERSION and manifest["components"]["chartmuseum"]
    assert {e["name"] for e in manifest["entries"]} == set(names[1:-1]) - {LONG_DIR}


def test_encrypted_archive_shows_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.enc"
    write(archive, PASS)
    raw = archive.read_bytes()
    assert b"0123456789abcdef" not in raw and b"harbor.cfg" not in raw


def _damaged(tmp_path: Path, passphrase: bytes | None, positions: Iterable[int]
             ) -> Iterator[Path]:
    archive = tmp_path / "a.tar"
    write(archive, passphrase)
    good = archive.read_bytes()
    for position in positions:
        if position >= len(good):
            return
        bad = bytearray(good)
        bad[position] ^= 0x01
        archive.write_bytes(bytes(bad))
        yield archive


@pytest.mark.long
def test_a_flipped_byte_anywhere_in_a_plain_archive_is_found(tmp_path: Path) -> None:
    write(tmp_path / "size.tar")
    size = (tmp_path / "size.tar").stat().st_size
    # a byte in every 43 (at least 11 in each 512-byte tar header, and in content, padding and
    # the end blocks), and one in every 5 of the last 1200 (the manifest and the end blocks);
    # in CI's thorough run every 7th and every one of the last 1200 (tests/depth.py)
    positions = sorted({*range(0, size, cases(quick=43, thorough=7)),
                        *range(size - 1200, size, cases(quick=5, thorough=1))})
    checked = 0
    for archive in _damaged(tmp_path, None, positions):
        with pytest.raises(ArchiveError):
            read(archive)
        checked += 1
    assert checked == len(positions) and size > 10240


@pytest.mark.long
def test_a_flipped_byte_anywhere_in_an_encrypted_archive_is_found(tmp_path: Path) -> None:
    checked = 0
    for archive in _damaged(tmp_path, PASS, range(0, 1 << 20, cases(quick=211, thorough=31))):
        with pytest.raises(ArchiveError):
            read(archive, PASS)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_every_truncation_is_found(tmp_path: Path, passphrase: bytes | None) -> None:
    archive = tmp_path / "a.tar"
    write(archive, passphrase, big=3 * backup_crypto.CHUNK)  # several chunks
    good = archive.read_bytes()
    for length in [0, 1, 100, 512, *range(1000, len(good), len(good) // 40), len(good) - 1]:
        archive.write_bytes(good[:length])
        with pytest.raises(ArchiveError, match="truncated|corrupt|not a harborctl"):
            read(archive, passphrase)


def test_a_dropped_or_moved_chunk_is_found(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    write(archive, PASS, big=3 * backup_crypto.CHUNK)
    raw = archive.read_bytes()
    offset = backup_crypto.HEADER_LEN
    chunks = []
    while offset < len(raw):
        length = int.from_bytes(raw[offset:offset + 4], "big")
        chunks.append(raw[offset:offset + 4 + length])
        offset += 4 + length
    header = raw[:backup_crypto.HEADER_LEN]
    for order in ([0, 2, 1, 3], [0, 1, 3], [0, 1, 2], [0, 1, 2, 3, 3]):
        archive.write_bytes(header + b"".join(chunks[i] for i in order if i < len(chunks)))
        with pytest.raises(ArchiveError):
            read(archive, PASS)


def test_wrong_or_missing_passphrase(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar.enc"
    write(archive, PASS)
    with pytest.raises(ArchiveError, match="passphrase is wrong"):
        read(archive, b"not it")
    with pytest.raises(ArchiveError, match="encrypted") as missing:
        read(archive, None)
    assert "--passphrase-file" in str(missing.value.hint)


def test_a_newer_format_is_refused_clearly(tmp_path: Path) -> None:
    archive = tmp_path / "new.tar"
    newer = Header(FORMAT_VERSION + 1, "9.0.0", "2.15.0", "2030-01-01T00:00:00Z", {}, "h", True)
    with open(archive, "wb") as out:
        writer = ArchiveWriter(out, newer, None)  # type: ignore[arg-type]
        writer.close()
    with pytest.raises(ArchiveError, match=f"format {FORMAT_VERSION + 1}, newer") as refused:
        read(archive)
    assert "9.0.0" in str(refused.value.hint)
    framing = tmp_path / "new.tar.enc"
    framing.write_bytes(b"HCBKENC\x02" + bytes(100))
    with pytest.raises(ArchiveError, match="newer framing"):
        read(framing, PASS)


def test_members_harborctl_never_writes_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar"
    with open(archive, "wb") as out:
        writer = ArchiveWriter(out, HEADER, None)  # type: ignore[arg-type]
        writer.add_bytes("data/registry/../../etc/passwd", b"x")
        writer.close()
    with pytest.raises(ArchiveError, match="never writes"):
        read(archive)


def test_a_plain_tar_is_not_taken_for_a_backup(tmp_path: Path) -> None:
    archive = tmp_path / "other.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(ArchiveError):
        read(archive)


def test_dump_names_and_the_roles_script() -> None:
    assert parse_dump_name(dump_name(3, "notarysigner", 12)) == (3, "notarysigner", 12)
    assert parse_dump_name("data/registry/x") is None
    script = b"SET x;\nCREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER;\nCREATE ROLE a;\n"
    assert without_superuser_creation(script) == (
        b"SET x;\nALTER ROLE postgres WITH SUPERUSER;\nCREATE ROLE a;\n")


def _format_1_archive(path: Path, flip: int | None = None) -> None:
    """An archive as harborctl wrote format 1: tar members, then the sha256 of every byte."""
    members = [(HEADER_NAME, replace(HEADER, format=1).to_json()),
               ("config/harbor.cfg", b"hostname = old.example.com\n")]
    manifest = Manifest(replace(HEADER, format=1), tuple(
        Entry(n, len(c), hashlib.sha256(c).hexdigest()) for n, c in members[1:]))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in [*members, ("MANIFEST.json", manifest.to_json())]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    body = bytearray(raw.getvalue())
    if flip is not None:
        body[flip] ^= 0x01
    path.write_bytes(bytes(body) + trailer(hashlib.sha256(raw.getvalue()).hexdigest()))


def test_a_format_1_archive_is_still_read(tmp_path: Path) -> None:
    archive = tmp_path / "old.tar"
    _format_1_archive(archive)
    assert read(archive) == {"config/harbor.cfg": b"hostname = old.example.com\n"}
    content_at = archive.read_bytes().index(b"hostname = old")
    _format_1_archive(archive, flip=content_at + 11)  # a byte of content, found by the trailer
    with pytest.raises(ArchiveError, match="corrupt"):
        read(archive)
