"""tls/making.py: the CA, server, notary-signer and token-signing pairs, checked independently
with openssl."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harborctl.errors import CertificateError, UsageError
from harborctl.tls.making import (
    KeyPair,
    generate_ca,
    generate_notary_signer_pair,
    generate_server_cert,
    generate_token_signing_pair,
)
from harborctl.tls.reading import (
    describe_certificate,
    is_directly_issued_by,
    key_matches_cert,
    load_private_key,
    rsa_key_is_pkcs1,
)
from tests.unit.tls_support import NOW, OPENSSL, needs_openssl, openssl, write

# ------------------------------------------------------------------------------------------
# CA and server certificate


def test_ca_is_a_self_signed_p256_ca(ca: KeyPair) -> None:
    info = describe_certificate(ca.cert_pem)
    assert info.common_name == "Test Harbor CA"
    assert info.is_ca and info.self_signed
    assert info.key_type == "EC P-256"
    assert info.signature_hash == "sha256"
    assert 3649 <= info.days_left <= 3650
    assert key_matches_cert(ca.key_pem, ca.cert_pem)


@needs_openssl
def test_openssl_sees_a_ca_with_path_length_zero(ca: KeyPair, tmp_path: Path) -> None:
    text = openssl("x509", "-in", write(tmp_path, "ca.crt", ca.cert_pem), "-noout", "-text")
    assert "CA:TRUE, pathlen:0" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "Subject Key Identifier" in text


@needs_openssl
def test_openssl_verifies_the_server_certificate(
    ca: KeyPair, server: KeyPair, tmp_path: Path
) -> None:
    ca_file = write(tmp_path, "ca.crt", ca.cert_pem)
    cert_file = write(tmp_path, "server.crt", server.cert_pem)
    out = openssl(
        "verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "reg.example.com",
        "-CAfile", ca_file, cert_file,
    )  # fmt: skip
    assert f"{cert_file}: OK" in out
    out = openssl("verify", "-verify_ip", "10.0.0.5", "-CAfile", ca_file, cert_file)
    assert "OK" in out
    text = openssl("x509", "-in", cert_file, "-noout", "-text")
    assert "DNS:reg.example.com, IP Address:10.0.0.5, IP Address:FD00:0:0:0:0:0:0:5" in text
    assert "TLS Web Server Authentication" in text
    assert "CA:FALSE" in text
    assert "Digital Signature" in text
    assert "Authority Key Identifier" in text and "Subject Key Identifier" in text


@needs_openssl
def test_openssl_rejects_the_server_certificate_for_another_host(
    ca: KeyPair, server: KeyPair, tmp_path: Path
) -> None:
    assert OPENSSL is not None
    result = subprocess.run(
        [OPENSSL, "verify", "-verify_hostname", "other.example.com", "-CAfile",
         write(tmp_path, "ca.crt", ca.cert_pem), write(tmp_path, "s.crt", server.cert_pem)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "hostname mismatch" in (result.stdout + result.stderr)


@needs_openssl
def test_openssl_reads_the_key_and_it_matches(server: KeyPair, tmp_path: Path) -> None:
    key_file = write(tmp_path, "server.key", server.key_pem)
    cert_file = write(tmp_path, "server.crt", server.cert_pem)
    from_key = openssl("pkey", "-in", key_file, "-pubout")
    from_cert = openssl("x509", "-in", cert_file, "-noout", "-pubkey")
    assert from_key == from_cert


def test_server_certificate_fields(ca: KeyPair, server: KeyPair) -> None:
    info = describe_certificate(server.cert_pem)
    assert info.common_name == "reg.example.com"
    assert info.dns_names == ("reg.example.com",)
    assert info.ip_addresses == ("10.0.0.5", "fd00::5")
    assert info.issuer_common_name == "Test Harbor CA"
    assert not info.is_ca and not info.self_signed
    assert info.key_type == "EC P-256"
    cert = x509.load_pem_x509_certificate(server.cert_pem)
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    assert is_directly_issued_by(cert, ca_cert)


def test_server_certificate_for_a_host_with_a_port_and_for_an_ip(ca: KeyPair) -> None:
    info = describe_certificate(generate_server_cert(ca, "Reg.Example.com.:8443").cert_pem)
    assert info.dns_names == ("reg.example.com",)
    info = describe_certificate(
        generate_server_cert(ca, "192.168.1.10", ["192.168.1.10", "10.1.1.1"]).cert_pem
    )
    assert info.dns_names == ()
    assert info.ip_addresses == ("192.168.1.10", "10.1.1.1")


def test_validity_follows_now_and_days(ca: KeyPair) -> None:
    pair = generate_server_cert(ca, "reg.example.com", days=90, now=NOW)
    info = describe_certificate(pair.cert_pem, now=NOW)
    assert info.not_before == NOW - dt.timedelta(minutes=5)
    assert info.not_after == NOW + dt.timedelta(days=90)
    assert info.days_left == 90
    naive = describe_certificate(pair.cert_pem, now=NOW.replace(tzinfo=None))
    assert naive.days_left == 90
    later = describe_certificate(pair.cert_pem, now=NOW + dt.timedelta(days=100))
    assert later.days_left == -10


@pytest.mark.parametrize(
    ("hostname", "ips", "days", "message"),
    [
        ("bad_host!", (), 365, "'bad_host!' is not a valid DNS host name"),
        ("-x.example.com", (), 365, "'-x.example.com' is not a valid DNS host name"),
        ("reg.example.com", ("10.0.0.300",), 365, "'10.0.0.300' is not an IP address"),
        ("reg.example.com", (), 0, "the validity of the server certificate must be at least 1"),
        ("reg.example.com:http", (), 365, "the port must be a number"),
        ("bücher.example", (), 365, "is not ASCII"),
    ],
)
def test_server_certificate_refuses_bad_input(
    ca: KeyPair, hostname: str, ips: tuple[str, ...], days: int, message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        generate_server_cert(ca, hostname, ips, days)


def test_server_certificate_needs_a_usable_ca(ca: KeyPair, server: KeyPair) -> None:
    with pytest.raises(CertificateError, match="is not a CA certificate"):
        generate_server_cert(server, "reg.example.com")
    other = generate_ca("Other CA")
    with pytest.raises(CertificateError, match="the CA key does not belong"):
        generate_server_cert(KeyPair(other.key_pem, ca.cert_pem), "reg.example.com")


def test_a_long_host_name_gets_no_cn_and_a_critical_san(ca: KeyPair) -> None:
    host = ("a" * 60) + ".example.com"
    cert = x509.load_pem_x509_certificate(generate_server_cert(ca, host).cert_pem)
    assert len(cert.subject) == 0
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and san.value.get_values_for_type(x509.DNSName) == [host]


# ------------------------------------------------------------------------------------------
# token-signing pair and notary


def test_token_key_is_pkcs1_rsa(token_pair: KeyPair) -> None:
    assert token_pair.key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert rsa_key_is_pkcs1(token_pair.key_pem)
    info = describe_certificate(token_pair.cert_pem)
    assert info.common_name == "harbor-token-issuer"
    assert info.self_signed and not info.is_ca
    assert info.key_type == "RSA 2048"
    assert 3649 <= info.days_left <= 3650
    assert key_matches_cert(token_pair.key_pem, token_pair.cert_pem)


@needs_openssl
def test_openssl_checks_the_token_key(token_pair: KeyPair, tmp_path: Path) -> None:
    key_file = write(tmp_path, "private_key.pem", token_pair.key_pem)
    cert_file = write(tmp_path, "root.crt", token_pair.cert_pem)
    assert "RSA key ok" in openssl("rsa", "-in", key_file, "-check", "-noout")
    assert openssl("rsa", "-in", key_file, "-pubout") == openssl(
        "x509", "-in", cert_file, "-noout", "-pubkey"
    )
    assert "harbor-token-issuer" in openssl("x509", "-in", cert_file, "-noout", "-subject")


def test_token_pair_default_is_rsa_4096() -> None:
    # The key comes from the suite's pool (tests/unit/conftest.py) at the size asked for; how
    # long a real RSA 4096 generation takes is the benchmarks' business, not a test's.
    pair = generate_token_signing_pair()
    assert describe_certificate(pair.cert_pem).key_type == "RSA 4096"
    assert pair.key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")


def test_token_pair_refuses_small_keys() -> None:
    with pytest.raises(UsageError, match="at least 2048 bits"):
        generate_token_signing_pair(bits=1024)


@needs_openssl
def test_notary_signer_leaf_is_issued_by_the_notary_ca(tmp_path: Path) -> None:
    notary_ca = generate_ca("Harbor notary signer CA")
    leaf = generate_notary_signer_pair(notary_ca)
    info = describe_certificate(leaf.cert_pem)
    assert info.dns_names == ("notarysigner",)
    assert info.issuer_common_name == "Harbor notary signer CA"
    assert key_matches_cert(leaf.key_pem, leaf.cert_pem)
    out = openssl(
        "verify", "-purpose", "sslserver", "-verify_hostname", "notarysigner",
        "-CAfile", write(tmp_path, "ca.crt", notary_ca.cert_pem),
        write(tmp_path, "notary-signer.crt", leaf.cert_pem),
    )  # fmt: skip
    assert "OK" in out


def test_ec_and_rsa_keys_are_what_they_claim(ca: KeyPair, token_pair: KeyPair) -> None:
    assert isinstance(load_private_key(ca.key_pem), ec.EllipticCurvePrivateKey)
    assert isinstance(load_private_key(token_pair.key_pem), rsa.RSAPrivateKey)
