"""Which images are present, and which an offline bundle holds: no docker package needed, so a
no-op install runs on the light socket client."""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harborctl.engine.api.interface import EngineReader
from harborctl.errors import FilesystemError, HarborctlError
from harborctl.files import write_file_atomic

CACHE_SUFFIX = ".ids.json"
CACHE_VERSION = 1


def normalize_image_name(name: str) -> str:
    """``redis`` → ``redis:latest``; a ``docker.io/`` or ``docker.io/library/`` prefix dropped."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def missing_images_error(names: Sequence[str], detail: str = "") -> HarborctlError:
    listed = ", ".join(names)
    message = f"image(s) not available on this host: {listed}"
    if detail:
        message += f"\n{detail}"
    return HarborctlError(
        message,
        hint="put the offline bundle (harbor.vX.Y.Z.tar.gz) next to harbor.cfg or pass "
             "--bundle PATH; or make the registry, or a mirror set in /etc/docker/daemon.json, "
             "reachable so that the images can be pulled",
    )


def image_ids(engine: EngineReader, names: Sequence[str]) -> dict[str, str]:
    """The ID of every image of ``names`` present on the host (absent ones left out), from one
    list call rather than one inspect per image."""
    by_tag: dict[str, str] = {}
    for image in engine.list_images():
        for tag in image.tags:
            by_tag[normalize_image_name(tag)] = image.id
    return {name: by_tag[normalize_image_name(name)] for name in names
            if normalize_image_name(name) in by_tag}


def missing_images(engine: EngineReader, names: Sequence[str]) -> list[str]:
    present = image_ids(engine, names)
    return [name for name in dict.fromkeys(names) if name not in present]


def bundle_image_ids(bundle: Path) -> dict[str, str]:
    """``{tag: image ID}`` of a ``docker save`` archive (``.tar`` or ``.tar.gz``).

    Reads ``manifest.json`` (near the end of a 20.10 archive: a gzip is decompressed up to it),
    and caches the answer in ``<bundle>.ids.json`` keyed by the bundle's size and mtime, so that
    a re-run answers at once. A cache that cannot be written is simply not kept.
    """
    try:
        info = bundle.stat()
    except OSError as exc:
        raise FilesystemError(f"cannot read the image bundle {bundle}: {exc.strerror}") from exc
    cache = bundle.with_name(bundle.name + CACHE_SUFFIX)
    key = {"version": CACHE_VERSION, "size": info.st_size, "mtime_ns": info.st_mtime_ns}
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if {k: cached.get(k) for k in key} == key and isinstance(cached.get("images"), dict):
            return {str(k): str(v) for k, v in cached["images"].items()}
    except (OSError, ValueError):
        pass
    ids = _read_manifest(bundle)
    try:
        payload = json.dumps({**key, "images": ids}, indent=1, sort_keys=True).encode()
        write_file_atomic(cache, payload, mode=0o644)
    except FilesystemError:
        pass
    return ids


def _read_manifest(bundle: Path) -> dict[str, str]:
    bad = HarborctlError(f"{bundle} is not an image archive made by `docker save`",
                         hint="use the harbor.vX.Y.Z.tar.gz of the offline installer")
    try:
        with tarfile.open(bundle, mode="r|*") as archive:
            for member in archive:
                if member.name.lstrip("./") != "manifest.json":
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    raise bad
                return manifest_image_ids(json.loads(handle.read()))
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise bad from exc
    raise bad


def manifest_image_ids(manifest: Any) -> dict[str, str]:
    """``{tag: "sha256:<hex>"}`` from a parsed ``manifest.json`` (``Config`` is ``<hex>.json``
    in the classic layout, ``blobs/sha256/<hex>`` in the OCI one)."""
    if not isinstance(manifest, list):
        raise ValueError("manifest.json is not a list")
    result: dict[str, str] = {}
    for entry in manifest:
        config = str(entry.get("Config", ""))
        digest = config.rsplit("/", 1)[-1].removesuffix(".json")
        for tag in entry.get("RepoTags") or ():
            result[normalize_image_name(str(tag))] = f"sha256:{digest}"
    return result
