"""A server certificate with a weak key (RSA < 2048 bits, EC < 256 bits) is warned about."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from harborctl.tls.checking import check_server_certificate
from tests.unit.tls_support import NOW

DAY = dt.timedelta(days=1)


def leaf_with(key: CertificateIssuerPrivateKeyTypes, folder: Path) -> tuple[Path, Path]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Strength CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(NOW - DAY).not_valid_after(NOW + 900 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reg.example.com")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(NOW - DAY).not_valid_after(NOW + 300 * DAY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("reg.example.com")]), False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.crt", folder / "server.key"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


@pytest.mark.parametrize(
    ("key", "described"),
    [
        (rsa.generate_private_key(65537, 1024), "an RSA key of 1024 bits"),
        (rsa.generate_private_key(65537, 1536), "an RSA key of 1536 bits"),
        (ec.generate_private_key(ec.SECP224R1()), "an EC key of 224 bits (secp224r1;"),
    ],
)
def test_a_weak_server_key_is_warned(
    tmp_path: Path, key: CertificateIssuerPrivateKeyTypes, described: str
) -> None:
    cert_path, key_path = leaf_with(key, tmp_path)
    problems = check_server_certificate(cert_path, key_path, "reg.example.com", NOW)
    assert [(p.severity, p.path) for p in problems] == [("warning", cert_path)]
    assert f"the certificate in {cert_path} has {described}" in problems[0].message
    assert "harborctl gencert --force" in (problems[0].hint or "")


@pytest.mark.parametrize(
    "key",
    [rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP256R1()),
     ec.generate_private_key(ec.SECP384R1())],
)
def test_a_strong_server_key_is_not_warned(
    tmp_path: Path, key: CertificateIssuerPrivateKeyTypes
) -> None:
    cert_path, key_path = leaf_with(key, tmp_path)
    assert check_server_certificate(cert_path, key_path, "reg.example.com", NOW) == []


def test_a_certificate_file_holding_a_readable_private_key_is_warned(tmp_path: Path) -> None:
    cert_path, key_path = leaf_with(ec.generate_private_key(ec.SECP256R1()), tmp_path)
    combined = tmp_path / "combined.pem"
    combined.write_bytes(cert_path.read_bytes() + key_path.read_bytes())
    os.chmod(combined, 0o644)
    problems = check_server_certificate(combined, key_path, "reg.example.com", NOW)
    assert [(p.severity, p.path) for p in problems] == [("warning", combined)]
    assert f"the private key file {combined} is readable by" in problems[0].message
