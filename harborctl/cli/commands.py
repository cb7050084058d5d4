"""Registers every command on the top-level group."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harborctl.cli.options import (
    component_options,
    config_option,
    new_secretkey_option,
    project_dir,
    project_dir_option,
)
from harborctl.errors import (
    EXIT_CERT_OR_FILESYSTEM,
    EXIT_INVALID_CONFIG,
    ConfigError,
)

if TYPE_CHECKING:
    from harborctl.tls.checking import CertProblem


def register(group: click.Group) -> None:
    from harborctl.cli.migrate_cmd import migrate_command

    config_group.add_command(migrate_command)
    group.add_command(config_group)
    group.add_command(prepare_command)
    from harborctl.cli.backup_cmds import BACKUP_COMMANDS
    from harborctl.cli.certs_cmds import certs_command, gencert_command, trust_command
    from harborctl.cli.completion import completion_command
    from harborctl.cli.engine_cmds import ENGINE_COMMANDS
    from harborctl.cli.ops_cmds import OPS_COMMANDS

    for command in (gencert_command, trust_command, certs_command, *ENGINE_COMMANDS,
                    *OPS_COMMANDS, *BACKUP_COMMANDS, completion_command):
        group.add_command(command)


@click.group("config")
def config_group() -> None:
    """Inspect harbor.cfg or harbor.yml; convert harbor.cfg to harbor.yml."""


@config_group.command("check")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def config_check(config_path: Path, as_json: bool) -> None:
    """Report every problem and warning in harbor.cfg or harbor.yml (exit 3 on an error)."""
    import json

    from harborctl.config.inputs import check_file

    name = str(config_path)
    try:
        result = check_file(config_path)
    except ConfigError as exc:
        if not as_json:
            raise
        _echo_unreadable_json(name, exc)
        raise click.exceptions.Exit(exc.exit_code) from exc
    cert_problems = _certificate_problems(result.config)
    if as_json:
        payload = {
            "version": 1,
            "file": name,
            "valid": result.config is not None,
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "problems": [p.as_dict(name) for p in result.problems],
            "certificates": [
                {"file": str(p.path), "severity": p.severity, "message": p.message,
                 "hint": p.hint} for p in cert_problems
            ],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for problem in result.problems:
            click.echo(problem.format(name))
        for cert in cert_problems:
            prefix = "warning: " if cert.severity == "warning" else ""
            click.echo(f"{cert.path}: {prefix}{cert.message}")
            if cert.hint:
                click.echo(f"    hint: {cert.hint}")
        counts = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        if result.config is None:
            click.echo(f"Error: {name} is invalid: {counts}", err=True)
        else:
            click.echo(f"{name} is valid ({counts})")
    if result.config is None:
        raise click.exceptions.Exit(EXIT_INVALID_CONFIG)
    cert_errors = [p for p in cert_problems if p.severity == "error"]
    if cert_errors:
        if not as_json:
            click.echo(f"Error: {len(cert_errors)} certificate problem(s)", err=True)
        raise click.exceptions.Exit(EXIT_CERT_OR_FILESYSTEM)


def _echo_unreadable_json(name: str, exc: ConfigError) -> None:
    """--json output stays JSON when the file cannot be read at all (absent, too large)."""
    import json

    problem = {"file": name, "line": None, "key": None, "severity": "error",
               "message": exc.message, "hint": exc.hint}
    click.echo(json.dumps({"version": 1, "file": name, "valid": False, "errors": 1, "warnings": 0,
                           "problems": [problem], "certificates": []}, indent=2))


def _certificate_problems(config: object) -> list[CertProblem]:
    """The checks of the operator's certificate, for an https config that is otherwise valid."""
    from harborctl.config.inputs import server_certificate

    pair = server_certificate(config)
    if pair is None:
        return []
    from harborctl.tls.checking import check_server_certificate

    return check_server_certificate(*pair)


@click.command("prepare")
@config_option
@project_dir_option
@component_options
@new_secretkey_option
@click.option("--dry-run", is_flag=True,
              help="Show the changes (files holding secrets: only their size); write nothing.")
@click.option("--with-trivy", is_flag=True,
              help="harbor.yml only: run the Trivy scanner (remembered for later runs).")
def prepare_command(config_path: Path, project_dir: Path | None, with_notary: bool,
                    with_clair: bool, with_chartmuseum: bool, new_secretkey: bool,
                    dry_run: bool, with_trivy: bool) -> None:
    """Render docker-compose.yml and common/config/ from harbor.cfg or harbor.yml."""
    from harborctl.cli import quick_prepare
    from harborctl.cli.report import prepare_output, print_prepare
    from harborctl.config.inputs import check_profile_flags, input_format
    from harborctl.prepare import PrepareResult, load_for_prepare, prepare, remember_unchanged

    flags = {"notary": with_notary, "clair": with_clair, "chartmuseum": with_chartmuseum,
             "new_secretkey": new_secretkey}
    folder = _project(config_path, project_dir)
    check_profile_flags(config_path, {**flags, "trivy": with_trivy})
    if input_format(config_path) == "harbor.yml":
        from harborctl.prepare_v2 import load_v2_for_prepare, prepare_v2

        loaded_v2 = load_v2_for_prepare(config_path, folder, with_trivy)
        print_prepare(prepare_v2(loaded_v2, folder, dry_run))
        return
    loaded = load_for_prepare(config_path, folder, flags)
    command_line = (click.get_current_context().find_root().obj or {}).get("argv")
    argv = command_line[1:] if command_line and command_line[0] == "prepare" else None
    unchanged = None
    if argv is not None and quick_prepare.parse_prepare_args(argv) is not None:
        cwd = os.getcwd()

        def unchanged(result: PrepareResult) -> None:
            remember_unchanged(loaded, result, (argv, cwd, prepare_output(result)))

    print_prepare(prepare(loaded, folder, dry_run, unchanged=unchanged))


def _project(config_path: Path, explicit: Path | None) -> Path:
    return project_dir(config_path, explicit)
