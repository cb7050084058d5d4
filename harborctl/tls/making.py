"""New certificates and keys, made with ``cryptography``; every function here is pure.

Nothing in this module touches the disk: generators return PEM bytes. ``harborctl.gencert``
writes the CA and server pair it makes; the token-signing and notary pairs become secrets
(``harborctl.secrets``), written with the rest of the deployment by ``harborctl.files``.

Key choices
-----------
* The private CA and the server (and notary signer) certificates use **ECDSA on P-256**: the keys
  are small (a 227-byte PEM key instead of 1.7 KB for RSA 2048), generation takes well under a
  millisecond, and P-256 with ECDSA-SHA256 is supported by every TLS stack a registry client
  uses: Go's crypto/tls (Docker engine, containerd, Helm, notary, the Harbor services), OpenSSL
  1.0.1+ (nginx in the proxy image, curl, Python), browsers and Java 7+.
* The token-signing pair is **RSA**: the registry of Harbor 1.7 verifies RS256 tokens that core
  signs with this key, and core loads the key only as PKCS#1 ("BEGIN RSA PRIVATE KEY"), so the key
  is serialised in that form. See ``generate_token_signing_pair`` for the size.
"""
from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harborctl.errors import CertificateError, UsageError
from harborctl.hostport import IPAddress, parse_host_port, parse_ip_address
from harborctl.tls.reading import (
    as_utc,
    is_ca_certificate,
    load_certificates,
    load_private_key,
    public_key_matches,
)

__all__ = [
    "TOKEN_ISSUER_CN",
    "KeyPair",
    "generate_ca",
    "generate_notary_signer_pair",
    "generate_server_cert",
    "generate_token_signing_pair",
]

TOKEN_ISSUER_CN = "harbor-token-issuer"

# Certificates start a little in the past so that a client whose clock is a few minutes behind
# this host's does not reject a certificate made a moment ago as "not yet valid".
_BACKDATE = _dt.timedelta(minutes=5)


# Leaf and token-signing keys only sign (TLS handshakes, tokens): no certificate or CRL signing.
_SIGNATURE_ONLY = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class KeyPair:
    """A private key and its certificate, both PEM encoded."""

    key_pem: bytes
    cert_pem: bytes


# --------------------------------------------------------------------------------------------
# small helpers


def _check_days(days: int, what: str) -> None:
    if days < 1:
        raise UsageError(f"the validity of the {what} must be at least 1 day, not {days}")


def _name(common_name: str) -> x509.Name:
    if not common_name:
        return x509.Name([])
    if len(common_name) > 64:  # the X.509 upper bound for a CN
        raise UsageError(f"the common name {common_name!r} is longer than 64 characters")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _valid_dns_name(name: str) -> bool:
    """``name`` (already lower case) as a DNS SAN entry may hold it: no wildcard, no "_"."""
    if not name or len(name) > 253:
        return False
    return all(_DNS_LABEL.match(label) for label in name.split("."))


def _new_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: PrivateKeyTypes) -> bytes:
    """PKCS#8, unencrypted: what nginx, Go and OpenSSL all read."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _signing_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return None
    return hashes.SHA256()


def _as_issuer_key(key: PrivateKeyTypes, what: str) -> CertificateIssuerPrivateKeyTypes:
    if isinstance(
        key,
        (
            rsa.RSAPrivateKey,
            ec.EllipticCurvePrivateKey,
            ed25519.Ed25519PrivateKey,
            ed448.Ed448PrivateKey,
            dsa.DSAPrivateKey,
        ),
    ):
        return key
    raise CertificateError(f"the key of the {what} cannot sign certificates")


def _load_ca(ca: KeyPair) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    certs = load_certificates(ca.cert_pem, "the CA certificate")
    cert = certs[0]
    key = _as_issuer_key(load_private_key(ca.key_pem, "the CA key"), "CA")
    if not public_key_matches(key, cert):
        raise CertificateError(
            "the CA key does not belong to the CA certificate",
            hint="restore the ca.key that was created together with ca.crt",
        )
    if not is_ca_certificate(cert):
        raise CertificateError(
            f"the certificate {cert.subject.rfc4514_string()!r} is not a CA certificate "
            "and cannot issue other certificates"
        )
    return cert, key


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    days: int,
    now: _dt.datetime | None,
) -> x509.CertificateBuilder:
    start = as_utc(now).replace(microsecond=0) - _BACKDATE
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + _BACKDATE + _dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _aki_from(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(_issuer_public_key(issuer_cert))


def _issuer_public_key(cert: x509.Certificate) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return key
    raise CertificateError(f"unsupported CA key type in {cert.subject.rfc4514_string()!r}")


def _leaf_extensions(
    builder: x509.CertificateBuilder,
    issuer_cert: x509.Certificate,
    san: x509.SubjectAlternativeName,
    san_critical: bool,
    client_auth: bool = False,
) -> x509.CertificateBuilder:
    usages = [ExtendedKeyUsageOID.SERVER_AUTH,
              *([ExtendedKeyUsageOID.CLIENT_AUTH] if client_auth else [])]
    return (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _SIGNATURE_ONLY,
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(san, critical=san_critical)
        .add_extension(_aki_from(issuer_cert), critical=False)
    )


# --------------------------------------------------------------------------------------------
# generation


def generate_ca(common_name: str, days: int = 3650, *, now: _dt.datetime | None = None) -> KeyPair:
    """A self-signed CA (ECDSA P-256) able to sign server certificates directly.

    ``pathLenConstraint`` is 0: this CA signs leaves only, never an intermediate CA.
    """
    _check_days(days, "CA certificate")
    if not common_name:
        raise UsageError("a CA needs a common name")
    name = _name(common_name)
    key = _new_ec_key()
    public_key = key.public_key()
    cert = (
        _builder(name, name, public_key, days, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return KeyPair(key_pem=_key_pem(key), cert_pem=_cert_pem(cert))


def generate_server_cert(
    ca: KeyPair,
    hostname: str,
    ips: Sequence[str] = (),
    days: int = 365,
    *,
    now: _dt.datetime | None = None,
    client_auth: bool = False,
) -> KeyPair:
    """A TLS server certificate (ECDSA P-256) issued by ``ca``.

    The subjectAltName lists ``hostname`` (as DNS, or as IP when it is an address; a ``:port``
    is dropped) and every entry of ``ips``. The CN repeats the host name for older tools only.
    ``client_auth`` lets the same pair authenticate its service as a client too (Harbor 2.x's
    internal TLS: the proxy presents its certificate to core and the portal).
    """
    _check_days(days, "server certificate")
    ca_cert, ca_key = _load_ca(ca)
    parsed = parse_host_port(hostname)
    host = parsed.normalized_host
    general_names: list[x509.GeneralName] = []
    addresses: list[IPAddress] = []
    host_ip = parsed.ip
    if host_ip is not None:
        addresses.append(host_ip)
    else:
        if not host.isascii():
            raise UsageError(
                f"the host name {hostname!r} is not ASCII",
                hint="give its punycode form (xn--...) instead",
            )
        if not _valid_dns_name(host):
            raise UsageError(f"{hostname!r} is not a valid DNS host name")
        general_names.append(x509.DNSName(host))
    for text in ips:
        address = parse_ip_address(text)
        if all(address.packed != known.packed for known in addresses):  # a zone is not kept
            addresses.append(address)
    general_names += [x509.IPAddress(address) for address in addresses]
    # A CN is optional; without one the subject is empty and RFC 5280 wants the SAN critical.
    subject = _name(host) if len(host) <= 64 else x509.Name([])
    key = _new_ec_key()
    builder = _builder(subject, ca_cert.subject, key.public_key(), days, now)
    builder = _leaf_extensions(
        builder, ca_cert, x509.SubjectAlternativeName(general_names),
        san_critical=len(subject) == 0, client_auth=client_auth,
    )
    cert = builder.sign(ca_key, _signing_hash(ca_key))
    return KeyPair(key_pem=_key_pem(key), cert_pem=_cert_pem(cert))


def generate_token_signing_pair(
    common_name: str = TOKEN_ISSUER_CN,
    bits: int = 4096,
    days: int = 3650,
    *,
    now: _dt.datetime | None = None,
) -> KeyPair:
    """The RSA pair core signs registry tokens with; its certificate goes to ``registry/root.crt``.

    4096 bits by default, as Harbor itself uses: the pair is made once and persisted, so the
    generation cost (measured on a 2-CPU host: 0.06-1.6 s, 0.4-0.7 s on average; 2048 bits take
    about 30 ms) is paid once per installation, while signing a token costs about 1.5 ms and
    verifying one well under 0.1 ms.
    ``bits`` may be lowered (>= 2048) where that matters, e.g. in tests.

    The key is PKCS#1 (``-----BEGIN RSA PRIVATE KEY-----``), unencrypted: Harbor 1.7.5 core loads
    only that form and would otherwise start healthy while every ``docker login`` fails.
    The certificate is self-signed; the registry uses only the public key in it.
    """
    if bits < 2048:
        raise UsageError(f"an RSA token-signing key needs at least 2048 bits, not {bits}")
    _check_days(days, "token-signing certificate")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    name = _name(common_name)
    public_key = key.public_key()
    cert = (
        _builder(name, name, public_key, days, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _SIGNATURE_ONLY,
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    return KeyPair(key_pem=key_pem, cert_pem=_cert_pem(cert))


def generate_notary_signer_pair(
    ca: KeyPair,
    hostname: str = "notarysigner",
    days: int = 3650,
    *,
    now: _dt.datetime | None = None,
) -> KeyPair:
    """The TLS leaf notary-signer serves on 7899, issued by the notary CA ``ca``.

    notary-server reaches the signer by its network alias and checks the name against the SAN,
    so ``hostname`` must be that alias. The certificate is internal to the deployment, hence
    the long default validity.
    """
    return generate_server_cert(ca, hostname, (), days, now=now)
