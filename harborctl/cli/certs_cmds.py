"""Certificate commands: gencert, trust, certs."""

from __future__ import annotations

from pathlib import Path

import click

from harborctl.cli.options import config_option
from harborctl.errors import EXIT_CERT_OR_FILESYSTEM, UsageError


def _lenient_settings(config_path: Path) -> dict[str, str]:
    """hostname, ports and certificate paths from harbor.cfg, read without full validation:
    gencert must work while https is configured but the certificate does not exist yet."""
    from harborctl.config import read_config_file
    from harborctl.config.keys import DEFAULTS

    raw = read_config_file(config_path)
    keys = ("hostname", "ssl_cert", "ssl_cert_key", "https_port", "ui_url_protocol")
    return {key: raw.values[key].value if key in raw.values else DEFAULTS[key] for key in keys}


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
def gencert_command(config_path: Path, hostname: str | None, ips: tuple[str, ...], days: int,
                    out: Path | None, force: bool) -> None:
    """Create a CA (or reuse it) and a server certificate signed by it, for https.

    Keys are ECDSA P-256: small, fast, and accepted by Docker, nginx and browsers alike.
    """
    from harborctl.gencert import GencertPaths, apply_gencert, plan_gencert, read_existing

    settings = _lenient_settings(config_path) if config_path.exists() or not hostname else {}
    host = hostname or settings.get("hostname", "")
    if not host or host.split(":")[0] == "reg.mydomain.com":
        raise UsageError("no host name to issue the certificate for",
                         hint="set hostname in harbor.cfg, or pass --hostname NAME")
    port = int(settings.get("https_port", "443") or 443)
    if ":" not in host and port != 443:
        host = f"{host}:{port}"
    if out is not None:
        cert_path, key_path = out.absolute() / "server.crt", out.absolute() / "server.key"
    else:
        cert_path = Path(settings.get("ssl_cert", "/data/cert/server.crt"))
        key_path = Path(settings.get("ssl_cert_key", "/data/cert/server.key"))
    paths = GencertPaths.beside(cert_path, key_path)
    plan = plan_gencert(cert_path, key_path, host, existing=read_existing(paths), ips=ips,
                        days=days, force=force)
    result = apply_gencert(plan)
    for planned in result.files:
        verb = {"create": "created", "replace": "replaced", "reuse": "kept"}[planned.action]
        click.echo(f"{verb:8} {planned.path}  ({planned.reason})")
    names = ", ".join([*result.server.dns_names, *result.server.ip_addresses])
    click.echo(f"server certificate for {names}, valid {result.server.days_left} days "
               f"({result.server.key_type}), signed by {result.ca.common_name}")
    if out is not None and (cert_path != Path(settings.get("ssl_cert", "")) or
                            key_path != Path(settings.get("ssl_cert_key", ""))):
        click.echo(f"note: set ssl_cert = {cert_path} and ssl_cert_key = {key_path} in "
                   f"{config_path}, and ui_url_protocol = https")
    elif settings.get("ui_url_protocol") != "https":
        click.echo(f"note: set ui_url_protocol = https in {config_path} to serve it")
    for step in result.next_steps:
        click.echo(f"next: {step}")


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
    from harborctl.config import load_config
    from harborctl.trust import (
        docker_trust_path,
        insecure_registry_instructions,
        install_trust,
        trust_instructions,
    )

    config = load_config(config_path).config
    assert config is not None
    address = config.address
    if address.protocol == "http":
        click.echo(insecure_registry_instructions(address.hostname, address.http_port))
        return
    ca_path = ca_file or _find_ca(config.tls.ssl_cert)
    target = docker_trust_path(address.hostname, address.https_port, root)
    if not print_only:
        try:
            ca_pem = ca_path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read the CA {ca_path}: {exc.strerror}",
                             hint="run 'harborctl gencert', or pass --ca FILE") from exc
        written = install_trust(ca_pem, address.hostname, address.https_port, root)
        click.echo(f"trusted: {written} now holds {ca_path}; this host's docker trusts "
                   f"{address.authority} (no daemon restart needed)")
    else:
        click.echo(f"would write {target} from {ca_path}")
    click.echo("On every other machine that pushes or pulls:")
    click.echo(trust_instructions(address.hostname, address.https_port, ca_path))


def _find_ca(server_cert: Path) -> Path:
    from harborctl.tls.reading import describe_certificate

    beside = server_cert.parent / "ca.crt"
    if beside.exists():
        return beside
    try:
        if describe_certificate(server_cert.read_bytes()).self_signed:
            return server_cert
    except (OSError, ValueError):
        pass
    raise UsageError(f"no CA found beside {server_cert}",
                     hint="pass --ca FILE with the certificate of the CA that issued it")


@click.command("certs")
@config_option
def certs_command(config_path: Path) -> None:
    """List every certificate of the deployment with its names and days left (exit 6 if one
    has expired)."""
    from harborctl.config import load_config
    from harborctl.secrets import secret_paths
    from harborctl.tls.reading import describe_chain

    config = load_config(config_path).config
    assert config is not None
    stored = secret_paths(config)
    candidates = [("server", config.tls.ssl_cert), ("ca", config.tls.ssl_cert.parent / "ca.crt"),
                  ("token-signing", stored["token_cert_pem"]),
                  ("notary-signer-ca", stored["notary_ca_cert_pem"]),
                  ("notary-signer", stored["notary_signer_cert_pem"])]
    expired = 0
    for role, path in candidates:
        if not path.exists():
            continue
        for position, info in enumerate(describe_chain(path.read_bytes())):
            label = role if position == 0 else f"{role} (chain #{position + 1})"
            names = ", ".join([*info.dns_names, *info.ip_addresses]) or "-"
            state = "EXPIRED" if info.days_left < 0 else f"{info.days_left} days left"
            expired += info.days_left < 0
            click.echo(f"{label}: {path}\n  subject: {info.subject}\n  names: {names}\n"
                       f"  issuer: {info.issuer}\n  {state} (until {info.not_after:%Y-%m-%d})")
    if expired:
        click.echo(f"Error: {expired} certificate(s) expired", err=True)
        raise click.exceptions.Exit(EXIT_CERT_OR_FILESYSTEM)
