"""`harborctl backup`: one archive with the database dump, the registry's data, every secret,
the certificates, harbor.cfg and the state file (layout: ``backup_format``).

Consistency: the dump is taken first, the data volume's files after it, under the project's
writer lock (no harborctl prepare, install or purge runs meanwhile). Nothing deletes blobs in
between unless an operator starts Harbor's garbage collection during the backup; a push that
lands meanwhile may add blobs the dump does not reference, which is harmless (they are
unreferenced, and a later garbage collection removes them).
"""

from __future__ import annotations

import datetime as _dt
import os
import shlex
import shutil
import stat
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harborctl import __version__
from harborctl.config.inputs import data_volume
from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.engine.api.interface import Engine, EngineReader
from harborctl.errors import FilesystemError, HarborctlError
from harborctl.files.lock import OPERATION_LOCK_NAME, folder_lock
from harborctl.files.safe import SYMLINK, read_no_follow
from harborctl.files.stream import AtomicOutput, NoSpaceError
from harborctl.ops.backup_archive import ArchiveWriter
from harborctl.ops.backup_format import (
    DATA_FOLDERS,
    DUMP_PART,
    FORMAT_VERSION,
    GLOBALS,
    Header,
    dump_name,
    human_size,
)
from harborctl.ops.backup_target import DB_SERVICE, BackupTarget
from harborctl.state import state_path

Report = Callable[[str], None]
LOCK_WAIT = 60.0  # a prepare or install in progress finishes first
PROGRESS_EVERY = 2.0  # seconds between two progress lines of one step


@dataclass(frozen=True)
class BackupRequest:
    target: BackupTarget  # which profile, which files (backup_target.load_target)
    config_path: Path
    project_dir: Path
    project_name: str
    output: Path
    registry_data: bool = True
    passphrase: bytes | None = None


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    files: int
    dump_bytes: int
    notes: tuple[str, ...]


class Progress:
    """One step's progress on the report channel, at most every PROGRESS_EVERY seconds."""

    def __init__(self, report: Report, label: str, total: int | None = None) -> None:
        self._report, self._label, self._total = report, label, total
        self._last = time.monotonic()

    def update(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        if self._total:
            share = min(100, done * 100 // max(self._total, 1))
            self._report(f"  {self._label}: {human_size(done)} of "
                         f"{human_size(self._total)} ({share}%)")
        else:
            self._report(f"  {self._label}: {human_size(done)}")


def pg_command(arguments: str) -> list[str]:
    """A PostgreSQL client run inside the db container as the superuser over TCP, the password
    taken from the container's own environment (it never appears on a command line)."""
    return ["sh", "-c", f'PGPASSWORD="$POSTGRES_PASSWORD" exec {arguments} '
                        "-h 127.0.0.1 -U postgres"]


LIST_DATABASES = pg_command(
    "psql -d postgres -AtX -c 'SELECT datname FROM pg_database WHERE datallowconn AND NOT "
    "datistemplate ORDER BY datname'")


def dump_scripts(databases: list[str]) -> list[tuple[str, list[str]]]:
    """The scripts of a dump, in load order: the roles, the ``postgres`` database (cleaned,
    never dropped: psql stays connected to it), then every other database, dropped and
    created anew."""
    scripts = [(GLOBALS, pg_command("pg_dumpall --globals-only"))]
    for name in sorted(databases, key=lambda d: (d != "postgres", d)):
        create = "" if name == "postgres" else "--create "
        scripts.append((name, pg_command(
            f"pg_dump --clean --if-exists {create}--no-password -d {shlex.quote(name)}")))
    return scripts


def database_container(reader: EngineReader, target: BackupTarget,
                       project_name: str) -> str | None:
    """The running db container, None when the deployment has no bundled database."""
    from harborctl.engine.status.summary import list_project

    if not target.bundled_database:
        return None
    for container in list_project(reader, project_name):
        if container.service == DB_SERVICE and container.running:
            return container.id
    raise HarborctlError(f"the database service ({DB_SERVICE}) of {project_name} is not "
                         "running: its dump is taken inside it",
                         hint="start the deployment ('harborctl start') and run backup again")


def _walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every folder and regular file under ``root`` (top-down, sorted, links never entered)."""
    info = os.lstat(root)
    yield root, info
    with os.scandir(root) as entries:
        children = sorted(entries, key=lambda e: e.name)
    for entry in children:
        path = Path(entry.path)
        child = os.lstat(path)
        if stat.S_ISDIR(child.st_mode):
            yield from _walk(path)
        elif stat.S_ISREG(child.st_mode):
            yield path, child


def data_files(config: Config | Config2, registry_data: bool
               ) -> list[tuple[str, Path, os.stat_result]]:
    data = data_volume(config)
    wanted = [f for f in DATA_FOLDERS if registry_data or f != "registry"]
    found = []
    for folder in wanted:
        if not (data / folder).is_dir() or (data / folder).is_symlink():
            continue
        for path, info in _walk(data / folder):
            found.append(("data/" + path.relative_to(data).as_posix(), path, info))
    return found


def _small_files(request: BackupRequest) -> list[tuple[str, Path]]:
    target = request.target
    files = [(target.config_member, request.config_path),
             ("config/harborctl.json", state_path(request.project_dir))]
    return files + list(target.files().items())


def _notes(request: BackupRequest, with_db: bool) -> list[str]:
    target = request.target
    notes = []
    if target.storage_provider != "filesystem":
        notes.append(f"registry storage is {target.storage_provider}: the bucket is not in the "
                     "archive (back it up with the provider's own tools)")
    elif not request.registry_data:
        notes.append("--no-registry-data: the registry's blobs are not in the archive")
    if target.external_database is not None:
        notes.append(f"the registry database is external ({target.external_database}): it is "
                     "not in the archive (back it up with its own tools)")
    elif not with_db:
        notes.append("no bundled database runs: no dump in the archive")
    return notes


def backup(request: BackupRequest, engine: Engine, reader: EngineReader,
           report: Report) -> BackupResult:
    """Write the archive; on any failure (a full disk too) nothing is left at ``output``."""
    target = request.target
    what = f"the project {request.project_dir}"
    with folder_lock(request.project_dir, what, LOCK_WAIT, OPERATION_LOCK_NAME), \
            folder_lock(request.project_dir, what, LOCK_WAIT):
        container = database_container(reader, target, request.project_name)
        notes = _notes(request, container is not None)
        for note in notes:
            report(f"note: {note}")
        files = data_files(target.config, request.registry_data
                           and target.storage_provider == "filesystem")
        data_total = sum(info.st_size for _, _, info in files if stat.S_ISREG(info.st_mode))
        header = Header(FORMAT_VERSION, __version__, target.release,
                        _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        dict(target.components), target.hostname, request.registry_data,
                        tuple(notes))
        check_free_space(request.output, files, data_total)
        out = AtomicOutput(request.output)
        dumped = [0]
        writer: ArchiveWriter | None = None
        try:
            writer = ArchiveWriter(out, header, request.passphrase)  # type: ignore[arg-type]
            for name, path in _small_files(request):
                _add_small(writer, name, path)
            if container is not None:
                _dump(writer, engine, container, report, dumped)
            _add_data(writer, files, data_total, report)
            writer.close()
            out.commit()
        except BaseException as exc:
            if writer is not None:
                writer.abandon()
            out.discard()
            if isinstance(exc, NoSpaceError):
                raise _no_space(exc, dumped[0], data_total) from exc
            raise
    count = sum(1 for _, _, info in files if stat.S_ISREG(info.st_mode))
    return BackupResult(request.output, out.written, count, dumped[0], tuple(notes))


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def check_free_space(output: Path, files: list[tuple[str, Path, os.stat_result]],
                     data_total: int) -> None:
    """Refuse at once when the archive's folder cannot hold even the files (each with its tar
    header): the dump comes on top, so the disk may still fill later (then nothing is left)."""
    needed = data_total + tarfile.BLOCKSIZE * (len(files) + 16)
    try:
        free = free_bytes(output.parent)
    except OSError:
        return  # AtomicOutput says why the folder cannot be written
    if free < needed:
        raise FilesystemError(
            f"{output.parent} has {human_size(free)} free, but the archive needs at least "
            f"{human_size(needed)} there (the registry and chart data, {human_size(data_total)}"
            ", plus the database dump); nothing was written",
            hint="free space there, or write the archive elsewhere with -o FILE")


def _no_space(exc: NoSpaceError, dumped: int, data_total: int) -> FilesystemError:
    needed = dumped + data_total
    return FilesystemError(
        f"the disk holding {exc.path.parent} filled up after {human_size(exc.written)} of the "
        f"archive; it needs about {human_size(needed)} (the database dump so far, "
        f"{human_size(dumped)}, plus {human_size(data_total)} of files), more if the dump goes "
        "on growing; no partial archive was left",
        hint="free space there, or write the archive elsewhere with -o FILE")


def _add_small(writer: ArchiveWriter, name: str, path: Path) -> None:
    content = read_no_follow(path)
    if content is None:
        return
    if content is SYMLINK:
        raise FilesystemError(f"{path} is a symbolic link: backup never follows one",
                              hint="replace it by the real file and run again")
    assert isinstance(content, bytes)
    info = os.lstat(path)
    mode = 0o600 if name.startswith(("secrets/", "config/")) or name.endswith(".key") else \
        stat.S_IMODE(info.st_mode)
    writer.add_bytes(name, content, mode, (info.st_uid, info.st_gid), info.st_mtime)


def _dump(writer: ArchiveWriter, engine: Engine, container: str, report: Report,
          dumped: list[int]) -> None:
    listing = b"".join(engine.exec_stream(container, LIST_DATABASES)).decode()
    databases = [line.strip() for line in listing.splitlines() if line.strip()]
    report(f"Dumping the databases ({', '.join(databases)}) inside the db container")
    progress = Progress(report, "database dump")
    for index, (database, command) in enumerate(dump_scripts(databases)):
        part, buffer = 0, bytearray()
        for chunk in engine.exec_stream(container, command):
            buffer += chunk
            dumped[0] += len(chunk)
            progress.update(dumped[0])
            while len(buffer) >= DUMP_PART:
                writer.add_bytes(dump_name(index, database, part), bytes(buffer[:DUMP_PART]))
                del buffer[:DUMP_PART]
                part += 1
        writer.add_bytes(dump_name(index, database, part), bytes(buffer))
    progress.update(dumped[0], final=True)


def _add_data(writer: ArchiveWriter, files: list[tuple[str, Path, os.stat_result]],
              total: int, report: Report) -> None:
    if not files:
        return
    report(f"Copying {human_size(total)} of registry and chart data")
    progress = Progress(report, "data", total)
    done = 0
    for name, path, info in files:
        if stat.S_ISDIR(info.st_mode):
            writer.add_dir(name, info)
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # deleted since the walk (an upload's temporary file)
        except OSError as exc:
            raise FilesystemError(f"cannot read {path}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as handle:
            done += writer.add_open_file(name, handle, os.fstat(fd))
        progress.update(done)
    progress.update(done, final=True)
