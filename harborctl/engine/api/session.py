"""One command's way to the engine: the light socket client to look, the docker SDK adapter
only once something must change (importing the SDK costs about 0.1-0.2 s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harborctl.engine.api.socket_client import LightClient, check_api_version, socket_path

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from harborctl.engine.api.interface import Engine, EngineReader


class EngineSession:
    def __init__(self, timeout: int = 60, engine: Engine | None = None) -> None:
        """``engine``, when given, answers every call (a fake one in tests); otherwise the socket
        client looks and the docker SDK adapter, connected on first need, changes."""
        path = socket_path() if engine is None else None
        self._light = LightClient(path) if path is not None else None
        self._full: Engine | None = engine
        self._timeout = timeout

    @property
    def reader(self) -> EngineReader:
        """The engine for looking (lists, inspect): the light client where it can be."""
        return self._light if self._light is not None else self.full()

    def full(self) -> Engine:
        if self._full is None:
            from harborctl.engine.api.client import connect

            self._full = connect(self._timeout)
        return self._full

    def check(self) -> None:
        """The engine answers and speaks a recent enough API (DockerUnavailableError if not)."""
        if self._light is None:
            self.full()
            return
        check_api_version(self._light.api_version())

    def ensure_images(self, names: list[str], report: Callable[[str], None],
                      bundle: Path | None = None) -> None:
        """Every image present, and the bundle's version of it where a bundle is given. Checked
        with two list calls; the docker SDK is brought in only to load or pull."""
        from harborctl.engine.images.inventory import bundle_image_ids, image_ids

        present = image_ids(self.reader, names)
        stale: list[str] = []
        if bundle is not None and bundle.is_file():
            in_bundle = bundle_image_ids(bundle)
            stale = [n for n in names if n in in_bundle and present.get(n) != in_bundle[n]]
        missing = [n for n in names if n not in present]
        if not stale and not missing:
            where = f"; {bundle.name} not needed" if bundle is not None else ""
            report(f"all {len(names)} images present{where}")
            return
        from harborctl.engine.images.fetch import ensure_images

        ensure_images(self.full(), names, report, bundle)
