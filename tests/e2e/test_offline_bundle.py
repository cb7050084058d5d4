"""The offline installer end to end: scripts/make-bundle.sh builds the .tgz from the test images
(the dependency wheels come from PyPI once, then from a cache under /tmp keyed by the versions),
it is unpacked in a fresh folder, and ./install.sh runs there with no package index reachable (a
closed port, no proxy, no pip configuration) on a host with no virtualenv yet, up to docker
login, push and pull.

Prints the bundle's size, its build time and the time of ./install.sh from it (bench/RESULTS.md
records them); nothing is asserted about times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.operator import (
    REPO,
    Operator,
    add_hosts_entry,
    busybox_image,
    free_port,
    remove_hosts_entries,
)
from tests.images.build import ensure_images
from tests.images.bundle import make_bundle

pytestmark = pytest.mark.docker
HOST = "harbor.offline.test"
PASSWORD = "Offl1ne-s3cret"
WHEEL_CACHE = Path("/tmp/harborctl-bundle-wheels")
UNREACHABLE_INDEX = "http://127.0.0.1:9/"


def offline_env(env: dict[str, str]) -> dict[str, str]:
    """No way to a package index: a closed port as the index, no proxy, no pip configuration
    file (this machine's adds local indexes), no find-links but the bundle's."""
    cleaned = {k: v for k, v in env.items()
               if not k.upper().startswith("PIP_") and k.lower() not in
               ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    return {**cleaned, "PIP_INDEX_URL": UNREACHABLE_INDEX, "PIP_CONFIG_FILE": os.devnull}


@pytest.fixture(scope="module")
def bundle(harbor_images: list[str], docker_client: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("bundle-build")
    images = make_bundle(docker_client, harbor_images, build)
    started = time.monotonic()
    run = subprocess.run(
        [str(REPO / "scripts/make-bundle.sh"), "--images", str(images), "--output",
         str(build / "out"), "--wheel-cache", str(WHEEL_CACHE)],
        env={**os.environ, "PYTHON": sys.executable}, capture_output=True, text=True,
        timeout=1200, check=False)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    [made] = (build / "out").glob("harbor-offline-installer-v1.7.5-harborctl-*.tgz")
    print(f"\nbundle: {made.name} {made.stat().st_size / 1e6:.1f} MB, built in {elapsed:.1f} s "
          f"({'wheels cached' if 'cached in' in run.stdout else 'wheels downloaded'})")
    return made


def test_the_bundle_holds_everything_for_every_supported_python(bundle: Path) -> None:
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
    assert all(n == "harbor" or n.startswith("harbor/") for n in names)
    top = {n.split("/")[1] for n in names if n.count("/") == 1}
    assert {"install.sh", "harbor.cfg.example", "harbor.yml.example", "README.md",
            "harbor.v1.7.5.tar.gz", "harbor.v1.7.5.tar.gz.ids.json", "SHA256SUMS", "wheels"} <= top
    wheels = [n.split("/")[2] for n in names if n.startswith("harbor/wheels/") and
              n.endswith(".whl")]
    assert any(w.startswith("harborctl-") for w in wheels)
    for package in ("click", "jinja2", "docker", "requests", "urllib3", "certifi", "idna"):
        assert any(w.lower().startswith(f"{package}-") and "py3-none-any" in w for w in wheels)
    for package in ("pyyaml", "markupsafe", "cffi"):
        for version in ("39", "310", "311", "312", "313"):
            for arch in ("x86_64", "aarch64"):
                assert any(w.lower().startswith(f"{package}-") and f"cp{version}-" in w
                           and arch in w for w in wheels), (package, version, arch)
    for arch in ("x86_64", "aarch64"):  # one abi3 wheel serves every Python
        assert any(w.startswith("cryptography-") and "abi3" in w and arch in w for w in wheels)
    old_glibc = ("manylinux1_", "manylinux2010_", "manylinux2014_", "manylinux_2_17_")
    for wheel in wheels:  # glibc 2.17 is enough for every binary wheel (RHEL 7 and later)
        assert "none-any" in wheel or any(tag in wheel for tag in old_glibc), wheel


@pytest.fixture(scope="module")
def operator(bundle: Path, harbor_images: list[str], docker_client: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    root = tmp_path_factory.mktemp("offline")
    with tarfile.open(bundle) as archive:
        archive.extractall(root)
    folder = root / "harbor"
    assert not (folder / ".harborctl-venv").exists()
    for tag in harbor_images:  # the offline host has none of Harbor's images yet
        docker_client.images.remove(tag)
    (root / "docker-config").mkdir()
    op = Operator(folder, root / "docker-config", HOST)
    op.env = offline_env(op.env)
    op.sh("cp", "harbor.cfg.example", "harbor.cfg")
    op.set_config(hostname=HOST, http_port=str(free_port()), harbor_admin_password=PASSWORD,
                  db_password="Db-pass-offline", data_volume=f"{root}/data",
                  secretkey_path=f"{root}/data", log_location=f"{root}/log")
    add_hosts_entry(HOST)
    try:
        yield op
    finally:
        op.harborctl("down", check=False)
        remove_hosts_entries()
        for image in docker_client.images.list():
            for tag in image.tags:
                if tag.startswith(f"{HOST}:"):
                    docker_client.images.remove(tag)
        ensure_images(docker_client)  # rebuilt only if the bundle never got loaded


def test_install_sh_from_the_bundle_with_no_index_reachable(operator: Operator,
                                                            docker_client: Any) -> None:
    started = time.monotonic()
    run = operator.sh("./install.sh")
    elapsed = time.monotonic() - started
    print(f"\n./install.sh from the bundle, no venv yet, images loaded: {elapsed:.1f} s")
    assert "Harbor is ready" in run.stdout, run.stdout + run.stderr
    venv = operator.folder / ".harborctl-venv"
    installed = subprocess.run([str(venv / "bin/python"), "-m", "pip", "list", "--format=freeze"],
                               capture_output=True, text=True, check=True,
                               env=operator.env).stdout
    lock = (operator.folder / "wheels/wheels.lock").read_text().split()
    for pin in lock:  # the bundle's versions, which no index could have supplied
        name, version = pin.split("==")
        wanted = f"{name.replace('_', '-').lower()}=={version}"
        assert wanted in installed.lower().replace("_", "-"), (pin, installed)
    port = operator.sh("sh", "-c", "grep '^http_port' harbor.cfg | cut -d= -f2").stdout.strip()
    registry = f"{HOST}:{port}"
    operator.login(registry, PASSWORD)
    target = f"{registry}/library/offline:1"
    operator.docker("tag", busybox_image(docker_client), target)
    operator.docker("push", target)
    operator.docker("rmi", target)
    operator.docker("pull", target)
    assert json.loads(operator.harborctl("status", "--json").stdout)["ok"] is True

