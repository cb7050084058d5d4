"""certfiles.py: which files and host name gencert, trust and certs work on."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.certfiles import find_ca, gencert_target, read_ca
from harborctl.errors import CertificateError, UsageError
from harborctl.tls.making import generate_ca, generate_server_cert


def harbor_cfg(folder: Path, *lines: str) -> Path:
    path = folder / "harbor.cfg"
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


@pytest.mark.parametrize(
    ("lines", "hostname_option", "expected"),
    [
        (("hostname = reg.example.com",), None, "reg.example.com"),
        (("hostname = reg.example.com", "https_port = 8443"), None, "reg.example.com:8443"),
        (("hostname = reg.example.com:9443", "https_port = 8443"), None, "reg.example.com:9443"),
        (("hostname = 10.0.0.5", "https_port = 8443"), None, "10.0.0.5:8443"),
        # a bare IPv6 address cannot take the port unbracketed: it keeps the default
        (("hostname = fd00::5", "https_port = 8443"), None, "fd00::5"),
        (("hostname = reg.example.com", "https_port = 8443"), "other.example.com",
         "other.example.com:8443"),
    ],
)
def test_gencert_hostname(
    tmp_path: Path, lines: tuple[str, ...], hostname_option: str | None, expected: str
) -> None:
    target = gencert_target(harbor_cfg(tmp_path, *lines), hostname_option, None)
    assert target.hostname == expected


@pytest.mark.parametrize(
    ("lines", "hostname_option"),
    [
        ((), None),  # harbor.cfg's default is the placeholder
        (("hostname = reg.mydomain.com",), None),
        (("hostname = reg.mydomain.com:8443",), None),
        (("hostname = reg.example.com",), "reg.mydomain.com:abc"),
        (("hostname = ",), None),
    ],
)
def test_gencert_needs_a_real_hostname(
    tmp_path: Path, lines: tuple[str, ...], hostname_option: str | None
) -> None:
    with pytest.raises(UsageError, match="no host name to issue the certificate for"):
        gencert_target(harbor_cfg(tmp_path, *lines), hostname_option, None)


def test_gencert_files_from_harbor_cfg(tmp_path: Path) -> None:
    cfg = harbor_cfg(
        tmp_path, "hostname = reg.example.com", "ui_url_protocol = https",
        f"ssl_cert = {tmp_path}/c/server.crt", f"ssl_cert_key = {tmp_path}/c/server.key",
    )  # fmt: skip
    target = gencert_target(cfg, None, None)
    assert (target.paths.server_cert, target.paths.ca_key) == (
        tmp_path / "c/server.crt",
        tmp_path / "c/ca.key",
    )
    assert target.https_configured and not target.config_names_other_files
    elsewhere = gencert_target(cfg, None, tmp_path / "elsewhere")
    assert elsewhere.paths.server_key == tmp_path / "elsewhere/server.key"
    assert elsewhere.config_names_other_files
    same = gencert_target(cfg, None, tmp_path / "c")
    assert not same.config_names_other_files


def test_gencert_without_harbor_cfg_uses_harbors_default_paths(tmp_path: Path) -> None:
    target = gencert_target(tmp_path / "missing.cfg", "reg.example.com", None)
    assert target.paths.server_cert == Path("/data/cert/server.crt")
    assert not target.https_configured


def test_find_ca_beside_or_self_signed(tmp_path: Path) -> None:
    ca = generate_ca("Find CA")
    server = tmp_path / "server.crt"
    server.write_bytes(generate_server_cert(ca, "reg.example.com").cert_pem)
    with pytest.raises(UsageError, match="no CA found beside"):
        find_ca(server)
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    assert find_ca(server) == tmp_path / "ca.crt"
    alone = tmp_path / "alone" / "server.crt"
    alone.parent.mkdir()
    alone.write_bytes(ca.cert_pem)
    assert find_ca(alone) == alone
    alone.write_bytes(b"garbage")
    with pytest.raises(CertificateError):
        find_ca(alone)


def test_read_ca_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="cannot read the CA"):
        read_ca(tmp_path / "missing.crt")


def test_gencert_out_relative_to_a_deleted_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harborctl.errors import FilesystemError

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(FilesystemError, match="current folder no longer exists"):
        gencert_target(tmp_path / "missing.cfg", "reg.example.com", Path("rel"))
