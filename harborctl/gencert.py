"""``harborctl gencert``: a private CA and a server certificate for nginx, made once and kept.

``plan_gencert`` is pure: given what is on disk (``read_existing``), it decides for each of the
four files whether to create, replace or reuse it, and holds the new PEM bytes. ``apply_gencert``
writes what the plan says (keys 0600, certificates 0644, each atomically).

Rules
-----
* The CA (``ca.crt``/``ca.key`` next to the server certificate) is reused whenever it is usable,
  so that clients which already trust it keep trusting the registry. It is replaced only when it
  has expired or expires within 30 days; ``--force`` does not touch it.
* The server certificate is replaced when ``force`` is given, or when it no longer fits: its key
  is missing or does not match, it does not cover the host name or one of the IP addresses, it
  expires within 30 days (or already has, or is not yet valid), or the CA was renewed.
* A server certificate that harborctl's CA did not issue (for instance one bought from a public
  CA) is never replaced without ``force``: the plan refuses with an explanation instead.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from harborctl.errors import CertificateError, UsageError
from harborctl.files import write_file_atomic
from harborctl.hostport import parse_host_port, parse_ip_address
from harborctl.tls.making import KeyPair, generate_ca, generate_server_cert
from harborctl.tls.reading import (
    CertInfo,
    as_utc,
    certificate_covers,
    certificate_info,
    describe_certificate,
    is_directly_issued_by,
    load_certificates,
    load_private_key,
    public_key_matches,
)
from harborctl.trust import docker_trust_path

__all__ = [
    "RENEW_BEFORE_DAYS",
    "ROLES",
    "Action",
    "GencertPaths",
    "GencertPlan",
    "GencertResult",
    "PlannedFile",
    "apply_gencert",
    "plan_gencert",
    "read_existing",
]

Action = Literal["create", "replace", "reuse"]

# The four files, in the order they are written (each key before its certificate).
ROLES = ("ca_key", "ca_cert", "server_key", "server_cert")

# A certificate ending within this many days is renewed by gencert (tls.checking warns as long).
RENEW_BEFORE_DAYS = 30

KEY_MODE = 0o600
CERT_MODE = 0o644


@dataclass(frozen=True)
class GencertPaths:
    server_cert: Path
    server_key: Path
    ca_cert: Path
    ca_key: Path

    @classmethod
    def beside(cls, cert_path: Path, key_path: Path) -> GencertPaths:
        """The server files as configured, and ``ca.crt``/``ca.key`` in the certificate's folder."""
        cert_path, key_path = Path(cert_path), Path(key_path)
        folder = cert_path.parent
        paths = cls(cert_path, key_path, folder / "ca.crt", folder / "ca.key")
        if len({paths.server_cert, paths.server_key, paths.ca_cert, paths.ca_key}) != 4:
            raise UsageError(
                f"the server certificate ({cert_path}) and key ({key_path}) must be two files "
                f"other than {paths.ca_cert} and {paths.ca_key}, which hold the CA"
            )
        return paths

    def of(self, role: str) -> Path:
        path: Path = getattr(self, role)
        return path


@dataclass(frozen=True)
class PlannedFile:
    role: str  # one of ROLES
    path: Path
    action: Action
    mode: int
    reason: str
    content: bytes | None  # the new bytes; None when the file is reused


@dataclass(frozen=True)
class GencertPlan:
    paths: GencertPaths
    hostname: str  # without the port
    port: int  # the https port clients use (443 unless the host name carried one)
    ips: tuple[str, ...]
    files: tuple[PlannedFile, ...]  # in ROLES order

    def file(self, role: str) -> PlannedFile:
        return next(planned for planned in self.files if planned.role == role)

    @property
    def ca_changed(self) -> bool:
        return self.file("ca_cert").action != "reuse"

    @property
    def server_changed(self) -> bool:
        return self.file("server_cert").action != "reuse"


@dataclass(frozen=True)
class GencertResult:
    written: tuple[Path, ...]
    reused: tuple[Path, ...]
    files: tuple[PlannedFile, ...]  # what was decided for each file, with the reason
    ca: CertInfo
    server: CertInfo
    next_steps: tuple[str, ...]


def read_existing(paths: GencertPaths) -> dict[str, bytes | None]:
    """The current content of the four files, None for a file that does not exist."""
    existing: dict[str, bytes | None] = {}
    for role in ROLES:
        path = paths.of(role)
        try:
            existing[role] = path.read_bytes()
        except FileNotFoundError:
            existing[role] = None
        except IsADirectoryError as exc:
            raise CertificateError(
                f"{path} is a folder, not a file: move it away, or point ssl_cert/ssl_cert_key "
                "(or --out) at another place"
            ) from exc
        except OSError as exc:
            raise CertificateError(
                f"cannot read {path} ({exc.strerror}): run as a user who can read it"
            ) from exc
    return existing


def _when(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _plan_ca(
    paths: GencertPaths,
    existing: Mapping[str, bytes | None],
    moment: _dt.datetime,
    ca_days: int,
    common_name: str,
) -> tuple[KeyPair, Action, str, x509.Certificate | None]:
    """The CA to issue from, what happens to its files, and the previous CA certificate."""
    cert_pem, key_pem = existing.get("ca_cert"), existing.get("ca_key")
    if cert_pem is None and key_pem is None:
        return generate_ca(common_name, ca_days, now=moment), "create", "no CA yet", None
    if cert_pem is None or key_pem is None:
        present, missing = (
            (paths.ca_cert, paths.ca_key) if key_pem is None else (paths.ca_key, paths.ca_cert)
        )
        raise CertificateError(
            f"{present} exists but {missing} does not: restore {missing.name} from a backup, or "
            f"move {present.name} away to create a new CA (every client then needs the new "
            "ca.crt)"
        )
    cert = load_certificates(cert_pem, str(paths.ca_cert))[0]
    key = load_private_key(key_pem, str(paths.ca_key))
    if not public_key_matches(key, cert):
        raise CertificateError(
            f"the key in {paths.ca_key} does not belong to the CA certificate {paths.ca_cert}: "
            f"restore the matching {paths.ca_key.name}, or move both away to create a new CA "
            "(every client then needs the new ca.crt)"
        )
    info = certificate_info(cert, moment)
    if not info.is_ca:
        raise CertificateError(
            f"{paths.ca_cert} is not a CA certificate and cannot issue the server certificate: "
            "move it away so that gencert creates a CA there"
        )
    if info.not_after - moment < _dt.timedelta(days=RENEW_BEFORE_DAYS):
        verb = "expired" if info.not_after <= moment else "expires"
        reason = (
            f"the CA {verb} on {_when(info.not_after)}; every client must be given the new ca.crt"
        )
        return generate_ca(common_name, ca_days, now=moment), "replace", reason, cert
    reason = f"valid until {_when(info.not_after)}; kept so that clients that trust it still do"
    return KeyPair(key_pem=key_pem, cert_pem=cert_pem), "reuse", reason, cert


def _server_unfit(
    cert_pem: bytes | None,
    key_pem: bytes | None,
    paths: GencertPaths,
    host: str,
    ips: Sequence[str],
    moment: _dt.datetime,
    issuers: Sequence[x509.Certificate],
    force: bool,
) -> str | None:
    """Why the current server certificate must be replaced, or None when it still fits."""
    if cert_pem is None:
        return "no server certificate yet"
    try:
        cert = load_certificates(cert_pem, str(paths.server_cert))[0]
    except CertificateError as exc:
        return f"it cannot be read ({exc.message})"
    if not any(is_directly_issued_by(cert, issuer) for issuer in issuers) and not force:
        raise CertificateError(
            f"{paths.server_cert} holds a certificate issued by "
            f"'{cert.issuer.rfc4514_string()}', not by the CA in {paths.ca_cert}: gencert "
            "replaces only certificates from its own CA; pass --force to replace it anyway, "
            "or keep it and skip gencert",
        )
    if force:
        return "--force was given"
    if key_pem is None:
        return f"its key {paths.server_key} is missing"
    try:
        key = load_private_key(key_pem, str(paths.server_key))
    except CertificateError as exc:
        return f"its key cannot be used ({exc.message})"
    if not public_key_matches(key, cert):
        return f"the key in {paths.server_key} does not belong to it"
    info = certificate_info(cert, moment)
    for name in (host, *ips):
        if not certificate_covers(info, name):
            return f"it does not cover {name}"
    if info.not_before > moment:
        return f"it is not valid before {_when(info.not_before)}"
    if info.not_after <= moment:
        return f"it expired on {_when(info.not_after)}"
    if info.not_after - moment < _dt.timedelta(days=RENEW_BEFORE_DAYS):
        return f"it expires on {_when(info.not_after)}, within {RENEW_BEFORE_DAYS} days"
    return None


def plan_gencert(
    cert_path: Path,
    key_path: Path,
    hostname: str,
    *,
    existing: Mapping[str, bytes | None],
    ips: Sequence[str] = (),
    days: int = 365,
    force: bool = False,
    now: _dt.datetime | None = None,
    ca_days: int = 3650,
    ca_common_name: str | None = None,
) -> GencertPlan:
    """Decide what gencert does; nothing is written.

    ``cert_path``/``key_path`` are the configured ``ssl_cert``/``ssl_cert_key``; the CA lives as
    ``ca.crt``/``ca.key`` in the certificate's folder. ``existing`` maps each of ``ROLES`` to the
    file's current bytes or None (see ``read_existing``). ``hostname`` may carry ``:port`` (the
    https port clients use, for the next-step instructions). Raises ``CertificateError`` when the
    files on disk are in a state gencert must not guess about.
    """
    paths = GencertPaths.beside(cert_path, key_path)
    parsed = parse_host_port(hostname)
    host, port = parsed.normalized_host, parsed.port
    if not host:
        raise UsageError("gencert needs the registry's host name")
    addresses: list[str] = []
    for text in ips:
        address = str(parse_ip_address(text))
        if address not in addresses and address != host:
            addresses.append(address)
    moment = as_utc(now)
    common_name = ca_common_name or f"Harbor private CA {host}"[:64]

    ca, ca_action, ca_reason, old_ca = _plan_ca(paths, existing, moment, ca_days, common_name)
    issuers = [old_ca] if old_ca is not None else []
    unfit = _server_unfit(
        existing.get("server_cert"),
        existing.get("server_key"),
        paths,
        host,
        addresses,
        moment,
        issuers,
        force,
    )
    if unfit is None and ca_action != "reuse":
        unfit = "the CA was renewed"

    files = [
        PlannedFile(
            "ca_key",
            paths.ca_key,
            ca_action,
            KEY_MODE,
            ca_reason,
            None if ca_action == "reuse" else ca.key_pem,
        ),
        PlannedFile(
            "ca_cert",
            paths.ca_cert,
            ca_action,
            CERT_MODE,
            ca_reason,
            None if ca_action == "reuse" else ca.cert_pem,
        ),
    ]
    if unfit is None:
        info = describe_certificate(existing["server_cert"] or b"", moment)
        reason = f"still fits: covers {host}, valid until {_when(info.not_after)}"
        files += [
            PlannedFile("server_key", paths.server_key, "reuse", KEY_MODE, reason, None),
            PlannedFile("server_cert", paths.server_cert, "reuse", CERT_MODE, reason, None),
        ]
    else:
        # A server certificate never outlives the CA that issued it.
        ca_left = (describe_certificate(ca.cert_pem, moment).not_after - moment).days
        server = generate_server_cert(ca, host, addresses, max(1, min(days, ca_left)), now=moment)
        action: Action = "create" if existing.get("server_cert") is None else "replace"
        key_action: Action = "create" if existing.get("server_key") is None else "replace"
        files += [
            PlannedFile(
                "server_key", paths.server_key, key_action, KEY_MODE, unfit, server.key_pem
            ),
            PlannedFile(
                "server_cert", paths.server_cert, action, CERT_MODE, unfit, server.cert_pem
            ),
        ]
    return GencertPlan(
        paths=paths,
        hostname=host,
        port=443 if port is None else port,
        ips=tuple(addresses),
        files=tuple(files),
    )


def _next_steps(plan: GencertPlan) -> tuple[str, ...]:
    steps: list[str] = []
    trust = docker_trust_path(plan.hostname, plan.port)
    if plan.ca_changed:
        steps.append(
            f"Give every Docker client the CA: copy {plan.paths.ca_cert} to {trust} on each "
            "machine that pushes or pulls (no Docker restart needed)."
        )
    if plan.server_changed:
        steps.append(
            "Apply the configuration again (re-run ./install.sh or 'harborctl install') so "
            "that nginx serves the new certificate."
        )
    if not steps:
        steps.append(
            "Nothing changed: the certificate still fits. Pass --force to issue a new one anyway."
        )
    return tuple(steps)


def apply_gencert(plan: GencertPlan) -> GencertResult:
    """Write the files the plan creates or replaces (keys 0600, certificates 0644, atomically)."""
    written: list[Path] = []
    reused: list[Path] = []
    contents: dict[str, bytes] = {}
    for planned in plan.files:
        if planned.content is None:
            reused.append(planned.path)
            continue
        write_file_atomic(planned.path, planned.content, mode=planned.mode)
        written.append(planned.path)
        contents[planned.role] = planned.content

    def current(role: str) -> bytes:
        if role in contents:
            return contents[role]
        try:
            return plan.paths.of(role).read_bytes()
        except OSError as exc:
            raise CertificateError(f"cannot read {plan.paths.of(role)}: {exc.strerror}") from exc

    return GencertResult(
        written=tuple(written),
        reused=tuple(reused),
        files=plan.files,
        ca=describe_certificate(current("ca_cert")),
        server=describe_certificate(current("server_cert")),
        next_steps=_next_steps(plan),
    )
