"""`harborctl config migrate`: harbor.cfg (Harbor 1.7) to harbor.yml (Harbor 2.15)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from harborctl.errors import EXIT_INVALID_CONFIG, UsageError


@click.command("migrate")
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False),
                default=Path("harbor.cfg"))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write harbor.yml ('-' for standard output) "
                   "[default: harbor.yml beside SOURCE].")
@click.option("--force", is_flag=True, help="Replace OUTPUT when it exists.")
def migrate_command(source: Path, output: Path | None, force: bool) -> None:
    """Convert a Harbor 1.7 harbor.cfg into a Harbor 2.15 harbor.yml.

    Every key is carried over or listed as dropped with where its setting went. The database
    is not migrated (see the README: Harbor's stepwise upgrade). Exit 3 when the new file still
    has problems to fix (it is written all the same)."""
    from harborctl.config import read_config_file
    from harborctl.config.inputs import input_format
    from harborctl.config.migrate import migrate_cfg
    from harborctl.config.yml import parse_yaml_text, validate
    from harborctl.files import write_file_atomic

    if input_format(source) == "harbor.yml":
        raise UsageError(f"{source} is already a harbor.yml",
                         hint="give the Harbor 1.7 harbor.cfg to convert")
    target = output or source.parent / "harbor.yml"
    to_stdout = str(target) == "-"
    if not to_stdout and os.path.lexists(target) and not force:
        raise UsageError(f"{target} exists; it is not replaced",
                         hint="pass --force to replace it, or -o to write elsewhere")
    migration = migrate_cfg(read_config_file(source))
    shown = "(standard output)" if to_stdout else str(target)
    check = validate(parse_yaml_text(migration.text, target))
    if to_stdout:
        click.echo(migration.text, nl=False)
    else:
        write_file_atomic(target, migration.text.encode(), 0o600)  # it holds passwords

    def say(line: str) -> None:  # with -o -, the report must not mix into the file
        click.echo(line, err=to_stdout)

    say(f"wrote {shown} from {source}" + ("" if to_stdout else " (mode 0600: it holds "
                                          "passwords)"))
    say(f"{len(migration.moved)} setting(s) carried over:")
    for old, new in migration.moved:
        say(f"  {old} -> {new}")
    say(f"{len(migration.dropped)} key(s) not carried over:")
    for dropped in migration.dropped:
        say(f"  {source.name}:{dropped.line}: {dropped.key}: {dropped.where}")
    for note in migration.notes:
        say(f"note: {note}")
    for problem in check.problems:
        say(problem.format(shown))
    if check.errors:
        click.echo(f"Error: {shown} has {len(check.errors)} problem(s) to fix before install",
                   err=True)
        raise click.exceptions.Exit(EXIT_INVALID_CONFIG)
    if not to_stdout:
        # install.sh reads harbor.cfg when both files are in the folder
        say(f"next: name it on every command, e.g. ./install.sh -c {target}")
