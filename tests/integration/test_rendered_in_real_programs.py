"""What prepare renders is accepted by the real programs that read it: nginx, the distribution
registry, PostgreSQL, logrotate — each given the rendered files exactly as the deployment mounts
them."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harborctl.cli.app import cli
from harborctl.engine.compose.syntax import read_env_file
from tests.cli_runner import cli_runner
from tests.conftest import require_program
from tests.unit.prepare_support import prepare_file, write_config

pytestmark = [pytest.mark.docker, pytest.mark.validators]
UPSTREAMS = {"core": "127.0.0.1", "portal": "127.0.0.1", "notary-server": "127.0.0.1"}


def prepared(tmp_path: Path, extra: str = "", https: bool = False) -> Path:
    cfg = write_config(tmp_path, extra=extra)
    if https:
        text = cfg.read_text() + (f"ui_url_protocol = https\n"
                                  f"ssl_cert = {tmp_path}/cert/server.crt\n"
                                  f"ssl_cert_key = {tmp_path}/cert/server.key\n")
        cfg.write_text(text)
        made = cli_runner().invoke(cli, ["gencert", "-c", str(cfg)])
        assert made.exit_code == 0, made.output
    prepare_file(cfg, tmp_path, token_bits=2048)
    return tmp_path / "common" / "config"


def wait_exit(container: Any, timeout: float = 60) -> int:
    return int(container.wait(timeout=timeout)["StatusCode"])


@pytest.mark.parametrize(("https", "extra"), [(False, ""), (True, ""),
                                              (True, "with_notary = on\n")],
                         ids=["http", "https", "https-notary"])
def test_nginx_accepts_rendered_config(tmp_path: Path, harbor_images: list[str],
                                       run_container: Any, https: bool, extra: str) -> None:
    config = prepared(tmp_path, extra, https)
    container = run_container("goharbor/nginx-photon:v1.7.5", command=["nginx", "-t"],
                              volumes={str(config / "nginx"): {"bind": "/etc/nginx", "mode": "ro"}},
                              extra_hosts=UPSTREAMS)
    code = wait_exit(container)
    logs = container.logs().decode()
    assert code == 0, logs
    assert "syntax is ok" in logs and "test is successful" in logs


def test_nginx_check_can_fail(tmp_path: Path, harbor_images: list[str],
                              run_container: Any) -> None:
    config = prepared(tmp_path)
    nginx_conf = config / "nginx" / "nginx.conf"
    nginx_conf.write_text(nginx_conf.read_text().replace("listen 80;", "listen 80"))
    container = run_container("goharbor/nginx-photon:v1.7.5", command=["nginx", "-t"],
                              volumes={str(config / "nginx"): {"bind": "/etc/nginx", "mode": "ro"}},
                              extra_hosts=UPSTREAMS)
    assert wait_exit(container) != 0


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_registry_serves_v2_with_rendered_token_auth(tmp_path: Path, harbor_images: list[str],
                                                     run_container: Any) -> None:
    config = prepared(tmp_path)
    storage = tmp_path / "data" / "registry"
    container = run_container(
        "goharbor/registry-photon:v2.6.2-v1.7.5",
        volumes={str(config / "registry"): {"bind": "/etc/registry", "mode": "ro"},
                 str(storage): {"bind": "/storage", "mode": "rw"}},
        ports={"5000/tcp": ("127.0.0.1", None)},
    )
    deadline = time.monotonic() + 30
    status, headers = 0, {}
    while time.monotonic() < deadline:
        container.reload()
        assert container.status != "exited", container.logs().decode()
        ports = container.attrs["NetworkSettings"]["Ports"].get("5000/tcp")
        if ports:
            try:
                status, headers = _get(f"http://127.0.0.1:{ports[0]['HostPort']}/v2/")
                break
            except OSError:
                pass
        time.sleep(0.2)
    assert status == 401, container.logs().decode()
    challenge = headers.get("Www-Authenticate", "")
    assert 'realm="http://harbor.example.com/service/token"' in challenge
    assert 'service="harbor-registry"' in challenge


def test_postgresql_starts_with_rendered_env(tmp_path: Path, harbor_images: list[str],
                                             run_container: Any) -> None:
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace("db-pass-1", "pa ss'w#rd%"))
    prepare_file(cfg, tmp_path, token_bits=2048)
    env = read_env_file(tmp_path / "common/config/db/env")
    assert env == {"POSTGRES_PASSWORD": "pa ss'w#rd%"}
    container = run_container("goharbor/harbor-db:v1.7.5", environment=env,
                              volumes={str(tmp_path / "data/database"):
                                       {"bind": "/var/lib/postgresql/data", "mode": "rw"}})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        container.reload()
        health = container.attrs["State"].get("Health", {}).get("Status")
        if health == "healthy" or container.status == "exited":
            break
        time.sleep(0.2)
    assert health == "healthy", container.logs().decode()
    probe = container.exec_run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "registry", "-tAc", "select 1"],
        environment={"PGPASSWORD": "pa ss'w#rd%"})
    assert probe.exit_code == 0 and probe.output.strip() == b"1", probe.output
    wrong = container.exec_run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "select 1"],
                               environment={"PGPASSWORD": "wrong"})
    assert wrong.exit_code != 0


def test_logrotate_accepts_rendered_config(tmp_path: Path) -> None:
    logrotate = require_program("logrotate")
    config = prepared(tmp_path)
    run = subprocess.run([logrotate, "--debug", str(config / "log/logrotate.conf")],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "rotating pattern: /var/log/docker/*.log" in run.stderr


def test_redis_addresses_reach_a_real_redis(tmp_path: Path, harbor_images: list[str],
                                            run_container: Any, docker_client: Any) -> None:
    """An external redis with a password full of URL-special characters: the rendered registry
    settings, jobservice URL and core's URLs all authenticate against a real redis-server."""
    import uuid

    import yaml

    password = "p@ss:w/rd%#?x"
    cfg = write_config(tmp_path, extra=f"redis_host = cache.test\nredis_password = {password}\n"
                                       "redis_db_index = 4,5,6\n")
    prepare_file(cfg, tmp_path, token_bits=2048)
    config = tmp_path / "common" / "config"
    network = docker_client.networks.create(f"hctredis{uuid.uuid4().hex[:8]}",
                                            labels={"harborctl.test": "1"})
    started: list[Any] = []
    try:
        server = run_container("goharbor/redis-photon:v1.7.5",
                               command=["--requirepass", password, "--save", ""],
                               network=network.name)
        started.append(server)
        network.disconnect(server)
        network.connect(server, aliases=["cache.test"])
        registry = yaml.safe_load((config / "registry/config.yml").read_text())["redis"]
        jobs = yaml.safe_load((config / "jobservice/config.yml").read_text())
        core = read_env_file(config / "core/env")
        host, port = registry["addr"].split(":")
        # The Go clients of jobservice and core send the password of "redis://:PW@host" with an
        # empty user name; redis-cli 7 skips AUTH for an empty user, so it is given "default"
        # (the same account) - the percent-decoding of the password is what is checked here.

        def for_cli(url: str) -> str:
            assert url.startswith("redis://:"), url
            return url.replace("redis://:", "redis://default:", 1)

        probes = [
            ["redis-cli", "-h", host, "-p", port, "--user", "default", "--pass",
             registry["password"], "-n", str(registry["db"]), "ping"],
            ["redis-cli", "-u", for_cli(jobs["worker_pool"]["redis_pool"]["redis_url"]), "ping"],
            ["redis-cli", "-u", for_cli(core["_REDIS_URL_REG"]), "ping"],
        ]
        # core's own form is "host:port,pool size,password"
        core_host, pool, core_password = core["_REDIS_URL"].split(",", 2)
        assert (core_host, pool, core_password) == ("cache.test:6379", "100", password)
        client = run_container("goharbor/redis-photon:v1.7.5", entrypoint=["sleep", "60"],
                               network=network.name)
        started.append(client)
        for probe in probes:
            deadline = time.monotonic() + 20
            while True:
                out, _ = client.exec_run([*probe[:1], "--no-auth-warning", *probe[1:]],
                                         demux=True).output
                if (out or b"").strip() == b"PONG" or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert (out or b"").strip() == b"PONG", (probe, out)
        wrong, _ = client.exec_run(["redis-cli", "--no-auth-warning", "-h", "cache.test", "-a",
                                    "wrong", "ping"], demux=True).output
        assert b"PONG" not in (wrong or b"")
    finally:
        for container in started:
            container.remove(force=True)
        network.remove()
