"""The prepare step of the Harbor 2.15 profile: harbor.yml to the rendered deployment on disk,
through the same writer, journal, hand-edit guard and dry-run diff as harbor.cfg's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harborctl.config.inputs import server_certificate
from harborctl.config.yml import check_yml
from harborctl.config.yml.model import Config2
from harborctl.errors import CertificateError, ConfigError
from harborctl.files import apply_deployment, plan_changes
from harborctl.plan.model import Deployment, PlannedFile
from harborctl.plan.v2 import plan_deployment_v2, secret_paths_v2
from harborctl.prepare import (
    COMPONENTS,
    Built,
    PrepareResult,
    _keep_hand_edited_compose,
    masked_diff,
    writer,
)
from harborctl.secrets import read_secret_files
from harborctl.secrets_v2 import complete_secrets_v2
from harborctl.state import STATE_FILE, read_state, recorded_files

TRIVY = "trivy"


@dataclass(frozen=True)
class LoadedV2:
    config: Config2
    warnings: list[str]
    enabled_by: dict[str, str]


def load_v2_for_prepare(config_path: Path, project_dir: Path, with_trivy: bool = False
                        ) -> LoadedV2:
    """harbor.yml validated, trivy on by --with-trivy or an earlier run's choice (as Harbor's
    installer needs the flag on every run, and forgetting it would remove the scanner)."""
    remembered = bool((read_state(project_dir).get("components") or {}).get(TRIVY))
    on = with_trivy or remembered
    result = check_yml(config_path, with_trivy=on)
    name = str(config_path)
    if result.config is None:
        raise ConfigError(f"{name} has {len(result.errors)} problem(s)",
                          problems=tuple(p.format(name) for p in result.problems),
                          hint="fix them and run 'harborctl config check' again")
    why = {TRIVY: "--with-trivy" if with_trivy else "enabled by an earlier run"} if on else {}
    return LoadedV2(result.config, [p.format(name) for p in result.warnings], why)


def _certificate(config: Config2) -> tuple[tuple[bytes, bytes] | None, list[str]]:
    found = server_certificate(config)
    if found is None:
        return None, []
    from harborctl.tls.checking import check_server_certificate, problems_error
    from harborctl.tls.reading import certificate_blocks

    problems = check_server_certificate(*found)
    error = problems_error(problems)
    if error is not None:
        raise error
    warnings = [f"{p.path}: warning: {p.message}" for p in problems if p.severity == "warning"]
    cert, key, _host = found
    try:
        return (certificate_blocks(cert.read_bytes(), str(cert)), key.read_bytes()), warnings
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from exc


def _state_file(deployment: Deployment, compose_hash: str, config: Config2) -> PlannedFile:
    generated = [f.path.relative_to(deployment.generated_root).as_posix()
                 for f in deployment.files if deployment.generated_root in f.path.parents]
    components = {**dict.fromkeys(COMPONENTS, False), TRIVY: config.with_trivy}
    state = {"components": components, "release": config.release,
             "compose_sha256": compose_hash,
             "generated": sorted([*generated, STATE_FILE]),
             "data_volume": str(config.data_volume),
             "secretkey_file": str(secret_paths_v2(config)["secretkey"])}
    return PlannedFile(deployment.generated_root / STATE_FILE,
                       (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def build_v2(config: Config2, project_dir: Path, token_bits: int = 4096) -> Built:
    """Everything in memory; run it under ``writer``."""
    server_cert, cert_warnings = _certificate(config)
    stored = read_secret_files(secret_paths_v2(config))
    state = read_state(project_dir)
    secrets, created = complete_secrets_v2(stored, token_bits)
    warnings = []
    if "secretkey" in created and state:
        warnings.append("warning: a new secretkey was made for a deployment that ran before: "
                        "credentials Harbor stored encrypted with the old one cannot be read")
    deployment = plan_deployment_v2(config, secrets, project_dir, server_cert)
    deployment, compose_hash, kept = _keep_hand_edited_compose(deployment, state)
    deployment = replace(deployment, files=(*deployment.files,
                                            _state_file(deployment, compose_hash, config)))
    return Built(deployment, created, cert_warnings, warnings + kept,
                 recorded_files(project_dir, state),
                 certificate_fits=config.https is not None and not cert_warnings)


def prepare_v2(loaded: LoadedV2, project_dir: Path, dry_run: bool = False,
               token_bits: int = 4096) -> PrepareResult:
    with writer(project_dir, dry_run) as notes:
        built = build_v2(loaded.config, project_dir, token_bits)
        return apply_v2(loaded, project_dir, built, notes, dry_run)


def apply_v2(loaded: LoadedV2, project_dir: Path, built: Built, notes: Sequence[str] = (),
             dry_run: bool = False) -> PrepareResult:
    """Write what ``build_v2`` rendered; the caller holds ``writer``."""
    config = loaded.config
    roots = (project_dir, config.data_volume, config.log.location)
    deployment = built.deployment
    warnings = loaded.warnings + list(notes) + built.warnings
    if dry_run:
        changes = plan_changes(deployment, roots, built.recorded)
        return PrepareResult(config, deployment, changes, built.created_secrets, warnings,
                             loaded.enabled_by, True, masked_diff(changes, deployment.masked))
    applied = apply_deployment(deployment, roots, built.recorded)
    kept = [f"note: {path} was not written by harborctl: kept" for path in applied.kept]
    return PrepareResult(config, deployment, applied.changes, built.created_secrets,
                         warnings + applied.warnings + kept, loaded.enabled_by, False)
