"""`harborctl doctor --bundle`: the archive holds what support needs and no secret at all."""

from __future__ import annotations

import base64
import gzip
import json
import stat
import tarfile
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import harborctl.ops.doctor as doctor
from harborctl.config import load_config
from harborctl.ops.bundle import Redactor, secret_forms
from harborctl.secrets import read_secret_files, secret_paths
from tests.unit.ops.conftest import Deployment


@pytest.fixture(autouse=True)
def roomy_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "LOW_DISK_BYTES", 0)


def every_secret(deployment: Deployment) -> list[str]:
    config = load_config(deployment.config).config
    assert config is not None
    stored = read_secret_files(secret_paths(config))
    texts = [raw.decode().strip() for name, raw in stored.items()
             if raw is not None and not raw.startswith(b"-----")]
    return [value for value in (*config.secret_values(), *texts) if value]


def forms(value: str) -> list[bytes]:
    return [form.encode() for form in (value, quote(value, safe=""), quote(value),
                                       quote_plus(value), json.dumps(value)[1:-1])]


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        found = {}
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            found[info.name] = handle.read()
        return found


def test_the_bundle_holds_no_secret_in_any_form(deployment: Deployment, tmp_path: Path) -> None:
    secrets = every_secret(deployment)
    assert len(secrets) >= 8  # the passwords of harbor.cfg and the five stored secrets
    core_env = (deployment.folder / "common" / "config" / "core" / "env").read_bytes()
    assert any(form in core_env for value in secrets for form in forms(value))  # meaningful
    log = deployment.folder / "log"
    log.mkdir(exist_ok=True)
    leaky = [f"2026-12-01T13:00:00+00:00 h core[1]: connecting with {form.decode()}"
             for value in secrets for form in forms(value)]
    (log / "core.log").write_text("\n".join(leaky) + "\n")
    engine = deployment.engine
    engine.stop_container(engine.by_service("registry")[0].id, 1)

    target = tmp_path / "support" / "bundle.tar.gz"
    result = deployment.run("doctor", "--bundle", str(target))
    assert result.exit_code == 5, result.output  # the registry is stopped
    assert "support bundle written to" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    found = members(target)
    names = {name.removeprefix("harborctl-support/") for name in found}
    assert {"checks.json", "docker-compose.yml", "harbor.cfg", "common/config/core/env",
            "common/config/harborctl.json", "logs/core.log", "logs/registry.log",
            "left-out.txt"} <= names
    assert "common/config/core/private_key.pem" not in names
    assert b"common/config/core/private_key.pem" in found["harborctl-support/left-out.txt"]
    assert b"[REDACTED]" in found["harborctl-support/logs/core.log"]
    checks = json.loads(found["harborctl-support/checks.json"])
    assert any(c["name"] == "service registry" and c["status"] == "FAIL" for c in checks)

    raw_archive = gzip.decompress(target.read_bytes())  # names and headers as well
    for value in secrets:
        for form in forms(value):
            assert form not in raw_archive, f"a secret is in the bundle ({len(form)} bytes)"
    assert b"PRIVATE KEY" not in raw_archive


def test_redaction_of_every_form_and_of_key_blocks() -> None:
    redact = Redactor(["p@ss w/rd\"$"])
    text = ('a=p@ss w/rd"$ b=p%40ss%20w%2Frd%22%24 c=p%40ss+w%2Frd%22%24 d=p@ss w/rd\\"$ '
            'e=p@ss w/rd"$$\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----\n'
            '-----BEGIN PRIVATE KEY-----\ncut short')
    clean = redact(text.encode())
    assert clean == (b"a=[REDACTED] b=[REDACTED] c=[REDACTED] d=[REDACTED] e=[REDACTED]\n"
                     b"[REDACTED]\n[REDACTED]")
    assert b"p@ss w/rd\"$" in secret_forms("p@ss w/rd\"$")


def test_redaction_of_basic_credentials_in_a_log_line() -> None:
    header = base64.b64encode(b"admin:Harbor12345").decode()
    line = f'Authorization: Basic {header} token={base64.b64encode(b"Harbor12345").decode()}'
    clean = Redactor(["Harbor12345"])(line.encode())
    assert header.rstrip("=").encode() not in clean
    assert clean.count(b"[REDACTED]") == 2, clean


def test_a_bundle_into_an_unwritable_place_is_a_clear_error(deployment: Deployment,
                                                             tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = deployment.run("doctor", "--bundle", str(tmp_path / "file" / "bundle.tar.gz"))
    assert result.exit_code == 6 and "Error:" in result.output
    assert "Traceback" not in result.output
