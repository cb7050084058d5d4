"""The Harbor 2.15 look-alikes (tests/images, goharbor/*:v2.15.2) fail loudly on a wrong render:
each stand-in is fed what harborctl renders (its env file, config files, the internal TLS
layout), with one thing removed or wrong, and must exit non-zero with a `FATAL:` sentence that
names it. The controls (the same render, nothing wrong) come up healthy.

Every container and network is labelled harborctl.test=1 and removed at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harborctl.engine.compose.syntax import parse_env_file
from harborctl.plan.v2 import plan_deployment_v2
from tests.images.build import V2_RELEASE, ensure_images, image_tags
from tests.integration.test_images import Lab, wait_exit, wait_healthy, write
from tests.unit.yml.support import check, formatted
from tests.unit.yml.v2_support import BASE, CASES, FIXED, PROJECT

pytestmark = pytest.mark.docker
CA_FILE = Path(__file__).parent.parent / "unit" / "data" / "internal-tls" / \
    "harbor_internal_ca.crt"
TRUST_CA = "/harbor_cust_cert/harbor_internal_ca.crt"


@pytest.fixture(scope="module")
def v2_tags(docker_client: docker.DockerClient) -> dict[str, str]:
    built = ensure_images(docker_client, V2_RELEASE)
    wanted = image_tags(V2_RELEASE)
    assert sorted(built) == sorted(wanted.values())
    return wanted


@pytest.fixture
def lab(docker_client: docker.DockerClient, v2_tags: dict[str, str]) -> Iterator[Lab]:
    lab = Lab(docker_client, v2_tags)
    yield lab
    lab.close()


class Render:
    """harborctl's render of one harbor.yml case, written under a test folder."""

    def __init__(self, case: str, folder: Path) -> None:
        text, with_trivy = CASES[case]
        result = check(BASE + text, with_trivy=with_trivy)
        assert result.config is not None, formatted(result)
        deployment = plan_deployment_v2(result.config, FIXED, PROJECT,
                                        server_cert=(b"SERVER CERT\n", b"SERVER KEY\n"))
        self.folder = folder
        self.files = {str(f.path.relative_to(PROJECT)): f.content for f in deployment.files
                      if f.path.is_relative_to(PROJECT)}

    def env(self, service: str, **changes: str | None) -> dict[str, str]:
        """common/config/<service>/env as the engine passes it, with keys changed or removed."""
        env = parse_env_file(self.files[f"common/config/{service}/env"].decode())
        for key, value in changes.items():
            assert key in env, f"{service}/env has no {key}: the test would prove nothing"
            if value is None:
                del env[key]
            else:
                env[key] = value
        return env

    def file(self, name: str, replace: tuple[str, str] | None = None) -> str:
        """Write common/config/<name> (readable by the services' uid) and return its path."""
        content = self.files[f"common/config/{name}"]
        if replace is not None:
            assert replace[0].encode() in content, f"{name} has no {replace[0]!r}"
            content = content.replace(replace[0].encode(), replace[1].encode())
        return str(write(self.folder / "common" / "config" / name, content, 0o644))


def bind(source: str | Path, target: str, mode: str = "ro") -> dict[str, dict[str, str]]:
    return {str(source): {"bind": target, "mode": mode}}


def fails_loudly(container: Any, *words: str) -> str:
    code, logs = wait_exit(container, timeout=60)
    assert code != 0, logs
    assert "FATAL" in logs, logs
    for word in words:
        assert word in logs, logs
    return logs


# ---- nothing rendered at all ---------------------------------------------------------------


@pytest.mark.parametrize(("service", "message"), [
    ("core", "CONFIG_PATH"),
    ("jobservice", "CORE_SECRET"),
    ("registryctl", "CORE_SECRET"),
    ("trivy-adapter", "SCANNER_REDIS_URL"),
    ("exporter", "HARBOR_EXPORTER_PORT"),
    ("portal", "/etc/nginx/nginx.conf is missing"),
    ("registry", "/etc/registry/config.yml is missing"),
])
def test_v2_stand_ins_fail_loudly_without_their_inputs(lab: Lab, service: str,
                                                       message: str) -> None:
    fails_loudly(lab.run(service), message)


# ---- one key missing or wrong in a rendered env file ----------------------------------------


@pytest.mark.parametrize(("service", "case", "changes", "message"), [
    ("core", "http", {"REGISTRY_CREDENTIAL_PASSWORD": None}, "REGISTRY_CREDENTIAL_PASSWORD"),
    ("core", "http", {"TOKEN_SERVICE_URL": None}, "TOKEN_SERVICE_URL"),
    ("core", "http", {"CSRF_KEY": FIXED.csrf_key[:31]}, "CSRF_KEY has 31 characters"),
    ("core", "http", {"WITH_TRIVY": "true"}, "WITH_TRIVY='true' is not True or False"),
    ("core", "http", {"PORT": "8443"}, "PORT=8443 but core listens on 8080"),
    ("core", "internal-tls", {"REGISTRY_URL": "http://registry:5000"},
     "REGISTRY_URL='http://registry:5000' uses http while internal TLS is on"),
    ("jobservice", "http", {"JOBSERVICE_SECRET": None}, "JOBSERVICE_SECRET"),
    ("registryctl", "http", {"JOBSERVICE_SECRET": None}, "JOBSERVICE_SECRET"),
    ("trivy-adapter", "trivy", {"SCANNER_JOB_QUEUE_REDIS_URL": None},
     "SCANNER_JOB_QUEUE_REDIS_URL"),
    ("trivy-adapter", "trivy", {"SCANNER_TRIVY_SKIP_UPDATE": "no"},
     "SCANNER_TRIVY_SKIP_UPDATE='no' is not a boolean"),
    ("trivy-adapter", "trivy", {"SCANNER_TRIVY_TIMEOUT": "10 minutes"}, "not a Go duration"),
    ("exporter", "metrics", {"HARBOR_DATABASE_PASSWORD": None}, "HARBOR_DATABASE_PASSWORD"),
    ("exporter", "metrics", {"HARBOR_SERVICE_SCHEME": "tcp"}, "HARBOR_SERVICE_SCHEME='tcp'"),
    ("exporter", "metrics", {"HARBOR_EXPORTER_METRICS_PATH": "metrics"},
     "does not start with /"),
])
def test_a_wrong_key_in_a_rendered_env_file_fails_loudly(
        lab: Lab, tmp_path: Path, service: str, case: str, changes: dict[str, str | None],
        message: str) -> None:
    render = Render(case, tmp_path)
    binds = bind(CA_FILE, TRUST_CA) if case == "internal-tls" else None
    fails_loudly(lab.run(service, environment=render.env(service, **changes), binds=binds),
                 message)


# ---- internal TLS: a service's pair missing --------------------------------------------------


def test_a_missing_internal_tls_pair_fails_loudly(lab: Lab, tmp_path: Path) -> None:
    """The internal-tls render with the internal CA in the trust folder but no service pair
    mounted: every TLS-serving stand-in names the file it lacks."""
    render = Render("internal-tls", tmp_path)
    ca = bind(CA_FILE, TRUST_CA)
    core = lab.run("core", environment=render.env("core"),
                   binds={**ca, **bind(render.file("core/app.conf"), "/etc/core/app.conf")})
    jobservice = lab.run("jobservice", environment=render.env("jobservice"), binds={
        **ca, **bind(render.file("jobservice/config.yml"), "/etc/jobservice/config.yml")})
    registryctl = lab.run("registryctl", environment=render.env("registryctl"), binds={
        **ca, **bind(render.file("registryctl/config.yml"), "/etc/registryctl/config.yml")})
    trivy = lab.run("trivy-adapter", environment=render.env("trivy-adapter"), binds=ca)
    portal = lab.run("portal", binds=bind(render.file("portal/nginx.conf"),
                                          "/etc/nginx/nginx.conf"))
    registry_conf = render.file("registry/config.yml")
    render.file("registry/passwd")
    registry = lab.run("registry", binds=bind(Path(registry_conf).parent, "/etc/registry"))
    fails_loudly(core, "core certificate /etc/harbor/ssl/core.crt is missing")
    fails_loudly(jobservice, "https_config.cert '/etc/harbor/ssl/job_service.crt' is not a file")
    fails_loudly(registryctl, "registryctl certificate /etc/harbor/ssl/registryctl.crt is missing")
    fails_loudly(trivy, "/etc/harbor/ssl/trivy_adapter.crt is missing")
    fails_loudly(portal, "nginx does not accept", "/etc/harbor/tls/portal.crt")
    code, logs = wait_exit(registry)  # the real registry: its own words, no FATAL line
    assert code != 0 and "/etc/harbor/tls/registry.crt" in logs, logs


def test_a_missing_internal_ca_fails_loudly(lab: Lab, tmp_path: Path) -> None:
    render = Render("internal-tls", tmp_path)
    core = lab.run("core", environment=render.env("core"),
                   binds=bind(render.file("core/app.conf"), "/etc/core/app.conf"))
    fails_loudly(core, f"internal CA certificate {TRUST_CA} is missing")


# ---- secrets and credentials that do not match, on a running stack ---------------------------


def token_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def core_binds(render: Render, folder: Path) -> dict[str, dict[str, str]]:
    secretkey = write(folder / "secretkey", FIXED.secretkey, 0o600)
    os.chown(secretkey, 10000, 10000)
    private_key = write(folder / "private_key.pem", token_key(), 0o600)
    os.chown(private_key, 10000, 10000)
    return {**bind(render.file("core/app.conf"), "/etc/core/app.conf"),
            **bind(private_key, "/etc/core/private_key.pem"), **bind(secretkey, "/etc/core/key")}


def test_secrets_and_credentials_that_do_not_match_fail_loudly(lab: Lab, tmp_path: Path) -> None:
    """The http render on a stack of the real database, redis and registry: core with a
    registry password that is not the htpasswd's, or a database password the database does not
    know, stops; jobservice with a JOBSERVICE_SECRET core does not know stops; unchanged, both
    come up healthy."""
    render = Render("http", tmp_path)
    storage = tmp_path / "storage"
    storage.mkdir()
    render.file("registry/passwd")
    registry_dir = Path(render.file("registry/config.yml")).parent
    lab.run("postgresql", environment=render.env("db"))
    lab.run("redis")
    registry = lab.run("registry", binds={**bind(registry_dir, "/etc/registry"),
                                          **bind(storage, "/storage", "rw")})
    wait_healthy(registry)
    binds = core_binds(render, tmp_path / "core")
    slow = {"HARBORCTL_TEST_WAIT": "60"}  # the database's first start
    wrong_db = lab.run("core", alias="core-wrong-db", environment={
        **render.env("core", POSTGRESQL_PASSWORD="not-the-db-password"), **slow}, binds=binds)
    fails_loudly(wrong_db, "password authentication failed")
    wrong_registry = lab.run("core", alias="core-wrong-registry", environment={
        **render.env("core", REGISTRY_CREDENTIAL_PASSWORD="x" * 32), **slow}, binds=binds)
    fails_loudly(wrong_registry, "refused REGISTRY_CREDENTIAL_USERNAME/_PASSWORD")
    core = lab.run("core", environment={**render.env("core"), **slow}, binds=binds)
    wait_healthy(core, timeout=60)

    job_binds = {**bind(render.file("jobservice/config.yml"), "/etc/jobservice/config.yml"),
                 **bind(tmp_path / "job_logs", "/var/log/jobs", "rw")}
    (tmp_path / "job_logs").mkdir()
    wrong_secret = lab.run("jobservice", alias="jobservice-wrong", binds=job_binds,
                           environment=render.env("jobservice",
                                                  JOBSERVICE_SECRET="NotCoresSecret01"))
    fails_loudly(wrong_secret, "refused JOBSERVICE_SECRET")
    wrong_credential = lab.run("jobservice", alias="jobservice-wrong-cred", binds=job_binds,
                               environment=render.env("jobservice",
                                                      REGISTRY_CREDENTIAL_PASSWORD="y" * 32))
    fails_loudly(wrong_credential, "refused REGISTRY_CREDENTIAL_USERNAME/_PASSWORD")
    jobservice = lab.run("jobservice", binds=job_binds, environment=render.env("jobservice"))
    wait_healthy(jobservice)
    assert "accepts JOBSERVICE_SECRET" in jobservice.logs().decode()
