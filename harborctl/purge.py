"""Deleting Harbor's data: only on the operator's explicit request (down --purge-data --yes)."""

from __future__ import annotations

from pathlib import Path

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.errors import FilesystemError
from harborctl.files.remove import remove_path
from harborctl.state import read_state, recorded_path, state_path

# What harborctl and Harbor's services create under the data volume. Everything else there
# (the operator's certificates, for one) is never touched.
_DATA_ENTRIES = ("registry", "database", "redis", "job_logs", "ca_download", "psc", "config",
                 "chart_storage", "secret", "secretkey", "defaultalias")
_DATA_ENTRIES_V2 = ("registry", "database", "redis", "job_logs", "ca_download", "secret",
                    "trivy-adapter")


def _data_volume(config: Config | Config2) -> Path:
    return config.data_volume if isinstance(config, Config2) else config.paths.data_volume


def check_recorded_data_volume(config: Config | Config2, project_dir: Path) -> None:
    """Delete only a data volume that the last prepare of this project recorded as its own: a
    harbor.cfg edited to point data_volume elsewhere (or at /) must not aim the purge there."""
    recorded = recorded_path(read_state(project_dir), "data_volume")
    data = _data_volume(config)
    if recorded != data:
        why = ("no prepare of this project recorded a data volume" if recorded is None else
               f"the last prepare of this project used {recorded}")
        raise FilesystemError(
            f"--purge-data refuses to delete {data}: {why} "
            f"(in {state_path(project_dir)})",
            hint="run 'harborctl prepare' with this harbor.cfg first, or delete the data by hand",
        )


def purge_targets(config: Config | Config2) -> list[Path]:
    if isinstance(config, Config2):
        found = (config.data_volume / name for name in _DATA_ENTRIES_V2)
        return sorted(p for p in found if p.exists() or p.is_symlink())
    data = config.paths.data_volume
    keep = config.paths.secretkey_path
    paths = [data / name for name in _DATA_ENTRIES]
    paths += [keep / "secretkey", keep / "defaultalias"]
    return sorted({p for p in paths if p.exists() or p.is_symlink()})


def purge(targets: list[Path]) -> list[Path]:
    removed = []
    for target in targets:
        remove_path(target)
        removed.append(target)
    return removed
