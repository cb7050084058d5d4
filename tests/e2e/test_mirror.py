"""Installing through a registry mirror, on the real engine: the test images are pushed into a
distribution registry on loopback (htpasswd login) under mirror/goharbor and removed locally;
harborctl install with image_source = 127.0.0.1:PORT/mirror/goharbor then names the login to run,
names the image and the mirror when a tag is missing, pulls with progress, retries the link the
test cuts once mid-pull, and ends with exactly the images that were pushed.

The goharbor/* test images are shared with every other test: they are tagged back in a finally
block (rebuilt only if that fails)."""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.mirror import CuttingProxy, local_registry
from tests.e2e.operator import REPO, Operator, add_hosts_entry, free_port, remove_hosts_entries
from tests.images.build import ensure_images

pytestmark = pytest.mark.docker
HOST = "harbor.mirror.test"
USER, USER_PASSWORD = "admin", "Mirr0r-pass"  # Operator.login logs in as admin
PROJECT = "harbor"


@dataclass
class Mirror:
    op: Operator
    direct: str  # the registry itself, where the test pushes
    via: str  # the cutting proxy in front of it: what image_source names
    proxy: CuttingProxy
    storage: Path
    originals: dict[str, str]  # goharbor tag -> image ID before the test
    pushed: dict[str, str]  # goharbor tag -> digest the push reported

    @property
    def source(self) -> str:
        return f"{self.via}/mirror/goharbor"

    def install(self, check: bool = True) -> Any:
        return self.op.sh(sys.executable, "-m", "harborctl", "install", check=check)

    def mirror_name(self, tag: str) -> str:
        return f"{self.source}/{tag.split('/', 1)[1]}"


def _push_all(op: Operator, direct: str, tags: list[str]) -> dict[str, str]:
    op.login(direct, USER_PASSWORD)
    pushed = {}
    for tag in tags:
        target = f"{direct}/mirror/{tag}"
        op.docker("tag", tag, target)
        out = op.docker("push", target).stdout
        pushed[tag] = re.findall(r"digest: (sha256:[0-9a-f]{64})", out)[-1]
        op.docker("rmi", target)
    return pushed


def _restore(docker_client: Any, originals: dict[str, str], direct: str,
             prefixes: tuple[str, ...]) -> None:
    """Tag every goharbor image back from the image of the same ID (pulled back from the mirror
    when no install pulled it), then drop the mirror's names; rebuild what is still missing."""
    for tag, image_id in originals.items():
        repository, _, version = tag.rpartition(":")
        with contextlib.suppress(Exception):  # gone: ensure_images below builds it again
            if not docker_client.images.list(filters={"reference": tag}):
                try:
                    docker_client.images.get(image_id)
                except Exception:
                    docker_client.images.pull(f"{direct}/mirror/{repository}", version,
                                              auth_config={"username": USER,
                                                           "password": USER_PASSWORD})
                docker_client.images.get(image_id).tag(repository, version)
    for image in docker_client.images.list():
        for name in image.tags:
            if name.startswith(prefixes):
                docker_client.images.remove(name)
    ensure_images(docker_client)


@pytest.fixture(scope="module")
def mirror(harbor_images: list[str], docker_client: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    root = tmp_path_factory.mktemp("mirror")
    originals = {tag: docker_client.images.get(tag).id for tag in harbor_images}
    folder = root / "harbor"
    folder.mkdir()
    shutil.copy2(REPO / "harbor.cfg.example", folder / "harbor.cfg")
    (root / "docker-config").mkdir()
    op = Operator(folder, root / "docker-config", HOST)
    op.env["PYTHONPATH"] = str(REPO)
    with local_registry(root / "registry", {USER: USER_PASSWORD}) as port:
        proxy = CuttingProxy(port, cut_after=400)
        direct, via = f"127.0.0.1:{port}", f"127.0.0.1:{proxy.port}"
        try:
            pushed = _push_all(op, direct, harbor_images)
            for tag in harbor_images:  # this host now has none of them
                docker_client.images.remove(tag)
            op.set_config(hostname=HOST, http_port=str(free_port()),
                          harbor_admin_password="Adm1n-mirror", db_password="Db-mirror",
                          data_volume=f"{root}/data", secretkey_path=f"{root}/data",
                          log_location=f"{root}/log", image_source=f"{via}/mirror/goharbor")
            add_hosts_entry(HOST)
            yield Mirror(op, direct, via, proxy, root / "registry" / "data", originals, pushed)
        finally:
            op.sh(sys.executable, "-m", "harborctl", "down", check=False)
            remove_hosts_entries()
            proxy.close()
            _restore(docker_client, originals, direct, (f"{direct}/", f"{via}/", f"{HOST}:"))


def test_a_mirror_that_wants_a_login_names_the_login_to_run(mirror: Mirror) -> None:
    run = mirror.install(check=False)
    assert run.returncode != 0
    assert f"{mirror.via} refused to serve" in run.stderr, run.stdout + run.stderr
    assert f"docker login {mirror.via}" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_tag_missing_on_the_mirror_names_the_image_and_the_mirror(mirror: Mirror) -> None:
    mirror.op.login(mirror.via, USER_PASSWORD)  # the engine's stored credentials from now on
    tags = mirror.storage / "docker/registry/v2/repositories/mirror/goharbor/harbor-log" \
        / "_manifests/tags/v1.7.5"
    hidden = tags.with_name("hidden")
    tags.rename(hidden)
    try:
        run = mirror.install(check=False)
    finally:
        hidden.rename(tags)
    assert run.returncode != 0
    assert f"harbor-log:v1.7.5 is missing on {mirror.source}" in run.stderr, run.stderr
    assert f"push harbor-log:v1.7.5 to {mirror.source}" in run.stderr
    # every other image came through the login, with progress
    assert re.search(rf"pulling {re.escape(mirror.source)}/harbor-core:v1.7.5: \d+% of", run.stdout)
    assert f"pulled {mirror.source}/harbor-core:v1.7.5 (sha256:" in run.stdout


def test_install_retries_the_cut_link_and_gets_what_was_pushed(mirror: Mirror,
                                                               docker_client: Any) -> None:
    mirror.proxy.armed = True
    run = mirror.install()
    assert mirror.proxy.cuts == 1
    assert re.search(rf"pulling {re.escape(mirror.source)}/harbor-log:v1.7.5: the link to "
                     rf"{re.escape(mirror.via)} failed .*retrying in 1 s", run.stdout), run.stdout
    digest = mirror.pushed["goharbor/harbor-log:v1.7.5"]
    assert f"pulled {mirror.source}/harbor-log:v1.7.5 ({digest})" in run.stdout
    assert "Harbor is ready" in run.stdout
    for tag, image_id in mirror.originals.items():
        if "chartmuseum" in tag:  # not part of a default install: never pulled
            continue
        image = docker_client.images.get(mirror.mirror_name(tag))
        assert image.id == image_id, tag
        repository = mirror.mirror_name(tag).rpartition(":")[0]
        assert f"{repository}@{mirror.pushed[tag]}" in image.attrs["RepoDigests"]
