"""gencert.py: the plan (what to create, replace or reuse, and why) and writing it."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509

from harborctl.errors import CertificateError, UsageError
from harborctl.gencert import GencertPaths, apply_gencert, plan_gencert, read_existing
from harborctl.tls.making import generate_ca, generate_server_cert
from harborctl.tls.reading import describe_certificate, is_directly_issued_by, key_matches_cert
from tests.unit.tls_support import NOW, needs_openssl, openssl


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
    assert result.next_steps[1] == (
        "Apply the configuration again (re-run ./install.sh or 'harborctl install') so that "
        "nginx serves the new certificate."
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
    assert is_directly_issued_by(x509.load_pem_x509_certificate(forced["server.crt"]), ca_cert)


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
    (tmp_path / "server.key").write_bytes(generate_ca("x").key_pem)
    second, actions = gencert(tmp_path)
    assert second["ca.crt"] == first["ca.crt"]
    assert actions[3] == (
        "server_cert",
        "replace",
        f"the key in {tmp_path / 'server.key'} does not belong to it",
    )
    assert key_matches_cert(second["server.key"], second["server.crt"])


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
    (tmp_path / "ca.key").write_bytes(generate_ca("x").key_pem)
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
    public_ca = generate_ca("Some Public CA")
    bought = generate_server_cert(public_ca, "reg.example.com")
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
    ca_info = describe_certificate(files["ca.crt"])
    server_info = describe_certificate(files["server.crt"])
    assert server_info.not_after <= ca_info.not_after


def test_gencert_paths_must_differ(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="must be two files other than"):
        GencertPaths.beside(tmp_path / "ca.crt", tmp_path / "server.key")

