"""Day-2 commands: `logs` (what the log service wrote) and `doctor` (what is wrong)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harborctl.cli.completion import complete_service
from harborctl.cli.engine_cmds import project_name_option
from harborctl.cli.options import config_option, project_dir, project_dir_option

if TYPE_CHECKING:
    from collections.abc import Iterable

    from harborctl.engine.api.session import EngineSession
    from harborctl.ops.doctor import Check
    from harborctl.ops.logs import LogLine

DEFAULT_LINES = 100
FOLLOW_LINES = 10  # shown before following, as tail -f does
BUNDLE_LOG_LINES = 200  # of each service in a support bundle


def _echo_lines(lines: Iterable[LogLine], prefixed: bool, width: int) -> None:
    for line in lines:
        click.echo(f"{line.service.ljust(width)} | {line.text}" if prefixed else line.text)


@click.command("logs")
@config_option
@project_dir_option
@project_name_option
@click.argument("services", nargs=-1, shell_complete=complete_service)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C ends).")
@click.option("--since", "since_text", default=None, metavar="DURATION",
              help="Only lines of the last DURATION (90s, 10m, 2h, 1d).")
@click.option("-n", "--lines", "count", type=click.IntRange(0, None), default=None,
              help=f"Last lines per service [default: {DEFAULT_LINES}, {FOLLOW_LINES} with -f, "
                   "all of them with --since].")
def logs_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                 services: tuple[str, ...], follow: bool, since_text: str | None,
                 count: int | None) -> None:
    """Show the services' logs as the log service wrote them under log_location, merged by
    time; the engine's own log for a service without such a file (the log service itself)."""
    from harborctl.config.inputs import load_file, log_location
    from harborctl.engine.compose.project import compose_project
    from harborctl.engine.status.summary import list_project
    from harborctl.ops.logs import UTC, parse_duration, unknown_services
    from harborctl.ops.logsources import follow as follow_lines
    from harborctl.ops.logsources import log_sources, recent_lines, start_offsets

    cutoff = None
    if since_text is not None:
        cutoff = _dt.datetime.now(UTC) - parse_duration(since_text)
    config = load_file(config_path)
    project = compose_project(_folder(config_path, project_dir), project_name)
    problem = unknown_services(services, project.service_names)
    if problem is not None:
        raise problem
    session = engine_session()
    running_first = sorted(list_project(session.reader, project.name),
                           key=lambda c: not c.running)
    ids: dict[str, str] = {}
    for container in running_first:
        ids.setdefault(container.service, container.id)
    sources = log_sources(project, log_location(config), services, ids)
    if count is None and cutoff is None:
        count = FOLLOW_LINES if follow else DEFAULT_LINES
    prefixed = len(sources) > 1
    width = max(len(s.service) for s in sources)
    offsets = start_offsets(sources)

    def engine_log(container_id: str, tail: int) -> str:
        return session.full().container_logs(container_id, tail)

    _echo_lines(recent_lines(sources, count, cutoff, engine_log, keep_partial=not follow),
                prefixed, width)
    if not follow:
        return
    for source in sources:
        if not source.has_file and source.file is None:
            click.echo(f"({source.service} logs to the engine, not to the log service: "
                       "not followed)", err=True)
    try:
        _echo_lines(follow_lines(sources, offsets, lambda: True), prefixed, width)
    except KeyboardInterrupt:
        return


@click.command("doctor")
@config_option
@project_dir_option
@project_name_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the checks as JSON: a list of {name, status, detail, hint}.")
@click.option("--bundle", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a support archive (tar.gz, mode 0600, every secret redacted).")
def doctor_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                   as_json: bool, bundle: Path | None) -> None:
    """Check the engine, host, certificate, files and every service; say what to do about
    each problem (exit 5 when a check fails or a service is not healthy)."""
    import json

    from harborctl.config.inputs import load_file
    from harborctl.ops.diagnose import Deployment, diagnose, service_logs
    from harborctl.ops.doctor import exit_status

    config = load_file(config_path)
    session = engine_session()

    def engine_log(container_id: str, tail: int) -> str:
        return session.full().container_logs(container_id, tail)

    def check_now(container_id: str) -> bool:
        from harborctl.engine.lifecycle.health import check_now

        return check_now(session.full(), container_id)

    folder = _folder(config_path, project_dir)
    target = Deployment(config, folder, project_name, session.reader, engine_log,
                        check_now=check_now)
    checks = diagnose(target)
    if as_json:
        click.echo(json.dumps([check.as_dict() for check in checks], indent=2))
    else:
        _echo_checks(checks)
    if bundle is not None:
        from harborctl.ops.bundle import write_bundle

        logs = service_logs(target, BUNDLE_LOG_LINES)
        written = write_bundle(bundle, config, folder, checks, logs)
        click.echo(f"support bundle written to {written} (secrets redacted)", err=as_json)
    code = exit_status(checks)
    if code:
        raise click.exceptions.Exit(code)


def _echo_checks(checks: Iterable[Check]) -> None:
    listed = list(checks)
    width = max(len(check.name) for check in listed)
    for check in listed:
        first, *more = check.detail.splitlines() or [""]
        click.echo(f"{check.status:<4}  {check.name.ljust(width)}  {first}")
        for line in more:
            click.echo(f"{'':<4}  {'':<{width}}    | {line}")
        if check.hint and check.status != "OK":
            click.echo(f"{'':<4}  {'':<{width}}  hint: {check.hint}")
    counts = {status: sum(1 for c in listed if c.status == status)
              for status in ("OK", "WARN", "FAIL")}
    click.echo(", ".join(f"{count} {status}" for status, count in counts.items()))


def engine_session() -> EngineSession:
    """The way to the engine (a seam of its own so that tests give a fake engine)."""
    from harborctl.engine.api.session import EngineSession

    return EngineSession()


def _folder(config_path: Path, explicit: Path | None) -> Path:
    return project_dir(config_path, explicit)


OPS_COMMANDS = (logs_command, doctor_command)
