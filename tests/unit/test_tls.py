"""tls.py (making and reading) and gencert.py (plan, apply), checked independently with openssl."""

from __future__ import annotations

import datetime as dt
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from harborctl import tls
from harborctl.errors import CertificateError, UsageError
from harborctl.gencert import (
    GencertPaths,
    apply_gencert,
    plan_gencert,
    read_existing,
)
from harborctl.tls import KeyPair

NOW = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl binary is not installed")


def openssl(*args: str) -> str:
    assert OPENSSL is not None
    result = subprocess.run(
        [OPENSSL, *args], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


@pytest.fixture(scope="module")
def ca() -> KeyPair:
    return tls.generate_ca("Test Harbor CA")


@pytest.fixture(scope="module")
def server(ca: KeyPair) -> KeyPair:
    return tls.generate_server_cert(ca, "reg.example.com", ["10.0.0.5", "fd00::5"])


@pytest.fixture(scope="module")
def token_pair() -> KeyPair:
    return tls.generate_token_signing_pair(bits=2048)


def write(folder: Path, name: str, content: bytes) -> str:
    path = folder / name
    path.write_bytes(content)
    return str(path)


# ------------------------------------------------------------------------------------------
# CA and server certificate


def test_ca_is_a_self_signed_p256_ca(ca: KeyPair) -> None:
    info = tls.describe_certificate(ca.cert_pem)
    assert info.common_name == "Test Harbor CA"
    assert info.is_ca and info.self_signed
    assert info.key_type == "EC P-256"
    assert info.signature_hash == "sha256"
    assert 3649 <= info.days_left <= 3650
    assert tls.key_matches_cert(ca.key_pem, ca.cert_pem)


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
    info = tls.describe_certificate(server.cert_pem)
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
    assert tls.is_directly_issued_by(cert, ca_cert)


def test_server_certificate_for_a_host_with_a_port_and_for_an_ip(ca: KeyPair) -> None:
    info = tls.describe_certificate(tls.generate_server_cert(ca, "Reg.Example.com.:8443").cert_pem)
    assert info.dns_names == ("reg.example.com",)
    info = tls.describe_certificate(
        tls.generate_server_cert(ca, "192.168.1.10", ["192.168.1.10", "10.1.1.1"]).cert_pem
    )
    assert info.dns_names == ()
    assert info.ip_addresses == ("192.168.1.10", "10.1.1.1")


def test_validity_follows_now_and_days(ca: KeyPair) -> None:
    pair = tls.generate_server_cert(ca, "reg.example.com", days=90, now=NOW)
    info = tls.describe_certificate(pair.cert_pem, now=NOW)
    assert info.not_before == NOW - dt.timedelta(minutes=5)
    assert info.not_after == NOW + dt.timedelta(days=90)
    assert info.days_left == 90
    naive = tls.describe_certificate(pair.cert_pem, now=NOW.replace(tzinfo=None))
    assert naive.days_left == 90
    later = tls.describe_certificate(pair.cert_pem, now=NOW + dt.timedelta(days=100))
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
        tls.generate_server_cert(ca, hostname, ips, days)


def test_server_certificate_needs_a_usable_ca(ca: KeyPair, server: KeyPair) -> None:
    with pytest.raises(CertificateError, match="is not a CA certificate"):
        tls.generate_server_cert(server, "reg.example.com")
    other = tls.generate_ca("Other CA")
    with pytest.raises(CertificateError, match="the CA key does not belong"):
        tls.generate_server_cert(KeyPair(other.key_pem, ca.cert_pem), "reg.example.com")


def test_a_long_host_name_gets_no_cn_and_a_critical_san(ca: KeyPair) -> None:
    host = ("a" * 60) + ".example.com"
    cert = x509.load_pem_x509_certificate(tls.generate_server_cert(ca, host).cert_pem)
    assert len(cert.subject) == 0
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and san.value.get_values_for_type(x509.DNSName) == [host]


# ------------------------------------------------------------------------------------------
# token-signing pair and notary


def test_token_key_is_pkcs1_rsa(token_pair: KeyPair) -> None:
    assert token_pair.key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert tls.rsa_key_is_pkcs1(token_pair.key_pem)
    info = tls.describe_certificate(token_pair.cert_pem)
    assert info.common_name == "harbor-token-issuer"
    assert info.self_signed and not info.is_ca
    assert info.key_type == "RSA 2048"
    assert 3649 <= info.days_left <= 3650
    assert tls.key_matches_cert(token_pair.key_pem, token_pair.cert_pem)


@needs_openssl
def test_openssl_checks_the_token_key(token_pair: KeyPair, tmp_path: Path) -> None:
    key_file = write(tmp_path, "private_key.pem", token_pair.key_pem)
    cert_file = write(tmp_path, "root.crt", token_pair.cert_pem)
    assert "RSA key ok" in openssl("rsa", "-in", key_file, "-check", "-noout")
    assert openssl("rsa", "-in", key_file, "-pubout") == openssl(
        "x509", "-in", cert_file, "-noout", "-pubkey"
    )
    assert "harbor-token-issuer" in openssl("x509", "-in", cert_file, "-noout", "-subject")


def test_token_pair_default_is_rsa_4096_and_generation_time() -> None:
    started = time.perf_counter()
    pair = tls.generate_token_signing_pair()
    elapsed = time.perf_counter() - started
    assert tls.describe_certificate(pair.cert_pem).key_type == "RSA 4096"
    assert pair.key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert elapsed < 20, f"RSA 4096 generation took {elapsed:.1f} s"


def test_token_pair_refuses_small_keys() -> None:
    with pytest.raises(UsageError, match="at least 2048 bits"):
        tls.generate_token_signing_pair(bits=1024)


@needs_openssl
def test_notary_signer_leaf_is_issued_by_the_notary_ca(tmp_path: Path) -> None:
    notary_ca = tls.generate_ca("Harbor notary signer CA")
    leaf = tls.generate_notary_signer_pair(notary_ca)
    info = tls.describe_certificate(leaf.cert_pem)
    assert info.dns_names == ("notarysigner",)
    assert info.issuer_common_name == "Harbor notary signer CA"
    assert tls.key_matches_cert(leaf.key_pem, leaf.cert_pem)
    out = openssl(
        "verify", "-purpose", "sslserver", "-verify_hostname", "notarysigner",
        "-CAfile", write(tmp_path, "ca.crt", notary_ca.cert_pem),
        write(tmp_path, "notary-signer.crt", leaf.cert_pem),
    )  # fmt: skip
    assert "OK" in out


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
    assert not tls.rsa_key_is_pkcs1(pkcs8)
    assert not tls.rsa_key_is_pkcs1(encrypted)
    assert not tls.rsa_key_is_pkcs1(server.key_pem)
    assert not tls.rsa_key_is_pkcs1(ec_traditional)
    assert not tls.rsa_key_is_pkcs1(b"not a key")
    assert not tls.rsa_key_is_pkcs1(
        b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
    )
    converted = tls.to_pkcs1(pkcs8)
    assert tls.rsa_key_is_pkcs1(converted)
    assert converted == token_pair.key_pem
    with pytest.raises(CertificateError, match="must be an RSA key"):
        tls.to_pkcs1(server.key_pem)


def test_key_matches_cert(ca: KeyPair, server: KeyPair, token_pair: KeyPair) -> None:
    assert tls.key_matches_cert(server.key_pem, server.cert_pem)
    assert not tls.key_matches_cert(ca.key_pem, server.cert_pem)
    assert not tls.key_matches_cert(token_pair.key_pem, server.cert_pem)
    # the key may sit in the same file as the certificate
    assert tls.key_matches_cert(server.cert_pem + server.key_pem, server.cert_pem)
    with pytest.raises(CertificateError, match="does not contain a PEM private key"):
        tls.key_matches_cert(b"garbage", server.cert_pem)
    with pytest.raises(CertificateError, match="does not contain a PEM certificate"):
        tls.key_matches_cert(server.key_pem, b"garbage")


def test_encrypted_key_is_refused_with_a_reason(token_pair: KeyPair) -> None:
    key = serialization.load_pem_private_key(token_pair.key_pem, password=None)
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        encrypted = key.private_bytes(
            serialization.Encoding.PEM, fmt, serialization.BestAvailableEncryption(b"pw")
        )
        with pytest.raises(CertificateError, match="protected by a passphrase"):
            tls.load_private_key(encrypted, "the key")


# ------------------------------------------------------------------------------------------
# reading certificates and chains


def test_describe_chain_keeps_file_order(ca: KeyPair, server: KeyPair) -> None:
    bundle = server.cert_pem + b"\n" + ca.cert_pem
    chain = tls.describe_chain(bundle)
    assert [info.common_name for info in chain] == ["reg.example.com", "Test Harbor CA"]
    assert len(tls.load_certificates(bundle)) == 2
    assert tls.describe_certificate(bundle).common_name == "reg.example.com"


def test_describe_reports_fingerprint_and_serial(server: KeyPair) -> None:
    info = tls.describe_certificate(server.cert_pem)
    cert = x509.load_pem_x509_certificate(server.cert_pem)
    assert info.serial_number == cert.serial_number
    assert len(info.sha256_fingerprint) == 32 * 3 - 1
    assert info.subject == "CN=reg.example.com"
    assert info.issuer == "CN=Test Harbor CA"


def test_bad_certificate_input_is_named(server: KeyPair) -> None:
    der = x509.load_pem_x509_certificate(server.cert_pem).public_bytes(serialization.Encoding.DER)
    with pytest.raises(CertificateError, match=r"server\.crt is a binary \(DER\) certificate"):
        tls.load_certificates(der, "server.crt")
    with pytest.raises(CertificateError, match="x does not contain a PEM certificate"):
        tls.load_certificates(b"hello", "x")
    damaged = server.cert_pem.replace(server.cert_pem[100:120], b"A" * 20)
    with pytest.raises(CertificateError, match="certificate number 1 in y is damaged"):
        tls.load_certificates(damaged, "y")


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
    assert tls.hostname_matches(pattern, hostname) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("reg.example.com", ("reg.example.com", None)),
        ("Reg.Example.com.:8443", ("reg.example.com", 8443)),
        ("10.0.0.1:443", ("10.0.0.1", 443)),
        ("[fd00::1]:8443", ("fd00::1", 8443)),
        ("fd00::1", ("fd00::1", None)),
    ],
)
def test_split_host_port(value: str, expected: tuple[str, int | None]) -> None:
    assert tls.split_host_port(value) == expected


@pytest.mark.parametrize("value", ["host:0", "host:99999", "[fd00::1", "[fd00::1]x", "h:p"])
def test_split_host_port_refuses(value: str) -> None:
    with pytest.raises(UsageError):
        tls.split_host_port(value)


def test_certificate_covers_ignores_the_cn_and_the_port(ca: KeyPair, server: KeyPair) -> None:
    info = tls.describe_certificate(server.cert_pem)
    assert tls.certificate_covers(info, "reg.example.com:8443")
    assert tls.certificate_covers(info, "10.0.0.5")
    assert tls.certificate_covers(info, "[fd00::5]:443")
    assert not tls.certificate_covers(info, "10.0.0.6")
    assert tls.certificate_names(info) == "DNS:reg.example.com, IP:10.0.0.5, IP:fd00::5"


# ------------------------------------------------------------------------------------------
# gencert


def gencert(
    folder: Path, hostname: str = "reg.example.com", **kwargs: object
) -> tuple[dict[str, bytes], list[tuple[str, str, str]]]:
    paths = GencertPaths.beside(folder / "server.crt", folder / "server.key")
    plan = plan_gencert(
        paths.server_cert,
        paths.server_key,
        hostname,
        existing=read_existing(paths),
        **kwargs,  # type: ignore[arg-type]
    )
    apply_gencert(plan)
    files = {
        name: (folder / name).read_bytes()
        for name in ("ca.crt", "ca.key", "server.crt", "server.key")
    }
    return files, [(f.role, f.action, f.reason) for f in plan.files]


def test_gencert_first_run_creates_everything_with_modes(tmp_path: Path) -> None:
    paths = GencertPaths.beside(tmp_path / "cert" / "server.crt", tmp_path / "cert" / "server.key")
    plan = plan_gencert(
        paths.server_cert,
        paths.server_key,
        "reg.example.com:8443",
        existing=read_existing(paths),
        ips=["10.0.0.5", "10.0.0.5"],
    )
    assert not (tmp_path / "cert").exists()  # planning writes nothing
    assert [(f.role, f.action) for f in plan.files] == [
        ("ca_key", "create"),
        ("ca_cert", "create"),
        ("server_key", "create"),
        ("server_cert", "create"),
    ]
    assert plan.ips == ("10.0.0.5",) and plan.port == 8443
    result = apply_gencert(plan)
    assert result.written == (paths.ca_key, paths.ca_cert, paths.server_key, paths.server_cert)
    assert result.reused == ()
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "cert").iterdir()}
    assert modes == {"ca.key": 0o600, "ca.crt": 0o644, "server.key": 0o600, "server.crt": 0o644}
    assert result.server.dns_names == ("reg.example.com",)
    assert result.server.ip_addresses == ("10.0.0.5",)
    assert result.ca.is_ca
    assert result.next_steps[0] == (
        f"Give every Docker client the CA: copy {paths.ca_cert} to "
        "/etc/docker/certs.d/reg.example.com:8443/ca.crt on each machine that pushes or pulls "
        "(no Docker restart needed)."
    )
    assert len(result.next_steps) == 2


@needs_openssl
def test_gencert_output_verifies_with_openssl(tmp_path: Path) -> None:
    gencert(tmp_path, ips=["10.0.0.5"])
    out = openssl(
        "verify", "-purpose", "sslserver", "-verify_hostname", "reg.example.com",
        "-CAfile", str(tmp_path / "ca.crt"), str(tmp_path / "server.crt"),
    )  # fmt: skip
    assert "OK" in out


def test_gencert_rerun_reuses_ca_and_keeps_server_cert(tmp_path: Path) -> None:
    first, _ = gencert(tmp_path, ips=["10.0.0.5"])
    second, actions = gencert(tmp_path, ips=["10.0.0.5"])
    assert second == first
    assert [a for _, a, _ in actions] == ["reuse"] * 4
    assert actions[0][2].endswith("kept so that clients that trust it still do")
    assert actions[3][2].startswith("still fits: covers reg.example.com, valid until ")


def test_gencert_rerun_result_says_nothing_changed(tmp_path: Path) -> None:
    gencert(tmp_path)
    paths = GencertPaths.beside(tmp_path / "server.crt", tmp_path / "server.key")
    result = apply_gencert(
        plan_gencert(
            paths.server_cert, paths.server_key, "reg.example.com", existing=read_existing(paths)
        )
    )
    assert result.written == ()
    assert len(result.reused) == 4
    assert result.next_steps == (
        "Nothing changed: the certificate still fits. Pass --force to issue a new one anyway.",
    )


def test_gencert_force_replaces_server_cert_but_keeps_ca(tmp_path: Path) -> None:
    first, _ = gencert(tmp_path)
    forced, actions = gencert(tmp_path, force=True)
    assert forced["ca.crt"] == first["ca.crt"] and forced["ca.key"] == first["ca.key"]
    assert forced["server.crt"] != first["server.crt"]
    assert forced["server.key"] != first["server.key"]
    assert actions[2:] == [
        ("server_key", "replace", "--force was given"),
        ("server_cert", "replace", "--force was given"),
    ]
    ca_cert = x509.load_pem_x509_certificate(forced["ca.crt"])
    assert tls.is_directly_issued_by(x509.load_pem_x509_certificate(forced["server.crt"]), ca_cert)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"hostname": "new.example.com"}, "it does not cover new.example.com"),
        ({"ips": ["10.0.0.9"]}, "it does not cover 10.0.0.9"),
        ({"now": NOW + dt.timedelta(days=340)}, "it expires on 2031-06-01, within 30 days"),
        ({"now": NOW + dt.timedelta(days=400)}, "it expired on 2031-06-01"),
    ],
)
def test_gencert_replaces_a_server_cert_that_no_longer_fits(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    first, _ = gencert(tmp_path, now=NOW)
    kwargs: dict[str, object] = {"now": NOW, **change}
    hostname = str(kwargs.pop("hostname", "reg.example.com"))
    second, actions = gencert(tmp_path, hostname, **kwargs)
    assert second["ca.crt"] == first["ca.crt"]
    assert second["server.crt"] != first["server.crt"]
    assert actions[3] == ("server_cert", "replace", reason)


def test_gencert_replaces_a_server_cert_whose_key_does_not_match(tmp_path: Path) -> None:
    first, _ = gencert(tmp_path)
    (tmp_path / "server.key").write_bytes(tls.generate_ca("x").key_pem)
    second, actions = gencert(tmp_path)
    assert second["ca.crt"] == first["ca.crt"]
    assert actions[3] == (
        "server_cert",
        "replace",
        f"the key in {tmp_path / 'server.key'} does not belong to it",
    )
    assert tls.key_matches_cert(second["server.key"], second["server.crt"])


def test_gencert_refuses_a_ca_certificate_without_its_key(tmp_path: Path) -> None:
    gencert(tmp_path)
    (tmp_path / "ca.key").unlink()
    with pytest.raises(CertificateError) as caught:
        gencert(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'ca.crt'} exists but {tmp_path / 'ca.key'} does not: restore ca.key from "
        "a backup, or move ca.crt away to create a new CA (every client then needs the new "
        "ca.crt)"
    )


def test_gencert_refuses_a_ca_key_that_does_not_match(tmp_path: Path) -> None:
    gencert(tmp_path)
    (tmp_path / "ca.key").write_bytes(tls.generate_ca("x").key_pem)
    with pytest.raises(CertificateError, match="does not belong to the CA certificate"):
        gencert(tmp_path)


def test_gencert_renews_an_expired_ca_and_the_server_cert(tmp_path: Path) -> None:
    first, _ = gencert(tmp_path, now=NOW, ca_days=100, days=90)
    second, actions = gencert(tmp_path, now=NOW + dt.timedelta(days=200))
    assert second["ca.crt"] != first["ca.crt"]
    assert actions[1] == (
        "ca_cert",
        "replace",
        "the CA expired on 2030-09-09; every client must be given the new ca.crt",
    )
    assert actions[3][1] == "replace"


def test_gencert_never_replaces_a_foreign_certificate_without_force(tmp_path: Path) -> None:
    public_ca = tls.generate_ca("Some Public CA")
    bought = tls.generate_server_cert(public_ca, "reg.example.com")
    (tmp_path / "server.crt").write_bytes(bought.cert_pem)
    (tmp_path / "server.key").write_bytes(bought.key_pem)
    with pytest.raises(CertificateError) as caught:
        gencert(tmp_path)
    assert caught.value.message == (
        f"{tmp_path / 'server.crt'} holds a certificate issued by 'CN=Some Public CA', not by "
        f"the CA in {tmp_path / 'ca.crt'}: gencert replaces only certificates from its own CA; "
        "pass --force to replace it anyway, or keep it and skip gencert"
    )
    assert not (tmp_path / "ca.crt").exists()
    files, actions = gencert(tmp_path, force=True)
    assert files["server.crt"] != bought.cert_pem
    assert [a for _, a, _ in actions] == ["create", "create", "replace", "replace"]


def test_gencert_server_cert_never_outlives_its_ca(tmp_path: Path) -> None:
    gencert(tmp_path, now=NOW, ca_days=200, days=90)
    files, _ = gencert(tmp_path, now=NOW + dt.timedelta(days=80), force=True)
    ca_info = tls.describe_certificate(files["ca.crt"])
    server_info = tls.describe_certificate(files["server.crt"])
    assert server_info.not_after <= ca_info.not_after


def test_gencert_paths_must_differ(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must be two files other than"):
        GencertPaths.beside(tmp_path / "ca.crt", tmp_path / "server.key")


def test_ec_and_rsa_keys_are_what_they_claim(ca: KeyPair, token_pair: KeyPair) -> None:
    assert isinstance(tls.load_private_key(ca.key_pem), ec.EllipticCurvePrivateKey)
    assert isinstance(tls.load_private_key(token_pair.key_pem), rsa.RSAPrivateKey)
