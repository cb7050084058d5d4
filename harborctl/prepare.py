"""The prepare step: harbor.cfg to the rendered deployment on disk, atomically."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harborctl import prepare_record
from harborctl.config import read_config_file, validate
from harborctl.config.model import Components, Config
from harborctl.config.yml.model import Config2
from harborctl.errors import CertificateError, ConfigError, HarborctlError
from harborctl.files import Change, apply_deployment, folder_lock, plan_changes, write_file_atomic
from harborctl.files import journal as apply_journal
from harborctl.files.safe import make_dirs, read_no_follow
from harborctl.plan import plan_deployment
from harborctl.plan.model import Deployment, PlannedDir, PlannedFile
from harborctl.secrets import (
    check_secretkey_kept,
    complete_secrets,
    read_secret_files,
    secret_paths,
)
from harborctl.state import STATE_FILE, read_state, recorded_files, recorded_path

COMPONENTS = ("notary", "clair", "chartmuseum")
COMPOSE_FILE = "docker-compose.yml"


@dataclass(frozen=True)
class LoadedConfig:
    """harbor.cfg validated, with the components that flags, the file or the last run enable."""

    config: Config
    warnings: list[str]
    enabled_by: dict[str, str]  # component -> why it is on ("flag", "harbor.cfg", "remembered")
    new_secretkey: bool = False  # --new-secretkey: the operator accepts losing the old key
    # harbor.cfg and every file validation looked at (CA bundles, key files): what a re-run
    # must find unchanged to answer from the record of a prepare that changed nothing
    inputs: frozenset[Path] = frozenset()
    source: Path | None = None  # harbor.cfg, absolute


@dataclass(frozen=True)
class Built:
    """The whole deployment rendered in memory, nothing written yet."""

    deployment: Deployment
    created_secrets: list[str]
    certificate_warnings: list[str]
    other_warnings: list[str]  # a new secretkey, a hand-edited docker-compose.yml kept as it is
    recorded: frozenset[Path]  # the files the last prepare generated: the only ones a sweep deletes
    certificate_fits: bool = False  # https, and the certificate checks found nothing to say

    @property
    def warnings(self) -> list[str]:
        return self.certificate_warnings + self.other_warnings

    @property
    def compose_path(self) -> Path:
        return self.deployment.project_dir / COMPOSE_FILE

    @property
    def compose(self) -> bytes:
        """The docker-compose.yml that applying writes (or keeps, when edited by hand)."""
        return next(f.content for f in self.deployment.files if f.path == self.compose_path)


@dataclass(frozen=True)
class PrepareResult:
    config: Config | Config2
    deployment: Deployment
    changes: list[Change]
    created_secrets: list[str]
    warnings: list[str]
    enabled_by: dict[str, str]  # component -> why it is on ("flag", "harbor.cfg", "remembered")
    dry_run: bool
    diff: str = ""
    recovered: bool = False  # an interrupted earlier prepare was completed or undone first
    certificate_fits: bool = False  # https, and the certificate checks found nothing to say


def remembered_components(project_dir: Path) -> dict[str, bool]:
    components = read_state(project_dir).get("components")
    if not isinstance(components, dict):
        return dict.fromkeys(COMPONENTS, False)
    return {name: bool(components.get(name)) for name in COMPONENTS}


def load_for_prepare(
    config_path: Path, project_dir: Path, flags: dict[str, bool] | None = None
) -> LoadedConfig:
    """Validate harbor.cfg with the components that flags, the file, or the last run enable."""
    raw = read_config_file(config_path)
    consulted = {config_path.absolute()}

    def file_exists(path: Path) -> bool:
        consulted.add(Path(path).absolute())
        return os.path.isfile(path)

    def read_file(path: Path) -> bytes:
        consulted.add(Path(path).absolute())
        return Path(path).read_bytes()

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
    result = validate(raw, file_exists=file_exists, overrides=overrides, read_file=read_file)
    name = str(config_path)
    if result.config is None:
        raise ConfigError(
            f"{name} has {len(result.errors)} problem(s)",
            problems=tuple(p.format(name) for p in result.problems),
            hint="fix them and run 'harborctl config check' again",
        )
    enabled = {n: b for n, b in enabled_by.items() if getattr(result.config.components, n)}
    return LoadedConfig(result.config, [p.format(name) for p in result.warnings], enabled,
                        bool((flags or {}).get("new_secretkey")), frozenset(consulted),
                        config_path.absolute())


def check_certificate(config: Config) -> tuple[tuple[bytes, bytes] | None, list[str]]:
    if config.address.protocol != "https":
        return None, []
    from harborctl.tls.checking import check_server_certificate, problems_error

    problems = check_server_certificate(config.tls.ssl_cert, config.tls.ssl_cert_key,
                                        config.address.hostname)
    error = problems_error(problems)
    if error is not None:
        raise error
    warnings = [f"{p.path}: warning: {p.message}" for p in problems if p.severity == "warning"]
    from harborctl.tls.reading import certificate_blocks

    try:
        # Only the certificates reach nginx/cert/server.crt (0644): a combined PEM holds the key.
        cert_pem = certificate_blocks(config.tls.ssl_cert.read_bytes(), str(config.tls.ssl_cert))
        pair = (cert_pem, config.tls.ssl_cert_key.read_bytes())
    except OSError as exc:
        raise CertificateError(f"cannot read {exc.filename}: {exc.strerror}") from exc
    return pair, warnings


def _keep_hand_edited_compose(deployment: Deployment, state: dict[str, Any]
                              ) -> tuple[Deployment, str, list[str]]:
    """An operator's edit of docker-compose.yml is kept, not silently overwritten.

    The state file records the hash of the compose file harborctl last wrote; a file on disk with
    another hash was edited by hand, and stays as it is (with a warning) until it is removed."""
    compose_path = deployment.project_dir / COMPOSE_FILE
    rendered = next(f for f in deployment.files if f.path == compose_path)
    rendered_hash = hashlib.sha256(rendered.content).hexdigest()
    recorded = state.get("compose_sha256")
    on_disk = read_no_follow(compose_path)
    if not isinstance(on_disk, bytes):
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


def _state_file(deployment: Deployment, compose_hash: str, config: Config) -> PlannedFile:
    path = deployment.generated_root / STATE_FILE
    generated = [f.path.relative_to(deployment.generated_root).as_posix()
                 for f in deployment.files if deployment.generated_root in f.path.parents]
    state = {"components": {n: getattr(deployment.components, n) for n in COMPONENTS},
             "compose_sha256": compose_hash,
             # what the sweep of stale files may delete, and only that
             "generated": sorted([*generated, STATE_FILE]),
             # what down --purge-data may delete, and where the secretkey was
             "data_volume": str(config.paths.data_volume),
             "secretkey_file": str(secret_paths(config)["secretkey"])}
    return PlannedFile(path, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode())


def roots_of(config: Config, project_dir: Path) -> tuple[Path, ...]:
    """The folders the operator named: below them, harborctl refuses symbolic links."""
    return (project_dir, config.paths.data_volume, config.paths.secretkey_path,
            config.logs.location)


def _with_private_secretkey_folder(deployment: Deployment, config: Config) -> Deployment:
    # secretkey_path is not in the release profile (Harbor keeps it apart from the data); it is
    # as private as data/secret, whatever the umask.
    folder = PlannedDir(config.paths.secretkey_path, 0o700)
    return replace(deployment, dirs=(*deployment.dirs, folder))


def build(config: Config, project_dir: Path, token_bits: int = 4096,
          new_secretkey: bool = False) -> Built:
    """Everything in memory: certificate checked, secrets read back (or created), every file
    rendered. Run it under ``writer``: it reads the state and the secrets that apply replaces."""
    server_cert, cert_warnings = check_certificate(config)
    stored_at = secret_paths(config)
    stored = read_secret_files(stored_at)
    state = read_state(project_dir)  # once: nothing writes it until apply, under the lock
    previous_key = recorded_path(state, "secretkey_file") or (
        stored_at["secretkey"] if state else None)
    key_warnings = check_secretkey_kept(stored, config, previous_key, new_secretkey)
    secrets, created = complete_secrets(stored, config.components.notary, token_bits, stored_at)
    deployment = plan_deployment(config, secrets, project_dir, server_cert)
    deployment = _with_private_secretkey_folder(deployment, config)
    deployment, compose_hash, kept = _keep_hand_edited_compose(deployment, state)
    deployment = replace(deployment,
                         files=(*deployment.files, _state_file(deployment, compose_hash, config)))
    return Built(deployment, created, cert_warnings, key_warnings + kept,
                 recorded_files(project_dir, state),
                 config.address.protocol == "https" and not cert_warnings)


def prepare(
    loaded: LoadedConfig,
    project_dir: Path,
    dry_run: bool = False,
    token_bits: int = 4096,
    built: Built | None = None,
    notes: Sequence[str] = (),
    unchanged: Callable[[PrepareResult], None] | None = None,
) -> PrepareResult:
    """Write the deployment of a validated harbor.cfg. A caller that already holds ``writer``
    passes what it built under it (``built``) and the writer's ``notes``. ``unchanged`` is
    called, still under the lock, with a result that changed nothing."""
    if built is None:
        with writer(project_dir, dry_run) as found:
            built = build(loaded.config, project_dir, token_bits=token_bits,
                          new_secretkey=loaded.new_secretkey)
            result = prepare(loaded, project_dir, dry_run, token_bits, built, found)
            if (unchanged is not None and not result.dry_run and not result.changes
                    and not result.created_secrets and not result.recovered):
                unchanged(result)
            return result
    deployment = built.deployment
    warnings = loaded.warnings + list(notes) + built.warnings
    roots = roots_of(loaded.config, project_dir)
    if dry_run:
        changes = plan_changes(deployment, roots, built.recorded)
        return PrepareResult(loaded.config, deployment, changes, built.created_secrets, warnings,
                             loaded.enabled_by, True, masked_diff(changes, deployment.masked))
    applied = apply_deployment(deployment, roots, built.recorded)
    kept = [f"note: {path} was not written by harborctl: kept" for path in applied.kept]
    return PrepareResult(loaded.config, deployment, applied.changes, built.created_secrets,
                         warnings + applied.warnings + kept, loaded.enabled_by, False,
                         recovered=bool(notes), certificate_fits=built.certificate_fits)


def remember_unchanged(loaded: LoadedConfig, result: PrepareResult,
                       invocation: tuple[list[str], str, tuple[str, str]] | None = None) -> None:
    """Record a prepare that changed nothing (see prepare_record): call it under the lock.
    ``invocation``: a `harborctl prepare`'s command line, folder and output (stdout, stderr).
    Best effort: without a record, a re-run is only slower."""
    from harborctl.files.tree import folders

    config, deployment = loaded.config, result.deployment
    project_dir = deployment.project_dir
    if loaded.source is None:
        return
    files = {*loaded.inputs, *secret_paths(config).values(),
             *(f.path for f in deployment.files), project_dir / apply_journal.JOURNAL_NAME}
    window = (0.0, float(2 ** 62))
    if config.address.protocol == "https":
        files |= {config.tls.ssl_cert, config.tls.ssl_cert_key,
                  config.tls.ssl_cert.parent / "ca.crt"}
        window = _certificate_window(config.tls.ssl_cert)
    planned_folders = [f.path for f in folders(deployment, roots_of(config, project_dir))]
    seen = prepare_record.observations(
        (str(p.absolute()) for p in files), map(str, planned_folders),
        {str(f.path.parent) for f in deployment.files}, [str(deployment.generated_root)])
    text = prepare_record.record_text(str(loaded.source), seen, window, result.warnings,
                                      result.certificate_fits, invocation)
    with contextlib.suppress(OSError, HarborctlError):
        write_file_atomic(project_dir / prepare_record.RECORD_NAME, text, 0o600)


def _certificate_window(cert_path: Path) -> tuple[float, float]:
    """While the certificate checks answer the same: every certificate of the file has begun,
    and none is within EXPIRY_WARNING_DAYS of its end. (0, 0) when the file cannot be read."""
    from harborctl.tls.checking import EXPIRY_WARNING_DAYS
    from harborctl.tls.reading import certificate_info, load_certificates

    try:
        infos = [certificate_info(c) for c in load_certificates(cert_path.read_bytes())]
    except (OSError, HarborctlError):
        return 0.0, 0.0
    start = max(i.not_before.timestamp() for i in infos)
    end = min(i.not_after.timestamp() for i in infos) - EXPIRY_WARNING_DAYS * 86400
    return start, end


@contextlib.contextmanager
def writer(project_dir: Path, dry_run: bool = False) -> Iterator[list[str]]:
    """Hold the project's lock, and finish (or undo) what a killed prepare left, before the
    state and the secrets are read. A dry run writes nothing: it only tells."""
    if dry_run:
        pending = apply_journal.read_journal(project_dir) if project_dir.is_dir() else None
        yield ([] if pending is None else
               ["warning: an earlier prepare was interrupted; the next prepare completes it "
                "(this diff is against the tree as it was left)"])
        return
    make_dirs(project_dir, project_dir)
    with folder_lock(project_dir, f"the project {project_dir}"):
        note = apply_journal.recover(project_dir)
        yield [] if note is None else [f"note: {note}"]


def _secret_forms(masked: tuple[str, ...]) -> list[bytes]:
    """Each secret as it may appear in a file: plain, URL-encoded, JSON-escaped, $-doubled.

    Only values of 8 characters or more: the defaults of unused settings ("secret", "abc") are
    words that every file holds. Shorter passwords reach only files the plan marks secret."""
    forms = set()
    for value in (v for v in masked if len(v) >= 8):
        forms |= {value, quote(value, safe=""), quote(value), json.dumps(value)[1:-1],
                  value.replace("$", "$$")}
    return [form.encode() for form in forms if form]


def masked_diff(changes: list[Change], masked: tuple[str, ...]) -> str:
    """A unified diff of the changes; no line of a file that holds a secret is ever shown.

    A file is secret when the plan says so (every file a password or key reaches), when it holds
    key material, or when any form of a secret value appears in its old or new content."""
    out: list[str] = []
    forms = _secret_forms(masked)
    for change in changes:
        old, new = change.old or b"", change.new or b""
        both = old + b"\n" + new
        if (change.secret or b"PRIVATE KEY" in both or b"\0" in both
                or any(form in both for form in forms)):
            size = f"{len(new)} bytes" if change.new is not None else f"was {len(old)} bytes"
            out.append(f"--- {change.path}\n+++ {change.path}\n"
                       f"@@ {change.kind}: holds secrets, changed ({size}), not shown @@\n")
            continue
        old_lines = old.decode("utf-8", "replace").splitlines(keepends=True)
        new_lines = new.decode("utf-8", "replace").splitlines(keepends=True)
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
