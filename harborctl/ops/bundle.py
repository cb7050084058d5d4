"""`harborctl doctor --bundle`: a support archive an operator can hand over without handing over
the registry. It holds the checks, docker-compose.yml, harbor.cfg, common/config/** and the
last lines of every service's log, with every secret of the deployment replaced by
``[REDACTED]`` in each form it may take in a file (plain, URL-encoded, JSON-escaped, doubled
``$`` of a compose file, base64 alone or as the admin's Basic credentials), private keys left
out entirely and any PEM private key block cut."""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote, quote_plus

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.errors import FilesystemError
from harborctl.files import write_file_atomic
from harborctl.files.safe import read_no_follow
from harborctl.ops.doctor import Check

REDACTED = b"[REDACTED]"
BUNDLE_MODE = 0o600
MAX_FILE_BYTES = 1 << 20  # a bigger config file is cut: the archive stays small to send
_PRIVATE_KEY_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|\Z)", re.DOTALL)
# Names of files that hold a private key: never copied, even redacted.
_KEY_FILE = re.compile(r"(\.key|private_key\.pem|-key\.pem|\.jks|\.p12|\.pfx)$")
TEXT_SECRETS = ("secretkey", "defaultalias", "core_secret", "jobservice_secret",
                "registry_http_secret",
                # Harbor 2.x's (secrets_v2)
                "registry_password", "registry_htpasswd", "csrf_key")


def secret_forms(value: str) -> set[bytes]:
    """Every way ``value`` may be written in a file harborctl or Harbor produces, or in a log
    line: an HTTP Basic header carries ``user:password`` in base64 (the admin's, a client's)."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             value.replace("$", "$$")}
    encoded = {form.encode() for form in forms if form}
    for raw in (value.encode(), b"admin:" + value.encode()):
        encoded |= {base64.b64encode(raw).rstrip(b"="), base64.urlsafe_b64encode(raw).rstrip(b"=")}
    return encoded


def deployment_secrets(config: Config | Config2) -> list[str]:
    """The operator's passwords of harbor.cfg (or harbor.yml) and the secrets harborctl stored
    for it."""
    from harborctl.plan.v2 import secret_paths_v2
    from harborctl.secrets import read_secret_files, secret_paths

    paths = secret_paths_v2(config) if isinstance(config, Config2) else secret_paths(config)
    stored = read_secret_files({name: path for name, path in paths.items()
                                if name in TEXT_SECRETS})
    values = [*config.secret_values(),
              *(raw.decode("utf-8", "replace").strip() for raw in stored.values() if raw)]
    return [value for value in values if value]


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for value in secrets for form in secret_forms(value)}
        self._forms = sorted(forms, key=len, reverse=True)  # a longer form before its parts

    def __call__(self, content: bytes) -> bytes:
        content = _PRIVATE_KEY_BLOCK.sub(REDACTED, content)
        for form in self._forms:
            content = content.replace(form, REDACTED)
        return content


def _config_files(project_dir: Path) -> list[Path]:
    root = project_dir / "common" / "config"
    if root.is_symlink() or not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*")
                  if not path.is_symlink() and path.is_file())


def _read(path: Path) -> bytes | None:
    try:
        content = read_no_follow(path)  # never through a link: it could point at any secret
    except FilesystemError:
        return None  # not ours to read (a service's own file, when not root): left out
    if not isinstance(content, bytes):
        return None
    return content[:MAX_FILE_BYTES]


def bundle_entries(config: Config | Config2, project_dir: Path, checks: Sequence[Check],
                   logs: dict[str, list[str]]) -> tuple[dict[str, bytes], list[str]]:
    """The archive's files by name (not yet redacted), and the names left out."""
    entries: dict[str, bytes] = {
        "checks.json": json.dumps([c.as_dict() for c in checks], indent=2).encode()}
    left_out: list[str] = []
    named = [("docker-compose.yml", project_dir / "docker-compose.yml"),
             (config.source.name if isinstance(config, Config2) else "harbor.cfg",
              config.source)]
    named += [(str(path.relative_to(project_dir)), path)
              for path in _config_files(project_dir)]
    for name, path in named:
        content = _read(path)
        if content is None:
            continue
        if _KEY_FILE.search(name) or b"PRIVATE KEY-----" in content:
            left_out.append(name)
            continue
        entries[name] = content
    for service, lines in logs.items():
        entries[f"logs/{service}.log"] = "".join(f"{line}\n" for line in lines).encode()
    entries["left-out.txt"] = "".join(
        f"{name}: holds a private key, not included\n" for name in left_out).encode()
    return entries, left_out


def archive(entries: dict[str, bytes], redact: Redactor, now: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in sorted(entries.items()):
            clean = redact(content)
            info = tarfile.TarInfo("harborctl-support/" + redact(name.encode()).decode())
            info.size, info.mode, info.mtime = len(clean), 0o600, int(now)
            tar.addfile(info, io.BytesIO(clean))
    return buffer.getvalue()


def write_bundle(target: Path, config: Config | Config2, project_dir: Path, checks: Sequence[Check],
                 logs: dict[str, list[str]]) -> Path:
    """Write the archive to ``target`` (mode 0600, atomically) and return its path."""
    entries, _ = bundle_entries(config, project_dir, checks, logs)
    content = archive(entries, Redactor(deployment_secrets(config)), time.time())
    target = target.absolute()
    write_file_atomic(target, content, BUNDLE_MODE)
    return target
