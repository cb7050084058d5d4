"""The operator's whole path, with only what an operator types: ./install.sh from an unpacked
bundle (images loaded from harbor.v1.7.5.tar.gz), docker login/push/pull against the hostname over
http and then https without insecure-registries, stop/start, reinstall, down and reinstall, and
chartmuseum — on non-default ports, against a hostname that resolves to 127.0.0.1.

The tests share one deployment and run in order."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.operator import (
    Operator,
    add_hosts_entry,
    busybox_image,
    free_port,
    push_and_pull_back,
    remove_hosts_entries,
    repo_digest,
    unpack_bundle,
)
from tests.images.build import ensure_images
from tests.images.bundle import make_bundle

pytestmark = pytest.mark.docker
HOST = "harbor.e2e.test"
PASSWORD = "Op3rator-s3cret%#"
REPO_NAME = "library/smoke"


class State:
    http_port = free_port()
    https_port = free_port()
    digest = ""
    secretkey = b""
    token_key = b""


@pytest.fixture(scope="module")
def operator(harbor_images: list[str], docker_client: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    root = tmp_path_factory.mktemp("e2e")
    folder = root / "harbor"
    unpack_bundle(folder)
    make_bundle(docker_client, harbor_images, folder)
    for tag in harbor_images:  # the operator's host has none of Harbor's images yet
        docker_client.images.remove(tag)
    (root / "docker-config").mkdir()
    op = Operator(folder, root / "docker-config", HOST)
    op.sh("cp", "harbor.cfg.example", "harbor.cfg")
    op.set_config(hostname=HOST, http_port=str(State.http_port), harbor_admin_password=PASSWORD,
                  db_password="Db-pass-e2e", data_volume=f"{root}/data",
                  secretkey_path=f"{root}/data", log_location=f"{root}/log",
                  ssl_cert=f"{root}/data/cert/server.crt",
                  ssl_cert_key=f"{root}/data/cert/server.key")
    add_hosts_entry(HOST)
    trust_dir = Path("/etc/docker/certs.d") / f"{HOST}:{State.https_port}"
    try:
        yield op
    finally:
        op.harborctl("down", check=False)
        remove_hosts_entries()
        for image in docker_client.images.list():  # the tags the pushes and pulls left behind
            for tag in image.tags:
                if tag.startswith(f"{HOST}:"):
                    docker_client.images.remove(tag)
        if trust_dir.exists():
            for child in trust_dir.iterdir():
                child.unlink()
            trust_dir.rmdir()
        ensure_images(docker_client)  # rebuilt only if the bundle never got loaded


def registry(port: int) -> str:
    return f"{HOST}:{port}"


def test_install_sh_from_a_fresh_folder_loads_the_bundle(operator: Operator) -> None:
    run = operator.sh("./install.sh")
    out = run.stdout
    assert "Step 1: images" in out
    assert re.search(r"load", out, re.I), out
    assert f"Harbor is ready: http://{registry(State.http_port)}" in out
    assert f"docker login {registry(State.http_port)} -u admin" in out
    # what install.sh says to type next is `harborctl status`, by name (it is on the PATH)
    assert out.rstrip().endswith("Next, every service's state: harborctl status"), out
    status = json.loads(operator.harborctl("status", "--json").stdout)
    assert status["ok"] is True and len(status["services"]) == 10
    State.secretkey = (operator.folder.parent / "data" / "secretkey").read_bytes()
    State.token_key = (operator.folder / "common/config/core/private_key.pem").read_bytes()


def test_login_push_pull_over_http(operator: Operator, docker_client: Any) -> None:
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    wrong = operator.login(registry(State.http_port), "not-the-password", check=False)
    assert wrong.returncode != 0
    assert "unauthorized" in (wrong.stderr + wrong.stdout).lower()
    operator.login(registry(State.http_port), PASSWORD)
    State.digest = push_and_pull_back(operator, busybox_image(docker_client), target)
    base = f"http://{registry(State.http_port)}"
    token = json.loads(operator.curl(
        "-u", f"admin:{PASSWORD}",
        f"{base}/service/token?service=harbor-registry&scope=registry:catalog:*").stdout)["token"]
    catalog = json.loads(operator.curl("-H", f"Authorization: Bearer {token}",
                                       f"{base}/v2/_catalog").stdout)
    assert REPO_NAME in catalog["repositories"]
    portal = operator.curl("-o", "/dev/null", "-w", "%{http_code}", f"{base}/")
    assert portal.stdout == "200"


def test_stop_start_and_reinstall_keep_everything(operator: Operator) -> None:
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    operator.harborctl("stop")
    status = json.loads(operator.harborctl("status", "--json", check=False).stdout)
    assert {s["state"] for s in status["services"]} == {"exited"}
    down = operator.curl(f"http://{registry(State.http_port)}/v2/", check=False)
    assert down.returncode != 0
    operator.harborctl("start")
    operator.docker("rmi", target)
    operator.docker("pull", target)
    assert repo_digest(operator, target) == State.digest
    before = {s["service"]: s["container_id"] for s in
              json.loads(operator.harborctl("status", "--json").stdout)["services"]}
    again = operator.sh("./install.sh")
    assert "10 noop" in again.stdout
    after = {s["service"]: s["container_id"] for s in
             json.loads(operator.harborctl("status", "--json").stdout)["services"]}
    assert after == before
    assert (operator.folder.parent / "data" / "secretkey").read_bytes() == State.secretkey


def test_down_then_install_still_pulls(operator: Operator) -> None:
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    operator.harborctl("down")
    operator.sh("./install.sh")
    operator.docker("rmi", target)
    operator.docker("pull", target)
    assert repo_digest(operator, target) == State.digest
    assert (operator.folder.parent / "data" / "secretkey").read_bytes() == State.secretkey
    token_key = (operator.folder / "common/config/core/private_key.pem").read_bytes()
    assert token_key == State.token_key


def test_https_without_insecure_registries(operator: Operator, docker_client: Any) -> None:
    cert_dir = operator.folder.parent / "data" / "cert"
    operator.set_config(ui_url_protocol="https", https_port=str(State.https_port))
    made = operator.harborctl("gencert", "--ip", "127.0.0.1")
    assert "created" in made.stdout
    operator.sh("./install.sh")
    trusted = operator.harborctl("trust")
    ca_path = Path("/etc/docker/certs.d") / registry(State.https_port) / "ca.crt"
    assert ca_path.read_bytes() == (cert_dir / "ca.crt").read_bytes()
    assert str(ca_path) in trusted.stdout
    daemon_json = Path("/etc/docker/daemon.json")
    assert not daemon_json.exists() or "insecure-registries" not in daemon_json.read_text()
    secure = registry(State.https_port)
    operator.login(secure, PASSWORD)
    target = f"{secure}/{REPO_NAME}:2"
    push_and_pull_back(operator, busybox_image(docker_client), target)
    # The docker daemon does not verify certificates of registries on 127.0.0.0/8: prove the
    # chain with clients that do, trusting only the generated CA.
    ping = operator.curl("--cacert", str(cert_dir / "ca.crt"), f"https://{secure}/api/ping")
    assert ping.stdout.strip().lower().startswith("pong")
    handshake = operator.sh("openssl", "s_client", "-connect", secure, "-servername", HOST,
                            "-verify_return_error", "-CAfile", str(cert_dir / "ca.crt"),
                            stdin="", check=False)
    assert "Verify return code: 0 (ok)" in handshake.stdout, handshake.stdout + handshake.stderr
    redirect = operator.curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                             f"http://{registry(State.http_port)}/v2/")
    assert redirect.stdout == f"308 https://{secure}/v2/"


def test_chartmuseum_joins_and_core_flow_still_works(operator: Operator,
                                                     docker_client: Any) -> None:
    secure = registry(State.https_port)
    run = operator.sh("./install.sh", "--with-chartmuseum")
    assert "component chartmuseum" in run.stdout or "chartmuseum" in run.stdout
    status = json.loads(operator.harborctl("status", "--json").stdout)
    services = {s["service"]: s for s in status["services"]}
    assert services["chartmuseum"]["health"] == "healthy"
    assert status["ok"] is True
    network = docker_client.networks.get("harbor_harbor-chartmuseum")
    attached = {c.name for c in network.containers}
    assert {"chartmuseum", "harbor-core", "redis"} <= attached
    target = f"{secure}/{REPO_NAME}:2"
    operator.docker("rmi", target)
    operator.docker("pull", target)
    remembered = operator.sh("./install.sh")
    assert "10 noop" not in remembered.stdout and "11 noop" in remembered.stdout
