"""Certificate commands: gencert, trust, certs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harborctl.cli.options import config_option
from harborctl.errors import EXIT_CERT_OR_FILESYSTEM

if TYPE_CHECKING:
    from harborctl.certfiles import ListedCertificate, UnreadableCertificate


@click.command("gencert")
@config_option
@click.option("--hostname", help="Name the certificate is for [default: hostname in harbor.cfg].")
@click.option("--ip", "ips", multiple=True, help="An IP address clients may use (repeatable).")
@click.option("--days", type=click.IntRange(1, 3650), default=365, show_default=True,
              help="Validity of the server certificate (the CA gets 10 years).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder for server.crt, server.key, ca.crt, ca.key [default: where ssl_cert "
                   "and ssl_cert_key in harbor.cfg point].")
@click.option("--force", is_flag=True, help="Replace the server certificate even if it fits.")
@click.option("--internal-tls", is_flag=True,
              help="harbor.yml: make the internal CA and every service's certificate in "
                   "internal_tls.dir (or --out) instead.")
def gencert_command(config_path: Path, hostname: str | None, ips: tuple[str, ...], days: int,
                    out: Path | None, force: bool, internal_tls: bool) -> None:
    """Create a CA (or reuse it) and a server certificate signed by it, for https.

    Keys are ECDSA P-256: small, fast, and accepted by Docker, nginx and browsers alike.
    ssl_cert and ssl_cert_key in harbor.cfg must be absolute paths: a relative one is refused
    with its line (exit 3) rather than read against whatever folder gencert runs in.
    """
    if internal_tls:
        _gencert_internal(config_path, out, days, force)
        return
    from harborctl.certfiles import certificate_folder_lock, gencert_target
    from harborctl.gencert import apply_gencert, plan_gencert, read_existing

    target = gencert_target(config_path, hostname, out)
    paths = target.paths
    with certificate_folder_lock(paths):
        plan = plan_gencert(paths.server_cert, paths.server_key, target.hostname,
                            existing=read_existing(paths), ips=ips, days=days, force=force)
        result = apply_gencert(plan)
    for planned in result.files:
        verb = {"create": "created", "replace": "replaced", "reuse": "kept"}[planned.action]
        click.echo(f"{verb:8} {planned.path}  ({planned.reason})")
    names = ", ".join([*result.server.dns_names, *result.server.ip_addresses])
    click.echo(f"server certificate for {names}, valid {result.server.days_left} days "
               f"({result.server.key_type}), signed by {result.ca.common_name}")
    yml = config_path.suffix.lower() in (".yml", ".yaml")
    if target.config_names_other_files:
        click.echo(f"note: set https.certificate: {paths.server_cert} and https.private_key: "
                   f"{paths.server_key} in {config_path}" if yml else
                   f"note: set ssl_cert = {paths.server_cert} and ssl_cert_key = "
                   f"{paths.server_key} in {config_path}, and ui_url_protocol = https")
    elif not target.https_configured:
        click.echo(f"note: add an https block in {config_path} to serve it" if yml else
                   f"note: set ui_url_protocol = https in {config_path} to serve it")
    for step in result.next_steps:
        click.echo(f"next: {step}")


def _gencert_internal(config_path: Path, out: Path | None, days: int, force: bool) -> None:
    from harborctl.files import folder_lock
    from harborctl.files.safe import make_dirs
    from harborctl.internal_tls import internal_tls_folder, make_internal_tls

    folder = internal_tls_folder(config_path, out)
    make_dirs(folder, folder.parent)
    with folder_lock(folder, f"the certificate folder {folder}"):
        done = make_internal_tls(folder, days, force)
    for made in done:
        verb = {"create": "created", "replace": "replaced", "keep": "kept"}[made.action]
        click.echo(f"{verb:8} {made.path}")
    click.echo("next: set internal_tls.enabled: true and internal_tls.dir: "
               f"{folder} in harbor.yml, then run 'harborctl install' again")


@click.command("trust")
@config_option
@click.option("--print", "print_only", is_flag=True, help="Only print what to do; change nothing.")
@click.option("--ca", "ca_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The CA certificate [default: ca.crt beside ssl_cert, or ssl_cert itself "
                   "when it is self-signed].")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=Path("/"),
              hidden=True)
def trust_command(config_path: Path, print_only: bool, ca_file: Path | None, root: Path) -> None:
    """Make the local Docker client trust the registry (https), or say what http needs."""
    from harborctl.certfiles import find_ca, read_ca, read_server_certificate
    from harborctl.config.inputs import load_file, public_address
    from harborctl.tls.reading import certificate_blocks, holds_private_key
    from harborctl.trust import (
        docker_trust_path,
        insecure_registry_instructions,
        install_trust,
        trust_instructions,
        verify_issuer,
    )

    address = public_address(load_file(config_path))
    if address.protocol == "http" or address.server_cert is None:
        click.echo(insecure_registry_instructions(address.hostname, address.http_port))
        return
    ca_path = ca_file or find_ca(address.server_cert)
    ca_pem = read_ca(ca_path)
    verify_issuer(read_server_certificate(address.server_cert), address.server_cert, ca_pem,
                  ca_path)
    # A CA file that also holds a key never leaves this host: only its certificates do.
    has_key = holds_private_key(ca_pem)
    shareable = certificate_blocks(ca_pem, f"the CA file {ca_path}") if has_key else None
    target = docker_trust_path(address.hostname, address.https_port, root)
    if not print_only:
        written = install_trust(ca_pem, address.hostname, address.https_port, root)
        click.echo(f"trusted: {written} now holds the certificate of {ca_path}; this host's "
                   f"docker trusts {address.authority} (no daemon restart needed)")
    else:
        click.echo(f"would write {target} from {ca_path}")
    if has_key:
        click.echo(f"warning: {ca_path} also holds a private key: only its certificate is "
                   "installed or shown; never give that file to anyone, keep the key in a file "
                   "of its own (mode 0600)")
    click.echo("On every other machine that pushes or pulls:")
    click.echo(trust_instructions(address.hostname, address.https_port, ca_path, shareable))


@click.command("certs")
@config_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the certificates as JSON (shape in the README).")
def certs_command(config_path: Path, as_json: bool) -> None:
    """List every certificate of the deployment with its names and days left (exit 6 at the
    end if one has expired or a certificate file cannot be read)."""
    from harborctl.certfiles import UnreadableCertificate, deployment_certificates
    from harborctl.config.inputs import load_file

    config = load_file(config_path)
    listed_all = list(deployment_certificates(config))
    expired = sum(1 for c in listed_all
                  if not isinstance(c, UnreadableCertificate) and c.info.days_left < 0)
    unreadable = sum(1 for c in listed_all if isinstance(c, UnreadableCertificate))
    if as_json:
        import json

        click.echo(json.dumps(certificates_json(listed_all, expired, unreadable), indent=2))
    else:
        for listed in listed_all:
            click.echo(_certificate_text(listed))
    failures = [f"{count} {what}" for count, what in (
        (unreadable, "certificate file(s) could not be read"),
        (expired, "certificate(s) expired")) if count]
    if failures:
        click.echo(f"Error: {' and '.join(failures)}", err=True)
        raise click.exceptions.Exit(EXIT_CERT_OR_FILESYSTEM)


def _certificate_text(listed: ListedCertificate | UnreadableCertificate) -> str:
    from harborctl.certfiles import UnreadableCertificate

    if isinstance(listed, UnreadableCertificate):
        return f"{listed.role}: {listed.path}\n  UNREADABLE: {listed.problem}"
    info = listed.info
    label = (listed.role if listed.chain_index == 0
             else f"{listed.role} (chain #{listed.chain_index + 1})")
    names = ", ".join([*info.dns_names, *info.ip_addresses]) or "-"
    state = "EXPIRED" if info.days_left < 0 else f"{info.days_left} days left"
    return (f"{label}: {listed.path}\n  subject: {info.subject}\n  names: {names}\n"
            f"  issuer: {info.issuer}\n  {state} (until {info.not_after:%Y-%m-%d})")


def certificates_json(listed_all: Sequence[ListedCertificate | UnreadableCertificate],
                      expired: int, unreadable: int) -> dict[str, Any]:
    """``certs --json``: version 1 of the shape the README documents."""
    from harborctl.certfiles import UnreadableCertificate

    entries: list[dict[str, Any]] = []
    for listed in listed_all:
        if isinstance(listed, UnreadableCertificate):
            entries.append({"role": listed.role, "path": str(listed.path), "chain_index": 0,
                            "readable": False, "problem": listed.problem})
            continue
        info = listed.info
        entries.append({
            "role": listed.role, "path": str(listed.path), "chain_index": listed.chain_index,
            "readable": True, "subject": info.subject, "issuer": info.issuer,
            "dns_names": list(info.dns_names), "ip_addresses": list(info.ip_addresses),
            "not_before": info.not_before.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "not_after": info.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "days_left": info.days_left, "expired": info.days_left < 0, "is_ca": info.is_ca,
            "self_signed": info.self_signed, "key_type": info.key_type})
    return {"version": 1, "ok": not (expired or unreadable), "expired": expired,
            "unreadable": unreadable, "certificates": entries}
