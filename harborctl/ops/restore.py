"""`harborctl restore ARCHIVE`: check the whole archive, then put a deployment back from it.

Order: verify every checksum (one full read, nothing touched); refuse to replace data that is
there unless --force; put back harbor.cfg, the state file, the secrets and the certificates;
prepare; start the database alone and load the dump through the engine's exec; put back the
registry's and the charts' files; then install converges the rest and waits until healthy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harborctl.config.model import Config
from harborctl.errors import ArchiveError, ConfigError, HarborctlError, RestoreRefusedError
from harborctl.files import write_file_atomic
from harborctl.files.lock import folder_lock
from harborctl.files.remove import remove_path
from harborctl.files.safe import make_dirs, read_no_follow
from harborctl.files.stream import chown_no_follow, restore_dir, restore_file
from harborctl.ops.backup import DB_SERVICE, Progress, certificate_files, pg_command
from harborctl.ops.backup_format import (
    DATA_FOLDERS,
    GLOBALS,
    SMALL_LIMIT,
    Manifest,
    human_size,
    parse_dump_name,
    without_superuser_creation,
)
from harborctl.ops.backup_reader import Member, read_archive
from harborctl.secrets import secret_paths
from harborctl.state import state_path

if TYPE_CHECKING:
    from harborctl.engine.api.interface import Engine, ExecInput
    from harborctl.engine.api.session import EngineSession
    from harborctl.install import InstallResult

Report = Callable[[str], None]
LOAD_DUMP = pg_command("psql -d postgres -q -X -v ON_ERROR_STOP=1 -o /dev/null")
START_FIRST = ("log", DB_SERVICE)


@dataclass(frozen=True)
class Verified:
    manifest: Manifest
    small: dict[str, bytes]
    owners: dict[str, tuple[int, int]]
    modes: dict[str, int]
    data_bytes: int


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
    config: Config
    manifest: Manifest
    replaced: list[str] = field(default_factory=list)
    installed: InstallResult | None = None


def verify(archive: Path, passphrase: bytes | None) -> Verified:
    """Read the whole archive once and check it; keep its small members in memory."""
    small: dict[str, bytes] = {}
    owners: dict[str, tuple[int, int]] = {}
    modes: dict[str, int] = {}
    data = [0]

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        if member.name.startswith(("config/", "secrets/", "certs/")):
            if member.size > SMALL_LIMIT:
                raise ArchiveError(f"{archive}: {member.name} is too large for what it is",
                                   hint="nothing was changed")
            small[member.name] = b"".join(chunks)
            owners[member.name] = (member.uid, member.gid)
            modes[member.name] = member.mode
        elif member.name.startswith("data/"):
            data[0] += member.size
        elif parse_dump_name(member.name) is None:
            raise ArchiveError(f"{archive} holds {member.name}, which harborctl never writes",
                               hint="nothing was changed")

    manifest = read_archive(archive, passphrase, visit)
    if "config/harbor.cfg" not in small:
        raise ArchiveError(f"{archive} holds no harbor.cfg", hint="nothing was changed")
    return Verified(manifest, small, owners, modes, data[0])


def archived_config(verified: Verified, config_path: Path) -> Config:
    """The archive's harbor.cfg, validated as if its certificate files existed already (they
    are in the archive; install validates again once they are back)."""
    from harborctl.config import parse_text, validate

    text = verified.small["config/harbor.cfg"].decode("utf-8", "replace")
    components = verified.manifest.header.components
    result = validate(parse_text(text, config_path), file_exists=lambda _path: True,
                      overrides={k: True for k, on in components.items() if on})
    if result.config is None:
        raise ConfigError(f"the harbor.cfg in the archive has {len(result.errors)} problem(s)",
                          problems=tuple(p.format(str(config_path)) for p in result.problems))
    return result.config


def _holds_files(folder: Path) -> bool:
    try:
        for _root, _dirs, files in os.walk(folder):
            if files:
                return True
    except OSError:
        return True
    return False


def _targets(config: Config, request: RestoreRequest) -> dict[str, Path]:
    """Where each small member of the archive goes."""
    targets = {"config/harbor.cfg": request.config_path,
               "config/harborctl.json": state_path(request.project_dir)}
    targets.update({f"secrets/{n}": p for n, p in secret_paths(config).items()})
    targets.update({f"certs/{r}": p for r, p in certificate_files(config).items()})
    return targets


def conflicts(config: Config, verified: Verified, request: RestoreRequest,
              containers: list[str]) -> list[str]:
    """What restoring would replace, in the operator's words."""
    data = config.paths.data_volume
    found = []
    if containers:
        found.append(f"the deployment's {len(containers)} container(s) "
                     f"({', '.join(sorted(containers))})")
    if _holds_files(data / "database"):
        found.append(f"the database in {data / 'database'}")
    for folder in DATA_FOLDERS:
        if _holds_files(data / folder):
            found.append(f"the files in {data / folder}")
    targets = _targets(config, request)
    for name, content in verified.small.items():
        path = targets.get(name)
        if path is None:
            continue
        present = read_no_follow(path)
        if present is not None and present != content:
            found.append(f"{path} (differs from the archive's)")
    return found


def restore(request: RestoreRequest, session: EngineSession, report: Report) -> RestoreResult:
    from harborctl.engine.status.summary import list_project

    report(f"Verifying {request.archive}")
    verified = verify(request.archive, request.passphrase)
    header = verified.manifest.header
    report(f"  {len(verified.manifest.entries)} entries, all checksums match (written "
           f"{header.created_at} by harborctl {header.harborctl_version}, Harbor "
           f"{header.harbor_release}, for {header.hostname})")
    for note in header.notes:
        report(f"  note: {note}")
    config = archived_config(verified, request.config_path)
    name = request.project_name or request.project_dir.name
    existing = list_project(session.reader, name)
    replaced = conflicts(config, verified, request, [c.name for c in existing])
    if replaced and not request.force:
        raise RestoreRefusedError(
            "restore would replace what is there: " + "; ".join(replaced),
            hint="add --force to replace it (or restore into another project folder and "
                 "data_volume); nothing was changed")
    result = RestoreResult(config, verified.manifest, replaced)
    engine = session.full()
    if replaced:
        report("--force: replacing " + "; ".join(replaced))
        _clear(engine, config, request, bool(existing), report)
    _put_back_files(config, verified, request, report)
    _start_database(engine, session, request, report)
    container = next(c.id for c in list_project(session.reader, name)
                     if c.service == DB_SERVICE and c.running)
    _load(engine, container, config, request, verified, report)
    report("Starting the rest")
    from harborctl.install import install

    result.installed = install(request.config_path, request.project_dir, report,
                               project_name=request.project_name, timeout=request.timeout,
                               session=session)
    return result


def _clear(engine: Engine, config: Config, request: RestoreRequest, containers: bool,
           report: Report) -> None:
    if containers:
        from harborctl.engine.compose.project import compose_project
        from harborctl.engine.lifecycle.operations import down

        down(engine, compose_project(request.project_dir, request.project_name), report)
    for folder in ("database", *DATA_FOLDERS):
        remove_path(config.paths.data_volume / folder)


def _put_back_files(config: Config, verified: Verified, request: RestoreRequest,
                    report: Report) -> None:
    make_dirs(request.project_dir, request.project_dir)
    targets = _targets(config, request)
    with folder_lock(request.project_dir, f"the project {request.project_dir}"):
        for name, content in sorted(verified.small.items()):
            path = targets.get(name)
            if path is None:
                continue
            secret = name.startswith(("secrets/", "config/")) or name.endswith(".key")
            mode = 0o600 if secret else verified.modes[name] & 0o644
            if name.startswith("secrets/"):
                root = (config.paths.secretkey_path if path.parent == config.paths.secretkey_path
                        else config.paths.data_volume)
                make_dirs(path.parent, root, 0o700)
            write_file_atomic(path, content, mode)
            if name.startswith(("secrets/", "certs/")):
                chown_no_follow(path, verified.owners[name])
    secrets = sum(n.startswith("secrets/") for n in verified.small)
    certs = sum(n.startswith("certs/") for n in verified.small)
    report(f"Put back harbor.cfg, the state file, {secrets} secret(s) and {certs} "
           "certificate file(s)")


def _start_database(engine: Engine, session: EngineSession, request: RestoreRequest,
                    report: Report) -> None:
    from harborctl.engine.compose.project import compose_project
    from harborctl.engine.converge.apply import converge
    from harborctl.install import find_bundle
    from harborctl.prepare import load_for_prepare, prepare

    prepare(load_for_prepare(request.config_path, request.project_dir), request.project_dir)
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


class _DumpLoader:
    """Feeds the dump's parts, as they come in the archive, to one psql per script."""

    def __init__(self, engine: Engine, container: str, report: Report) -> None:
        self._engine, self._container, self._report = engine, container, report
        self._script: tuple[int, str] | None = None
        self._input: ExecInput | None = None

    def feed(self, script: tuple[int, str], chunks: Iterator[bytes]) -> None:
        if self._script != script:
            self.finish()
            self._report(f"  {script[1]}")
            self._input = self._engine.open_exec_input(self._container, LOAD_DUMP)
            self._script = script
        assert self._input is not None
        if script[1] == GLOBALS:  # one small part
            self._input.write(without_superuser_creation(b"".join(chunks)))
            return
        for chunk in chunks:
            self._input.write(chunk)

    def finish(self) -> None:
        if self._input is not None:
            loading, self._input, self._script = self._input, None, None
            loading.finish()

    def abort(self) -> None:
        if self._input is not None:
            self._input.abort()
            self._input = None


def _load(engine: Engine, container: str, config: Config, request: RestoreRequest,
          verified: Verified, report: Report) -> None:
    data = config.paths.data_volume
    loader = _DumpLoader(engine, container, report)
    progress = Progress(report, "data", verified.data_bytes)
    done = [0]
    report("Loading the database dump")

    def visit(member: Member, chunks: Iterator[bytes]) -> None:
        dump = parse_dump_name(member.name)
        if dump is not None:
            loader.feed((dump[0], dump[1]), chunks)
            return
        loader.finish()
        if not member.name.startswith("data/"):
            return
        relative = member.name[len("data/"):]
        if relative.split("/", 1)[0] not in DATA_FOLDERS:
            raise ArchiveError(f"{request.archive}: {member.name} is outside the data folders")
        target, owner = data / relative, (member.uid, member.gid)
        if member.is_dir:
            restore_dir(target, data, member.mode & 0o7777, owner)
        else:
            restore_file(target, data, chunks, member.mode & 0o7777, owner)
            done[0] += member.size
            progress.update(done[0])

    try:
        read_archive(request.archive, request.passphrase, visit)
        loader.finish()
    except BaseException:
        loader.abort()
        raise
    progress.update(done[0], final=True)
    os.sync()
    report(f"Put back {human_size(done[0])} of registry and chart data")
