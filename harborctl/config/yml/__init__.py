"""harbor.yml (Harbor 2.x): the line-keeping YAML reader, the typed model and validation."""

from __future__ import annotations

import os
from pathlib import Path

from harborctl.config.operator_files import ReadFile, read_bytes
from harborctl.config.yml.loader import RawYaml, parse_yaml_text, read_yaml_file
from harborctl.config.yml.model import Config2
from harborctl.config.yml.validate import FileExists, Validation2, validate

__all__ = ["Config2", "RawYaml", "Validation2", "check_yml", "parse_yaml_text",
           "read_yaml_file", "validate"]


def check_yml(path: Path, file_exists: FileExists = os.path.isfile,
              read_file: ReadFile = read_bytes, with_trivy: bool = False) -> Validation2:
    """Read and validate ``path``; never raises for problems inside the file."""
    return validate(read_yaml_file(path), file_exists, read_file, with_trivy)
