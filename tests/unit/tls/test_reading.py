"""tls/reading.py: loading certificates and keys, their facts, and host names they cover."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harborctl.errors import CertificateError
from harborctl.tls.making import KeyPair
from harborctl.tls.reading import (
    certificate_covers,
    certificate_names,
    describe_certificate,
    describe_chain,
    hostname_matches,
    key_matches_cert,
    load_certificates,
    load_private_key,
    rsa_key_is_pkcs1,
    to_pkcs1,
)

# ------------------------------------------------------------------------------------------
# key helpers


def test_rsa_key_is_pkcs1_only_for_unencrypted_pkcs1_rsa(
    token_pair: KeyPair, server: KeyPair
) -> None:
    key = serialization.load_pem_private_key(token_pair.key_pem, password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret"),
    )
    ec_traditional = serialization.load_pem_private_key(server.key_pem, None).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert not rsa_key_is_pkcs1(pkcs8)
    assert not rsa_key_is_pkcs1(encrypted)
    assert not rsa_key_is_pkcs1(server.key_pem)
    assert not rsa_key_is_pkcs1(ec_traditional)
    assert not rsa_key_is_pkcs1(b"not a key")
    assert not rsa_key_is_pkcs1(
        b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    )
    converted = to_pkcs1(pkcs8)
    assert rsa_key_is_pkcs1(converted)
    assert converted == token_pair.key_pem
    with pytest.raises(CertificateError, match="must be an RSA key"):
        to_pkcs1(server.key_pem)


def test_key_matches_cert(ca: KeyPair, server: KeyPair, token_pair: KeyPair) -> None:
    assert key_matches_cert(server.key_pem, server.cert_pem)
    assert not key_matches_cert(ca.key_pem, server.cert_pem)
    assert not key_matches_cert(token_pair.key_pem, server.cert_pem)
    # the key may sit in the same file as the certificate
    assert key_matches_cert(server.cert_pem + server.key_pem, server.cert_pem)
    with pytest.raises(CertificateError, match="does not contain a PEM private key"):
        key_matches_cert(b"garbage", server.cert_pem)
    with pytest.raises(CertificateError, match="does not contain a PEM certificate"):
        key_matches_cert(server.key_pem, b"garbage")


def test_encrypted_key_is_refused_with_a_reason(token_pair: KeyPair) -> None:
    key = serialization.load_pem_private_key(token_pair.key_pem, password=None)
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        encrypted = key.private_bytes(
            serialization.Encoding.PEM, fmt, serialization.BestAvailableEncryption(b"pw")
        )
        with pytest.raises(CertificateError, match="protected by a passphrase"):
            load_private_key(encrypted, "the key")


# ------------------------------------------------------------------------------------------
# reading certificates and chains


def test_describe_chain_keeps_file_order(ca: KeyPair, server: KeyPair) -> None:
    bundle = server.cert_pem + b"\n" + ca.cert_pem
    chain = describe_chain(bundle)
    assert [info.common_name for info in chain] == ["reg.example.com", "Test Harbor CA"]
    assert len(load_certificates(bundle)) == 2
    assert describe_certificate(bundle).common_name == "reg.example.com"


def test_describe_reports_fingerprint_and_serial(server: KeyPair) -> None:
    info = describe_certificate(server.cert_pem)
    cert = x509.load_pem_x509_certificate(server.cert_pem)
    assert info.serial_number == cert.serial_number
    assert len(info.sha256_fingerprint) == 32 * 3 - 1
    assert info.subject == "CN=reg.example.com"
    assert info.issuer == "CN=Test Harbor CA"


def test_bad_certificate_input_is_named(server: KeyPair) -> None:
    der = x509.load_pem_x509_certificate(server.cert_pem).public_bytes(serialization.Encoding.DER)
    with pytest.raises(CertificateError, match=r"server\.crt is a binary \(DER\) certificate"):
        load_certificates(der, "server.crt")
    with pytest.raises(CertificateError, match="x does not contain a PEM certificate"):
        load_certificates(b"hello", "x")
    damaged = server.cert_pem.replace(server.cert_pem[100:120], b"A" * 20)
    with pytest.raises(CertificateError, match="certificate number 1 in y is damaged"):
        load_certificates(damaged, "y")


@pytest.mark.parametrize(
    ("pattern", "hostname", "expected"),
    [
        ("reg.example.com", "reg.example.com", True),
        ("REG.example.com", "reg.EXAMPLE.com.", True),
        ("reg.example.com", "example.com", False),
        ("*.example.com", "a.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", ".example.com", False),
        ("a.*.example.com", "a.b.example.com", False),
        ("a*.example.com", "ab.example.com", False),
        ("*.example.com", "10.0.0.1", False),
        ("", "a.example.com", False),
    ],
)
def test_hostname_matches(pattern: str, hostname: str, expected: bool) -> None:
    assert hostname_matches(pattern, hostname) is expected


def test_certificate_covers_ignores_the_cn_and_the_port(ca: KeyPair, server: KeyPair) -> None:
    info = describe_certificate(server.cert_pem)
    assert certificate_covers(info, "reg.example.com:8443")
    assert certificate_covers(info, "10.0.0.5")
    assert certificate_covers(info, "[fd00::5]:443")
    assert not certificate_covers(info, "10.0.0.6")
    assert certificate_names(info) == "DNS:reg.example.com, IP:10.0.0.5, IP:fd00::5"


# ------------------------------------------------------------------------------------------
# certificate blocks only


def test_certificate_blocks_drop_every_key(ca: KeyPair, server: KeyPair) -> None:
    from harborctl.tls.reading import certificate_blocks

    combined = b"junk\n" + server.key_pem + server.cert_pem + b"# note\n" + ca.cert_pem + ca.key_pem
    assert certificate_blocks(combined) == server.cert_pem + ca.cert_pem
    # a last block without its newline still ends with one
    assert certificate_blocks(server.cert_pem.rstrip(b"\n")) == server.cert_pem


def test_certificate_blocks_refuse_a_file_without_certificate(server: KeyPair) -> None:
    from harborctl.tls.reading import certificate_blocks

    with pytest.raises(CertificateError, match="the file x.pem does not contain"):
        certificate_blocks(server.key_pem, "the file x.pem")


def test_key_matches_cert_names_the_files_it_reads(server: KeyPair) -> None:
    with pytest.raises(CertificateError, match="/secret/token.key does not contain"):
        key_matches_cert(b"garbage", server.cert_pem, key_what="/secret/token.key")
    with pytest.raises(CertificateError, match="/secret/token.crt does not contain"):
        key_matches_cert(server.key_pem, b"garbage", cert_what="/secret/token.crt")
