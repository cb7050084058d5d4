"""gencert, trust, certs and the certificate checks of config check / prepare, through the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import Result

from harborctl.cli.app import cli
from harborctl.tls.making import generate_ca, generate_server_cert
from tests.cli_runner import cli_runner


def https_config(folder: Path, hostname: str = "harbor.test.local", port: int = 8443) -> Path:
    cfg = folder / "harbor.cfg"
    cfg.write_text(
        f"hostname = {hostname}\nui_url_protocol = https\nhttps_port = {port}\n"
        f"ssl_cert = {folder}/cert/server.crt\nssl_cert_key = {folder}/cert/server.key\n"
        "harbor_admin_password = Adm1n-pass\ndb_password = db-pass-1\n"
        f"data_volume = {folder}/data\nsecretkey_path = {folder}/data\n"
        f"log_location = {folder}/log\n"
    )
    return cfg


def invoke(*args: str) -> Result:
    return cli_runner().invoke(cli, list(args))


def test_gencert_then_check_then_prepare(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    before = invoke("config", "check", "-c", str(cfg))
    assert before.exit_code == 3
    made = invoke("gencert", "-c", str(cfg), "--ip", "127.0.0.1")
    assert made.exit_code == 0, made.output
    out = made.stdout
    assert f"created  {tmp_path}/cert/ca.crt" in out
    assert "/etc/docker/certs.d/harbor.test.local:8443/ca.crt" in out
    assert oct((tmp_path / "cert/server.key").stat().st_mode & 0o777) == "0o600"
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "cert/ca.crt"),
                             str(tmp_path / "cert/server.crt")], capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0, verify.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in",
                           str(tmp_path / "cert/server.crt")], capture_output=True, text=True,
                          check=True).stdout
    assert "DNS:harbor.test.local" in text and "IP Address:127.0.0.1" in text
    assert "TLS Web Server Authentication" in text
    assert invoke("config", "check", "-c", str(cfg)).exit_code == 0
    prepared = invoke("prepare", "-c", str(cfg))
    assert prepared.exit_code == 0, prepared.output
    served = tmp_path / "common/config/nginx/cert/server.crt"
    assert served.read_bytes() == (tmp_path / "cert/server.crt").read_bytes()


def test_gencert_rerun_reuses_the_ca(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg))
    ca = (tmp_path / "cert/ca.crt").read_bytes()
    server = (tmp_path / "cert/server.crt").read_bytes()
    again = invoke("gencert", "-c", str(cfg))
    assert "kept" in again.stdout
    assert (tmp_path / "cert/server.crt").read_bytes() == server
    forced = invoke("gencert", "-c", str(cfg), "--force")
    assert forced.exit_code == 0
    assert (tmp_path / "cert/ca.crt").read_bytes() == ca
    assert (tmp_path / "cert/server.crt").read_bytes() != server


def test_wrong_host_is_caught_before_anything_is_written(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg), "--hostname", "other.example.com")
    check = invoke("config", "check", "-c", str(cfg))
    assert check.exit_code == 6
    assert "does not cover the host name 'harbor.test.local'" in check.stdout
    prepared = invoke("prepare", "-c", str(cfg))
    assert prepared.exit_code == 6
    assert "does not cover" in prepared.stderr
    assert "Traceback" not in prepared.output
    assert not (tmp_path / "docker-compose.yml").exists()


def test_key_of_another_certificate_is_caught(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg))
    other = generate_server_cert(generate_ca("x"), "harbor.test.local")
    (tmp_path / "cert/server.key").write_bytes(other.key_pem)
    os.chmod(tmp_path / "cert/server.key", 0o600)
    check = invoke("config", "check", "-c", str(cfg))
    assert check.exit_code == 6
    assert "does not belong to the certificate" in check.stdout


def test_trust_writes_the_docker_path(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg))
    root = tmp_path / "root"
    result = invoke("trust", "-c", str(cfg), "--root", str(root))
    assert result.exit_code == 0, result.output
    target = root / "etc/docker/certs.d/harbor.test.local:8443/ca.crt"
    assert target.read_bytes() == (tmp_path / "cert/ca.crt").read_bytes()
    printed = invoke("trust", "-c", str(cfg), "--root", str(tmp_path / "r2"), "--print")
    assert "would write" in printed.stdout
    assert not (tmp_path / "r2").exists()


def test_trust_on_default_port_has_no_port_in_path(tmp_path: Path) -> None:
    cfg = https_config(tmp_path, port=443)
    invoke("gencert", "-c", str(cfg))
    invoke("trust", "-c", str(cfg), "--root", str(tmp_path / "root"))
    assert (tmp_path / "root/etc/docker/certs.d/harbor.test.local/ca.crt").exists()


def test_trust_over_http_prints_insecure_registries(tmp_path: Path) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text("hostname = harbor.test.local\nhttp_port = 8080\n")
    result = invoke("trust", "-c", str(cfg))
    assert result.exit_code == 0
    assert '"harbor.test.local:8080"' in result.stdout
    assert "insecure-registries" in result.stdout


def test_certs_lists_and_flags_expired(tmp_path: Path) -> None:
    import datetime as dt

    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg))
    ok = invoke("certs", "-c", str(cfg))
    assert ok.exit_code == 0 and "server: " in ok.stdout
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    ca = generate_ca("old", now=past)
    old = generate_server_cert(ca, "harbor.test.local", days=30, now=past)
    (tmp_path / "cert/server.crt").write_bytes(old.cert_pem)
    expired = invoke("certs", "-c", str(cfg))
    assert expired.exit_code == 6
    assert "EXPIRED" in expired.stdout


@pytest.mark.parametrize("hostname", ["reg.mydomain.com"])
def test_gencert_needs_a_hostname(tmp_path: Path, hostname: str) -> None:
    cfg = tmp_path / "harbor.cfg"
    cfg.write_text(f"hostname = {hostname}\n")
    result = invoke("gencert", "-c", str(cfg), "--out", str(tmp_path / "c"))
    assert result.exit_code == 2
    assert "--hostname" in result.stderr


def test_a_second_gencert_on_the_same_folder_waits_then_says_busy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harborctl.files import lock

    cfg = https_config(tmp_path)
    (tmp_path / "cert").mkdir()
    monkeypatch.setattr(lock, "WAIT_SECONDS", 0.2)
    with lock.folder_lock(tmp_path / "cert", "a gencert already running"):
        busy = invoke("gencert", "-c", str(cfg))
    assert busy.exit_code == 7, busy.output
    assert f"another harborctl is working on the certificate folder {tmp_path}/cert" in busy.stderr
    assert not (tmp_path / "cert/server.key").exists()  # nothing planned or written meanwhile
    assert invoke("gencert", "-c", str(cfg)).exit_code == 0  # once it is free


def test_gencert_removes_the_temporary_copies_a_killed_gencert_left(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    cert = tmp_path / "cert"
    cert.mkdir()
    leftovers = [cert / ".server.key.k3j9x_2a", cert / ".ca.key.a1b2c3d4"]
    for leftover in leftovers:
        leftover.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    kept = [cert / ".server.key.notours", cert / "notes.txt"]  # not what a write leaves
    for other in kept:
        other.write_text("the operator's")
    (cert / ".ca.crt.linkto123").symlink_to(tmp_path / "harbor.cfg")  # a link: never touched
    made = invoke("gencert", "-c", str(cfg))
    assert made.exit_code == 0, made.output
    assert not any(p.exists() for p in leftovers)
    assert all(p.read_text() == "the operator's" for p in kept)
    assert (cert / ".ca.crt.linkto123").is_symlink()
