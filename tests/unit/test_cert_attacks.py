"""Issue 13, certificate side: each test reproduces an attack or a careless setup first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import Result

from harborctl.cli.app import cli
from tests.cli_runner import cli_runner
from tests.unit.test_cert_cli import https_config


def invoke(*args: str) -> Result:
    return cli_runner().invoke(cli, list(args))


def test_combined_pem_key_never_reaches_the_served_certificate(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    assert invoke("gencert", "-c", str(cfg)).exit_code == 0
    combined = tmp_path / "cert" / "combined.pem"
    combined.write_bytes(
        (tmp_path / "cert/server.crt").read_bytes() + (tmp_path / "cert/server.key").read_bytes()
    )
    os.chmod(combined, 0o600)
    text = cfg.read_text().replace("cert/server.crt", "cert/combined.pem")
    cfg.write_text(text.replace("cert/server.key", "cert/combined.pem"))
    prepared = invoke("prepare", "-c", str(cfg))
    assert prepared.exit_code == 0, prepared.output
    served = (tmp_path / "common/config/nginx/cert/server.crt").read_bytes()
    assert b"PRIVATE KEY" not in served
    assert served == (tmp_path / "cert/server.crt").read_bytes()
    served_key = tmp_path / "common/config/nginx/cert/server.key"
    assert b"PRIVATE KEY" in served_key.read_bytes()


def _gencert_with_ca_key_in_ca_crt(tmp_path: Path) -> Path:
    cfg = https_config(tmp_path)
    assert invoke("gencert", "-c", str(cfg)).exit_code == 0
    ca_crt = tmp_path / "cert/ca.crt"
    ca_crt.write_bytes(ca_crt.read_bytes() + (tmp_path / "cert/ca.key").read_bytes())
    return cfg


def test_trust_installs_only_the_certificate_of_a_ca_file_holding_its_key(tmp_path: Path) -> None:
    cfg = _gencert_with_ca_key_in_ca_crt(tmp_path)
    root = tmp_path / "root"
    result = invoke("trust", "-c", str(cfg), "--root", str(root))
    assert result.exit_code == 0, result.output
    installed = (root / "etc/docker/certs.d/harbor.test.local:8443/ca.crt").read_bytes()
    assert b"PRIVATE KEY" not in installed
    assert installed.startswith(b"-----BEGIN CERTIFICATE-----")
    # the operator is not told to copy the file holding the key to every client
    assert f"{tmp_path}/cert/ca.crt ./ca.crt" not in result.stdout
    assert "PRIVATE KEY" not in result.output
    assert "also holds a private key" in result.stdout


def test_trust_print_shows_only_the_certificate(tmp_path: Path) -> None:
    cfg = _gencert_with_ca_key_in_ca_crt(tmp_path)
    printed = invoke("trust", "-c", str(cfg), "--print", "--root", str(tmp_path / "r"))
    assert printed.exit_code == 0, printed.output
    assert "PRIVATE KEY" not in printed.output
    assert "-----BEGIN CERTIFICATE-----" in printed.stdout
    assert f"{tmp_path}/cert/ca.crt ./ca.crt" not in printed.stdout


def test_trust_refuses_a_ca_that_did_not_issue_the_server_certificate(tmp_path: Path) -> None:
    from harborctl.tls.making import generate_ca

    cfg = https_config(tmp_path)
    assert invoke("gencert", "-c", str(cfg)).exit_code == 0
    stranger = tmp_path / "stranger.crt"
    stranger.write_bytes(generate_ca("Somebody else's CA").cert_pem)
    root = tmp_path / "root"
    for extra in ([], ["--print"]):
        result = invoke("trust", "-c", str(cfg), "--ca", str(stranger), "--root", str(root),
                        *extra)
        assert result.exit_code == 6, result.output
        assert "was not issued by" in result.stderr and str(stranger) in result.stderr
        assert "gencert" in result.stderr  # the way out
    assert not root.exists()


def test_trust_accepts_the_issuing_ca_behind_an_intermediate(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from harborctl.tls.making import KeyPair, generate_ca, generate_server_cert

    root_ca = generate_ca("Root CA")
    root_cert = x509.load_pem_x509_certificate(root_ca.cert_pem)
    root_key = serialization.load_pem_private_key(root_ca.key_pem, None)
    assert isinstance(root_key, ec.EllipticCurvePrivateKey)
    mid_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Intermediate")])
    mid_cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(root_cert.subject)
        .public_key(mid_key.public_key()).serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    mid = KeyPair(
        mid_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        mid_cert.public_bytes(serialization.Encoding.PEM),
    )
    leaf = generate_server_cert(mid, "harbor.test.local")
    cfg = https_config(tmp_path)
    (tmp_path / "cert").mkdir()
    (tmp_path / "cert/server.crt").write_bytes(leaf.cert_pem + mid.cert_pem)
    (tmp_path / "cert/server.key").write_bytes(leaf.key_pem)
    (tmp_path / "cert/ca.crt").write_bytes(root_ca.cert_pem)
    result = invoke("trust", "-c", str(cfg), "--root", str(tmp_path / "root"))
    assert result.exit_code == 0, result.output


def test_gencert_refuses_a_relative_ssl_cert_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text("hostname = harbor.test.local\nssl_cert = cert/server.crt\n"
                   "ssl_cert_key = /abs/server.key\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("gencert", "-c", str(cfg))
    assert result.exit_code == 3, result.output
    assert f"{cfg}:2: ssl_cert:" in result.stderr and "relative" in result.stderr
    assert f"{tmp_path}/cert/server.crt" in result.stderr  # the absolute path meant, as the fix
    assert "unexpected" not in result.output
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "cert").exists()


@pytest.mark.parametrize("port", ["44x3", "0", "70000", "", "-443"])
def test_gencert_names_a_bad_https_port_with_its_line(tmp_path: Path, port: str) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(f"hostname = harbor.test.local\nhttps_port = {port}\n"
                   f"ssl_cert = {tmp_path}/c/server.crt\nssl_cert_key = {tmp_path}/c/server.key\n")
    result = invoke("gencert", "-c", str(cfg))
    assert result.exit_code == 3, result.output
    assert f"{cfg}:2: https_port:" in result.stderr
    assert "unexpected" not in result.output
    assert not (tmp_path / "c").exists()


def _certs_after_gencert(tmp_path: Path) -> Path:
    cfg = https_config(tmp_path)
    assert invoke("gencert", "-c", str(cfg)).exit_code == 0
    return cfg


def test_certs_lists_every_certificate_and_reports_each_bad_file(tmp_path: Path) -> None:
    cfg = _certs_after_gencert(tmp_path)
    server = tmp_path / "cert/server.crt"
    server.write_bytes(b"garbage\n")  # the first file listed: the others still come
    result = invoke("certs", "-c", str(cfg))
    assert result.exit_code == 6, result.output
    assert f"server: {server}" in result.stdout
    assert f"ca: {tmp_path}/cert/ca.crt" in result.stdout  # listed after the bad one
    assert "subject: CN=Harbor private CA" in result.stdout
    assert f"the certificate file {server} does not contain a PEM certificate" in result.output
    assert "1 certificate file(s) could not be read" in result.stderr
    assert "unexpected" not in result.output


def test_certs_with_a_folder_where_a_certificate_should_be(tmp_path: Path) -> None:
    cfg = _certs_after_gencert(tmp_path)
    ca = tmp_path / "cert/ca.crt"
    ca.unlink()
    ca.mkdir()
    result = invoke("certs", "-c", str(cfg))
    assert result.exit_code == 6, result.output
    assert f"{ca} is a folder, not a file" in result.output
    assert f"server: {tmp_path}/cert/server.crt" in result.stdout
    assert "unexpected" not in result.output


def test_trust_names_a_garbage_server_certificate(tmp_path: Path) -> None:
    cfg = _certs_after_gencert(tmp_path)
    (tmp_path / "cert/ca.crt").unlink()  # find_ca then reads the server certificate
    server = tmp_path / "cert/server.crt"
    server.write_bytes(b"garbage\n")
    result = invoke("trust", "-c", str(cfg), "--root", str(tmp_path / "root"))
    assert result.exit_code == 6, result.output
    assert str(server) in result.stderr
    assert "unexpected" not in result.output


def test_gencert_names_a_garbage_ca_key(tmp_path: Path) -> None:
    cfg = _certs_after_gencert(tmp_path)
    key = tmp_path / "cert/ca.key"
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    result = invoke("gencert", "-c", str(cfg), "--force")
    assert result.exit_code == 6, result.output
    assert str(key) in result.stderr


@pytest.mark.parametrize(
    ("hostname", "ips"),
    [("harbor.test.local", ["fe80::1%eth0"]), ("fe80::1%eth0", []), ("fe80::1%eth0", ["fe80::1"])],
)
def test_gencert_with_a_zoned_ipv6_address_is_stable(
    tmp_path: Path, hostname: str, ips: list[str]
) -> None:
    options = ["--hostname", hostname, *[arg for ip in ips for arg in ("--ip", ip)]]
    out = ["--out", str(tmp_path / "c"), "-c", str(tmp_path / "none.cfg")]
    first = invoke("gencert", *out, *options)
    assert first.exit_code == 0, first.output
    server = (tmp_path / "c/server.crt").read_bytes()
    second = invoke("gencert", *out, *options)
    assert second.exit_code == 0, second.output
    assert "replaced" not in second.stdout and "still fits" in second.stdout
    assert (tmp_path / "c/server.crt").read_bytes() == server


def test_a_zoned_address_is_covered_by_its_ip_san() -> None:
    from harborctl.tls.making import generate_ca, generate_server_cert
    from harborctl.tls.reading import certificate_covers, describe_certificate

    pair = generate_server_cert(generate_ca("Zone CA"), "reg.example.com", ["fe80::1"])
    info = describe_certificate(pair.cert_pem)
    assert certificate_covers(info, "fe80::1%eth0")
    assert certificate_covers(info, "[fe80::1%eth0]:8443")
    assert not certificate_covers(info, "fe80::2%eth0")


def test_a_zoned_and_a_plain_address_make_one_ip_san() -> None:
    from harborctl.tls.making import generate_ca, generate_server_cert
    from harborctl.tls.reading import describe_certificate

    pair = generate_server_cert(generate_ca("Zone CA"), "fe80::1%eth0", ["fe80::1"])
    assert describe_certificate(pair.cert_pem).ip_addresses == ("fe80::1",)


@pytest.mark.parametrize("name", ["server.crt", "ca.key"])
def test_gencert_with_a_folder_where_a_file_should_be(tmp_path: Path, name: str) -> None:
    cfg = https_config(tmp_path)
    (tmp_path / "cert" / name).mkdir(parents=True)
    result = invoke("gencert", "-c", str(cfg))
    assert result.exit_code == 6, result.output
    assert f"{tmp_path}/cert/{name} is a folder, not a file" in result.stderr
    assert "unexpected" not in result.output


def test_trust_with_a_folder_as_ca(tmp_path: Path) -> None:
    cfg = _certs_after_gencert(tmp_path)
    ca = tmp_path / "cert/ca.crt"
    ca.unlink()
    ca.mkdir()
    result = invoke("trust", "-c", str(cfg), "--root", str(tmp_path / "root"))
    assert result.exit_code == 6, result.output
    assert f"{ca} is a folder, not a file" in result.stderr
