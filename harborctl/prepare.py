"""The prepare step: harbor.cfg to the rendered deployment on disk, atomically."""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harborctl.config import read_config_file, validate
from harborctl.config.model import Components, Config
from harborctl.errors import CertificateError, ConfigError
from harborctl.files import Change, apply_deployment, plan_changes
from harborctl.plan import plan_deployment
from harborctl.plan.model import Deployment, PlannedFile
from harborctl.secrets import complete_secrets, read_secret_files, secret_paths

COMPONENTS = ("notary", "clair", "chartmuseum")
STATE_FILE = "harborctl.json"  # under common/config: what the last prepare enabled
COMPOSE_FILE = "docker-compose.yml"


@dataclass(frozen=True)
class LoadedConfig:
    """harbor.cfg validated, with the components that flags, the file or the last run enable."""

    config: Config
    warnings: list[str]
    enabled_by: dict[str, str]  # component -> why it is on ("flag", "harbor.cfg", "remembered")


@dataclass(frozen=True)
class Built:
    """The whole deployment rendered in memory, nothing written yet."""

    deployment: Deployment
    created_secrets: list[str]
    certificate_warnings: list[str]
    compose_warnings: list[str]  # a hand-edited docker-compose.yml kept as it is

    @property
    def warnings(self) -> list[str]:
        return self.certificate_warnings + self.compose_warnings

    @property
    def compose_path(self) -> Path:
        return self.deployment.project_dir / COMPOSE_FILE

    @property
    def compose(self) -> bytes:
        """The docker-compose.yml that applying writes (or keeps, when edited by hand)."""
        return next(f.content for f in self.deployment.files if f.path == self.compose_path)


@dataclass(frozen=True)
class PrepareResult:
    config: Config
    deployment: Deployment
    changes: list[Change]
    created_secrets: list[str]
    warnings: list[str]
    enabled_by: dict[str, str]  # component -> why it is on ("flag", "harbor.cfg", "remembered")
    dry_run: bool
    diff: str = ""


def _read_state(project_dir: Path) -> dict[str, Any]:
    try:
        state = json.loads((project_dir / "common" / "config" / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def remembered_components(project_dir: Path) -> dict[str, bool]:
    components = _read_state(project_dir).get("components")
    if not isinstance(components, dict):
        return dict.fromkeys(COMPONENTS, False)
    return {name: bool(components.get(name)) for name in COMPONENTS}


def load_for_prepare(
    config_path: Path, project_dir: Path, flags: dict[str, bool] | None = None
) -> LoadedConfig:
    """Validate harbor.cfg with the components that flags, the file, or the last run enable."""
    raw = read_config_file(config_path)
    remembered = remembered_components(project_dir)
    overrides: dict[str, bool] = {}
    enabled_by: dict[str, str] = {}
    for name in COMPONENTS:
        explicit = f"with_{name}" in raw.values
        if (flags or {}).get(name):
            overrides[name], enabled_by[name] = True, "--with-" + name
        elif not explicit and remembered[name]:
            overrides[name], enabled_by[name] = True, "enabled by an earlier run"
        elif explicit:
            enabled_by[name] = f"with_{name} in {config_path.name}"
    result = validate(raw, overrides=overrides)
    name = str(config_path)
    if result.config is None:
        raise ConfigError(
            f"{name} has {len(result.errors)} problem(s)",
            problems=tuple(p.format(name) for p in result.problems),
            hint="fix them and run 'harborctl config check' again",
        )
    enabled = {n: b for n, b in enabled_by.items() if getattr(result.config.components, n)}
    return LoadedConfig(result.config, [p.format(name) for p in result.warnings], enabled)


def check_certificate(config: Config) -> tuple[tuple[bytes, bytes] | None, list[str]]:
    if config.address.protocol != "https":
        return None, []
    from harborctl.certcheck import check_server_certificate, problems_error

    problems = check_server_certificate(config.tls.ssl_cert, config.tls.ssl_cert_key,
                                        config.address.hostname)
    error = problems_error(problems)
    if error is not None:
        raise error
    warnings = [f"{p.path}: warning: {p.message}" for p in problems if p.severity == "warning"]
    try:
        pair = (config.tls.ssl_cert.read_bytes(), config.tls.ssl_cert_key.read_bytes())
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    return pair, warnings


def _keep_hand_edited_compose(deployment: Deployment) -> tuple[Deployment, str, list[str]]:
    """An operator's edit of docker-compose.yml is kept, not silently overwritten.

    The state file records the hash of the compose file harborctl last wrote; a file on disk with
    another hash was edited by hand, and stays as it is (with a warning) until it is removed."""
    compose_path = deployment.project_dir / COMPOSE_FILE
    rendered = next(f for f in deployment.files if f.path == compose_path)
    rendered_hash = hashlib.sha256(rendered.content).hexdigest()
    recorded = _read_state(deployment.project_dir).get("compose_sha256")
    try:
        on_disk = compose_path.read_bytes()
    except OSError:
        return deployment, rendered_hash, []
    disk_hash = hashlib.sha256(on_disk).hexdigest()
    if not recorded or disk_hash in (recorded, rendered_hash):
        return deployment, rendered_hash, []
    kept = replace(rendered, content=on_disk)
    files = tuple(kept if f is rendered else f for f in deployment.files)
    warning = (f"warning: {compose_path} was edited by hand since harborctl wrote it: kept as "
               "it is" + (", so changes from harbor.cfg do not reach it" if rendered_hash !=
                          recorded else "") +
               "; delete it and run prepare again to have it rendered anew")
    return replace(deployment, files=files), str(recorded), [warning]


def _state_file(deployment: Deployment, compose_hash: str) -> PlannedFile:
    state = {"components": {n: getattr(deployment.components, n) for n in COMPONENTS},
             "compose_sha256": compose_hash}
    return PlannedFile(deployment.generated_root / STATE_FILE,
                       (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def build(config: Config, project_dir: Path, token_bits: int = 4096) -> Built:
    """Everything in memory: certificate checked, secrets read back (or created), every file
    rendered."""
    server_cert, cert_warnings = check_certificate(config)
    stored = read_secret_files(secret_paths(config))
    secrets, created = complete_secrets(stored, config.components.notary, token_bits)
    deployment = plan_deployment(config, secrets, project_dir, server_cert)
    deployment, compose_hash, kept = _keep_hand_edited_compose(deployment)
    deployment = replace(deployment,
                         files=(*deployment.files, _state_file(deployment, compose_hash)))
    return Built(deployment, created, cert_warnings, kept)


def prepare(
    loaded: LoadedConfig,
    project_dir: Path,
    dry_run: bool = False,
    token_bits: int = 4096,
    built: Built | None = None,
) -> PrepareResult:
    """Write the deployment of a validated harbor.cfg (``built`` when already rendered)."""
    if built is None:
        built = build(loaded.config, project_dir, token_bits)
    deployment = built.deployment
    warnings = loaded.warnings + built.warnings
    if dry_run:
        changes = plan_changes(deployment)
        return PrepareResult(loaded.config, deployment, changes, built.created_secrets, warnings,
                             loaded.enabled_by, True, masked_diff(changes, deployment.masked))
    applied = apply_deployment(deployment)
    return PrepareResult(loaded.config, deployment, applied.changes, built.created_secrets,
                         warnings + applied.warnings, loaded.enabled_by, False)


def _mask(text: str, masked: tuple[str, ...]) -> str:
    for value in masked:
        text = text.replace(value, "********")
    return text


def masked_diff(changes: list[Change], masked: tuple[str, ...]) -> str:
    """A unified diff of the changes with every secret value replaced by ********."""
    out: list[str] = []
    for change in changes:
        old, new = change.old or b"", change.new or b""
        if b"PRIVATE KEY" in old + new or b"\0" in old + new:
            out.append(f"--- {change.path}\n+++ {change.path}\n"
                       f"@@ {change.kind}: secret key material, {len(new)} bytes (not shown) @@\n")
            continue
        old_lines = _mask(old.decode("utf-8", "replace"), masked).splitlines(keepends=True)
        new_lines = _mask(new.decode("utf-8", "replace"), masked).splitlines(keepends=True)
        diff = list(difflib.unified_diff(old_lines, new_lines,
                                         fromfile=str(change.path) if change.old else "/dev/null",
                                         tofile=str(change.path) if change.new else "/dev/null"))
        if not diff:  # same content, other mode
            out.append(f"--- {change.path}\n+++ {change.path}\n@@ mode changes only @@\n")
        out.extend(line if line.endswith("\n") else line + "\n" for line in diff)
    return "".join(out)


def components_summary(components: Components) -> str:
    on = [n for n in COMPONENTS if getattr(components, n)]
    return ", ".join(on) if on else "none"
