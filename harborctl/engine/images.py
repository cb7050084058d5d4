"""Images: which are missing, loading the offline bundle only when needed, pulling, progress."""

from __future__ import annotations

import json
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import docker

from harborctl.errors import FilesystemError, HarborctlError
from harborctl.files import write_file_atomic

Report = Callable[[str], None]

CACHE_SUFFIX = ".ids.json"
CACHE_VERSION = 1
CHUNK = 1 << 20
PROGRESS_STEP = 10  # percent between two progress reports


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


def image_ids(client: docker.DockerClient, names: Sequence[str]) -> dict[str, str]:
    """The ID of every image of ``names`` present on the host (absent ones left out)."""
    result: dict[str, str] = {}
    for name in names:
        try:
            result[name] = str(client.api.inspect_image(name)["Id"])
        except docker.errors.ImageNotFound:
            continue
        except docker.errors.APIError as exc:
            if exc.status_code != 404:
                raise HarborctlError(f"cannot inspect image {name}: {exc}") from exc
    return result


def missing_images(client: docker.DockerClient, names: Sequence[str]) -> list[str]:
    present = image_ids(client, names)
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


def _read_with_progress(path: Path, report: Report) -> Iterator[bytes]:
    total = path.stat().st_size or 1
    done = 0
    next_report = PROGRESS_STEP
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            done += len(chunk)
            percent = done * 100 // total
            if percent >= next_report or done == total:
                report(f"loading {path.name}: {done / 1e6:.0f} / {total / 1e6:.0f} MB ({percent}%)")
                next_report = percent + PROGRESS_STEP
            yield chunk


def load_bundle(
    client: docker.DockerClient,
    bundle: Path,
    report: Report,
    needed: Sequence[str] | None = None,
) -> bool:
    """Load the bundle only if a needed image (default: all it holds) is absent or differs.

    Returns whether it loaded. Progress (MB read of total, percent) goes through ``report``.
    """
    ids = bundle_image_ids(bundle)
    wanted = [normalize_image_name(n) for n in needed] if needed is not None else sorted(ids)
    absent_from_bundle = [n for n in wanted if n not in ids]
    if absent_from_bundle:
        report(f"{bundle.name} does not carry {', '.join(absent_from_bundle)}")
    present = image_ids(client, [n for n in wanted if n in ids])
    stale = [n for n in wanted if n in ids and present.get(n) != ids[n]]
    if not stale:
        report(f"images of {bundle.name} already loaded; not loading it again")
        return False
    report(f"loading {bundle.name}: {len(stale)} image(s) missing or different")
    try:
        for message in client.api.load_image(_read_with_progress(bundle, report)):
            if isinstance(message, dict) and message.get("error"):
                raise HarborctlError(f"docker refused the bundle {bundle}: {message['error']}")
    except docker.errors.APIError as exc:
        raise HarborctlError(f"docker refused the bundle {bundle}: {exc}") from exc
    still = [n for n in stale if image_ids(client, [n]).get(n) != ids[n]]
    if still:
        raise HarborctlError(f"after loading {bundle}, still missing: {', '.join(still)}")
    return True


def pull_images(client: docker.DockerClient, names: Sequence[str], report: Report) -> None:
    """Pull each image, reporting progress; raise naming every image that could not be pulled."""
    failed: list[str] = []
    reasons: list[str] = []
    for name in names:
        try:
            _pull_one(client, name, report)
        except (docker.errors.APIError, HarborctlError) as exc:
            failed.append(name)
            reasons.append(f"{name}: {str(exc).splitlines()[0]}")
    if failed:
        raise missing_images_error(failed, "pulling failed:\n  " + "\n  ".join(reasons))


def _pull_one(client: docker.DockerClient, name: str, report: Report) -> None:
    repository, _, tag = normalize_image_name(name).rpartition(":")
    layers: dict[str, tuple[int, int]] = {}
    last = -PROGRESS_STEP
    report(f"pulling {name}")
    for message in client.api.pull(repository, tag=tag, stream=True, decode=True):
        if message.get("error"):
            raise HarborctlError(str(message["error"]))
        detail = message.get("progressDetail") or {}
        if message.get("id") and detail.get("total"):
            layers[message["id"]] = (int(detail.get("current") or 0), int(detail["total"]))
        total = sum(t for _, t in layers.values())
        if total:
            percent = sum(c for c, _ in layers.values()) * 100 // total
            if percent >= last + PROGRESS_STEP:
                report(f"pulling {name}: {percent}% of {total / 1e6:.0f} MB")
                last = percent
    report(f"pulled {name}")


def ensure_images(
    client: docker.DockerClient, names: Sequence[str], report: Report, bundle: Path | None = None
) -> None:
    """Make every image of ``names`` present: from ``bundle`` when given, else by pulling."""
    if bundle is not None:
        if not bundle.is_file():
            raise missing_images_error(names, f"the bundle {bundle} does not exist")
        load_bundle(client, bundle, report, needed=names)
    missing = missing_images(client, names)
    if missing:
        pull_images(client, missing, report)
