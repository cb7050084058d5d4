"""Restore's one pass over the archive: members checked and unpacked as they come.

The small members (harbor.cfg or harbor.yml, the state file, secrets, certificates) come first in
the archive and are kept in memory. At the first member after them ``gate`` is called with them:
restore decides there, before anything is written, whether it may go on (and where the data
volume is).
The dump and the data volume's files are then unpacked into a ``StagingFolder`` in the data
volume; nothing is put into place before ``read_archive`` has checked every checksum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harborctl.errors import ArchiveError
from harborctl.files.staging import StagingFolder
from harborctl.ops.backup import Progress
from harborctl.ops.backup_format import (
    DATA_FOLDERS,
    SMALL_LIMIT,
    Header,
    Manifest,
    parse_dump_name,
)
from harborctl.ops.backup_reader import Member, read_archive
from harborctl.ops.backup_target import CONFIG_MEMBERS, refuse_other_profile

UNCHANGED = "nothing was changed"
SMALL_PREFIXES = ("config/", "secrets/", "certs/")
DUMP_FOLDER = "database"


@dataclass(frozen=True)
class Small:
    """The small members, in memory, with their recorded owners and modes."""

    header: Header
    content: dict[str, bytes]
    owners: dict[str, tuple[int, int]]
    modes: dict[str, int]


@dataclass(frozen=True)
class Unpacked:
    manifest: Manifest
    small: Small
    staging: StagingFolder | None
    dump_scripts: tuple[str, ...]  # the staged scripts' names, in load order
    data_bytes: int


Gate = Callable[[Small], Path]  # returns the data volume, or raises to stop


class _Unpacker:
    def __init__(self, archive: Path, gate: Gate, progress: Progress,
                 config_path: Path | None) -> None:
        self._archive, self._gate, self._progress = archive, gate, progress
        self._config_path = config_path
        self.header: Header | None = None
        self.content: dict[str, bytes] = {}
        self.owners: dict[str, tuple[int, int]] = {}
        self.modes: dict[str, int] = {}
        self.small: Small | None = None
        self.staging: StagingFolder | None = None
        self.scripts: list[str] = []
        self.data_bytes = 0
        self._read = 0
        self._data_volume: Path | None = None

    def started(self, header: Header) -> None:
        """Before any other member: an archive of the other release profile is refused."""
        if self._config_path is not None:
            refuse_other_profile(header.harbor_release, None, self._config_path, self._archive)
        self.header = header

    def open_gate(self) -> Path:
        if self.small is None:
            if not any(m in self.content for m in CONFIG_MEMBERS) or self.header is None:
                raise ArchiveError(f"{self._archive} holds no harbor.cfg or harbor.yml before "
                                   "its data", hint=UNCHANGED)
            if self._config_path is not None:
                refuse_other_profile(self.header.harbor_release, self.content,
                                     self._config_path, self._archive)
            small = Small(self.header, self.content, self.owners, self.modes)
            self._data_volume = self._gate(small)
            self.small = small
        assert self._data_volume is not None
        return self._data_volume

    def _staging(self) -> StagingFolder:
        if self.staging is None:
            self.staging = StagingFolder(self.open_gate())
        return self.staging

    def visit(self, member: Member, chunks: Iterator[bytes]) -> None:
        name = member.name
        if name.startswith(SMALL_PREFIXES):
            if self.small is not None:
                raise ArchiveError(f"{self._archive} is corrupt or not harborctl's: {name} "
                                   "comes after the data, where harborctl never writes it",
                                   hint=UNCHANGED)
            if member.size > SMALL_LIMIT:
                raise ArchiveError(f"{self._archive}: {name} is too large for what it is",
                                   hint=UNCHANGED)
            self.content[name] = b"".join(chunks)
            self.owners[name] = (member.uid, member.gid)
            self.modes[name] = member.mode
            return
        dump = parse_dump_name(name)
        if dump is not None:
            script = f"{dump[0]:02d}-{dump[1]}.sql"
            if not self.scripts or self.scripts[-1] != script:
                self.scripts.append(script)
            self._staging().append(f"{DUMP_FOLDER}/{script}", self._counted(chunks))
            return
        relative = name[len("data/"):] if name.startswith("data/") else ""
        if relative.split("/", 1)[0] not in DATA_FOLDERS:
            raise ArchiveError(f"{self._archive} is corrupt or not harborctl's: it holds "
                               f"{name}, which harborctl never writes", hint=UNCHANGED)
        owner, mode = (member.uid, member.gid), member.mode & 0o7777
        if member.is_dir:
            self._staging().put_dir(relative, mode, owner)
        else:
            self._staging().put_file(relative, self._counted(chunks), mode, owner)
            self.data_bytes += member.size

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._read += len(chunk)
            self._progress.update(self._read)
            yield chunk


def unpack(archive: Path, passphrase: bytes | None, gate: Gate, progress: Progress,
           config_path: Path | None = None) -> Unpacked:
    """Read ``archive`` once into memory and a staging folder (``progress`` counts the content
    read); on any failure (a damaged archive, the gate's refusal) the staging folder is gone
    and nothing was changed. With ``config_path``, an archive of the other release profile
    (harbor.yml against harbor.cfg) is refused as soon as its header is read."""
    unpacker = _Unpacker(archive, gate, progress, config_path)
    try:
        manifest = read_archive(archive, passphrase, unpacker.visit, unpacker.started)
        unpacker.open_gate()  # an archive with neither dump nor data
    except BaseException:
        if unpacker.staging is not None:
            unpacker.staging.remove()
        raise
    assert unpacker.small is not None
    return Unpacked(manifest, unpacker.small, unpacker.staging, tuple(unpacker.scripts),
                    unpacker.data_bytes)
