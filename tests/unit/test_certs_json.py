"""certs --json: the shape the README documents, for a good deployment, an expired server
certificate and a certificate file that cannot be read."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from harborctl.tls.making import generate_ca, generate_server_cert
from tests.unit.test_cert_cli import https_config, invoke

ENTRY_KEYS = {"role", "path", "chain_index", "readable", "subject", "issuer", "dns_names",
              "ip_addresses", "not_before", "not_after", "days_left", "expired", "is_ca",
              "self_signed", "key_type"}


def test_certs_json_shape(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    assert invoke("gencert", "-c", str(cfg), "--ip", "10.0.0.5").exit_code == 0
    result = invoke("certs", "-c", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"version", "ok", "expired", "unreadable", "certificates"}
    assert (report["version"], report["ok"], report["expired"], report["unreadable"]) == \
        (1, True, 0, 0)
    by_role = {c["role"]: c for c in report["certificates"] if c["chain_index"] == 0}
    server = by_role["server"]
    assert set(server) == ENTRY_KEYS
    assert server["path"] == str(tmp_path / "cert/server.crt")
    assert server["dns_names"] == ["harbor.test.local"] and server["ip_addresses"] == ["10.0.0.5"]
    assert 360 <= server["days_left"] <= 365 and server["expired"] is False
    assert server["is_ca"] is False and by_role["ca"]["is_ca"] is True
    assert dt.datetime.strptime(server["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    assert "\x1b" not in result.stdout


def test_certs_json_flags_expired_and_unreadable_with_exit_6(tmp_path: Path) -> None:
    cfg = https_config(tmp_path)
    invoke("gencert", "-c", str(cfg))
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)
    old = generate_server_cert(generate_ca("old", now=past), "harbor.test.local", days=30,
                               now=past)
    (tmp_path / "cert/server.crt").write_bytes(old.cert_pem)
    (tmp_path / "cert/ca.crt").write_text("not a certificate\n")
    result = invoke("certs", "-c", str(cfg), "--json")
    assert result.exit_code == 6
    report = json.loads(result.stdout)  # stdout stays pure JSON; the summary goes to stderr
    assert report["ok"] is False and report["expired"] == 1 and report["unreadable"] == 1
    server = next(c for c in report["certificates"] if c["role"] == "server")
    assert server["expired"] is True and server["days_left"] < 0
    ca = next(c for c in report["certificates"] if c["role"] == "ca")
    assert ca["readable"] is False and ca["problem"]
    assert "Error: 1 certificate file(s) could not be read" in result.stderr
