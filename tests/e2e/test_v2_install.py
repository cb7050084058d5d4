"""Harbor 2.15 end to end on the real engine, with the 2.15 look-alike images (tests/images,
goharbor/*:v2.15.2), as an operator does it: an unpacked bundle folder with
harbor.v2.15.2.tar.gz and a harbor.yml (no harbor.cfg), `./install.sh` (which sets up harborctl,
loads the images and installs) → every service healthy, docker
login/push/pull over http through nginx → core (token service, /v2/ authorised by core and
forwarded with the registry credential) → the registry (htpasswd), stop/start, a re-install
that changes nothing, one key changed → only the services that read it recreated, then https
with gencert and trust.

The tests share one deployment and run in order; everything is removed at the end."""

from __future__ import annotations

import json
import os
import re
import time
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
from tests.images.build import V2_RELEASE, ensure_images
from tests.images.bundle import make_bundle

pytestmark = pytest.mark.docker
HOST = "harbor2.e2e.test"
PASSWORD = "Op3rator-v2%#s3cret"
REPO_NAME = "library/smoke2"
VENV_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / \
    "harborctl-tests" / "e2e-v2-venv"
SERVICES = {"log", "registry", "registryctl", "postgresql", "core", "portal", "jobservice",
            "redis", "proxy"}


class State:
    http_port = free_port()
    https_port = free_port()
    metric_port = free_port()
    digest = ""


def harbor_yml(root: Path, https: bool = False, webhook_retries: int = 3,
               internal_tls: bool = False) -> str:
    """What an operator writes into harbor.yml (the keys Harbor's template marks required)."""
    https_block = (f"https:\n  port: {State.https_port}\n"
                   f"  certificate: {root}/data/cert/server.crt\n"
                   f"  private_key: {root}/data/cert/server.key\n") if https else ""
    if internal_tls:
        https_block += (f"internal_tls:\n  enabled: true\n  dir: {root}/internal-tls\n"
                        f"metric:\n  enabled: true\n  port: {State.metric_port}\n"
                        "  path: /metrics\n")
    return f"""_version: 2.15.0
hostname: {HOST}
http:
  port: {State.http_port}
{https_block}harbor_admin_password: "{PASSWORD}"
database:
  password: "Db-pass-e2e-v2"
  max_idle_conns: 100
  max_open_conns: 900
data_volume: {root}/data
jobservice:
  max_job_workers: 4
  job_loggers:
    - STD_OUTPUT
    - FILE
  logger_sweeper_duration: 1
notification:
  webhook_job_max_retry: {webhook_retries}
  webhook_job_http_client_timeout: 3
log:
  level: info
  local:
    rotate_count: 50
    rotate_size: 200M
    location: {root}/log
"""


class V2Operator(Operator):
    def install_sh(self, *args: str) -> Any:
        """./install.sh as the operator types it; its output must say Harbor is ready."""
        run = self.sh("./install.sh", *args)
        assert "Harbor is ready" in run.stdout, run.stdout + run.stderr
        return run

    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.harborctl("status", "--json", check=False).stdout))

    def container_ids(self) -> dict[str, str]:
        return {s["service"]: s["container_id"] for s in self.status()["services"]}


@pytest.fixture(scope="module")
def operator(docker_client: Any, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[V2Operator]:
    tags = ensure_images(docker_client, V2_RELEASE)
    root = tmp_path_factory.mktemp("e2e-v2")
    folder = root / "harbor"
    unpack_bundle(folder)
    # Stored, not compressed: still the gzip harborctl must read, without 10 s of deflate
    # each way (the 1.7.5 operator path loads a compressed one).
    make_bundle(docker_client, tags, folder, release=V2_RELEASE, compresslevel=0)
    for tag in tags:  # the operator's host has none of Harbor's images yet
        docker_client.images.remove(tag)
    (root / "docker-config").mkdir()
    op = V2Operator(folder, root / "docker-config", HOST)
    # harborctl's virtualenv, which install.sh makes, is kept between runs (HARBORCTL_VENV, as an
    # operator may set it; install.sh reinstalls when the sources' stamp differs): about 25 s of
    # pip each run otherwise. The 1.7.5 operator path makes one from nothing.
    op.env["HARBORCTL_VENV"] = str(VENV_CACHE)
    (folder / "harbor.yml").write_text(harbor_yml(root))
    add_hosts_entry(HOST)
    trust_dir = Path("/etc/docker/certs.d") / f"{HOST}:{State.https_port}"
    try:
        yield op
    finally:
        down = op.harborctl("down", check=False) if (VENV_CACHE / "bin/harborctl").exists() \
            else None
        remove_hosts_entries()
        for image in docker_client.images.list():  # the tags the pushes and pulls left behind
            for tag in image.tags:
                if tag.startswith(f"{HOST}:"):
                    docker_client.images.remove(tag)
        if trust_dir.exists():
            for child in trust_dir.iterdir():
                child.unlink()
            trust_dir.rmdir()
        leftovers = [c.name for c in docker_client.containers.list(
            all=True, filters={"label": "com.docker.compose.project=harbor"})]
        ensure_images(docker_client, V2_RELEASE)  # rebuilt only if the bundle never got loaded
        said = f"{down.stdout}{down.stderr}" if down else "(no harborctl: install.sh failed)"
        assert not leftovers, f"harborctl down left {leftovers}: {said}"


def registry(port: int) -> str:
    return f"{HOST}:{port}"


def test_install_sh_from_a_fresh_folder_with_harbor_yml_loads_the_bundle(
        operator: V2Operator) -> None:
    assert not (operator.folder / "harbor.cfg").exists()
    started = time.monotonic()
    run = operator.install_sh()
    print(f"\n./install.sh, fresh folder (bundle loaded): "
          f"{time.monotonic() - started:.1f} s")
    out = run.stdout + run.stderr
    assert "harbor.yml is valid" in out
    assert re.search(r"load", run.stdout, re.I) and V2_RELEASE in out, out
    assert f"Harbor is ready: http://{registry(State.http_port)}" in run.stdout
    assert f"docker login {registry(State.http_port)} -u admin" in run.stdout
    assert run.stdout.rstrip().endswith("Next, every service's state: harborctl status"), out
    status = operator.status()
    states = {s["service"]: (s["state"], s["health"]) for s in status["services"]}
    assert set(states) == SERVICES
    assert status["ok"] is True, states
    assert all(health == "healthy" for _, health in states.values()), states


def test_login_push_pull_over_http(operator: V2Operator, docker_client: Any) -> None:
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    wrong = operator.login(registry(State.http_port), "not-the-password", check=False)
    assert wrong.returncode != 0
    assert "unauthorized" in (wrong.stderr + wrong.stdout).lower()
    operator.login(registry(State.http_port), PASSWORD)
    State.digest = push_and_pull_back(operator, busybox_image(docker_client), target)
    base = f"http://{registry(State.http_port)}"
    ping = operator.curl(f"{base}/api/v2.0/ping")
    assert ping.stdout.strip() == "Pong"
    # core's own view: every service it reaches through the URLs harborctl rendered
    health = json.loads(operator.curl(f"{base}/api/v2.0/health").stdout)
    assert health["status"] == "healthy", health
    token = json.loads(operator.curl(
        "-u", f"admin:{PASSWORD}",
        f"{base}/service/token?service=harbor-registry&scope=registry:catalog:*").stdout)["token"]
    catalog = json.loads(operator.curl("-H", f"Authorization: Bearer {token}",
                                       f"{base}/v2/_catalog").stdout)
    assert REPO_NAME in catalog["repositories"]
    anonymous = operator.curl("-o", "/dev/null", "-w", "%{http_code}", f"{base}/v2/_catalog")
    assert anonymous.stdout == "401"
    portal = operator.curl("-o", "/dev/null", "-w", "%{http_code}", f"{base}/")
    assert portal.stdout == "200"


def test_stop_start_and_a_reinstall_that_changes_nothing(operator: V2Operator) -> None:
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    operator.harborctl("stop")
    assert {s["state"] for s in operator.status()["services"]} == {"exited"}
    down = operator.curl(f"http://{registry(State.http_port)}/v2/", check=False)
    assert down.returncode != 0
    operator.harborctl("start")
    operator.docker("rmi", target)
    operator.docker("pull", target)
    assert repo_digest(operator, target) == State.digest
    before = operator.container_ids()
    again = operator.install_sh("-c", "harbor.yml")
    assert "everything is up to date" in again.stdout, again.stdout
    assert operator.container_ids() == before


def test_one_key_changed_recreates_only_the_services_that_read_it(operator: V2Operator) -> None:
    root = operator.folder.parent
    before = operator.container_ids()
    # notification.webhook_job_max_retry is read by jobservice alone (jobservice/env)
    (operator.folder / "harbor.yml").write_text(harbor_yml(root, webhook_retries=5))
    operator.install_sh()
    after = operator.container_ids()
    changed = {name for name in SERVICES if after[name] != before[name]}
    assert changed == {"jobservice"}
    env = (operator.folder / "common/config/jobservice/env").read_text()
    assert "JOBSERVICE_WEBHOOK_JOB_MAX_RETRY=5" in env
    assert operator.status()["ok"] is True
    target = f"{registry(State.http_port)}/{REPO_NAME}:1"
    operator.docker("rmi", target)
    operator.docker("pull", target)


def test_https_with_gencert_and_trust(operator: V2Operator, docker_client: Any) -> None:
    root = operator.folder.parent
    cert_dir = root / "data" / "cert"
    (operator.folder / "harbor.yml").write_text(harbor_yml(root, https=True, webhook_retries=5))
    operator.harborctl("gencert", "--ip", "127.0.0.1")
    operator.install_sh()
    assert operator.status()["ok"] is True
    operator.harborctl("trust")
    ca_path = Path("/etc/docker/certs.d") / registry(State.https_port) / "ca.crt"
    assert ca_path.read_bytes() == (cert_dir / "ca.crt").read_bytes()
    secure = registry(State.https_port)
    operator.login(secure, PASSWORD)
    target = f"{secure}/{REPO_NAME}:2"
    push_and_pull_back(operator, busybox_image(docker_client), target)
    # the daemon skips verification on 127.0.0.0/8: prove the chain with curl, CA only
    ping = operator.curl("--cacert", str(cert_dir / "ca.crt"), f"https://{secure}/api/v2.0/ping")
    assert ping.stdout.strip() == "Pong"
    redirect = operator.curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                             f"http://{registry(State.http_port)}/v2/")
    assert redirect.stdout == f"308 https://{secure}/v2/"


def test_internal_tls_with_trivy_and_metrics(operator: V2Operator, docker_client: Any) -> None:
    """Every service talks TLS to the others, verified against the internal CA: core reaches
    each one through its rendered https URL, the proxy reaches core, portal and the exporter."""
    root = operator.folder.parent
    operator.harborctl("gencert", "-c", "harbor.yml", "--internal-tls",
                       "--out", str(root / "internal-tls"))
    (operator.folder / "harbor.yml").write_text(
        harbor_yml(root, https=True, webhook_retries=5, internal_tls=True))
    run = operator.install_sh("--with-trivy")
    assert f"Harbor is ready: https://{registry(State.https_port)}" in run.stdout
    status = operator.status()
    assert {s["service"] for s in status["services"]} == SERVICES | {"trivy-adapter", "exporter"}
    assert status["ok"] is True, status
    secure = registry(State.https_port)
    ca = str(root / "data" / "cert" / "ca.crt")
    health = json.loads(operator.curl("--cacert", ca, f"https://{secure}/api/v2.0/health").stdout)
    assert health["status"] == "healthy", health
    assert {c["name"] for c in health["components"]} >= {"registry", "jobservice", "trivy"}
    env = (operator.folder / "common/config/core/env").read_text()
    assert "REGISTRY_URL=https://registry:5443" in env
    operator.login(secure, PASSWORD)
    target = f"{secure}/{REPO_NAME}:3"
    push_and_pull_back(operator, busybox_image(docker_client), target)
    metrics = operator.curl(f"http://127.0.0.1:{State.metric_port}/metrics")
    assert "harbor_up" in metrics.stdout
