"""What the staged install needs of either release profile, behind one record: the validated
config, its data volume, the images of its services, and how to build and apply its
deployment. install.py runs the same stages (engine, ports, images, prepare, converge) for both."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.inputs import check_profile_flags, input_format
from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.prepare import Built, LoadedConfig, PrepareResult


@dataclass(frozen=True)
class InstallInput:
    config: Config | Config2
    data_volume: Path
    images: tuple[str, ...]  # of the services the file enables
    build: Callable[[Path], Built]  # under the writer: reads secrets and state, writes nothing
    apply: Callable[[Built, Sequence[str]], PrepareResult]
    file_kind: str  # "harbor.cfg" or "harbor.yml", for the progress lines
    https: bool
    # The warnings and certificate verdict of the last prepare that changed nothing, when
    # preparing again would change nothing either (prepare_record.py); None: build and apply.
    unchanged: Callable[[Sequence[str]], tuple[list[str], bool] | None] = lambda _notes: None
    remember: Callable[[PrepareResult], None] = lambda _result: None  # after a no-op prepare


def load_install_input(config_path: Path, project_dir: Path,
                       flags: dict[str, bool] | None = None) -> InstallInput:
    flags = flags or {}
    check_profile_flags(config_path, flags)
    if input_format(config_path) == "harbor.yml":
        return _load_v2(config_path, project_dir, bool(flags.get("trivy")))
    from harborctl.plan import services_of
    from harborctl.plan.images import image_for
    from harborctl.prepare import build, load_for_prepare, prepare, remember_unchanged

    loaded = load_for_prepare(config_path, project_dir, flags)
    config = loaded.config
    return InstallInput(
        config, config.paths.data_volume,
        tuple(image_for(s, config.images) for s in services_of(config)),
        lambda folder: build(config, folder, new_secretkey=loaded.new_secretkey),
        lambda built, notes: prepare(loaded, project_dir, built=built, notes=notes),
        "harbor.cfg", config.address.protocol == "https",
        lambda notes: _unchanged_since_record(loaded, project_dir, flags, notes),
        lambda result: remember_unchanged(loaded, result))


def _unchanged_since_record(loaded: LoadedConfig, project_dir: Path,
                            flags: dict[str, bool], notes: Sequence[str]
                            ) -> tuple[list[str], bool] | None:
    """The warnings and the certificate verdict of the last prepare that changed nothing, when
    preparing again now would change nothing either (prepare_record.py); else None."""
    from harborctl import prepare_record

    if notes or any(flags.values()) or loaded.source is None:
        return None
    record = prepare_record.unchanged(str(project_dir), str(loaded.source), time.time())
    warnings = record.get("warnings") if record is not None else None
    if record is None or not (isinstance(warnings, list)
                              and all(isinstance(w, str) for w in warnings)):
        return None
    return [str(w) for w in warnings], record.get("certificate_fits") is True


def _load_v2(config_path: Path, project_dir: Path, with_trivy: bool) -> InstallInput:
    from harborctl.plan.releases import profile_of
    from harborctl.prepare_v2 import apply_v2, build_v2, load_v2_for_prepare

    loaded = load_v2_for_prepare(config_path, project_dir, with_trivy)
    config = loaded.config
    profile = profile_of(config)
    return InstallInput(
        config, config.data_volume,
        tuple(profile.image(s.name, config.image_source) for s in profile.enabled(config)),
        lambda folder: build_v2(config, folder),
        lambda built, notes: apply_v2(loaded, project_dir, built, notes),
        "harbor.yml", config.https is not None)
