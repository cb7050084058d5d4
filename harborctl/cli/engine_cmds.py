"""Commands that run the deployment through the Docker engine."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from harborctl.cli.completion import complete_service
from harborctl.cli.options import (
    component_options,
    config_option,
    new_secretkey_option,
    project_dir,
    project_dir_option,
)
from harborctl.errors import UsageError

if TYPE_CHECKING:
    from harborctl.engine.api.interface import EngineReader

F = TypeVar("F", bound=Callable[..., Any])


def _report(message: str) -> None:
    if message.startswith("Step "):  # where an interruption stopped the install
        from harborctl.cli.app import STAGE

        click.get_current_context().meta[STAGE] = message.split(":")[0]
    click.echo(message)


def project_name_option(func: F) -> F:
    return click.option("-p", "--project-name", default=None,
                        help="Compose project name [default: the project folder's name].")(func)


def _light_or_full_client() -> EngineReader:
    """The standard-library socket client for the engine's UNIX socket (no docker package to
    import: status and stop start fast); the docker SDK's client for DOCKER_HOST over tcp/ssh."""
    from harborctl.engine.api.socket_client import LightClient, socket_path

    path = socket_path()
    if path is not None:
        return LightClient(path)
    from harborctl.engine.api.client import connect

    return connect()


def _project(config_path: Path, explicit: Path | None, name: str | None) -> Any:
    from harborctl.engine.compose.project import compose_project

    return compose_project(project_dir(config_path, explicit), name)


@click.command("install")
@config_option
@project_dir_option
@project_name_option
@component_options
@click.option("--bundle", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Offline bundle of images [default: harbor*.tar.gz beside harbor.cfg].")
@click.option("--timeout", type=click.IntRange(10, 3600), default=300, show_default=True,
              help="Seconds each service may take to become healthy.")
@new_secretkey_option
@click.option("--with-trivy", is_flag=True,
              help="harbor.yml only: run the Trivy scanner (remembered for later runs).")
@click.option("--no-boot-unit", is_flag=True, default=False,
              help="Do not write the systemd unit that starts Harbor after a reboot or an "
                   "engine restart (written only where systemd runs).")
def install_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                    with_notary: bool, with_clair: bool, with_chartmuseum: bool,
                    bundle: Path | None, timeout: int, new_secretkey: bool,
                    with_trivy: bool, no_boot_unit: bool) -> None:
    """Check the host, load images, prepare, and start Harbor (idempotent)."""
    from harborctl.cli.options import project_dir as resolve
    from harborctl.install import install, login_hint

    started = time.monotonic()
    flags = {"notary": with_notary, "clair": with_clair, "chartmuseum": with_chartmuseum,
             "new_secretkey": new_secretkey, "trivy": with_trivy}
    result = install(config_path, resolve(config_path, project_dir), _report, flags, bundle,
                     project_name, timeout)
    for warning in result.warnings:
        click.echo(warning, err=True)
    _boot_unit_after_install(config_path, project_dir, project_name, result.converged.project,
                             no_boot_unit)
    kinds = [a.kind for a in result.converged.actions]
    summary = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
    click.echo(f"All services are up ({summary}) in {time.monotonic() - started:.1f} s.")
    for line in login_hint(result.config):
        click.echo(line)


def _boot_unit_after_install(config_path: Path, project_dir: Path | None,
                             explicit_name: str | None, project_name: str, skip: bool) -> None:
    from harborctl.bootunit import harborctl_command, install_unit, render_unit, systemd_runs

    if skip:
        click.echo("boot unit: not written (--no-boot-unit); after a reboot run "
                   "'harborctl start'")
        return
    if not systemd_runs():
        click.echo("boot unit: systemd does not run here; after a reboot or an engine restart "
                   "run 'harborctl start' (or 'harborctl boot-unit --print' for a unit)")
        return
    unit = render_unit(harborctl_command(), config_path, project_name, project_dir,
                       explicit_name, os.environ.get("DOCKER_HOST"))
    path = install_unit(unit)
    click.echo(f"boot unit: {path} enabled (Harbor comes back after a reboot or an engine "
               "restart; --no-boot-unit to opt out)")


@click.command("boot-unit")
@config_option
@project_dir_option
@project_name_option
@click.option("--install", "install_it", is_flag=True,
              help="Write it to /etc/systemd/system and enable it (where systemd runs).")
@click.option("--print", "print_it", is_flag=True, help="Print the unit (the default).")
def boot_unit_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                      install_it: bool, print_it: bool) -> None:
    """The systemd unit that runs 'harborctl start' once the engine is up after a reboot or an
    engine restart (the engine alone brings back only the log service)."""
    from harborctl.bootunit import harborctl_command, install_unit, render_unit, systemd_runs

    project = _project(config_path, project_dir, project_name)
    unit = render_unit(harborctl_command(), config_path, project.name, project_dir,
                       project_name, os.environ.get("DOCKER_HOST"))
    if print_it or not install_it:
        click.echo(unit.text, nl=False)
    if install_it:
        running = systemd_runs()
        path = install_unit(unit, enable=running)
        click.echo(f"wrote {path}" + (f"; enabled {unit.name}" if running else
                                       "; systemd does not run here: not enabled"))


@click.command("status")
@config_option
@project_dir_option
@project_name_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.argument("services", nargs=-1, shell_complete=complete_service)
def status_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                   as_json: bool, services: tuple[str, ...]) -> None:
    """State, health, uptime, ports and image of every service, or only of the SERVICES named
    (exit 5 unless all of them are up)."""
    from harborctl.cli.quick_status import print_status
    from harborctl.engine.status.report import only_services, project_status

    project = _project(config_path, project_dir, project_name)
    status = project_status(_light_or_full_client(), project)
    if services:
        status = only_services(status, services)
    if any(s.starting for s in status.services):
        from harborctl.engine.api.client import connect
        from harborctl.engine.status.confirm import confirm_starting

        engine = connect()
        try:
            status = confirm_starting(engine, status)
        finally:
            engine.close()
    code = print_status(status, as_json)
    if code != 0:
        raise click.exceptions.Exit(code)


@click.command("stop")
@config_option
@project_dir_option
@project_name_option
@click.option("--timeout", type=click.IntRange(0, 600), default=10, show_default=True,
              help="Seconds each container gets to stop before it is killed.")
def stop_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                 timeout: int) -> None:
    """Stop every service, dependents first and the log service last."""
    from harborctl.engine.lifecycle.stopping import stop_project

    project = _project(config_path, project_dir, project_name)
    stopped = stop_project(_light_or_full_client(), project, _report, timeout)
    click.echo(f"stopped {len(stopped)} service(s)" if stopped else "nothing was running")


@click.command("start")
@config_option
@project_dir_option
@project_name_option
@click.option("--wait-engine", type=click.FloatRange(0, 3600), default=0, show_default=True,
              metavar="SECONDS",
              help="Wait up to SECONDS for the Docker engine to answer first (the boot unit's "
                   "start, while the engine is still starting).")
def start_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                  wait_engine: float) -> None:
    """Start the stopped services in dependency order, waiting for each to be healthy."""
    from harborctl.engine.api.client import connect
    from harborctl.engine.lifecycle.operations import start

    if wait_engine:
        from harborctl.engine.api.waiting import wait_for_engine

        wait_for_engine(wait_engine, _report)
    result = start(connect(), _project(config_path, project_dir, project_name), _report)
    if result.nothing_to_start:
        raise UsageError("there is no Harbor container to start",
                         hint="run 'harborctl install' (or ./install.sh) first")
    click.echo(f"started {len(result.started)} service(s); "
               f"{len(result.already_running)} already running")


@click.command("restart")
@config_option
@project_dir_option
@project_name_option
@click.option("--timeout", type=click.IntRange(0, 600), default=10, show_default=True)
def restart_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                    timeout: int) -> None:
    """Stop every service, then start them again with health gating."""
    from harborctl.engine.api.client import connect
    from harborctl.engine.lifecycle.operations import restart

    result = restart(connect(), _project(config_path, project_dir, project_name), _report,
                     timeout)
    if result.nothing_to_start:
        raise UsageError("there is no Harbor container to restart",
                         hint="run 'harborctl install' (or ./install.sh) first")
    click.echo(f"restarted {len(result.started)} service(s)")


@click.command("down")
@config_option
@project_dir_option
@project_name_option
@click.option("--purge-data", is_flag=True, help="Also delete Harbor's data (needs --yes).")
@click.option("--yes", is_flag=True, help="Confirm --purge-data.")
def down_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                 purge_data: bool, yes: bool) -> None:
    """Stop and remove the containers and networks; the data volume is kept."""
    from harborctl.cli.options import project_dir as project_dir_of
    from harborctl.config.inputs import load_file
    from harborctl.engine.api.client import connect
    from harborctl.engine.lifecycle.operations import down
    from harborctl.purge import check_recorded_data_volume, purge, purge_targets

    targets: list[Path] = []
    if purge_data:
        config = load_file(config_path)
        check_recorded_data_volume(config, project_dir_of(config_path, project_dir))
        targets = purge_targets(config)
        if not yes:
            listing = "\n".join(f"  {t}" for t in targets)
            raise UsageError(f"--purge-data deletes, for good:\n{listing}",
                             hint="add --yes to confirm; nothing was changed")
    result = down(connect(), _project(config_path, project_dir, project_name), _report)
    click.echo(f"removed {len(result.containers)} container(s) and "
               f"{len(result.networks)} network(s); the data volume is kept"
               if not purge_data else
               f"removed {len(result.containers)} container(s), {len(result.networks)} network(s)")
    if targets:
        for removed in purge(targets):
            click.echo(f"deleted {removed}")


ENGINE_COMMANDS = (install_command, boot_unit_command, status_command, stop_command, start_command,
                   restart_command, down_command)
