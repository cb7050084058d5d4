"""Image bundle loading (only when needed) and the error when an image cannot be had."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import docker
import pytest

from harborctl.engine.api.docker_sdk import SdkEngine
from harborctl.engine.images.fetch import (
    bundle_image_ids,
    ensure_images,
    load_bundle,
    missing_images,
)
from harborctl.errors import HarborctlError
from tests.integration.engine.engine_stack import Recorder

pytestmark = pytest.mark.docker


def test_load_bundle_only_when_needed(client: docker.DockerClient, engine: SdkEngine,
                                      busybox_image: str, tmp_path: Path, report: Recorder) -> None:
    tag = f"harborctl-test/engine-bundle:{uuid.uuid4().hex[:8]}"
    image = client.images.get(busybox_image)
    image.tag(tag)
    bundle = tmp_path / "harbor.vtest.tar.gz"
    try:
        import gzip
        with gzip.open(bundle, "wb") as handle:
            for chunk in client.api.get_image(tag):
                handle.write(chunk)
        assert bundle_image_ids(bundle) == {tag: image.id}
        assert (tmp_path / "harbor.vtest.tar.gz.ids.json").is_file()

        assert load_bundle(engine, bundle, report, needed=[tag]) is False
        assert "already loaded" in report.lines[-1]

        client.images.remove(tag)
        assert missing_images(engine, [tag, busybox_image]) == [tag]
        assert load_bundle(engine, bundle, report, needed=[tag]) is True
        assert any("(100%)" in line for line in report.lines)
        assert missing_images(engine, [tag]) == []
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag)


def test_missing_image_without_bundle_or_registry(engine: SdkEngine,
                                                  report: Recorder) -> None:
    name = f"127.0.0.1:9/harborctl-test/absent:{uuid.uuid4().hex[:8]}"
    with pytest.raises(HarborctlError) as caught:
        ensure_images(engine, [name], report)
    assert name in caught.value.message
    assert caught.value.hint is not None and "--bundle" in caught.value.hint


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_a_damaged_bundle_is_refused_and_nothing_from_it_is_used(
        client: docker.DockerClient, engine: SdkEngine, busybox_image: str, tmp_path: Path,
        report: Recorder, damage: str) -> None:
    import gzip

    tag = f"harborctl-test/engine-damaged:{uuid.uuid4().hex[:8]}"
    client.images.get(busybox_image).tag(tag)
    bundle = tmp_path / "harbor.vtest.tar.gz"
    try:
        with gzip.open(bundle, "wb") as handle:
            for chunk in client.api.get_image(tag):
                handle.write(chunk)
        client.images.remove(tag)
        data = bytearray(bundle.read_bytes())
        if damage == "truncated":
            del data[len(data) // 2:]
        else:
            data[len(data) // 2] ^= 0xFF
        bundle.write_bytes(bytes(data))
        with pytest.raises(HarborctlError) as caught:
            ensure_images(engine, [tag], report, bundle)
        assert str(bundle) in caught.value.message or bundle.name in caught.value.message, \
            caught.value.message
        assert "Traceback" not in caught.value.message
        assert missing_images(engine, [tag]) == [tag], "nothing of a damaged bundle is used"
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(tag)
