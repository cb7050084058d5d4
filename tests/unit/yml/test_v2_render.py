"""Harbor 2.15's deployment: golden trees per variant, and the keys each v2 service reads, read
back the way the service reads them (env files as compose passes them, YAML as the Go services
parse it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harborctl.engine.compose.syntax import parse_env_file
from harborctl.plan.harbor_2_15 import HARBOR_2_15
from tests.unit.golden_support import golden_tree
from tests.unit.yml.v2_support import (
    CASES,
    FIXED,
    PROJECT,
    REGISTRY_PASSWORD,
    config_of,
    deployment_of,
    project_files,
)

GOLDEN = Path(__file__).parent.parent / "golden-v2"


def _manifest(case: str) -> bytes:
    """Files planned outside the project (the data volume's secrets and copies): path, mode and
    owner only, as their content is secret."""
    lines = [f"{f.path} {oct(f.mode)} {f.owner}" for f in deployment_of(case).files
             if not f.path.is_relative_to(PROJECT)]
    return ("\n".join(sorted(lines)) + "\n").encode()


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_tree_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    files = {**project_files(case), "data-volume-files.txt": _manifest(case)}
    expected = golden_tree(GOLDEN / case, files, request)
    assert sorted(files) == sorted(expected)
    for name, content in files.items():
        assert content == expected[name], f"{case}/{name} differs from the golden file"


def env(case: str, name: str) -> dict[str, str]:
    return parse_env_file(project_files(case)[f"common/config/{name}"].decode())


def conf(case: str, name: str) -> dict[str, object]:
    loaded = yaml.safe_load(project_files(case)[f"common/config/{name}"])
    assert isinstance(loaded, dict)
    return loaded


def test_core_env_as_core_reads_it() -> None:
    core = env("http", "core/env")
    assert core["EXT_ENDPOINT"] == "http://harbor.example.com"
    assert core["_REDIS_URL_CORE"] == "redis://redis:6379?idle_timeout_seconds=30"
    assert core["_REDIS_URL_REG"] == "redis://redis:6379/1?idle_timeout_seconds=30"
    assert (core["POSTGRESQL_HOST"], core["POSTGRESQL_PORT"], core["POSTGRESQL_USERNAME"],
            core["POSTGRESQL_PASSWORD"], core["POSTGRESQL_DATABASE"]) == (
        "postgresql", "5432", "postgres", "db-pass-1", "registry")
    assert core["REGISTRY_CREDENTIAL_USERNAME"] == "harbor_registry_user"
    assert core["REGISTRY_CREDENTIAL_PASSWORD"] == REGISTRY_PASSWORD
    assert core["CORE_SECRET"] == FIXED.core_secret and core["CSRF_KEY"] == FIXED.csrf_key
    assert core["TOKEN_SERVICE_URL"] == "http://core:8080/service/token"
    assert core["CORE_LOCAL_URL"] == "http://127.0.0.1:8080" and core["PORT"] == "8080"
    assert core["WITH_TRIVY"] == "False" and core["QUOTA_UPDATE_PROVIDER"] == "db"
    assert "INTERNAL_TLS_ENABLED" not in core and "ADMINSERVER_URL" not in core
    assert env("https", "core/env")["EXT_ENDPOINT"] == "https://harbor.example.com"
    tls = env("internal-tls", "core/env")
    assert tls["CORE_URL"] == "https://core:8443" and tls["REGISTRY_URL"] == \
        "https://registry:5443"
    assert tls["INTERNAL_TLS_TRUST_CA_PATH"] == "/harbor_cust_cert/harbor_internal_ca.crt"
    external = env("external-db-redis", "core/env")
    assert external["POSTGRESQL_HOST"] == "db.example.com"
    assert external["POSTGRESQL_SSLMODE"] == "require"
    assert external["_REDIS_URL_REG"] == \
        "redis://:r3d%21s%20p%40ss@cache.example.com:6380/4?idle_timeout_seconds=30"
    metrics = env("metrics", "core/env")
    assert (metrics["METRIC_ENABLE"], metrics["METRIC_PORT"]) == ("true", "9090")


def test_registry_authenticates_core_by_htpasswd() -> None:
    registry = conf("http", "registry/config.yml")
    assert registry["auth"] == {"htpasswd": {"realm": "harbor-registry-basic-realm",
                                             "path": "/etc/registry/passwd"}}
    assert "notifications" not in registry
    assert registry["redis"]["addr"] == "redis:6379" and registry["redis"]["db"] == 1  # type: ignore[index]
    assert registry["storage"]["filesystem"] == {"rootdirectory": "/storage"}  # type: ignore[index]
    assert registry["http"]["addr"] == ":5000"  # type: ignore[index]
    passwd = project_files("http")["common/config/registry/passwd"]
    assert passwd == FIXED.registry_htpasswd
    bcrypt = pytest.importorskip("bcrypt")
    user, _, hashed = passwd.strip().partition(b":")
    assert user == b"harbor_registry_user"
    assert bcrypt.checkpw(env("http", "core/env")["REGISTRY_CREDENTIAL_PASSWORD"].encode(),
                          hashed)


def test_registry_storage_keeps_the_types_harbor_yml_gave() -> None:
    s3 = conf("s3", "registry/config.yml")["storage"]
    assert s3["s3"] == {"region": "eu-west-1", "bucket": "harbor-images",  # type: ignore[index]
                        "secure": True, "chunksize": 5242880, "accesskey": "AKIAEXAMPLE",
                        "secretkey": "s3-secret"}
    assert s3["maintenance"]["uploadpurging"] == {"enabled": True, "age": "168h",  # type: ignore[index]
                                                  "interval": "24h", "dryrun": False}
    files = project_files("s3")
    assert "common/config/shared/trust-certificates/storage_ca_bundle.crt" in files


def test_jobservice_config_as_jobservice_reads_it() -> None:
    job = conf("http", "jobservice/config.yml")
    assert job["protocol"] == "http" and job["port"] == 8080
    pool = job["worker_pool"]
    assert pool["workers"] == 10 and pool["redis_pool"]["redis_url"] == (  # type: ignore[index]
        "redis://redis:6379/2?idle_timeout_seconds=30")
    assert [logger["name"] for logger in job["job_loggers"]] == ["STD_OUTPUT", "FILE"]  # type: ignore[union-attr]
    assert job["reaper"] == {"max_update_hours": 24, "max_dangling_hours": 168}
    tls = conf("internal-tls", "jobservice/config.yml")
    assert tls["protocol"] == "https" and tls["https_config"] == {
        "cert": "/etc/harbor/ssl/job_service.crt", "key": "/etc/harbor/ssl/job_service.key"}
    jobenv = env("http", "jobservice/env")
    assert jobenv["REGISTRY_CREDENTIAL_PASSWORD"] == REGISTRY_PASSWORD
    assert jobenv["JOBSERVICE_WEBHOOK_JOB_MAX_RETRY"] == "3"


def test_registryctl_trivy_and_exporter() -> None:
    ctl = conf("internal-tls", "registryctl/config.yml")
    assert (ctl["protocol"], ctl["port"]) == ("https", 8443)
    assert ctl["registry_config"] == "/etc/registry/config.yml"
    trivy = env("trivy", "trivy-adapter/env")
    assert trivy["SCANNER_REDIS_URL"] == "redis://redis:6379/5?idle_timeout_seconds=30"
    assert trivy["SCANNER_TRIVY_IGNORE_UNFIXED"] == "True"
    assert trivy["SCANNER_TRIVY_TIMEOUT"] == "10m0s"
    assert trivy["HTTP_PROXY"] == "http://proxy.example.com:3128"
    assert trivy["NO_PROXY"].startswith(".corp.example.com,127.0.0.1,localhost")
    assert env("trivy", "core/env")["HTTP_PROXY"] == ""  # core is not a listed component
    assert env("trivy", "core/env")["WITH_TRIVY"] == "True"
    exporter = env("metrics", "exporter/env")
    assert exporter["HARBOR_DATABASE_PASSWORD"] == "db-pass-1"
    assert exporter["HARBOR_REDIS_URL"] == "redis://redis:6379/2?idle_timeout_seconds=30"


def test_nginx_routes() -> None:
    http = project_files("http")["common/config/nginx/nginx.conf"].decode()
    for location in ("location / {", "location /c/ {", "location /api/ {",
                     "location /service/ {", "location /v2/ {"):
        assert location in http
    assert "location /chartrepo/" not in http and "return 404;" in http
    assert "listen 8080;" in http and "ssl" not in http
    https = project_files("https")["common/config/nginx/nginx.conf"].decode()
    assert "listen 8443 ssl;" in https and "return 308 https://$host:443$request_uri;" in https
    tls = project_files("internal-tls")["common/config/nginx/nginx.conf"].decode()
    assert "proxy_pass https://core/v2/;" in tls and "proxy_ssl_verify on;" in tls
    metrics = project_files("metrics")["common/config/nginx/nginx.conf"].decode()
    assert "listen 9090;" in metrics and "server exporter:8080;" in metrics


def test_compose_services_per_variant() -> None:
    def services(case: str) -> list[str]:
        return list(deployment_of(case).services)

    assert services("http") == ["log", "registry", "registryctl", "postgresql", "core",
                                "portal", "jobservice", "redis", "proxy"]
    assert "postgresql" not in services("external-db-redis")
    assert "redis" not in services("external-db-redis")
    assert services("trivy")[-1] == "trivy-adapter" and services("metrics")[-1] == "exporter"
    compose = yaml.safe_load(project_files("metrics")["docker-compose.yml"])
    assert compose["services"]["proxy"]["ports"] == ["80:8080", "443:8443", "9090:9090"]
    assert compose["services"]["core"]["healthcheck"]["test"][1].startswith(
        "curl --fail -s http://127.0.0.1:8080/api/v2.0/ping")
    assert set(compose["services"]) == {s.name for s in HARBOR_2_15.enabled(config_of("metrics"))}


def test_secrets_land_where_2x_reads_them() -> None:
    files = {f.path: f for f in deployment_of("internal-tls").files}
    key = files[Path("/data/secret/keys/secretkey")]
    assert key.content == FIXED.secretkey.encode() and key.mode == 0o600 and key.secret
    token = files[Path("/data/secret/core/private_key.pem")]
    assert token.content.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert files[Path("/data/secret/cert/server.key")].mode == 0o600
    assert files[Path("/data/secret/tls/core.key")].mode == 0o600
    assert files[Path("/data/secret/tls/core.crt")].mode == 0o644
    masked = deployment_of("http").masked
    assert REGISTRY_PASSWORD in masked and "Adm1n-pass" in masked
