"""Registers every command on the top-level group."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harborctl.cli.options import component_options, config_option, project_dir, project_dir_option
from harborctl.errors import EXIT_INVALID_CONFIG, NotImplementedYetError


def register(group: click.Group) -> None:
    group.add_command(config_group)
    group.add_command(prepare_command)
    for name, summary in _NOT_YET.items():
        group.add_command(_not_yet(name, summary))


@click.group("config")
def config_group() -> None:
    """Inspect harbor.cfg."""


@config_group.command("check")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def config_check(config_path: Path, as_json: bool) -> None:
    """Report every problem and warning in harbor.cfg (exit 3 when there is an error)."""
    from harborctl.config import check_config

    result = check_config(config_path)
    name = str(config_path)
    if as_json:
        payload = {
            "version": 1,
            "file": name,
            "valid": result.config is not None,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "problems": [p.as_dict(name) for p in result.problems],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for problem in result.problems:
            click.echo(problem.format(name))
        counts = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        if result.config is None:
            click.echo(f"Error: {name} is invalid: {counts}", err=True)
        else:
            click.echo(f"{name} is valid ({counts})")
    if result.config is None:
        raise click.exceptions.Exit(EXIT_INVALID_CONFIG)


@click.command("prepare")
@config_option
@project_dir_option
@component_options
@click.option("--dry-run", is_flag=True, help="Show the changes (secrets masked); write nothing.")
def prepare_command(config_path: Path, project_dir: Path | None, with_notary: bool,
                    with_clair: bool, with_chartmuseum: bool, dry_run: bool) -> None:
    """Render docker-compose.yml and common/config/ from harbor.cfg."""
    from harborctl.cli.report import print_prepare
    from harborctl.prepare import prepare

    flags = {"notary": with_notary, "clair": with_clair, "chartmuseum": with_chartmuseum}
    result = prepare(config_path, _project(config_path, project_dir), flags, dry_run)
    print_prepare(result)


def _project(config_path: Path, explicit: Path | None) -> Path:
    return project_dir(config_path, explicit)


_NOT_YET = {
    "gencert": "Create a CA and a server certificate for https.",
    "trust": "Make the local Docker client trust this registry's CA.",
    "certs": "List the deployment's certificates and their expiry.",
    "install": "Check, load images, prepare and start Harbor.",
    "status": "Show the state and health of every service.",
    "start": "Start a stopped deployment.",
    "stop": "Stop every service.",
    "restart": "Stop, then start every service.",
    "down": "Stop and remove the containers and networks (never the data).",
}


def _not_yet(name: str, summary: str) -> click.Command:
    def run() -> None:
        raise NotImplementedYetError(f"'harborctl {name}' is not implemented yet")

    return click.Command(
        name,
        callback=run,
        help=f"{summary} (not implemented yet)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
