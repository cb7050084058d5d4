"""Reading certificates and keys (PEM bytes in, facts out) and matching host names: pure."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
)
from cryptography.x509.oid import NameOID

from harborctl.errors import CertificateError
from harborctl.hostport import as_ip_address, parse_host_port

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----\r?\n?", re.DOTALL)


@dataclass(frozen=True)
class CertInfo:
    """What an operator wants to know about one certificate."""

    subject: str  # RFC 4514 form, e.g. "CN=reg.example.com,O=Example"
    common_name: str | None
    issuer: str
    issuer_common_name: str | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: _dt.datetime  # timezone-aware, UTC
    not_after: _dt.datetime  # timezone-aware, UTC
    days_left: int  # whole days from ``now`` to not_after; negative once expired
    is_ca: bool
    self_signed: bool
    key_type: str  # "EC P-256", "RSA 4096", "Ed25519", ...
    signature_hash: str | None  # "sha256", "sha1", ... None for Ed25519/Ed448
    serial_number: int
    sha256_fingerprint: str  # "AB:CD:..."


def as_utc(now: _dt.datetime | None = None) -> _dt.datetime:
    """``now`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if now is None:
        return _dt.datetime.now(_dt.timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=_dt.timezone.utc)
    return now.astimezone(_dt.timezone.utc)


# --------------------------------------------------------------------------------------------
# host names


def hostname_matches(pattern: str, hostname: str) -> bool:
    """Whether the SAN DNS entry ``pattern`` covers ``hostname``, as Go and browsers decide.

    A wildcard is accepted only as the whole leftmost label and stands for exactly one label:
    ``*.example.com`` covers ``a.example.com`` but neither ``example.com`` nor
    ``a.b.example.com``. Comparison ignores case and a trailing dot.
    """
    pattern = pattern.strip().rstrip(".").lower()
    hostname = hostname.strip().rstrip(".").lower()
    if not pattern or not hostname:
        return False
    if as_ip_address(hostname) is not None:
        return False  # an IP address is only ever matched by an IP SAN
    pattern_labels = pattern.split(".")
    host_labels = hostname.split(".")
    if len(pattern_labels) != len(host_labels):
        return False
    for index, (want, have) in enumerate(zip(pattern_labels, host_labels)):
        if index == 0 and want == "*":
            if not have:
                return False
            continue
        if want != have:
            return False
    return True


def certificate_covers(info: CertInfo, hostname: str) -> bool:
    """Whether a certificate's subjectAltName covers ``hostname`` (a ``:port`` is ignored).

    The common name is never consulted: Go clients (Docker, containerd, Helm) ignore it since
    Go 1.15, so a certificate that names its host only there fails for them.
    """
    parsed = parse_host_port(hostname)
    address = parsed.ip
    if address is not None:
        # An IP SAN holds the bare address; a zone (fe80::1%eth0) names an interface of the
        # client, which no certificate can carry, so it is left out of the comparison.
        return any(
            (san := as_ip_address(ip)) is not None and san.packed == address.packed
            for ip in info.ip_addresses
        )
    return any(hostname_matches(pattern, parsed.normalized_host) for pattern in info.dns_names)


def certificate_names(info: CertInfo) -> str:
    """The subjectAltName entries of a certificate in OpenSSL's ``DNS:a, IP:b`` style."""
    names = [f"DNS:{name}" for name in info.dns_names]
    names += [f"IP:{ip}" for ip in info.ip_addresses]
    return ", ".join(names) if names else "no subjectAltName at all"


# --------------------------------------------------------------------------------------------
# reading


def _pem_blocks(pem: bytes) -> list[tuple[str, bytes]]:
    return [(match.group(1).decode("ascii"), match.group(0)) for match in _PEM_BLOCK.finditer(pem)]


def load_certificates(pem: bytes, what: str = "the input") -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, in file order (server first, then its chain).

    Raises ``CertificateError`` naming ``what`` when there is none or one is damaged.
    """
    blocks = [block for label, block in _pem_blocks(pem) if label in _CERT_LABELS]
    if not blocks:
        if pem.lstrip()[:1] == b"\x30":
            raise CertificateError(
                f"{what} is a binary (DER) certificate, not PEM",
                hint="convert it: openssl x509 -inform der -in FILE -out FILE.pem",
            )
        raise CertificateError(
            f"{what} does not contain a PEM certificate "
            "(a block starting with '-----BEGIN CERTIFICATE-----')"
        )
    certs: list[x509.Certificate] = []
    for index, block in enumerate(blocks, start=1):
        try:
            certs.append(x509.load_pem_x509_certificate(block))
        except ValueError as exc:
            raise CertificateError(
                f"certificate number {index} in {what} is damaged and cannot be read: {exc}"
            ) from exc
    return certs


_CERT_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")


def certificate_blocks(pem: bytes, what: str = "the input") -> bytes:
    """Only the certificate blocks of ``pem``, in file order, each ending with a newline.

    What goes into a world-readable certificate file: a combined PEM also holds the private
    key, which must never be copied along. Raises ``CertificateError`` naming ``what`` when
    there is no certificate at all (or one is damaged).
    """
    load_certificates(pem, what)
    blocks = [block for label, block in _pem_blocks(pem) if label in _CERT_LABELS]
    return b"".join(block if block.endswith(b"\n") else block + b"\n" for block in blocks)


def load_private_key(pem: bytes, what: str = "the input", trusted: bool = False) -> PrivateKeyTypes:
    """The first private key in ``pem`` (PKCS#1, SEC1 or PKCS#8), which must be unencrypted.

    ``trusted`` skips OpenSSL's RSA consistency check, which costs about 0.1-0.25 s for a
    4096-bit key: only for keys harborctl generated and stored itself."""
    for label, block in _pem_blocks(pem):
        if not label.endswith("PRIVATE KEY"):
            continue
        if label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in block:
            raise CertificateError(
                f"{what} is protected by a passphrase, which nginx cannot ask for",
                hint="write an unencrypted copy: openssl pkey -in KEY -out KEY.plain",
            )
        try:
            return serialization.load_pem_private_key(
                block, password=None, unsafe_skip_rsa_key_validation=trusted
            )
        except TypeError as exc:
            raise CertificateError(
                f"{what} is protected by a passphrase, which nginx cannot ask for"
            ) from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise CertificateError(f"the private key in {what} is damaged: {exc}") from exc
    raise CertificateError(
        f"{what} does not contain a PEM private key "
        "(a block starting with '-----BEGIN ... PRIVATE KEY-----')"
    )


def holds_private_key(pem: bytes) -> bool:
    """Whether ``pem`` has a private key block (of any kind, encrypted or not)."""
    return any(label.endswith("PRIVATE KEY") for label, _ in _pem_blocks(pem))


def rsa_key_is_pkcs1(pem: bytes) -> bool:
    """Whether ``pem`` holds an unencrypted RSA key in PKCS#1 form (``BEGIN RSA PRIVATE KEY``)."""
    for label, block in _pem_blocks(pem):
        if not label.endswith("PRIVATE KEY"):
            continue
        if label != "RSA PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in block:
            return False
        try:
            key = serialization.load_pem_private_key(block, password=None)
        except (TypeError, ValueError, UnsupportedAlgorithm):
            return False
        return isinstance(key, rsa.RSAPrivateKey)
    return False


def to_pkcs1(key_pem: bytes) -> bytes:
    """The same RSA key re-serialised as unencrypted PKCS#1 (what Harbor 1.7.5 core loads)."""
    key = load_private_key(key_pem, "the token-signing key")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("the token-signing key must be an RSA key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


_DER = serialization.Encoding.DER
_SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def public_key_matches(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    """Whether ``key`` is the private half of the public key in ``cert``."""
    try:
        cert_public = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return key.public_key().public_bytes(_DER, _SPKI) == cert_public.public_bytes(_DER, _SPKI)


def key_matches_cert(
    key_pem: bytes,
    cert_pem: bytes,
    trusted: bool = False,
    *,
    key_what: str = "the key",
    cert_what: str = "the certificate",
) -> bool:
    """Whether the private key in ``key_pem`` belongs to the first certificate in ``cert_pem``.

    Raises ``CertificateError`` naming ``key_what``/``cert_what`` (give the files) when either
    cannot be read. ``trusted``: see load_private_key.
    """
    key = load_private_key(key_pem, key_what, trusted)
    cert = load_certificates(cert_pem, cert_what)[0]
    return public_key_matches(key, cert)


def is_ca_certificate(cert: x509.Certificate) -> bool:
    """Whether ``cert`` says it is a CA (basicConstraints ``CA:TRUE``)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def is_directly_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s name and key signed ``cert``."""
    try:
        cert.verify_directly_issued_by(issuer)
    except ValueError:
        # cryptography refuses to check legacy signatures (SHA-1, MD5) this way; they still
        # need telling apart, if only to report them as such.
        return _legacy_signature_valid(cert, issuer)
    except (TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _legacy_signature_valid(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        algorithm = cert.signature_hash_algorithm
        key = issuer.public_key()
        if algorithm is None:
            return False
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def chains_to(chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate]) -> bool:
    """Whether the first certificate of ``chain`` is one of ``anchors`` or was issued by one,
    directly or through the intermediates that follow it in ``chain``."""
    current, remaining = chain[0], list(chain[1:])
    while True:
        if any(current == anchor or is_directly_issued_by(current, anchor) for anchor in anchors):
            return True
        issuer = next((cert for cert in remaining if is_directly_issued_by(current, cert)), None)
        if issuer is None:
            return False
        remaining.remove(issuer)  # each intermediate once: certificates may issue each other
        current = issuer


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and is_directly_issued_by(cert, cert)


def _common_name(name: x509.Name) -> str | None:
    attributes = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return None
    value = attributes[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _key_type(cert: x509.Certificate) -> str:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
        return f"EC {curve.get(key.curve.name, key.curve.name)}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


def _signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    return None if algorithm is None else algorithm.name


def certificate_info(cert: x509.Certificate, now: _dt.datetime | None = None) -> CertInfo:
    """``cert`` described; ``days_left`` counts from ``now`` (default: the current time)."""
    now = as_utc(now)
    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(san.get_values_for_type(x509.DNSName))
        ip_addresses = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        pass
    not_after = cert.not_valid_after_utc
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=_common_name(cert.subject),
        issuer=cert.issuer.rfc4514_string(),
        issuer_common_name=_common_name(cert.issuer),
        dns_names=dns_names,
        ip_addresses=ip_addresses,
        not_before=cert.not_valid_before_utc,
        not_after=not_after,
        days_left=(not_after - now).days,
        is_ca=is_ca_certificate(cert),
        self_signed=is_self_signed(cert),
        key_type=_key_type(cert),
        signature_hash=_signature_hash(cert),
        serial_number=cert.serial_number,
        sha256_fingerprint=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def describe_certificate(pem: bytes, now: _dt.datetime | None = None) -> CertInfo:
    """The first certificate of ``pem`` described; ``days_left`` counts from ``now`` (UTC)."""
    return certificate_info(load_certificates(pem, "the certificate")[0], as_utc(now))


def describe_chain(
    pem: bytes, now: _dt.datetime | None = None, what: str = "the certificate file"
) -> list[CertInfo]:
    """Every certificate of a PEM bundle described, in file order; errors name ``what``."""
    moment = as_utc(now)
    return [certificate_info(cert, moment) for cert in load_certificates(pem, what)]
