"""Issue 13, certificate side: each test reproduces an attack or a careless setup first."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from harborctl.cli.app import cli
from tests.unit.test_cert_cli import https_config


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


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
