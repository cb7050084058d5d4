"""The staged install: environment, images, prepare, existing instance, start.

Progress goes through ``report``; the CLI decides how it looks.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.errors import FilesystemError, HarborctlError
from harborctl.install_inputs import load_install_input
from harborctl.prepare import COMPOSE_FILE, PrepareResult, writer

if TYPE_CHECKING:
    from harborctl.engine.api.session import EngineSession
    from harborctl.engine.compose.model import ComposeProject, ContainerInfo
    from harborctl.engine.converge.apply import ConvergeResult

Report = Callable[[str], None]
MIN_FREE_BYTES = 1 << 30  # below this an install stops
LOW_FREE_BYTES = 10 << 30  # below this it warns


@dataclass(frozen=True)
class InstallResult:
    config: Config | Config2
    prepared: PrepareResult | None  # None: nothing to prepare, as the record showed
    converged: ConvergeResult
    warnings: list[str]


def find_bundle(config_path: Path, explicit: Path | None) -> Path | None:
    """The offline bundle: --bundle, else the newest harbor*.tar.gz beside harbor.cfg."""
    if explicit is not None:
        if not explicit.is_file():
            raise HarborctlError(f"the bundle {explicit} does not exist")
        return explicit
    folder = config_path.absolute().parent
    found = sorted(folder.glob("harbor*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def check_data_volume(config: Config | Config2 | Path) -> list[str]:
    """The data volume (or the folder it will be made in) is writable with room to spare."""
    target = (config if isinstance(config, Path) else config.data_volume
              if isinstance(config, Config2) else config.paths.data_volume)
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise FilesystemError(f"{existing} is not a writable folder (data_volume = {target})",
                              hint="run as root, or choose another data_volume in harbor.cfg")
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise FilesystemError(f"only {free >> 20} MiB free under {existing} (data_volume)",
                              hint="free some space, or move data_volume to a larger disk")
    if free < LOW_FREE_BYTES:
        return [f"warning: only {free >> 30} GiB free under {existing}; images fill it quickly"]
    return []


def check_ports(project: ComposeProject, existing: list[ContainerInfo]) -> list[int]:
    """Every host port the compose file publishes (a hand edit's too) is free, or held by the
    project's own running containers; return them in ascending order."""
    from harborctl.engine.converge.ports import ports_in_use

    wanted = [p for s in project.services for p in s.ports]
    ours = {p.host_port for c in existing if c.running for p in c.ports}
    taken = ports_in_use(wanted, ours)
    if taken:
        names = ", ".join(str(p.host_port) for p in taken)
        raise HarborctlError(
            f"host port(s) {names} already in use by another program",
            hint="stop it (see: ss -ltnp), or choose other http_port/https_port in harbor.cfg",
        )
    return sorted({p.host_port for p in wanted})


def install(
    config_path: Path,
    project_dir: Path,
    report: Report,
    flags: dict[str, bool] | None = None,
    bundle: Path | None = None,
    project_name: str | None = None,
    timeout: float = 300,
    session: EngineSession | None = None,
) -> InstallResult:
    """Each thing once: harbor.cfg validated and the deployment rendered (in memory) in step 0,
    the compose file parsed from those bytes (a hand-edited one included) for the host ports
    and images, the project's containers listed once and their plan handed to converge."""
    from harborctl.engine.api.hangs import deadlock_warning
    from harborctl.engine.api.session import EngineSession
    from harborctl.engine.compose.loader import load_compose
    from harborctl.engine.compose.project import remember_services
    from harborctl.engine.converge.planning import ConvergeResult, already_converged, plan_project
    from harborctl.engine.status.listing import list_project_containers

    report("Step 0: checking the environment")
    engine = session if session is not None else EngineSession()
    engine.check()
    version = engine.reader.server_version()
    report(f"  Docker engine {version} answers" if version else "  Docker engine answers")
    defect = deadlock_warning(version)
    if defect is not None:
        report(f"  {defect}")
    from harborctl.engine.compose.loader import read_compose

    loaded = load_install_input(config_path, project_dir, flags)
    config = loaded.config
    # One writer per deployment: held from reading the secrets to the containers started.
    with writer(project_dir) as notes:
        unchanged = loaded.unchanged(notes)
        if unchanged is None:
            built = loaded.build(project_dir)  # writes nothing
            compose, compose_path, fits = built.compose, built.compose_path, built.certificate_fits
        else:  # every file prepare reads and writes is as a prepare that changed nothing left it
            built, compose_path, fits = None, project_dir / COMPOSE_FILE, unchanged[1]
            compose = read_compose(compose_path)
        report(f"  {loaded.file_kind} is valid" + (" and the certificate fits" if fits else ""))
        project = load_compose(compose_path, project_name, text=compose.decode("utf-8"))
        existing = list_project_containers(engine.reader, project.name)
        ports = check_ports(project, existing)
        report(f"  host ports {', '.join(map(str, ports))} are free or ours")
        warnings = check_data_volume(loaded.data_volume)
        report(f"  {loaded.data_volume} is writable")

        report("Step 1: images")
        # The compose file's images, which converge runs, and harbor.cfg's: while a hand-edited
        # compose file is kept, an image_source changed in harbor.cfg is still checked.
        images = sorted({s.image for s in project.services} | set(loaded.images))
        engine.ensure_images(images, report, find_bundle(config_path, bundle))

        report("Step 2: prepare")
        prepared: PrepareResult | None = None
        if built is None:
            changed, prepare_warnings = 0, unchanged[0] if unchanged is not None else []
        else:
            prepared = loaded.apply(built, notes)
            changed, prepare_warnings = len(prepared.changes), prepared.warnings
            if not (changed or prepared.created_secrets or notes or any((flags or {}).values())):
                loaded.remember(prepared)
        report(f"  {changed} file(s) changed" if changed else "  configuration unchanged")

        report("Step 3: existing instance")
        started = time.monotonic()
        remember_services(project_dir, project, compose, project_name)
        if any(not c.running for c in existing):
            from harborctl.engine.lifecycle.vanished import without_vanished_networks

            existing = without_vanished_networks(engine.full(), existing, report)
        plan = plan_project(engine.reader, project, existing)
        report("Step 4: starting")
        if already_converged(plan.actions):
            report(f"{project.name}: everything is up to date")
            converged = ConvergeResult(project.name, plan.actions, time.monotonic() - started)
        else:
            from harborctl.engine.converge.apply import converge

            converged = converge(engine.full(), project, report, plan=plan, check_ports=False,
                                 timeout=timeout)
        return InstallResult(config, prepared, converged, warnings + prepare_warnings)


def login_hint(config: Config | Config2) -> list[str]:
    if isinstance(config, Config2):
        return _login_hint_v2(config)
    address = config.address
    lines = [f"Harbor is ready: {address.external_url}",
             f"  docker login {address.authority} -u admin"]
    if address.protocol == "https":
        lines.append("  (this host's docker needs the CA: run 'harborctl trust'; other "
                     "machines: 'harborctl trust --print')")
    else:
        lines.append(f"  (plain http: docker clients need \"{address.authority}\" in "
                     "insecure-registries; 'harborctl trust' prints how)")
    return lines


def _login_hint_v2(config: Config2) -> list[str]:
    from urllib.parse import urlsplit

    from harborctl.plan.v2 import external_url

    url = external_url(config)
    authority = urlsplit(url).netloc
    lines = [f"Harbor is ready: {url}", f"  docker login {authority} -u admin"]
    if config.https is None:
        lines.append(f"  (plain http: docker clients need \"{authority}\" in "
                     "insecure-registries)")
    return lines
