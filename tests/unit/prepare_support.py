"""Helpers for prepare tests: configs on disk and fixed secrets (so output is reproducible)."""

from __future__ import annotations

from pathlib import Path

from harborctl.prepare import PrepareResult, load_for_prepare, prepare
from harborctl.secrets import Secrets

FAKE_TOKEN_KEY = b"-----BEGIN RSA PRIVATE KEY-----\nZmFrZQ==\n-----END RSA PRIVATE KEY-----\n"
FAKE_CERT = b"-----BEGIN CERTIFICATE-----\nZmFrZQ==\n-----END CERTIFICATE-----\n"
FAKE_KEY = b"-----BEGIN PRIVATE KEY-----\nZmFrZQ==\n-----END PRIVATE KEY-----\n"

FIXED_SECRETS = Secrets(
    secretkey="k" * 16,
    defaultalias="aliasxyz",
    core_secret="core-secret-0123456789abcdefghij",
    jobservice_secret="job-secret-0123456789abcdefghijk",
    registry_http_secret="http-secret-0123456789abcdefghij",
    token_key_pem=FAKE_TOKEN_KEY,
    token_cert_pem=FAKE_CERT,
    notary_ca_key_pem=FAKE_KEY,
    notary_ca_cert_pem=FAKE_CERT,
    notary_signer_key_pem=FAKE_KEY,
    notary_signer_cert_pem=FAKE_CERT,
)


def write_config(folder: Path, extra: str = "", data: Path | None = None) -> Path:
    """A valid http harbor.cfg whose data and logs live under ``data`` (default: folder)."""
    data = data or folder
    text = (
        "hostname = harbor.example.com\n"
        "harbor_admin_password = Adm1n-pass\n"
        "db_password = db-pass-1\n"
        f"data_volume = {data}/data\n"
        f"secretkey_path = {data}/data\n"
        f"log_location = {data}/log\n"
        + extra
    )
    path = folder / "harbor.cfg"
    path.write_text(text)
    return path


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under root: (content, mode, mtime_ns)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(root))] = (path.read_bytes(), stat.st_mode & 0o7777,
                                                stat.st_mtime_ns)
    return out


def prepare_file(config_path: Path, project_dir: Path, flags: dict[str, bool] | None = None,
                 dry_run: bool = False, token_bits: int = 2048) -> PrepareResult:
    """What `harborctl prepare` does: validate the file, then prepare (small keys: fast)."""
    return prepare(load_for_prepare(config_path, project_dir, flags), project_dir, dry_run,
                   token_bits)
