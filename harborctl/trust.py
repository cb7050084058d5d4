"""How Docker clients come to trust the registry: a CA file (https) or insecure-registries (http).

Everything here is pure except ``install_trust``, which writes the CA where this host's Docker
daemon looks for it.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path, PurePosixPath

from harborctl.errors import CertificateError, UsageError
from harborctl.files import write_file_atomic
from harborctl.hostport import format_host_port, parse_host_port
from harborctl.tls.reading import certificate_blocks, chains_to, load_certificates

__all__ = [
    "DAEMON_JSON",
    "DOCKER_CERTS_D",
    "docker_trust_path",
    "insecure_registry_entry",
    "insecure_registry_instructions",
    "install_trust",
    "registry_address",
    "trust_instructions",
    "verify_issuer",
]

DOCKER_CERTS_D = PurePosixPath("/etc/docker/certs.d")
DAEMON_JSON = PurePosixPath("/etc/docker/daemon.json")


def _host_and_port(host: str, port: int) -> tuple[str, int]:
    parsed = parse_host_port(host)
    name, embedded = parsed.normalized_host, parsed.port
    if not name:
        raise UsageError("the registry host name is empty")
    if embedded is not None and embedded != port:
        raise UsageError(
            f"the host {host!r} carries the port {embedded}, which differs from port {port}",
            hint="give the host name without a port, or the same port in both places",
        )
    if not 0 < port < 65536:
        raise UsageError(f"{port} is not a valid port (1-65535)")
    return name, port


def registry_address(host: str, port: int, default_port: int = 443) -> str:
    """The registry as Docker names it in image references: ``host``, or ``host:port`` when the
    port is not the protocol's default (IPv6 addresses in brackets)."""
    name, port = _host_and_port(host, port)
    return format_host_port(name, None if port == default_port else port)


def docker_trust_path(host: str, port: int, root: Path = Path("/")) -> Path:
    """Where Docker looks for the CA of the registry ``host:port`` over https:
    ``ROOT/etc/docker/certs.d/HOST[:PORT]/ca.crt``, the port only when it is not 443."""
    folder = registry_address(host, port, default_port=443)
    return Path(root) / DOCKER_CERTS_D.relative_to("/") / folder / "ca.crt"


def trust_instructions(
    host: str,
    port: int,
    ca_file: Path = Path("/data/cert/ca.crt"),
    ca_certificates: bytes | None = None,
) -> str:
    """What to do on every other machine that pushes to or pulls from the registry over https
    with a certificate from a private CA (``ca_file`` on the Harbor host).

    With ``ca_certificates`` (PEM, certificates only) the text carries the certificates to save
    instead of telling to copy ``ca_file``: for a file that must not leave the host because it
    also holds a private key.
    """
    address = registry_address(host, port, default_port=443)
    target = docker_trust_path(host, port)
    # scp reads the host up to the first colon: an IPv6 address goes in brackets.
    source = shlex.quote(format_host_port(parse_host_port(host).normalized_host, None)
                         + f":{ca_file}")
    system_name = "harbor-" + address.replace(":", "_").replace("[", "").replace("]", "") + ".crt"
    if ca_certificates is None:
        fetch = [
            "On each of them, copy the CA file over (scp or any other way) and install it:",
            "",
            f"  scp {source} ./ca.crt",
        ]
    else:
        fetch = [
            "On each of them, save these lines (the CA certificate only) as ca.crt:",
            "",
            *ca_certificates.decode("ascii", "replace").splitlines(),
            "",
            "and install it:",
        ]
    return "\n".join(
        [
            f"Harbor's certificate is issued by a private CA ({ca_file} on the Harbor host).",
            f"Every machine that runs 'docker login {address}' must trust that CA.",
            *fetch,
            f"  sudo mkdir -p {shlex.quote(str(target.parent))}",
            f"  sudo cp ca.crt {shlex.quote(str(target))}",
            f"  docker login {address}",
            "",
            "Docker reads that folder on every connection: no restart is needed.",
            "For curl, browsers and other tools, add the CA to the system's trust store too:",
            f"  Debian/Ubuntu:  sudo cp ca.crt /usr/local/share/ca-certificates/{system_name}"
            " && sudo update-ca-certificates",
            f"  RHEL/Fedora:    sudo cp ca.crt /etc/pki/ca-trust/source/anchors/{system_name}"
            " && sudo update-ca-trust",
            "  Docker Desktop (macOS): sudo security add-trusted-cert -d -r trustRoot "
            "-k /Library/Keychains/System.keychain ca.crt, then restart Docker Desktop",
        ]
    )


def insecure_registry_entry(host: str, port: int) -> str:
    """The ``insecure-registries`` entry of ``daemon.json`` for a registry served over plain
    http: ``host:port``, or just ``host`` on port 80.

    https is better: over http the ``docker login`` password and every image cross the network
    unencrypted and can be read or altered on the way, and every client needs this entry plus a
    daemon reload. A certificate from a private CA needs only a file per client.
    """
    return registry_address(host, port, default_port=80)


def insecure_registry_instructions(host: str, port: int) -> str:
    """The text telling the operator how clients reach an http registry, and why https is
    better."""
    entry = insecure_registry_entry(host, port)
    snippet = json.dumps({"insecure-registries": [entry]}, indent=2)
    return "\n".join(
        [
            f"Harbor is served over plain http, so Docker refuses to use {entry} until each "
            "client lists it as an insecure registry.",
            f"On every machine that pushes or pulls, add it to {DAEMON_JSON}",
            "(merge it into the existing list if the file has one):",
            "",
            *[f"  {line}" for line in snippet.splitlines()],
            "",
            "then reload the daemon: sudo systemctl reload docker (or restart it).",
            "",
            "Prefer https: over http the docker login password and every image cross the "
            "network unencrypted and can be read or altered on the way. With https and a "
            "certificate from your own CA ('harborctl gencert'), clients need only the CA file "
            "and no daemon reload.",
        ]
    )


def verify_issuer(server_pem: bytes, server_path: Path, ca_pem: bytes, ca_path: Path) -> None:
    """Raise ``CertificateError`` unless the server certificate chains to the CA in ``ca_pem``:
    trusting any other CA would report success while every ``docker login`` fails."""
    chain = load_certificates(server_pem, f"the server certificate file {server_path}")
    anchors = load_certificates(ca_pem, f"the CA file {ca_path}")
    if chains_to(chain, anchors):
        return
    raise CertificateError(
        f"the server certificate {server_path} was not issued by the CA in {ca_path} "
        f"('{anchors[0].subject.rfc4514_string()}'; the certificate names "
        f"'{chain[0].issuer.rfc4514_string()}' as its issuer): Docker would still reject the "
        "registry, so nothing was installed",
        hint="pass --ca FILE with the CA that issued it, or issue a new server certificate from "
        "your CA with 'harborctl gencert --force' and run prepare again",
    )


def install_trust(ca_pem: bytes, host: str, port: int, root: Path = Path("/")) -> Path:
    """Install the certificates of ``ca_pem`` as the CA this host's Docker trusts for
    ``host:port``; returns the path.

    Only certificate blocks are written (a CA file may also hold the CA's key, which must not
    land in a world-readable file), atomically with mode 0644 (a CA certificate is public).
    """
    content = certificate_blocks(ca_pem, "the CA certificate to install")
    path = docker_trust_path(host, port, root)
    write_file_atomic(path, content, mode=0o644)
    return path
