"""Harbor 2.15's render is accepted by the real programs that read it, run on this host: nginx
(the proxy and the portal), the distribution registry (htpasswd with harborctl's bcrypt line,
basic auth from core's env), docker-compose's own reading of docker-compose.yml. Paths and
upstream host names that only exist inside the containers are pointed at test folders and
127.0.0.1; nothing else of the rendered files is changed."""

from __future__ import annotations

import base64
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from harborctl.engine.compose.syntax import parse_env_file
from harborctl.plan.v2 import plan_deployment_v2
from tests.conftest import require_program
from tests.unit.yml.v2_support import FIXED, PROJECT, config_of, deployment_of, project_files

pytestmark = [pytest.mark.validators]
HOSTS = ("core", "portal", "jobservice", "registry", "exporter")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(folder: Path, stem: str) -> None:
    subprocess.run([require_program("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", f"/CN={stem}", "-days", "2", "-keyout", str(folder / f"{stem}.key"),
                    "-out", str(folder / f"{stem}.crt")], check=True, capture_output=True)


def _nginx_check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    certs = tmp_path / "certs"
    certs.mkdir(exist_ok=True)
    for stem in ("server", "proxy", "portal", "harbor_internal_ca"):
        _self_signed(certs, stem)
    (tmp_path / "conf.d").mkdir(exist_ok=True)
    for host in HOSTS:
        text = text.replace(f"server {host}:", "server 127.0.0.1:")
    text = (text.replace("/etc/cert/", f"{certs}/").replace("/etc/harbor/tls/", f"{certs}/")
            .replace("/harbor_cust_cert/", f"{certs}/")
            .replace("/etc/nginx/conf.d/", f"{tmp_path}/conf.d/")
            .replace("pid /tmp/nginx.pid", f"pid {tmp_path}/nginx.pid"))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    return subprocess.run([require_program("nginx"), "-t", "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True)


@pytest.mark.parametrize("case", ["http", "https", "internal-tls", "metrics"])
def test_nginx_accepts_the_proxy_config(tmp_path: Path, case: str) -> None:
    rendered = project_files(case)["common/config/nginx/nginx.conf"].decode()
    result = _nginx_check(tmp_path, rendered)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("case", ["http", "internal-tls"])
def test_nginx_accepts_the_portal_config(tmp_path: Path, case: str) -> None:
    rendered = project_files(case)["common/config/portal/nginx.conf"].decode()
    result = _nginx_check(tmp_path, rendered)
    assert result.returncode == 0, result.stderr


def test_the_nginx_check_can_fail(tmp_path: Path) -> None:
    rendered = project_files("http")["common/config/nginx/nginx.conf"].decode()
    assert _nginx_check(tmp_path, rendered.replace("listen 8080;", "listen 8080")).returncode


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    server = subprocess.Popen([require_program("redis-server"), "--port", str(port), "--save",
                               "", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(10)


def _get(url: str, auth: str | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_registry_takes_cores_credential_through_the_rendered_htpasswd(
        tmp_path: Path, redis_port: int) -> None:
    pytest.importorskip("bcrypt")
    from dataclasses import replace

    from harborctl.secrets_v2 import htpasswd_line

    password = "a-fresh-registry-password-0123456"[:32]
    secrets = replace(FIXED, registry_password=password, registry_htpasswd=htpasswd_line(password))
    deployment = plan_deployment_v2(config_of("http"), secrets, PROJECT)
    files = {str(f.path.relative_to(PROJECT)): f.content for f in deployment.files
             if f.path.is_relative_to(PROJECT)}
    (tmp_path / "passwd").write_bytes(files["common/config/registry/passwd"])
    port, debug = _free_port(), _free_port()
    text = (files["common/config/registry/config.yml"].decode()
            .replace("rootdirectory\": \"/storage\"", f"rootdirectory\": \"{tmp_path}/storage\"")
            .replace("/etc/registry/passwd", f"{tmp_path}/passwd")
            .replace("addr: :5000", f"addr: 127.0.0.1:{port}")
            .replace("addr: localhost:5001", f"addr: 127.0.0.1:{debug}")
            .replace('addr: "redis:6379"', f'addr: "127.0.0.1:{redis_port}"'))
    (tmp_path / "config.yml").write_text(text)
    registry = subprocess.Popen([require_program("docker-registry"), "serve",
                                 str(tmp_path / "config.yml")],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                status, headers = _get(f"http://127.0.0.1:{port}/v2/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            registry.kill()
            pytest.fail((registry.stdout.read() if registry.stdout else b"").decode())
        assert status == 401
        assert headers["Www-Authenticate"] == 'Basic realm="harbor-registry-basic-realm"'
        core = parse_env_file(files["common/config/core/env"].decode())
        user, secret = core["REGISTRY_CREDENTIAL_USERNAME"], core["REGISTRY_CREDENTIAL_PASSWORD"]
        assert _get(f"http://127.0.0.1:{port}/v2/", f"{user}:{secret}")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/v2/", f"{user}:wrong")[0] == 401
    finally:
        registry.terminate()
        registry.wait(10)


@pytest.mark.parametrize("case", ["http", "internal-tls", "external-db-redis", "metrics"])
def test_docker_compose_reads_the_rendered_compose_file(tmp_path: Path, case: str) -> None:
    for name, content in project_files(case).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    result = subprocess.run([require_program("docker-compose"), "-f",
                             str(tmp_path / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "harbor-core" in result.stdout
    assert len(deployment_of(case).services) == result.stdout.count("container_name:")
