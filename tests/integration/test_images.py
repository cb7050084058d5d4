"""The test images (tests/images/) behave like Harbor's: real containers on a real engine.

Every container and network made here is labelled harborctl.test=1, has a unique name and is
removed at the end; the images stay (a warm run finds them and skips the build).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import io
import json
import os
import re
import socket
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.images.build import (
    COMPONENT_LABEL,
    RECIPE_LABEL,
    TEST_LABEL,
    ensure_images,
    image_tags,
)
from tests.images.bundle import make_bundle

pytestmark = pytest.mark.docker

# Harbor's capabilities: every service drops all and gets a few back.
CAPS = {
    "log": ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
    "postgresql": ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
    "portal": ["CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"],
    "proxy": ["CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"],
}
DEFAULT_CAPS = ["CHOWN", "SETGID", "SETUID"]


@pytest.fixture(scope="session")
def client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=300)
    yield client
    client.close()


@pytest.fixture(scope="session")
def tags(client: docker.DockerClient) -> dict[str, str]:
    built = ensure_images(client)
    wanted = image_tags()
    assert sorted(built) == sorted(wanted.values())
    return wanted


class Lab:
    """Containers on one user-defined network, all removed by close()."""

    def __init__(self, client: docker.DockerClient, tags: dict[str, str]) -> None:
        self.client = client
        self.tags = tags
        self.prefix = f"hct-img-{uuid.uuid4().hex[:8]}"
        self.network = client.networks.create(
            self.prefix, driver="bridge", labels={TEST_LABEL: "1"}
        )
        self.containers: list[Any] = []

    def run(self, service: str, *, alias: str | None = None, start: bool = True,
            **kwargs: Any) -> Any:
        """Create (and start) a container of a service's image, Harbor-style: all caps dropped
        but a few, the service name as network alias."""
        api = self.client.api
        name = f"{self.prefix}-{service}-{len(self.containers)}"
        host_config = api.create_host_config(
            cap_drop=["ALL"],
            cap_add=CAPS.get(service, DEFAULT_CAPS),
            binds=kwargs.pop("binds", None),
            port_bindings=kwargs.pop("ports", None),
        )
        networking = api.create_networking_config(
            {self.network.name: api.create_endpoint_config(aliases=[alias or service])}
        )
        ports = list(host_config.get("PortBindings", {}) or {})
        created = api.create_container(
            self.tags[service], name=name, labels={TEST_LABEL: "1"}, host_config=host_config,
            networking_config=networking, ports=[int(p.split("/")[0]) for p in ports] or None,
            **kwargs,
        )
        container = self.client.containers.get(created["Id"])
        self.containers.append(container)
        if start:
            container.start()
        return container

    def close(self) -> None:
        for container in reversed(self.containers):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        self.network.remove()


@pytest.fixture
def lab(client: docker.DockerClient, tags: dict[str, str]) -> Iterator[Lab]:
    lab = Lab(client, tags)
    yield lab
    lab.close()


def wait_healthy(container: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        container.reload()
        state = container.attrs["State"]
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy":
            return
        if state["Status"] == "exited" or time.monotonic() > deadline:
            logs = container.logs().decode(errors="replace")
            pytest.fail(f"{container.name} is {state['Status']}/{health}, not healthy:\n{logs}")
        time.sleep(0.2)


def wait_exit(container: Any, timeout: float = 20) -> tuple[int, str]:
    result = container.wait(timeout=timeout)
    return result["StatusCode"], container.logs().decode(errors="replace")


def exec_out(container: Any, command: list[str]) -> tuple[int, str]:
    code, output = container.exec_run(command)
    return code, output.decode(errors="replace")


def write(path: Path, text: str | bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    path.chmod(mode)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def token_pair() -> tuple[bytes, bytes, bytes]:
    """(PKCS#1 key, PKCS#8 key, self-signed certificate) in PEM, like harborctl generates."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-token-issuer")])
    now = time.time()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime.fromtimestamp(now - 60, datetime.UTC))
        .not_valid_after(datetime.datetime.fromtimestamp(now + 86400, datetime.UTC))
        .sign(key, hashes.SHA256())
    )
    pkcs1 = key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.TraditionalOpenSSL,
                              serialization.NoEncryption())
    pkcs8 = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    return pkcs1, pkcs8, cert.public_bytes(serialization.Encoding.PEM)


# ---------------------------------------------------------------------------------------------


def test_images_carry_labels_and_fast_health_checks(client: docker.DockerClient,
                                                    tags: dict[str, str]) -> None:
    for service, tag in tags.items():
        config = client.images.get(tag).attrs["Config"]
        labels = config.get("Labels") or {}
        assert labels.get(TEST_LABEL) == "1", tag
        assert labels.get(COMPONENT_LABEL) == service, tag
        assert labels.get(RECIPE_LABEL), tag
        health = config.get("Healthcheck")
        if service in ("jobservice", "redis"):
            assert not health, f"{tag}: the real image has no health check"
            continue
        assert health, f"{tag} has no health check"
        assert health["Interval"] <= 1_000_000_000, tag
    db_health = client.images.get(tags["postgresql"]).attrs["Config"]["Healthcheck"]["Test"]
    assert db_health == ["CMD", "/docker-healthcheck.sh"]


def test_database_initialises_with_the_password(lab: Lab, tmp_path: Path) -> None:
    data = tmp_path / "database"
    data.mkdir()
    db = lab.run("postgresql", environment={"POSTGRES_PASSWORD": "s3cret%pw"},
                 binds={str(data): {"bind": "/var/lib/postgresql/data", "mode": "rw"}})
    wait_healthy(db, timeout=40)
    code, out = exec_out(db, ["sh", "-c", "PGPASSWORD=$POSTGRES_PASSWORD psql -h 127.0.0.1 "
                                          "-U postgres -tAc 'SELECT datname FROM pg_database'"])
    assert code == 0, out
    assert {"registry", "notaryserver", "notarysigner", "postgres"} <= set(out.split())
    code, out = exec_out(db, ["sh", "-c", "PGPASSWORD=wrong psql -h 127.0.0.1 -U postgres "
                                          "-tAc 'SELECT 1'"])
    assert code != 0 and "password authentication failed" in out
    assert data.stat().st_uid == 999 and (data.stat().st_mode & 0o777) == 0o700
    started = time.monotonic()
    db.stop(timeout=10)
    assert time.monotonic() - started < 8, "the database did not stop on SIGTERM/SIGINT"


def test_database_without_password_fails_loudly(lab: Lab) -> None:
    code, logs = wait_exit(lab.run("postgresql"))
    assert code != 0
    assert "POSTGRES_PASSWORD is not set" in logs


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("adminserver", "EXT_ENDPOINT"),
        ("core", "CORE_SECRET"),
        ("jobservice", "CORE_SECRET"),
        ("registryctl", "CORE_SECRET"),
        ("chartmuseum", "PORT"),
        ("registry", "/etc/registry/config.yml is missing"),
    ],
)
def test_stand_ins_fail_loudly_without_their_inputs(lab: Lab, service: str, message: str) -> None:
    code, logs = wait_exit(lab.run(service))
    assert code != 0, logs
    assert "FATAL" in logs and message in logs, logs


def core_files(tmp_path: Path, key: bytes, secretkey: str | None = "0123456789abcdef") -> dict:
    conf = tmp_path / "core"
    app_conf = "appname = Harbor\nrunmode = dev\n\n[dev]\nhttpport = 8080\n"
    binds = {
        str(write(conf / "app.conf", app_conf)): {"bind": "/etc/core/app.conf", "mode": "ro"},
        str(write(conf / "private_key.pem", key)): {"bind": "/etc/core/private_key.pem",
                                                    "mode": "ro"},
    }
    if secretkey is not None:
        # As harborctl leaves it: private to Harbor's uid, which the services run as.
        key_file = write(tmp_path / "secretkey", secretkey, 0o600)
        os.chown(key_file, 10000, 10000)
        binds[str(key_file)] = {"bind": "/etc/core/key", "mode": "ro"}
    return binds


CORE_ENV = {
    "CORE_SECRET": "core-secret-0001",
    "JOBSERVICE_SECRET": "job-secret-0001",
    "ADMINSERVER_URL": "http://adminserver:8080",
    "_REDIS_URL": "redis:6379,100,",
    "_REDIS_URL_REG": "redis://redis:6379/1",
    "CONFIG_PATH": "/etc/core/app.conf",
    "HARBORCTL_TEST_WAIT": "5",
}


def test_core_refuses_to_start_without_its_key(lab: Lab, tmp_path: Path) -> None:
    pkcs1, pkcs8, _ = token_pair()
    code, logs = wait_exit(lab.run("core", environment=CORE_ENV,
                                   binds=core_files(tmp_path / "a", pkcs1, secretkey=None)))
    assert code != 0 and "/etc/core/key is missing" in logs, logs
    code, logs = wait_exit(lab.run("core", environment=CORE_ENV,
                                   binds=core_files(tmp_path / "b", pkcs8)))
    assert code != 0 and "PKCS#8" in logs, logs


def test_registry_serves_v2_with_a_minimal_config(lab: Lab, tmp_path: Path) -> None:
    config = write(tmp_path / "registry" / "config.yml",
                   "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /storage\n"
                   "http:\n  addr: :5000\n")
    storage = tmp_path / "storage"
    storage.mkdir()
    registry = lab.run("registry", binds={
        str(config.parent): {"bind": "/etc/registry", "mode": "ro"},
        str(storage): {"bind": "/storage", "mode": "rw"},
    })
    wait_healthy(registry)
    code, out = exec_out(registry, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                    "http://127.0.0.1:5000/v2/"])
    assert (code, out) == (0, "200")
    assert storage.stat().st_uid == 10000, "/storage was not given to the registry's uid"
    started = time.monotonic()
    registry.stop(timeout=10)
    assert time.monotonic() - started < 8, "the registry did not stop on SIGTERM"


def tiny_image(client: docker.DockerClient, tag: str) -> None:
    """A FROM-scratch image with one file: small enough to push and pull in a blink."""
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (("Dockerfile", b"FROM scratch\nCOPY hello /hello\n"),
                           ("hello", uuid.uuid4().hex.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=tag,
                        labels={TEST_LABEL: "1"}, rm=True)


def http_status(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def jwt_part(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def wait_for_log(container: Any, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in container.logs().decode(errors="replace"):
        assert time.monotonic() < deadline, f"{container.name} never logged {text!r}"
        time.sleep(0.2)


def check_registry_api_through_core(endpoint: str, admin_password: str) -> None:
    """The token core issues, then the registry API (GET, HEAD, DELETE) through core's /v2/."""
    basic = base64.b64encode(f"admin:{admin_password}".encode()).decode()
    status, body = http_status(
        f"http://{endpoint}/service/token?service=harbor-registry&account=admin"
        "&scope=repository:library/hello:pull,push,delete&scope=registry:catalog:*",
        {"Authorization": f"Basic {basic}"},
    )
    assert status == 200, body
    answer = json.loads(body)
    assert answer["token"] == answer["access_token"] and answer["expires_in"] == 30 * 60
    assert answer["issued_at"].endswith("Z")
    header, claims = jwt_part(answer["token"], 0), jwt_part(answer["token"], 1)
    assert header["alg"] == "RS256"
    assert re.fullmatch(r"([A-Z2-7]{4}:){11}[A-Z2-7]{4}", header["kid"]), header
    assert claims["iss"] == "harbor-token-issuer" and claims["aud"] == "harbor-registry"
    assert claims["sub"] == "admin" and claims["exp"] - claims["iat"] == 30 * 60
    assert {"type": "registry", "name": "catalog", "actions": ["*"]} in claims["access"]
    assert {"type": "repository", "name": "library/hello",
            "actions": ["pull", "push", "delete"]} in claims["access"]
    bearer = {"Authorization": f"Bearer {answer['token']}"}

    status, body = http_status(f"http://{endpoint}/v2/_catalog", bearer)
    assert status == 200 and "library/hello" in json.loads(body)["repositories"]
    manifest = f"http://{endpoint}/v2/library/hello/manifests/1"
    accept = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}
    request = urllib.request.Request(manifest, method="HEAD", headers={**bearer, **accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        digest = response.headers["Docker-Content-Digest"]
    assert digest.startswith("sha256:")
    request = urllib.request.Request(manifest.rsplit("/", 1)[0] + "/" + digest, method="DELETE",
                                     headers=bearer)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
    status, _ = http_status(manifest, {**bearer, **accept})
    assert status == 404


def test_push_and_pull_through_core_with_its_tokens(lab: Lab, client: docker.DockerClient,
                                                    tmp_path: Path) -> None:
    port = free_port()
    endpoint = f"127.0.0.1:{port}"
    pkcs1, _, cert = token_pair()
    admin_password = "Harbor%12345"
    db_password = "root%123"

    registry_dir = tmp_path / "registry"
    write(registry_dir / "root.crt", cert)
    write(registry_dir / "config.yml", f"""\
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /storage
  cache:
    layerinfo: redis
  delete:
    enabled: true
redis:
  addr: redis:6379
  db: 1
http:
  addr: :5000
  secret: placeholder-http-secret
auth:
  token:
    issuer: harbor-token-issuer
    realm: http://{endpoint}/service/token
    rootcertbundle: /etc/registry/root.crt
    service: harbor-registry
notifications:
  endpoints:
  - name: harbor
    disabled: false
    url: http://core:8080/service/notifications
    timeout: 3000ms
    threshold: 5
    backoff: 1s
""")
    storage = tmp_path / "storage"
    storage.mkdir()

    core_bind = core_files(tmp_path, pkcs1)  # also writes tmp_path/secretkey
    lab.run("postgresql", environment={"POSTGRES_PASSWORD": db_password})
    lab.run("redis")
    lab.run("registry", binds={str(registry_dir): {"bind": "/etc/registry", "mode": "ro"},
                               str(storage): {"bind": "/storage", "mode": "rw"}})
    lab.run("adminserver", environment={
        "PORT": "8080",
        "EXT_ENDPOINT": f"http://{endpoint}",
        "AUTH_MODE": "db_auth",
        "SELF_REGISTRATION": "on",
        "DATABASE_TYPE": "postgresql",
        "POSTGRESQL_HOST": "postgresql",
        "POSTGRESQL_PORT": "5432",
        "POSTGRESQL_USERNAME": "postgres",
        "POSTGRESQL_PASSWORD": db_password,
        "POSTGRESQL_DATABASE": "registry",
        "POSTGRESQL_SSLMODE": "disable",
        "REGISTRY_URL": "http://registry:5000",
        "TOKEN_SERVICE_URL": "http://core:8080/service/token",
        "HARBOR_ADMIN_PASSWORD": admin_password,
        "CORE_SECRET": CORE_ENV["CORE_SECRET"],
        "JOBSERVICE_SECRET": CORE_ENV["JOBSERVICE_SECRET"],
        "TOKEN_EXPIRATION": "30",
        "MAX_JOB_WORKERS": "10",
    }, binds={str(tmp_path / "secretkey"): {"bind": "/etc/adminserver/key", "mode": "ro"}})
    core = lab.run("core", environment={**CORE_ENV, "HARBORCTL_TEST_WAIT": "40"},
                   binds=core_bind, ports={"8080/tcp": ("127.0.0.1", port)})
    wait_healthy(core, timeout=60)

    status, body = http_status(f"http://{endpoint}/api/ping")
    assert (status, body) == (200, b"Pong")
    status, body = http_status(
        f"http://{endpoint}/service/token?service=harbor-registry&scope=repository:library/x:pull"
    )
    assert status == 401 and json.loads(body)["code"] == 401

    image = f"{endpoint}/library/hello"
    tiny_image(client, f"{image}:1")
    try:
        auth = {"username": "admin", "password": admin_password}
        with pytest.raises(docker.errors.APIError):
            client.login(registry=endpoint, username="admin", password="wrong", reauth=True)
        client.login(registry=endpoint, reauth=True, **auth)
        pushed = client.images.push(image, tag="1", auth_config=auth)
        assert '"error"' not in pushed, pushed
        client.images.remove(f"{image}:1")
        client.images.pull(image, tag="1", auth_config=auth)
        client.images.get(f"{image}:1")
        check_registry_api_through_core(endpoint, admin_password)
        wait_for_log(core, '"POST /service/notifications HTTP/1.1" 200')
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(f"{image}:1", force=True)
    assert any(storage.rglob("link")), "the registry stored nothing"


def test_the_other_services_come_up_with_rendered_inputs(lab: Lab, tmp_path: Path) -> None:
    secrets = {"CORE_SECRET": "core-secret-0002", "JOBSERVICE_SECRET": "job-secret-0002"}
    lab.run("redis")
    log = lab.run("log", binds={str(tmp_path / "logs"): {"bind": "/var/log/docker", "mode": "rw"}})
    write(tmp_path / "admin-key", "fedcba9876543210", 0o600)
    os.chown(tmp_path / "admin-key", 10000, 10000)
    adminserver = lab.run("adminserver", environment={
        "EXT_ENDPOINT": "https://harbor.example.test", "AUTH_MODE": "db_auth",
        "POSTGRESQL_HOST": "postgresql", "POSTGRESQL_PORT": "5432",
        "POSTGRESQL_USERNAME": "postgres", "POSTGRESQL_PASSWORD": "pw",
        "POSTGRESQL_DATABASE": "registry", "HARBOR_ADMIN_PASSWORD": "Harbor12345",
        "TOKEN_EXPIRATION": "30", "REGISTRY_URL": "http://registry:5000", **secrets,
    }, binds={str(tmp_path / "admin-key"): {"bind": "/etc/adminserver/key", "mode": "ro"}})
    job_logs = tmp_path / "job_logs"
    job_logs.mkdir()
    write(tmp_path / "jobservice" / "config.yml", """\
protocol: http
port: 8080
worker_pool:
  workers: 10
  backend: redis
  redis_pool:
    redis_url: redis://redis:6379/2
    namespace: harbor_job_service_namespace
job_loggers:
- name: FILE
  level: INFO
  settings:
    base_dir: /var/log/jobs
  sweeper:
    duration: 1
    settings:
      work_dir: /var/log/jobs
loggers:
- name: STD_OUTPUT
  level: INFO
admin_server: http://adminserver:8080/
""")
    jobservice = lab.run("jobservice", environment={**secrets, "CORE_URL": "http://core:8080"},
                         binds={str(tmp_path / "jobservice" / "config.yml"):
                                {"bind": "/etc/jobservice/config.yml", "mode": "ro"},
                                str(job_logs): {"bind": "/var/log/jobs", "mode": "rw"}})
    write(tmp_path / "registryctl" / "config.yml", "protocol: http\nport: 8080\nlog_level: info\n")
    write(tmp_path / "registry" / "config.yml",
          "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /storage\n"
          "http:\n  addr: :5000\n")
    registryctl = lab.run("registryctl", environment=secrets, binds={
        str(tmp_path / "registryctl" / "config.yml"):
            {"bind": "/etc/registryctl/config.yml", "mode": "ro"},
        str(tmp_path / "registry"): {"bind": "/etc/registry", "mode": "ro"},
    })
    chart_storage = tmp_path / "chart_storage"
    chart_storage.mkdir()
    chartmuseum = lab.run("chartmuseum", environment={
        "PORT": "9999", "STORAGE": "local", "STORAGE_LOCAL_ROOTDIR": "/chart_storage",
        "CACHE": "redis", "CACHE_REDIS_ADDR": "redis:6379", "CACHE_REDIS_DB": "3",
        "BASIC_AUTH_USER": "chart_controller", "BASIC_AUTH_PASS": secrets["CORE_SECRET"],
    }, binds={str(chart_storage): {"bind": "/chart_storage", "mode": "rw"}})
    portal = lab.run("portal")
    failing_portal = lab.run("portal", alias="failing-portal",
                             environment={"HARBORCTL_TEST_FAIL_HEALTH": "1"})
    write(tmp_path / "nginx" / "nginx.conf", """\
events {}
http {
    server {
        listen 80;
        location / { return 200 "proxy up\\n"; }
    }
}
""")
    proxy = lab.run("proxy", binds={str(tmp_path / "nginx"): {"bind": "/etc/nginx", "mode": "ro"}})
    bare_proxy = lab.run("proxy", alias="bare-proxy")

    for container in (log, adminserver, registryctl, chartmuseum, portal, proxy):
        wait_healthy(container)
    code, out = exec_out(adminserver, ["curl", "-s", "-H",
                                       f"Authorization: Harbor-Secret {secrets['CORE_SECRET']}",
                                       "http://127.0.0.1:8080/api/configs"])
    config = json.loads(out)
    assert config["admin_initial_password"] == "Harbor12345"
    assert config["token_expiration"] == 30 and config["ext_endpoint"].startswith("https://")
    code, out = exec_out(adminserver, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                       "http://127.0.0.1:8080/api/configs"])
    assert out == "401"
    code, out = exec_out(jobservice, ["curl", "-s", "--retry", "20", "--retry-connrefused",
                                      "--retry-delay", "1", "-H",
                                      f"Authorization: Harbor-Secret {secrets['CORE_SECRET']}",
                                      "http://127.0.0.1:8080/api/v1/stats"])
    assert code == 0 and "Healthy" in out, out + jobservice.logs().decode()
    assert job_logs.stat().st_uid == 10000
    assert chart_storage.stat().st_uid == 10000
    assert (tmp_path / "logs").stat().st_uid == 10000

    code, logs = wait_exit(bare_proxy)
    assert code != 0 and "/etc/nginx/nginx.conf" in logs, logs
    code, out = exec_out(failing_portal, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                          "http://127.0.0.1:80/"])
    assert out == "500"
    failing_portal.reload()
    probes = failing_portal.attrs["State"]["Health"]["Log"]
    assert probes and all(p["ExitCode"] != 0 for p in probes)
    started = time.monotonic()
    for container in (jobservice, adminserver, portal, proxy, log):
        container.stop(timeout=10)
    assert time.monotonic() - started < 10, "a service did not stop promptly on SIGTERM"


def test_offline_bundle_is_a_gzipped_docker_save(client: docker.DockerClient,
                                                tags: dict[str, str], tmp_path: Path) -> None:
    wanted = [tags["proxy"], tags["portal"]]
    bundle = make_bundle(client, wanted, tmp_path)
    assert bundle == tmp_path / "harbor.v1.7.5.tar.gz"
    with tarfile.open(bundle, "r:gz") as archive:
        manifest = json.load(archive.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert sorted(t for entry in manifest for t in entry["RepoTags"]) == sorted(wanted)
