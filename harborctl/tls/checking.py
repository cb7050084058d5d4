"""Checks of the server certificate and key nginx will serve, reported as sentences to act on.

``check_server_certificate`` reads the files it is given (and ``ca.crt`` next to the certificate
when no CA file is named) and returns every problem at once; it never raises for a bad file.
"""

from __future__ import annotations

import datetime as _dt
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from harborctl.errors import CertificateError, HarborctlError
from harborctl.hostport import parse_host_port
from harborctl.tls.reading import (
    CertInfo,
    as_utc,
    certificate_covers,
    certificate_info,
    certificate_names,
    holds_private_key,
    hostname_matches,
    is_directly_issued_by,
    is_self_signed,
    load_certificates,
    load_private_key,
    public_key_matches,
)
from harborctl.tls.strength import STRONGER_KEY_HINT, weak_key_message

__all__ = [
    "EXPIRY_WARNING_DAYS",
    "CertProblem",
    "Severity",
    "check_server_certificate",
    "problems_error",
]

Severity = Literal["error", "warning"]

# A certificate that ends within this many days is reported (a warning) so it is renewed in time.
EXPIRY_WARNING_DAYS = 30

# Signature hashes Go (Docker, containerd, Helm) refuses for non-root certificates (Go 1.18+).
_WEAK_HASHES = {"sha1": "SHA-1", "md5": "MD5"}


@dataclass(frozen=True)
class CertProblem:
    """One thing wrong with the certificate files, and what to do about it."""

    severity: Severity
    path: Path
    message: str
    hint: str | None = None


def _when(moment: _dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _read(path: Path, what: str, setting: str | None, problems: list[CertProblem]) -> bytes | None:
    """The file's bytes, or None after adding a problem; ``setting`` is its harbor.cfg key."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fix = (
            f"point {setting} in harbor.cfg at it, or create one with 'harborctl gencert'"
            if setting
            else "give the path of the CA that issued the server certificate"
        )
        problems.append(CertProblem("error", path, f"the {what} file {path} does not exist: {fix}"))
    except IsADirectoryError:
        fix = (
            f"point {setting} in harbor.cfg at the file itself"
            if setting
            else "give the path of the file itself"
        )
        problems.append(
            CertProblem("error", path, f"the {what} file {path} is a folder, not a file: {fix}")
        )
    except OSError as exc:
        problems.append(
            CertProblem(
                "error",
                path,
                f"cannot read the {what} file {path} ({exc.strerror}): make it readable by the "
                "user running harborctl",
            )
        )
    return None


def _key_permissions(key_path: Path) -> CertProblem | None:
    try:
        mode = stat.S_IMODE(os.stat(key_path).st_mode)
    except OSError:
        return None
    readers = [who for who, bit in (("its group", 0o040), ("all users", 0o004)) if mode & bit]
    if not readers:
        return None
    return CertProblem(
        "warning",
        key_path,
        f"the private key file {key_path} is readable by {' and '.join(readers)} "
        f"(mode {mode:04o}): anyone who can read it can impersonate the registry; "
        f"run 'chmod 600 {key_path}'",
        hint=f"chmod 600 {key_path}",
    )


def _problem_from(exc: HarborctlError, path: Path) -> CertProblem:
    return CertProblem("error", path, exc.message, exc.hint)


def _label(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _check_key(
    key_pem: bytes, certs: Sequence[x509.Certificate], cert_path: Path, key_path: Path
) -> list[CertProblem]:
    try:
        key = load_private_key(key_pem, f"the private key file {key_path}")
    except CertificateError as exc:
        return [_problem_from(exc, key_path)]
    if public_key_matches(key, certs[0]):
        return []
    for number, cert in enumerate(certs[1:], start=2):
        if public_key_matches(key, cert):
            return [
                CertProblem(
                    "error",
                    cert_path,
                    f"the certificates in {cert_path} are in the wrong order: the private key in "
                    f"{key_path} belongs to certificate number {number} ('{_label(cert)}') but "
                    "nginx serves the first one; put the server certificate first, followed by "
                    "its intermediates",
                )
            ]
    return [
        CertProblem(
            "error",
            key_path,
            f"the private key in {key_path} does not belong to the certificate in {cert_path}: "
            "use the key that was created together with this certificate, or issue a new "
            "certificate for this key",
        )
    ]


def _check_host(info: CertInfo, hostname: str, cert_path: Path) -> list[CertProblem]:
    try:
        parsed = parse_host_port(hostname)
    except HarborctlError as exc:
        return [CertProblem("error", cert_path, f"cannot check the host name: {exc.message}")]
    host = parsed.normalized_host
    if not host:
        return [CertProblem("error", cert_path, "cannot check the host name: it is empty")]
    if certificate_covers(info, host):
        return []
    wanted = f"IP:{host}" if parsed.ip is not None else f"DNS:{host}"
    cn = info.common_name
    if cn is not None and (
        hostname_matches(cn, host) or (wanted.startswith("IP:") and cn.strip() == host)
    ):
        return [
            CertProblem(
                "error",
                cert_path,
                f"the certificate in {cert_path} names '{host}' only in its common name "
                f"(CN={cn}), which Docker and other Go clients ignore since Go 1.15: "
                f"issue it again with {wanted} in its subjectAltName",
                hint="'harborctl gencert' creates a certificate with the right subjectAltName",
            )
        ]
    message = (
        f"the certificate in {cert_path} does not cover the host name '{host}': it is valid "
        f"for {certificate_names(info)}; issue it again with {wanted} in its subjectAltName"
    )
    if any(name.startswith("*.") for name in info.dns_names) and not wanted.startswith("IP:"):
        message += (
            " (a wildcard stands for exactly one label: '*.example.com' covers "
            "'a.example.com' but neither 'example.com' nor 'a.b.example.com')"
        )
    return [
        CertProblem(
            "error",
            cert_path,
            message,
            hint="'harborctl gencert' creates a certificate with the right subjectAltName",
        )
    ]


def _check_validity(
    certs: Sequence[x509.Certificate], cert_path: Path, now: _dt.datetime
) -> list[CertProblem]:
    problems: list[CertProblem] = []
    for index, cert in enumerate(certs):
        info = certificate_info(cert, now)
        which = (
            f"the certificate in {cert_path}"
            if index == 0
            else f"the intermediate certificate '{_label(cert)}' in {cert_path}"
        )
        renew = "renew it" if index == 0 else "replace it with the current one from your CA"
        if now < info.not_before:
            problems.append(
                CertProblem(
                    "error",
                    cert_path,
                    f"{which} is not valid before {_when(info.not_before)}: check the clock of "
                    "this host (date -u) or wait until then",
                )
            )
        elif now >= info.not_after:
            ago = (now - info.not_after).days
            problems.append(
                CertProblem(
                    "error",
                    cert_path,
                    f"{which} expired on {_when(info.not_after)} ({_days(ago)} ago): {renew}",
                    hint="'harborctl gencert --force' issues a new server certificate from "
                    "your own CA"
                    if index == 0
                    else None,
                )
            )
        elif info.not_after - now < _dt.timedelta(days=EXPIRY_WARNING_DAYS):
            left = "in less than a day" if info.days_left < 1 else f"in {_days(info.days_left)}"
            problems.append(
                CertProblem(
                    "warning",
                    cert_path,
                    f"{which} expires on {_when(info.not_after)}, {left}: {renew} before then",
                )
            )
        weak = _WEAK_HASHES.get(info.signature_hash or "")
        if weak is not None and not info.self_signed:
            problems.append(
                CertProblem(
                    "error",
                    cert_path,
                    f"{which} is signed with {weak}, which Docker and "
                    "other Go clients reject since Go 1.18: issue it again signed with SHA-256",
                )
            )
    return problems


def _check_chain(
    certs: Sequence[x509.Certificate],
    cert_path: Path,
    ca_certs: Sequence[x509.Certificate],
    ca_path: Path | None,
    ca_explicit: bool,
) -> list[CertProblem]:
    leaf = certs[0]
    current = leaf
    in_file = list(certs[1:])
    seen: set[bytes] = set()
    anchored = any(current == ca for ca in ca_certs)
    while not anchored:
        fingerprint = current.tbs_certificate_bytes
        if fingerprint in seen:  # a loop of certificates issuing each other
            break
        seen.add(fingerprint)
        if is_self_signed(current):
            break
        from_ca = [ca for ca in ca_certs if is_directly_issued_by(current, ca)]
        if from_ca:
            anchored = True
            break
        from_file = [cert for cert in in_file if is_directly_issued_by(current, cert)]
        if from_file:
            current = from_file[0]
            anchored = any(current == ca for ca in ca_certs)
            continue
        issuer = current.issuer.rfc4514_string()
        same_name = [cert for cert in [*in_file, *ca_certs] if cert.subject == current.issuer]
        if same_name:
            return [
                CertProblem(
                    "error",
                    cert_path,
                    f"the certificate '{_label(current)}' in {cert_path} was issued by "
                    f"'{issuer}', but the '{issuer}' certificate given has a different key and "
                    "did not sign it: replace it with the certificate that really issued it",
                )
            ]
        if current is leaf:
            return [
                CertProblem(
                    "error",
                    cert_path,
                    f"the certificate in {cert_path} was issued by '{issuer}' but that "
                    "intermediate is not in the file: append it after the server certificate",
                    hint=f"if '{issuer}' is your own root CA, give it as the CA file (or put it "
                    f"as ca.crt next to {cert_path}) instead",
                )
            ]
        if ca_explicit:
            return [
                CertProblem(
                    "error",
                    cert_path,
                    f"the chain in {cert_path} stops at '{_label(current)}', issued by "
                    f"'{issuer}', which is neither in the file nor in {ca_path}: append that "
                    "certificate to the file",
                )
            ]
        # An intermediate whose issuer is missing: most likely a public root that clients
        # already trust, which does not belong in the file.
        return []
    if ca_explicit and not anchored and ca_certs:
        return [
            CertProblem(
                "error",
                cert_path,
                f"the certificate in {cert_path} was not issued by the CA in {ca_path} "
                f"('{_label(ca_certs[0])}'): clients that trust only that CA will reject it; "
                "issue the server certificate from that CA, or give the CA that issued it",
            )
        ]
    return []


def check_server_certificate(
    cert_path: Path,
    key_path: Path,
    hostname: str,
    now: _dt.datetime | None = None,
    ca_path: Path | None = None,
) -> list[CertProblem]:
    """Every problem with the certificate and key nginx will serve for ``hostname``.

    ``hostname`` may carry a ``:port``, which is ignored. ``ca_path`` is the CA the clients are
    told to trust; when it is None, ``ca.crt`` next to the certificate is used if present (the
    CA ``harborctl gencert`` creates), but only to find the issuer, never to complain about it.
    The problems come in check order: files, key, host name, dates, chain.
    """
    cert_path = Path(cert_path)
    key_path = Path(key_path)
    moment = as_utc(now)
    problems: list[CertProblem] = []

    cert_pem = _read(cert_path, "certificate", "ssl_cert", problems)
    key_pem = _read(key_path, "private key", "ssl_cert_key", problems)
    permissions = _key_permissions(key_path) if key_pem is not None else None
    if permissions is not None:
        problems.append(permissions)
    if cert_pem is not None and cert_path != key_path and holds_private_key(cert_pem):
        exposed = _key_permissions(cert_path)  # a combined PEM: its key needs the same care
        problems += [exposed] if exposed is not None else []

    ca_certs: list[x509.Certificate] = []
    ca_explicit = ca_path is not None
    if ca_path is not None:
        ca_path = Path(ca_path)
        ca_pem = _read(ca_path, "CA certificate", None, problems)
        if ca_pem is not None:
            try:
                ca_certs = load_certificates(ca_pem, f"the CA file {ca_path}")
            except CertificateError as exc:
                problems.append(_problem_from(exc, ca_path))
    else:
        sibling = cert_path.parent / "ca.crt"
        if sibling != cert_path:
            try:
                ca_certs = load_certificates(sibling.read_bytes(), str(sibling))
                ca_path = sibling
            except (OSError, CertificateError):
                ca_certs = []

    if cert_pem is None:
        return problems
    try:
        certs = load_certificates(cert_pem, f"the certificate file {cert_path}")
    except CertificateError as exc:
        problems.append(_problem_from(exc, cert_path))
        return problems

    if key_pem is not None:
        problems += _check_key(key_pem, certs, cert_path, key_path)
    problems += _check_host(certificate_info(certs[0], moment), hostname, cert_path)
    weakness = weak_key_message(certs[0], f"the certificate in {cert_path}")
    if weakness is not None:
        problems.append(CertProblem("warning", cert_path, weakness, STRONGER_KEY_HINT))
    problems += _check_validity(certs, cert_path, moment)
    problems += _check_chain(certs, cert_path, ca_certs, ca_path, ca_explicit)
    return problems


def problems_error(problems: Sequence[CertProblem]) -> CertificateError | None:
    """One ``CertificateError`` listing every error (warnings are left out), or None if none."""
    errors = [problem for problem in problems if problem.severity == "error"]
    if not errors:
        return None
    if len(errors) == 1:
        return CertificateError(errors[0].message, errors[0].hint)
    lines = "\n".join(f"  - {problem.message}" for problem in errors)
    return CertificateError(f"{len(errors)} certificate problems:\n{lines}")
