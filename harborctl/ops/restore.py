"""`harborctl restore ARCHIVE`: put a deployment back from an archive, changing nothing unless
the whole archive checks out.

One pass over the archive (``restore_stage``): the small members first, then the decision
whether restore may go on (it refuses to replace data that is there unless --force); the dump
and the registry's and charts' files unpacked into a staging folder in the data volume while
every checksum is checked. Only then: put back harbor.cfg (or harbor.yml), the state file, the
secrets and the certificates; move the staged folders into place (a rename); prepare; start the
database alone and load the staged dump through the engine's exec; then install converges the
rest and waits until healthy.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.errors import FilesystemError, HarborctlError, RestoreRefusedError
from harborctl.files import write_file_atomic
from harborctl.files.lock import OPERATION_LOCK_NAME, folder_lock
from harborctl.files.remove import remove_path
from harborctl.files.safe import make_dirs, read_no_follow
from harborctl.files.stream import chown_no_follow
from harborctl.ops.backup import Progress, pg_command
from harborctl.ops.backup_archive import COPY_BUFFER
from harborctl.ops.backup_format import (
    DATA_FOLDERS,
    GLOBALS,
    Manifest,
    human_size,
    without_superuser_creation,
)
from harborctl.ops.backup_target import (
    DB_SERVICE,
    BackupTarget,
    archived_target,
    prepare_for_restore,
)
from harborctl.ops.restore_stage import DUMP_FOLDER, Small, Unpacked, unpack
from harborctl.state import state_path

if TYPE_CHECKING:
    from harborctl.engine.api.interface import Engine
    from harborctl.engine.api.session import EngineSession
    from harborctl.install import InstallResult

Report = Callable[[str], None]
LOAD_DUMP = pg_command("psql -d postgres -q -X -v ON_ERROR_STOP=1 -o /dev/null")
START_FIRST = ("log", DB_SERVICE)


@dataclass(frozen=True)
class RestoreRequest:
    archive: Path
    config_path: Path
    project_dir: Path
    project_name: str | None = None
    force: bool = False
    passphrase: bytes | None = None
    timeout: float = 300


@dataclass
class RestoreResult:
    config: Config | Config2
    manifest: Manifest
    replaced: list[str] = field(default_factory=list)
    installed: InstallResult | None = None


def archived_config(small: Small, config_path: Path) -> BackupTarget:
    """The archive's harbor.cfg or harbor.yml (the kind -c names: restore_stage refused the
    other), validated as if its certificate files existed already."""
    return archived_target(small.content, small.header.components, config_path)


def _holds_files(folder: Path) -> bool:
    try:
        for _root, _dirs, files in os.walk(folder):
            if files:
                return True
    except OSError:
        return True
    return False


def _targets(target: BackupTarget, request: RestoreRequest) -> dict[str, Path]:
    """Where each small member of the archive goes."""
    return {target.config_member: request.config_path,
            "config/harborctl.json": state_path(request.project_dir), **target.files()}


def conflicts(target: BackupTarget, small: Small, request: RestoreRequest,
              containers: list[str]) -> list[str]:
    """What restoring would replace, in the operator's words."""
    data = target.data_volume
    found = []
    if containers:
        found.append(f"the deployment's {len(containers)} container(s) "
                     f"({', '.join(sorted(containers))})")
    if _holds_files(data / "database"):
        found.append(f"the database in {data / 'database'}")
    for folder in DATA_FOLDERS:
        if _holds_files(data / folder):
            found.append(f"the files in {data / folder}")
    targets = _targets(target, request)
    for name, content in small.content.items():
        path = targets.get(name)
        if path is None:
            continue
        present = read_no_follow(path)
        if present is not None and present != content:
            found.append(f"{path} (differs from the archive's)")
    return found


def _refuse(replaced: list[str]) -> RestoreRefusedError:
    return RestoreRefusedError(
        "restore would replace what is there: " + "; ".join(replaced),
        hint="add --force to replace it (or restore into another project folder and "
             "data_volume); nothing was changed")


def restore(request: RestoreRequest, session: EngineSession, report: Report) -> RestoreResult:
    with contextlib.ExitStack() as held:  # the operation lock, from the gate to the end
        return _restore(request, session, report, held)


def _restore(request: RestoreRequest, session: EngineSession, report: Report,
             held: contextlib.ExitStack) -> RestoreResult:
    from harborctl.engine.status.summary import list_project

    name = request.project_name or request.project_dir.name

    def what_is_replaced(target: BackupTarget, small: Small) -> tuple[list[str], bool]:
        """What restoring replaces (refused without --force), and whether containers run."""
        existing = [c.name for c in list_project(session.reader, name)]
        replaced = conflicts(target, small, request, existing)
        if replaced and not request.force:
            raise _refuse(replaced)
        return replaced, bool(existing)

    def gate(small: Small) -> Path:
        """Before anything else is written: the project's operation lock (a second restore or
        a backup of the project waits, then exits busy), the archive's config, and what would
        be replaced. The lock is held until the restore ends."""
        target = archived_config(small, request.config_path)
        make_dirs(request.project_dir, request.project_dir)
        held.enter_context(folder_lock(request.project_dir, f"the project {request.project_dir}",
                                       name=OPERATION_LOCK_NAME))
        what_is_replaced(target, small)
        return target.data_volume

    report(f"Checking and unpacking {request.archive}")
    try:
        size = os.stat(request.archive).st_size
    except OSError:
        size = 0  # read_archive says why it cannot read it
    progress = Progress(report, "unpacking", size)
    unpacked = unpack(request.archive, request.passphrase, gate, progress,
                      request.config_path)
    progress.update(size, final=True)  # the framing too: all of it was read
    try:
        header = unpacked.manifest.header
        report(f"  {len(unpacked.manifest.entries)} entries, all checksums match (written "
               f"{header.created_at} by harborctl {header.harborctl_version}, Harbor "
               f"{header.harbor_release}, for {header.hostname})")
        for note in header.notes:
            report(f"  note: {note}")
        target = archived_config(unpacked.small, request.config_path)
        replaced, containers = what_is_replaced(target, unpacked.small)  # what came meanwhile
        result = RestoreResult(target.config, unpacked.manifest, replaced)
        engine = session.full()
        if replaced:
            report("--force: replacing " + "; ".join(replaced))
            _clear(engine, target, request, containers, report)
        _put_back_files(target, unpacked.small, request, report)
        _put_back_data(target, unpacked, report)
        _start_database(engine, session, request, report)
        container = next(c.id for c in list_project(session.reader, name)
                         if c.service == DB_SERVICE and c.running)
        _load(engine, container, unpacked, report)
    finally:
        if unpacked.staging is not None:
            unpacked.staging.remove()
    os.sync()
    report("Starting the rest")
    from harborctl.install import install

    result.installed = install(request.config_path, request.project_dir, report,
                               project_name=request.project_name, timeout=request.timeout,
                               session=session)
    return result


def _clear(engine: Engine, target: BackupTarget, request: RestoreRequest, containers: bool,
           report: Report) -> None:
    if containers:
        from harborctl.engine.compose.project import compose_project
        from harborctl.engine.lifecycle.operations import down

        down(engine, compose_project(request.project_dir, request.project_name), report)
    for folder in ("database", *DATA_FOLDERS):
        remove_path(target.data_volume / folder)


def _put_back_files(target: BackupTarget, small: Small, request: RestoreRequest,
                    report: Report) -> None:
    make_dirs(request.project_dir, request.project_dir)
    targets = _targets(target, request)
    with folder_lock(request.project_dir, f"the project {request.project_dir}"):
        for name, content in sorted(small.content.items()):
            path = targets.get(name)
            if path is None:
                continue
            secret = name.startswith(("secrets/", "config/")) or name.endswith(".key")
            mode = 0o600 if secret else small.modes[name] & 0o644
            if name.startswith("secrets/"):
                root = next((r for r in target.secret_roots if r == path.parent
                             or r in path.parents), path.parent)
                make_dirs(path.parent, root, 0o700)
            write_file_atomic(path, content, mode)
            if name.startswith(("secrets/", "certs/")):
                chown_no_follow(path, small.owners[name])
    secrets = sum(n.startswith("secrets/") for n in small.content)
    certs = sum(n.startswith("certs/") for n in small.content)
    report(f"Put back {request.config_path.name}, the state file, {secrets} secret(s) and "
           f"{certs} certificate file(s)")


def _put_back_data(target: BackupTarget, unpacked: Unpacked, report: Report) -> None:
    """The staged registry and chart folders renamed into place (what was there is gone or
    held no file: see ``conflicts``)."""
    staging = unpacked.staging
    if staging is None:
        return
    for folder in DATA_FOLDERS:
        if staging.holds(folder):
            staging.move_into_place(folder, target.data_volume / folder)
    report(f"Put back {human_size(unpacked.data_bytes)} of registry and chart data")


def _start_database(engine: Engine, session: EngineSession, request: RestoreRequest,
                    report: Report) -> None:
    from harborctl.engine.compose.project import compose_project
    from harborctl.engine.converge.apply import converge
    from harborctl.install import find_bundle

    prepare_for_restore(request.config_path, request.project_dir)
    project = compose_project(request.project_dir, request.project_name)
    first = replace(project, services=tuple(s for s in project.services
                                            if s.name in START_FIRST))
    if DB_SERVICE not in first.service_names:
        raise HarborctlError("this deployment has no bundled database to load the dump into",
                             hint="restore the external database with its own tools")
    session.ensure_images(sorted({s.image for s in first.services}), report,
                          find_bundle(request.config_path, None))
    report("Starting the database alone")
    converge(engine, first, report, timeout=request.timeout)


def _chunks(path: Path) -> Iterator[bytes]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise FilesystemError(f"cannot read the staged dump {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb", buffering=0) as handle:
        while True:
            data = handle.read(COPY_BUFFER)
            if not data:
                return
            yield data


def _load(engine: Engine, container: str, unpacked: Unpacked, report: Report) -> None:
    """Each staged script into its own psql, in the archive's order (the roles first)."""
    if not unpacked.dump_scripts or unpacked.staging is None:
        return
    report("Loading the database dump")
    for script in unpacked.dump_scripts:
        report(f"  {script[3:-len('.sql')]}")
        path = unpacked.staging.path / DUMP_FOLDER / script
        loading = engine.open_exec_input(container, LOAD_DUMP)
        try:
            if script[3:] == f"{GLOBALS}.sql":  # one small script
                loading.write(without_superuser_creation(b"".join(_chunks(path))))
            else:
                for chunk in _chunks(path):
                    loading.write(chunk)
        except BaseException:
            loading.abort()
            raise
        loading.finish()
