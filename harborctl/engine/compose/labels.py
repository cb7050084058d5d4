"""Labels compatible with docker-compose 1.x, and the hashes that make converge idempotent.

``com.docker.compose.config-hash`` is the sha256 of harborctl's canonical JSON of the service
definition (docker-compose computes its own, so a later ``docker-compose up`` recreates).
``io.harborctl.hash`` also covers the image ID and the content of every host file or folder the
service bind-mounts from under the project's ``common/config/`` and every env file: a changed
nginx.conf recreates exactly the proxy, and nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harborctl.engine.compose.model import ComposeProject, Service
from harborctl.engine.status.summary import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL

PROJECT = PROJECT_LABEL
SERVICE = SERVICE_LABEL
ONEOFF = ONEOFF_LABEL
NUMBER = "com.docker.compose.container-number"
CONFIG_HASH = "com.docker.compose.config-hash"
VERSION = "com.docker.compose.version"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
NETWORK = "com.docker.compose.network"
MANAGED = "io.harborctl.managed"
HARBORCTL_HASH = "io.harborctl.hash"

COMPOSE_VERSION = "1.29.2"
WATCHED_SUBDIR = Path("common") / "config"
MISSING = "missing"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def canonical_json(service: Service) -> str:
    """A stable JSON text of the service definition (sorted keys, no whitespace)."""
    definition = dataclasses.asdict(service)
    # A key added to the model later is left out while unset, so that upgrading harborctl does
    # not change the hash (and recreate) every container of an unchanged compose file.
    if definition["cpu_quota"] is None:
        del definition["cpu_quota"]
    # Only when harborctl starts the service, never what the container is.
    del definition["start_without"]
    return json.dumps(_jsonable(definition), sort_keys=True, separators=(",", ":"))


def config_hash(service: Service) -> str:
    return hashlib.sha256(canonical_json(service).encode()).hexdigest()


def watched_paths(project: ComposeProject, service: Service) -> tuple[Path, ...]:
    """Host paths whose content is part of the service's harborctl hash."""
    root = project.working_dir / WATCHED_SUBDIR
    paths = [m.source for m in service.volumes if _is_under(m.source, root)]
    paths.extend(service.env_files)
    return tuple(dict.fromkeys(paths))


def _is_under(path: Path, root: Path) -> bool:
    try:
        Path(os.path.normpath(path)).relative_to(root)
    except ValueError:
        return False
    return True


def path_digest(path: Path) -> str:
    """sha256 over a file's content and mode, or over every entry of a folder (recursively).

    A missing path gives ``"missing"``; an unreadable one a digest of the error, so that fixing
    it also changes the hash.
    """
    digest = hashlib.sha256()
    try:
        info = path.lstat()
    except FileNotFoundError:
        return MISSING
    except OSError as exc:
        return f"error:{exc.errno}"
    if stat.S_ISDIR(info.st_mode):
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
                full = Path(dirpath, name)
                digest.update(str(full.relative_to(path)).encode() + b"\0")
                digest.update(_entry_digest(full).encode() + b"\0")
        return digest.hexdigest()
    return _entry_digest(path)


def _entry_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        info = path.lstat()
        digest.update(f"{stat.S_IMODE(info.st_mode):o}\0".encode())
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"link:" + os.readlink(path).encode())
        else:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    except OSError as exc:
        return f"error:{exc.errno}"
    return digest.hexdigest()


def file_digests(project: ComposeProject) -> dict[str, str]:
    """Digest of every watched path of every service, keyed by the path as a string."""
    return {
        str(p): path_digest(p) for svc in project.services for p in watched_paths(project, svc)
    }


def harborctl_hash(
    project: ComposeProject, service: Service, image_id: str, digests: Mapping[str, str]
) -> str:
    """sha256 over the service definition, its image ID and the digests of its watched paths."""
    files = {str(p): digests.get(str(p), MISSING) for p in watched_paths(project, service)}
    payload = json.dumps(
        {"service": canonical_json(service), "image": image_id, "files": files}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def container_labels(
    project: ComposeProject, service: Service, desired_hash: str
) -> dict[str, str]:
    return {
        **dict(service.labels),
        PROJECT: project.name,
        SERVICE: service.name,
        ONEOFF: "False",
        NUMBER: "1",
        CONFIG_HASH: config_hash(service),
        VERSION: COMPOSE_VERSION,
        WORKING_DIR: str(project.working_dir),
        CONFIG_FILES: ",".join(str(p) for p in project.config_files),
        MANAGED: "true",
        HARBORCTL_HASH: desired_hash,
    }


def network_labels(project: ComposeProject, network: str) -> dict[str, str]:
    extra = next((dict(n.labels) for n in project.networks if n.name == network), {})
    return {**extra, PROJECT: project.name, NETWORK: network, VERSION: COMPOSE_VERSION,
            MANAGED: "true"}


