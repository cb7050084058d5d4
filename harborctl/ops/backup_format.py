"""What a backup archive holds and how it is laid out (pure: values in, values out).

The archive is a tar stream. Its first member, ``harborctl-backup.json``, says the format
version, so that a harborctl reading it learns at once whether it understands the rest; its last,
``MANIFEST.json``, lists every other member with its size and sha256. In between, in this order:

- ``config/harbor.cfg`` (Harbor 1.7) or ``config/harbor.yml`` (2.x), ``config/harborctl.json``
  (the state file), ``secrets/<name>``, ``certs/<role>`` (the names ``backup_target`` gives,
  from the profile's secret table);
- ``database/<NN>-<database>.sql.<part>``: the dump, script by script (the roles first, then
  each database), each cut in parts of at most ``DUMP_PART`` bytes so that it is streamed from
  the engine into the archive with flat memory;
- ``data/registry/...``, ``data/chart_storage/...``: the data volume's folders, after the dump.

An unencrypted archive ends with ``TRAILER_MARK`` and a sha256 that, with the manifest, covers
every byte before it, each byte hashed once: the content of every listed member is in its
manifest entry, and the trailer's sha256 is that of all the rest (tar headers, padding, the
header and manifest members, the end blocks), so a byte flipped anywhere (even in tar padding)
is found. Format 1 hashed every byte into the trailer (and each member again for the manifest);
it is still read. An encrypted archive is authenticated chunk by chunk instead
(``backup_crypto``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from harborctl.errors import ArchiveError

FORMAT_VERSION = 2  # 2: the trailer hashes the framing only (1: every byte)
HEADER_NAME = "harborctl-backup.json"
MANIFEST_NAME = "MANIFEST.json"
KIND = "harborctl-backup"
TRAILER_MARK = b"\nHARBORCTL-BACKUP-SHA256:"
TRAILER_LEN = len(TRAILER_MARK) + 64 + 1
DUMP_PART = 8 << 20
SMALL_LIMIT = 4 << 20  # config, state, secrets, certificates: kept in memory by restore
DATA_FOLDERS = ("registry", "chart_storage")

_DUMP_NAME = re.compile(r"^database/(\d{2})-([A-Za-z0-9_.-]+)\.sql\.(\d{4})$")


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Header:
    """What the archive says about itself before anything else."""

    format: int
    harborctl_version: str
    harbor_release: str
    created_at: str
    components: dict[str, bool]
    hostname: str
    registry_data: bool
    notes: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return (json.dumps({"kind": KIND, "format": self.format,
                            "harborctl_version": self.harborctl_version,
                            "harbor_release": self.harbor_release,
                            "created_at": self.created_at, "components": self.components,
                            "hostname": self.hostname, "registry_data": self.registry_data,
                            "notes": list(self.notes)}, indent=2, sort_keys=True)
                + "\n").encode()


@dataclass(frozen=True)
class Manifest:
    header: Header
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def to_json(self) -> bytes:
        document = json.loads(self.header.to_json())
        document["entries"] = [{"name": e.name, "size": e.size, "sha256": e.sha256}
                               for e in self.entries]
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def _document(raw: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise ArchiveError(f"{what} is not a harborctl backup (its {HEADER_NAME} is not one)",
                           hint="give an archive written by 'harborctl backup'")
    return document


def check_format(document: dict[str, Any], what: str) -> int:
    version = document.get("format")
    if not isinstance(version, int) or version < 1:
        raise ArchiveError(f"{what} has no valid format version", hint="nothing was changed")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{what} has backup format {version}, newer than the format {FORMAT_VERSION} this "
            "harborctl reads",
            hint="restore it with the harborctl version that wrote it "
                 f"({document.get('harborctl_version', 'unknown')}) or a newer one; "
                 "nothing was changed")
    return version


def parse_header(raw: bytes, what: str) -> Header:
    document = _document(raw, what)
    check_format(document, what)
    components = document.get("components")
    notes = document.get("notes")
    return Header(
        format=int(document["format"]),
        harborctl_version=str(document.get("harborctl_version", "")),
        harbor_release=str(document.get("harbor_release", "")),
        created_at=str(document.get("created_at", "")),
        components={str(k): bool(v) for k, v in components.items()}
        if isinstance(components, dict) else {},
        hostname=str(document.get("hostname", "")),
        registry_data=bool(document.get("registry_data", False)),
        notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (),
    )


def parse_manifest(raw: bytes, what: str) -> Manifest:
    document = _document(raw, what)
    header = parse_header(raw, what)
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise ArchiveError(f"{what}: its manifest lists no entries", hint="nothing was changed")
    parsed = []
    for item in entries:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str)
                and isinstance(item.get("size"), int)
                and isinstance(item.get("sha256"), str)):
            raise ArchiveError(f"{what}: its manifest has a malformed entry",
                               hint="nothing was changed")
        parsed.append(Entry(item["name"], item["size"], item["sha256"]))
    return Manifest(header, tuple(parsed))


def safe_member_name(name: str) -> bool:
    """Only names harborctl writes: relative, no '..', no empty parts."""
    parts = name.split("/")
    return (not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)
            and "\\" not in name and "\x00" not in name)


def dump_name(index: int, database: str, part: int) -> str:
    return f"database/{index:02d}-{database}.sql.{part:04d}"


def parse_dump_name(name: str) -> tuple[int, str, int] | None:
    """(script index, database, part) of a dump member; None for any other member."""
    found = _DUMP_NAME.match(name)
    if found is None:
        return None
    return int(found.group(1)), found.group(2), int(found.group(3))


def trailer(digest_hex: str) -> bytes:
    return TRAILER_MARK + digest_hex.encode() + b"\n"


def trailer_digest(raw: bytes) -> str | None:
    """The sha256 a trailer states, None when ``raw`` is not a trailer."""
    if len(raw) != TRAILER_LEN or not raw.startswith(TRAILER_MARK) or not raw.endswith(b"\n"):
        return None
    digest = raw[len(TRAILER_MARK):-1].decode("ascii", "replace")
    return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None


def compare(manifest: Manifest, found: dict[str, Entry], what: str) -> None:
    """Every entry of the manifest is in the archive with its size and sha256, and nothing
    else is."""
    listed = {e.name: e for e in manifest.entries}
    for name, entry in listed.items():
        seen = found.get(name)
        if seen is None:
            raise ArchiveError(f"{what} is incomplete: {name} is listed in its manifest but "
                               "missing", hint="nothing was changed")
        if (seen.size, seen.sha256) != (entry.size, entry.sha256):
            raise ArchiveError(f"{what} is corrupt: {name} does not match its checksum",
                               hint="nothing was changed")
    extra = sorted(set(found) - set(listed))
    if extra:
        raise ArchiveError(f"{what} holds {extra[0]}, which its manifest does not list",
                           hint="nothing was changed")


def human_size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover


GLOBALS = "globals"
SUPERUSER = "postgres"


def without_superuser_creation(script: bytes) -> bytes:
    """The roles script without the creation of the superuser psql loads it as: a new database
    server has that role already (its ALTER ROLE, with the password, stays)."""
    line = f"CREATE ROLE {SUPERUSER};".encode()
    return b"\n".join(part for part in script.split(b"\n") if part.strip() != line)
