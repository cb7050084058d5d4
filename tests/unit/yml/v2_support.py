"""The 2.15 deployment rendered in memory for a harbor.yml, with fixed secrets."""

from __future__ import annotations

from pathlib import Path

from harborctl.config.yml.model import Config2
from harborctl.plan.model import Deployment
from harborctl.plan.v2 import plan_deployment_v2
from harborctl.secrets_v2 import Secrets2
from tests.unit.yml.support import check, formatted

PROJECT = Path("/srv/harbor")
# A real bcrypt hash (cost 5) of REGISTRY_PASSWORD, made once with the bcrypt library.
REGISTRY_PASSWORD = "Rg9sY2xqT3pWbVh1S0d3cUxZaE5iZkRh"
FIXED = Secrets2(
    secretkey="SecretKey0123456", core_secret="CoreSecret012345",
    jobservice_secret="JobSecret0123456", registry_password=REGISTRY_PASSWORD,
    registry_htpasswd=b"harbor_registry_user:"
                      b"$2b$05$ejqqQgagh6dWVjQqJhaqaeHliQ1k5f18gNJHLwg9.kRXbwOnj/45a\n",
    csrf_key="CsrfKey0123456789012345678901234", robot_prefix="Rb7xK2pQ",
    token_key_pem=b"-----BEGIN RSA PRIVATE KEY-----\nTOKEN\n-----END RSA PRIVATE KEY-----\n",
    token_cert_pem=b"-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n")

BASE = """\
_version: 2.15.0
hostname: harbor.example.com
harbor_admin_password: "Adm1n-pass"
database:
  password: "db-pass-1"
data_volume: /data
jobservice:
  max_job_workers: 10
  job_loggers:
    - STD_OUTPUT
    - FILE
  logger_sweeper_duration: 1
notification:
  webhook_job_max_retry: 3
  webhook_job_http_client_timeout: 3
log:
  level: info
  local:
    rotate_count: 50
    rotate_size: 200M
    location: /var/log/harbor
"""
HTTPS = "https:\n  port: 443\n  certificate: /etc/harbor/server.crt\n" \
        "  private_key: /etc/harbor/server.key\n"
CASES = {
    "http": ("", False),
    "https": (HTTPS, False),
    "internal-tls": (HTTPS + "internal_tls:\n  enabled: true\n  dir: /etc/harbor/tls/internal\n",
                     True),
    "external-db-redis": (
        "external_database:\n  harbor:\n    host: db.example.com\n    port: 5433\n"
        "    db_name: harbor\n    username: harbor\n    password: \"ext-db-pass\"\n"
        "    ssl_mode: require\nexternal_redis:\n  host: cache.example.com:6380\n"
        "  password: \"r3d!s p@ss\"\n  registry_db_index: 4\n  jobservice_db_index: 5\n"
        "  trivy_db_index: 6\n", False),
    "s3": ("storage_service:\n  ca_bundle: /etc/harbor/storage-ca.pem\n  s3:\n"
           "    region: eu-west-1\n    bucket: harbor-images\n    secure: true\n"
           "    chunksize: 5242880\n    accesskey: AKIAEXAMPLE\n    secretkey: \"s3-secret\"\n"
           "upload_purging:\n  enabled: true\n  age: 168h\n  interval: 24h\n  dryrun: false\n",
           False),
    "trivy": ("trivy:\n  ignore_unfixed: true\n  timeout: 10m0s\n"
              "proxy:\n  http_proxy: http://proxy.example.com:3128\n"
              "  https_proxy: http://proxy.example.com:3128\n  no_proxy: .corp.example.com\n"
              "  components:\n    - trivy\n", True),
    "metrics": (HTTPS + "metric:\n  enabled: true\n  port: 9090\n  path: /metrics\n", False),
}


def config_of(case: str) -> Config2:
    text, with_trivy = CASES[case]
    result = check(BASE + text, with_trivy=with_trivy)
    assert result.config is not None, formatted(result)
    return result.config


def deployment_of(case: str) -> Deployment:
    return plan_deployment_v2(config_of(case), FIXED, PROJECT,
                              server_cert=(b"SERVER CERT\n", b"SERVER KEY\n"))


def project_files(case: str) -> dict[str, bytes]:
    return {str(f.path.relative_to(PROJECT)): f.content for f in deployment_of(case).files
            if f.path.is_relative_to(PROJECT)}
