"""Day-2 commands: `logs` (what the log service wrote) and `doctor` (what is wrong)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harborctl.cli.engine_cmds import project_name_option
from harborctl.cli.options import config_option, project_dir, project_dir_option

if TYPE_CHECKING:
    from collections.abc import Iterable

    from harborctl.engine.api.session import EngineSession
    from harborctl.ops.logs import LogLine

DEFAULT_LINES = 100
FOLLOW_LINES = 10  # shown before following, as tail -f does


def _echo_lines(lines: Iterable[LogLine], prefixed: bool, width: int) -> None:
    for line in lines:
        click.echo(f"{line.service.ljust(width)} | {line.text}" if prefixed else line.text)


@click.command("logs")
@config_option
@project_dir_option
@project_name_option
@click.argument("services", nargs=-1)
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
    from harborctl.config import load_config
    from harborctl.engine.compose.project import compose_project
    from harborctl.engine.status.summary import list_project
    from harborctl.ops.logs import UTC, parse_duration, unknown_services
    from harborctl.ops.logsources import follow as follow_lines
    from harborctl.ops.logsources import log_sources, recent_lines, start_offsets

    cutoff = None
    if since_text is not None:
        cutoff = _dt.datetime.now(UTC) - parse_duration(since_text)
    config = load_config(config_path).config
    assert config is not None
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
    sources = log_sources(project, config.logs.location, services, ids)
    if count is None and cutoff is None:
        count = FOLLOW_LINES if follow else DEFAULT_LINES
    prefixed = len(sources) > 1
    width = max(len(s.service) for s in sources)
    offsets = start_offsets(sources)

    def engine_log(container_id: str, tail: int) -> str:
        return session.full().container_logs(container_id, tail)

    _echo_lines(recent_lines(sources, count, cutoff, engine_log), prefixed, width)
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


def engine_session() -> EngineSession:
    """The way to the engine (a seam of its own so that tests give a fake engine)."""
    from harborctl.engine.api.session import EngineSession

    return EngineSession()


def _folder(config_path: Path, explicit: Path | None) -> Path:
    return project_dir(config_path, explicit)


OPS_COMMANDS = (logs_command,)
