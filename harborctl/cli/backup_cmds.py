"""Day-2 commands: `backup` (one archive of everything a registry cannot rebuild) and
`restore` (a deployment back from it)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

from harborctl.cli.engine_cmds import project_name_option
from harborctl.cli.options import config_option, project_dir, project_dir_option
from harborctl.errors import UsageError


def _progress(message: str) -> None:
    click.echo(message, err=True)


def read_passphrase(path: Path | None) -> bytes | None:
    """The passphrase: the file's content without its final line break."""
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the passphrase file {path}: {exc.strerror}") from exc
    passphrase = raw[:-1] if raw.endswith(b"\n") else raw
    passphrase = passphrase[:-1] if passphrase.endswith(b"\r") else passphrase
    if not passphrase:
        raise UsageError(f"the passphrase file {path} is empty")
    return passphrase


def passphrase_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--passphrase-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
        help="A file holding the passphrase (its first line break ends it): the archive is "
             "encrypted (AES-256-GCM, key derived with scrypt).")(func)


@click.command("backup")
@config_option
@project_dir_option
@project_name_option
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The archive to write [default: harbor-backup-<UTC time>.tar here].")
@click.option("--no-registry-data", is_flag=True,
              help="Leave the registry's blobs out (they are elsewhere, or backed up apart).")
@passphrase_option
def backup_command(config_path: Path, project_dir: Path | None, project_name: str | None,
                   output: Path | None, no_registry_data: bool,
                   passphrase_file: Path | None) -> None:
    """Write one archive (mode 0600) with the database dump, the registry's blobs, the chart
    storage, every secret, the certificates, harbor.cfg or harbor.yml and harborctl's state."""
    from harborctl.cli.ops_cmds import engine_session
    from harborctl.ops.backup import BackupRequest, backup
    from harborctl.ops.backup_format import human_size
    from harborctl.ops.backup_target import load_target

    folder = _folder(config_path, project_dir)
    passphrase = read_passphrase(passphrase_file)
    if output is None:
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output = Path(f"harbor-backup-{stamp}.tar" + (".enc" if passphrase else ""))
    output = output.absolute()
    if output.exists() or output.is_symlink():
        raise UsageError(f"{output} exists already", hint="choose another name with -o")
    target = load_target(config_path, folder)
    session = engine_session()
    request = BackupRequest(target, config_path.absolute(), folder,
                            project_name or folder.name, output, not no_registry_data,
                            passphrase)
    result = backup(request, session.full(), session.reader, _progress)
    encrypted = " (encrypted)" if passphrase else ""
    click.echo(f"backup written to {result.path}{encrypted}: {human_size(result.size)}, "
               f"database dump {human_size(result.dump_bytes)}, {result.files} data file(s)")
    for note in result.notes:
        click.echo(f"note: {note}")


@click.command("restore")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@config_option
@project_dir_option
@project_name_option
@click.option("--force", is_flag=True,
              help="Replace a database, registry data, containers or files that are there.")
@passphrase_option
@click.option("--timeout", type=click.IntRange(10, 3600), default=300, show_default=True,
              help="Seconds each service may take to become healthy.")
def restore_command(archive: Path, config_path: Path, project_dir: Path | None,
                    project_name: str | None, force: bool, passphrase_file: Path | None,
                    timeout: int) -> None:
    """Check every checksum of ARCHIVE, then put the deployment back: harbor.cfg or harbor.yml
    (at -c, the same kind as the archive's),
    secrets, certificates, state, the database, the registry's data; start and wait."""
    from harborctl.cli.ops_cmds import engine_session
    from harborctl.install import login_hint
    from harborctl.ops.restore import RestoreRequest, restore

    folder = _folder(config_path, project_dir)
    request = RestoreRequest(archive, config_path.absolute(), folder, project_name, force,
                             read_passphrase(passphrase_file), timeout)
    result = restore(request, engine_session(), _progress)
    replaced = "; replaced " + "; ".join(result.replaced) if result.replaced else ""
    click.echo(f"restored {archive} ({len(result.manifest.entries)} entries){replaced}")
    for line in login_hint(result.config):
        click.echo(line)


def _folder(config_path: Path, explicit: Path | None) -> Path:
    return project_dir(config_path, explicit)


BACKUP_COMMANDS = (backup_command, restore_command)
