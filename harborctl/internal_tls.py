"""Harbor 2.x's internal TLS material: a CA and one certificate per service, in the folder
harbor.yml's internal_tls.dir names, with the file names Harbor's own gencert uses.

The CA is made once and reused; a service's pair is kept while it is signed by that CA, names
its service and has 30 days left, else made anew. Keys are written 0600, certificates 0644,
through the atomic writer. Each certificate's only SAN is the service's name on the harbor
network, and it may also authenticate its service as a client (the proxy presents its own to
core and the portal)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from harborctl.errors import HarborctlError

CA_STEM = "harbor_internal_ca"
# file stem -> the name the service answers to on the harbor network
LEAVES = {"proxy": "proxy", "portal": "portal", "core": "core", "job_service": "jobservice",
          "registry": "registry", "registryctl": "registryctl", "trivy_adapter": "trivy-adapter"}
RENEW_DAYS = 30


@dataclass(frozen=True)
class Made:
    path: Path
    action: str  # "create", "replace", "keep"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _leaf_fits(key: bytes | None, cert: bytes | None, ca_cert: bytes, name: str,
               now: _dt.datetime) -> bool:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    from harborctl.tls.reading import key_matches_cert, load_certificates

    if key is None or cert is None:
        return False
    try:
        leaf = load_certificates(cert)[0]
        issuer = load_certificates(ca_cert)[0]
        if not key_matches_cert(key, cert, trusted=True) or leaf.issuer != issuer.subject:
            return False
        leaf.verify_directly_issued_by(issuer)
        names = leaf.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except (HarborctlError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return names == [name] and leaf.not_valid_after_utc - now > _dt.timedelta(days=RENEW_DAYS)


def make_internal_tls(folder: Path, days: int = 365, force: bool = False,
                      now: _dt.datetime | None = None) -> list[Made]:
    """Create or complete the folder's material; return what was done to each file."""
    from harborctl.files import write_file_atomic
    from harborctl.tls.making import KeyPair, generate_ca, generate_server_cert
    from harborctl.tls.reading import key_matches_cert

    now = now or _dt.datetime.now(_dt.timezone.utc)
    done: list[Made] = []
    ca_key_path, ca_cert_path = folder / f"{CA_STEM}.key", folder / f"{CA_STEM}.crt"
    ca_key, ca_cert = _read(ca_key_path), _read(ca_cert_path)
    if ca_key is not None and ca_cert is not None and key_matches_cert(ca_key, ca_cert):
        ca = KeyPair(ca_key, ca_cert)
        done += [Made(ca_key_path, "keep"), Made(ca_cert_path, "keep")]
    else:
        ca = generate_ca("Harbor internal CA", days=3650, now=now)
        action = "create" if ca_cert is None else "replace"
        write_file_atomic(ca_key_path, ca.key_pem, 0o600)
        write_file_atomic(ca_cert_path, ca.cert_pem, 0o644)
        done += [Made(ca_key_path, action), Made(ca_cert_path, action)]
        force = True  # leaves of another CA no longer verify
    for stem, name in LEAVES.items():
        key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.crt"
        key, cert = _read(key_path), _read(cert_path)
        if not force and _leaf_fits(key, cert, ca.cert_pem, name, now):
            done += [Made(key_path, "keep"), Made(cert_path, "keep")]
            continue
        pair = generate_server_cert(ca, name, days=days, now=now, client_auth=True)
        action = "create" if cert is None else "replace"
        write_file_atomic(key_path, pair.key_pem, 0o600)
        write_file_atomic(cert_path, pair.cert_pem, 0o644)
        done += [Made(key_path, action), Made(cert_path, action)]
    return done


def internal_tls_folder(config_path: Path, out: Path | None) -> Path:
    """--out, else harbor.yml's internal_tls.dir (read leniently: the files need not exist)."""
    from harborctl.config.inputs import input_format
    from harborctl.errors import ConfigError, UsageError

    if out is not None:
        return out.absolute()
    if input_format(config_path) != "harbor.yml" or not config_path.exists():
        raise UsageError("no folder for the internal TLS material",
                         hint="pass --out DIR, or -c harbor.yml with internal_tls.dir set")
    from harborctl.config.yml import read_yaml_file
    from harborctl.config.yml.reader import YamlReader

    reader = YamlReader(read_yaml_file(config_path))
    folder = reader.absolute_path("internal_tls.dir", required=True,
                                  example="/etc/harbor/tls/internal")
    problems = [p.format(str(config_path)) for p in reader.problems if p.severity == "error"
                and (p.key == "internal_tls.dir" or p.key.startswith("("))]
    if problems or folder is None:
        raise ConfigError(f"{config_path}: internal_tls.dir cannot be used",
                          problems=tuple(problems), hint="set internal_tls.dir, or pass --out")
    return folder
