"""Images: which are missing, loading the offline bundle only when needed, else pulling
(engine/images/pulling.py), with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from harborctl.engine.api.interface import Engine
from harborctl.engine.images.inventory import (
    bundle_image_ids,
    image_ids,
    manifest_image_ids,
    missing_images,
    missing_images_error,
    normalize_image_name,
)
from harborctl.engine.images.pulling import pull_images
from harborctl.errors import EngineError, HarborctlError

Report = Callable[[str], None]

CHUNK = 1 << 20
PROGRESS_STEP = 10  # percent between two progress reports


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
    engine: Engine,
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
    present = image_ids(engine, [n for n in wanted if n in ids])
    stale = [n for n in wanted if n in ids and present.get(n) != ids[n]]
    if not stale:
        report(f"images of {bundle.name} already loaded; not loading it again")
        return False
    report(f"loading {bundle.name}: {len(stale)} image(s) missing or different")
    try:
        engine.load_images(_read_with_progress(bundle, report))
    except EngineError as exc:
        raise HarborctlError(f"docker refused the bundle {bundle}: {exc.message}") from exc
    still = [n for n in stale if image_ids(engine, [n]).get(n) != ids[n]]
    if still:
        raise HarborctlError(f"after loading {bundle}, still missing: {', '.join(still)}")
    return True


def ensure_images(
    engine: Engine, names: Sequence[str], report: Report, bundle: Path | None = None
) -> None:
    """Make every image of ``names`` present: from ``bundle`` when given, else by pulling."""
    if bundle is not None:
        if not bundle.is_file():
            raise missing_images_error(names, f"the bundle {bundle} does not exist")
        load_bundle(engine, bundle, report, needed=names)
    missing = missing_images(engine, names)
    if missing:
        pull_images(engine, missing, report)


__all__ = ["bundle_image_ids", "ensure_images", "image_ids", "load_bundle", "manifest_image_ids",
           "missing_images", "missing_images_error", "normalize_image_name", "pull_images"]
