"""Settings a real Harbor service reads, checked by a real program where one runs here: nginx
with the operator's conf.d hooks, the distribution registry with the filesystem options and the
custom CA bundle mounted as the deployment mounts them; chartmuseum (no real one runs here)
through its stand-in, which reads chartserver/env the way chartmuseum does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harborctl.engine.compose.syntax import read_env_file
from harborctl.tls.making import generate_ca
from tests.unit.prepare_support import prepare_file as prepare
from tests.unit.prepare_support import write_config

pytestmark = [pytest.mark.docker, pytest.mark.validators]
UPSTREAMS = {"core": "127.0.0.1", "portal": "127.0.0.1"}
PROXY = "goharbor/nginx-photon:v1.7.5"
REGISTRY = "goharbor/registry-photon:v2.6.2-v1.7.5"
CHARTMUSEUM = "goharbor/chartmuseum-photon:v0.8.1-v1.7.5"


def prepared(tmp_path: Path, extra: str) -> Path:
    cfg = write_config(tmp_path, extra=extra)
    prepare(cfg, tmp_path, token_bits=2048)
    return tmp_path / "common" / "config"


def wait_for(check: Any, container: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        result = check()
        if result:
            return result
        assert container.status != "exited", container.logs().decode()
        time.sleep(0.2)
    raise AssertionError(container.logs().decode())


def test_nginx_serves_the_operators_hook_and_logs_proxy_timings(
        tmp_path: Path, harbor_images: list[str], run_container: Any) -> None:
    config = prepared(tmp_path, "")
    hook = config / "nginx" / "conf.d" / "harbor.http.ops.conf"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text("location = /ops-hook {\n  return 204;\n}\n")
    mounts = {str(config / "nginx"): {"bind": "/etc/nginx", "mode": "ro"}}
    checked = run_container(PROXY, command=["nginx", "-t"], volumes=mounts,
                            extra_hosts=UPSTREAMS)
    assert checked.wait(timeout=60)["StatusCode"] == 0, checked.logs().decode()

    proxy = run_container(PROXY, volumes=mounts, extra_hosts=UPSTREAMS)

    def hook_answers() -> bool:
        code, out = proxy.exec_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "http://127.0.0.1:80/ops-hook"])
        return code == 0 and out == b"204"

    wait_for(hook_answers, proxy)
    # timed_combined: the request's line ends with $request_time $upstream_response_time.
    line = next(entry for entry in proxy.logs(stderr=False).decode().splitlines()
                if "/ops-hook" in entry)
    request_time, upstream_time = line.split()[-2:]
    assert float(request_time) >= 0 and upstream_time == "-", line


def test_registry_starts_with_filesystem_options_and_the_custom_ca(
        tmp_path: Path, harbor_images: list[str], run_container: Any) -> None:
    ca = generate_ca("Storage CA").cert_pem
    (tmp_path / "storage-ca.pem").write_bytes(ca)
    config = prepared(tmp_path, "registry_storage_provider_config = maxthreads: 50, "
                                "rootdirectory: /storage/images\n"
                                f"registry_custom_ca_bundle = {tmp_path}/storage-ca.pem\n")
    rendered = yaml.safe_load((config / "registry" / "config.yml").read_text())
    assert rendered["storage"]["filesystem"] == {"rootdirectory": "/storage/images",
                                                 "maxthreads": 50}
    compose = yaml.safe_load((tmp_path / "docker-compose.yml").read_text())
    volumes = {}
    for volume in compose["services"]["registry"]["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            volumes[str(tmp_path / source)] = {"bind": target, "mode": "ro"}
    volumes[str(tmp_path / "data" / "registry")] = {"bind": "/storage", "mode": "rw"}
    assert "/harbor_cust_cert/custom-ca-bundle.crt" in [v["bind"] for v in volumes.values()]
    registry = run_container(REGISTRY, volumes=volumes, ports={"5000/tcp": ("127.0.0.1", None)})

    def serves() -> bool:
        code, out = registry.exec_run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                       "http://127.0.0.1:5000/v2/"])
        return out == b"401"

    wait_for(serves, registry)
    # The CA joined the roots the registry's TLS client trusts.
    code, out = registry.exec_run(["openssl", "verify", "-CAfile",
                                   "/etc/ssl/certs/ca-certificates.crt",
                                   "/harbor_cust_cert/custom-ca-bundle.crt"])
    assert code == 0, out.decode()


def test_the_real_registry_refuses_what_validation_refuses(
        tmp_path: Path, harbor_images: list[str], run_container: Any) -> None:
    """harbor.cfg's check of maxthreads is the registry's own: a hand-edit to what validation
    refuses keeps the real registry from starting."""
    config = prepared(tmp_path, "registry_storage_provider_config = maxthreads: 50\n")
    path = config / "registry" / "config.yml"
    edited = path.read_text().replace('"maxthreads": 50', '"maxthreads": "many"')
    assert edited != path.read_text()
    path.write_text(edited)
    registry = run_container(REGISTRY, volumes={
        str(config / "registry"): {"bind": "/etc/registry", "mode": "ro"}})
    assert registry.wait(timeout=60)["StatusCode"] != 0
    assert "maxthreads" in registry.logs().decode()


GCS_KEY = '{"type": "service_account", "project_id": "example"}\n'


def _chartmuseum(run_container: Any, config: Path, env: dict[str, str],
                 mount_chartserver: bool = True) -> tuple[int, str]:
    volumes = {str(config / "chartserver"): {"bind": "/etc/chartserver", "mode": "ro"}}
    container = run_container(CHARTMUSEUM, environment={**env, "HARBORCTL_TEST_WAIT": "1"},
                              volumes=volumes if mount_chartserver else {})
    code = int(container.wait(timeout=60)["StatusCode"])
    return code, container.logs().decode()


def test_chartmuseum_reads_gcs_storage_and_its_key(tmp_path: Path, harbor_images: list[str],
                                                   run_container: Any) -> None:
    (tmp_path / "gcs.json").write_text(GCS_KEY)
    config = prepared(tmp_path, "with_chartmuseum = on\n"
                                "registry_storage_provider_name = gcs\n"
                                "registry_storage_provider_config = bucket: charts, "
                                f"keyfile: {tmp_path}/gcs.json\n")
    env = read_env_file(config / "chartserver" / "env")
    # Storage accepted, the stand-in goes on to its cache (no redis runs in this test).
    code, logs = _chartmuseum(run_container, config, env)
    assert code != 0 and "redis" in logs and "STORAGE" not in logs, logs
    code, logs = _chartmuseum(run_container, config, env, mount_chartserver=False)
    assert code != 0 and "GOOGLE_APPLICATION_CREDENTIALS" in logs, logs


def test_chartmuseum_refuses_missing_or_foreign_storage_settings(
        tmp_path: Path, harbor_images: list[str], run_container: Any) -> None:
    config = prepared(tmp_path, "with_chartmuseum = on\n"
                                "registry_storage_provider_name = s3\n"
                                "registry_storage_provider_config = region: eu-west-1, "
                                "bucket: charts\n")
    env = read_env_file(config / "chartserver" / "env")
    assert env["STORAGE"] == "amazon"
    code, logs = _chartmuseum(run_container, config, env)
    assert code != 0 and "redis" in logs and "STORAGE" not in logs, logs
    without_bucket = {k: v for k, v in env.items() if k != "STORAGE_AMAZON_BUCKET"}
    code, logs = _chartmuseum(run_container, config, without_bucket)
    assert code != 0 and "STORAGE_AMAZON_BUCKET is not set" in logs, logs
    code, logs = _chartmuseum(run_container, config, {**env, "STORAGE_LOCAL_ROOTDIR": "/x"})
    assert code != 0 and "STORAGE_LOCAL_ROOTDIR belongs to no setting" in logs, logs
