"""harbor.cfg: loading, the typed model and validation."""

from __future__ import annotations

import os
from pathlib import Path

from harborctl.config.loader import RawConfig, parse_text, read_config_file
from harborctl.config.model import Config
from harborctl.config.problems import Problem
from harborctl.config.validate import FileExists, Validation, validate
from harborctl.errors import ConfigError

__all__ = [
    "Config",
    "Problem",
    "RawConfig",
    "Validation",
    "check_config",
    "load_config",
    "parse_text",
    "read_config_file",
    "validate",
]


def check_config(
    path: Path, overrides: dict[str, bool] | None = None, file_exists: FileExists = os.path.isfile
) -> Validation:
    """Read and validate ``path``; never raises for problems inside the file."""
    return validate(read_config_file(path), file_exists=file_exists, overrides=overrides)


def load_config(path: Path, overrides: dict[str, bool] | None = None) -> Validation:
    """Like check_config, but raise ConfigError listing every error when the file is invalid."""
    result = check_config(path, overrides)
    if result.config is None:
        name = str(path)
        raise ConfigError(
            f"{name} has {len(result.errors)} problem(s)",
            problems=tuple(p.format(name) for p in result.problems),
            hint="fix them and run 'harborctl config check' again",
        )
    return result
