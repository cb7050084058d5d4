"""Files harbor.cfg names that are copied into the deployment (CA bundles, a cloud key), read
while validating: a file that is missing or not what its key says is a problem on that key's
line, not a service that fails later inside its container."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from harborctl.config.model import OperatorFile
from harborctl.errors import HarborctlError

ReadFile = Callable[[Path], bytes]  # raises OSError when the file cannot be read


class Reports(Protocol):
    """What records a problem on a key: harbor.cfg's and harbor.yml's readers."""

    def error(self, key: str, message: str, hint: str | None = None) -> None: ...


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def _read(r: Reports, key: str, path: Path, read_file: ReadFile) -> bytes | None:
    try:
        return read_file(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        r.error(key, f"{path} cannot be read: {reason}",
                "give the absolute path of an existing file, readable by root")
        return None


def read_ca_bundle(r: Reports, key: str, path: Path | None, read_file: ReadFile
                   ) -> OperatorFile | None:
    """A PEM file of one or more certificates."""
    if path is None:
        return None
    content = _read(r, key, path, read_file)
    if content is None:
        return None
    from harborctl.tls.reading import load_certificates  # cryptography only when needed

    try:
        load_certificates(content, str(path))
    except HarborctlError as exc:
        r.error(key, str(exc), "give a PEM file of CA certificates ('-----BEGIN CERTIFICATE')")
        return None
    return OperatorFile(path, content)


def read_json_key(r: Reports, key: str, path: Path, read_file: ReadFile
                  ) -> OperatorFile | None:
    """A service-account key file, which Google's SDKs read as a JSON object."""
    content = _read(r, key, path, read_file)
    if content is None:
        return None
    try:
        parsed = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        r.error(key, f"{path} is not a JSON key file",
                "download the service account's key in JSON form")
        return None
    return OperatorFile(path, content)
