"""Reading image IDs out of a docker-save bundle, and the cache that avoids reading it again."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from harborctl.engine.images import fetch, inventory
from harborctl.errors import HarborctlError

MANIFEST = [
    {"Config": "aaa111.json", "RepoTags": ["goharbor/harbor-log:v1.7.5"], "Layers": []},
    {"Config": "blobs/sha256/bbb222", "RepoTags": ["docker.io/library/redis"], "Layers": []},
]


def make_bundle(path: Path, manifest: object = MANIFEST) -> Path:
    with tarfile.open(path, "w:gz") if path.name.endswith(".gz") else tarfile.open(
        path, "w"
    ) as archive:
        for name, data in [("aaa111/layer.tar", b"x" * 1000),
                           ("manifest.json", json.dumps(manifest).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("name", ["harbor.v1.7.5.tar.gz", "harbor.tar"])
def test_bundle_ids_and_cache(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / name)
    expected = {"goharbor/harbor-log:v1.7.5": "sha256:aaa111", "redis:latest": "sha256:bbb222"}
    assert fetch.bundle_image_ids(bundle) == expected
    assert (tmp_path / f"{name}.ids.json").is_file()

    def boom(_: Path) -> dict[str, str]:
        raise AssertionError("the bundle was read again")

    monkeypatch.setattr(inventory, "_read_manifest", boom)
    assert fetch.bundle_image_ids(bundle) == expected
    monkeypatch.undo()

    make_bundle(bundle, [{"Config": "ccc333.json", "RepoTags": ["x:1"]}])
    os.utime(bundle, ns=(1, 1))
    assert fetch.bundle_image_ids(bundle) == {"x:1": "sha256:ccc333"}


def test_not_a_bundle(tmp_path: Path) -> None:
    junk = tmp_path / "harbor.tar.gz"
    junk.write_bytes(b"\x1f\x8b not really")
    with pytest.raises(HarborctlError, match="not an image archive"):
        fetch.bundle_image_ids(junk)
    empty = make_bundle(tmp_path / "empty.tar", manifest={"not": "a list"})
    with pytest.raises(HarborctlError, match="not an image archive"):
        fetch.bundle_image_ids(empty)


def test_unwritable_cache_is_not_fatal(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "b.tar")
    (tmp_path / "b.tar.ids.json").mkdir()  # cannot be replaced by a file
    assert fetch.bundle_image_ids(bundle)["redis:latest"] == "sha256:bbb222"


def test_normalize_and_error() -> None:
    assert fetch.normalize_image_name("redis") == "redis:latest"
    assert fetch.normalize_image_name("docker.io/goharbor/x:v1") == "goharbor/x:v1"
    assert fetch.normalize_image_name("localhost:5000/x") == "localhost:5000/x:latest"
    error = fetch.missing_images_error(["a:1", "b:2"])
    assert "a:1, b:2" in error.message
    assert error.hint is not None and "--bundle" in error.hint and "reachable" in error.hint
