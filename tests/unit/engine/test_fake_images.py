"""The image step on the fake engine: a bundle loaded only when needed, pulls and their failures."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from harborctl.engine.api.session import EngineSession
from harborctl.engine.images.fetch import ensure_images, load_bundle
from harborctl.errors import EngineError, HarborctlError
from tests.unit.engine.fake_engine import FakeEngine
from tests.unit.engine.test_engine_images import make_bundle

LOG, REDIS = "goharbor/harbor-log:v1.7.5", "redis:latest"
IN_BUNDLE = {LOG: "sha256:aaa111", REDIS: "sha256:bbb222"}


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return make_bundle(tmp_path / "harbor.v1.7.5.tar.gz")


def loading_engine(images: dict[str, str]) -> FakeEngine:
    """An engine on which loading the bundle makes its images present."""
    engine = FakeEngine(images)
    original = engine.load_images

    def load(archive: Iterable[bytes]) -> None:
        original(archive)
        engine.images.update(IN_BUNDLE)

    engine.load_images = load  # type: ignore[method-assign]
    return engine


def test_bundle_loaded_only_when_an_image_is_missing_or_differs(bundle: Path) -> None:
    engine = loading_engine({LOG: "sha256:aaa111"})
    report = Lines()
    assert load_bundle(engine, bundle, report, needed=[LOG]) is False
    assert report == [f"images of {bundle.name} already loaded; not loading it again"]
    engine.images[LOG] = "sha256:older"
    assert load_bundle(engine, bundle, report, needed=[LOG, REDIS]) is True
    assert f"loading {bundle.name}: 2 image(s) missing or different" in report
    assert any(line.endswith("(100%)") for line in report)
    assert engine.loaded == [bundle.stat().st_size]


def test_a_bundle_the_engine_refuses(bundle: Path) -> None:
    engine = FakeEngine()
    engine.fail("load_images", EngineError("unexpected EOF", 500))
    with pytest.raises(HarborctlError, match=f"docker refused the bundle {bundle}: unexpected EOF"):
        load_bundle(engine, bundle, Lines())


def test_a_bundle_that_does_not_carry_the_image(bundle: Path) -> None:
    engine = FakeEngine()  # loads, yet nothing appears
    with pytest.raises(HarborctlError, match="still missing: goharbor/harbor-log:v1.7.5"):
        load_bundle(engine, bundle, Lines(), needed=[LOG, "other:1"])


def test_pull_what_no_bundle_holds(tmp_path: Path) -> None:
    engine = FakeEngine()
    engine.pullable = {REDIS: "sha256:r"}
    report = Lines()
    ensure_images(engine, [REDIS], report)
    assert report == ["pulling redis:latest", "pulling redis:latest: 0% of 0 MB",
                      "pulling redis:latest: 50% of 0 MB", "pulling redis:latest: 100% of 0 MB",
                      f"pulled redis:latest ({engine.digests[REDIS].split('@')[1]})"]
    with pytest.raises(HarborctlError, match="the bundle .* does not exist"):
        ensure_images(engine, [REDIS], report, tmp_path / "none.tar.gz")
    with pytest.raises(HarborctlError, match="image.s. not available on this host: a:1, b:2"):
        ensure_images(engine, [REDIS, "a:1", "b:2"], report)


def test_the_session_brings_the_full_engine_in_only_to_load(bundle: Path) -> None:
    engine = loading_engine(dict(IN_BUNDLE))
    report = Lines()
    EngineSession(engine=engine).ensure_images([LOG, REDIS], report, bundle)
    assert report == [f"all 2 images present; {bundle.name} not needed"]
    engine.images.clear()
    EngineSession(engine=engine).ensure_images([LOG], report, bundle)
    assert engine.loaded
