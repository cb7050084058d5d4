"""harbor.yml texts shared by the 2.x tests: one file that sets every key Harbor v2.15 reads
(bundled database and redis, jaeger), and one with the other side of each choice."""

from __future__ import annotations

from pathlib import Path

from harborctl.config.yml import Validation2, parse_yaml_text, validate

DATA = Path(__file__).parent.parent / "data"
FAKE_CA = (DATA / "example-ca.pem").read_bytes()
OPERATOR_FILES = {
    "/etc/harbor/storage-ca.pem": FAKE_CA,
    "/etc/harbor/redis-ca.pem": FAKE_CA,
    "/etc/harbor/uaa-ca.pem": FAKE_CA,
    "/etc/harbor/gcs.json": b'{"type": "service_account"}\n',
}


def _internal_tls() -> dict[str, bytes]:
    """A real internal CA and service pairs (made by harborctl's own code, 10 years, kept in
    tests/unit/data/internal-tls so that golden trees stay byte for byte the same)."""
    return {f"/etc/harbor/tls/internal/{p.name}": p.read_bytes()
            for p in sorted((DATA / "internal-tls").iterdir())}


OPERATOR_FILES.update(_internal_tls())

EVERY_KEY = """\
_version: 2.15.0
hostname: harbor.example.com
http:
  port: 8080
https:
  port: 8443
  certificate: /etc/harbor/server.crt
  private_key: /etc/harbor/server.key
  strong_ssl_ciphers: false
ip_family:
  ipv6:
    enabled: true
  ipv4:
    enabled: true
internal_tls:
  enabled: true
  dir: /etc/harbor/tls/internal
  strong_ssl_ciphers: true
external_url: https://registry.example.com
harbor_admin_password: "S3cret-admin"
database:
  password: "db-pass-1"
  max_idle_conns: 100
  max_open_conns: 900
  conn_max_lifetime: 5m
  conn_max_idle_time: 0
data_volume: /srv/harbor/data
storage_service:
  ca_bundle: /etc/harbor/storage-ca.pem
  s3:
    region: eu-west-1
    bucket: harbor-images
    secure: true
    accesskey: AKIAEXAMPLE
    secretkey: "s3-secret-value"
  redirect:
    disable: true
trivy:
  ignore_unfixed: true
  skip_update: false
  skip_java_db_update: false
  offline_scan: false
  security_check: vuln
  insecure: false
  timeout: 10m0s
  github_token: "ghp-token-value"
  db_repository: mirror.example.com/trivy-db
  java_db_repository: mirror.example.com/trivy-java-db
jobservice:
  max_job_workers: 12
  max_job_duration_hours: 48
  job_loggers:
    - STD_OUTPUT
    - DB
  logger_sweeper_duration: 3
notification:
  webhook_job_max_retry: 5
  webhook_job_http_client_timeout: 4
log:
  level: warning
  local:
    rotate_count: 20
    rotate_size: 100M
    location: /srv/harbor/logs
  external_endpoint:
    protocol: udp
    host: syslog.example.com
    port: 5140
redis:
  registry_db_index: 3
  jobservice_db_index: 4
  trivy_db_index: 6
  harbor_db_index: 7
  cache_layer_db_index: 8
uaa:
  ca_file: /etc/harbor/uaa-ca.pem
proxy:
  http_proxy: http://proxy.example.com:3128
  https_proxy: http://proxy.example.com:3128
  no_proxy: .example.com
  components:
    - core
    - trivy
metric:
  enabled: true
  port: 9091
  path: /metrics
trace:
  enabled: true
  sample_rate: 0.5
  namespace: harbor-ns
  attributes:
    team: registry
  jaeger:
    endpoint: http://jaeger.example.com:14268/api/traces
    username: jaeger
    password: "jaeger-pass"
upload_purging:
  enabled: true
  age: 96h
  interval: 12h
  dryrun: true
cache:
  enabled: true
  expire_hours: 12
core:
  quota_update_provider: redis
"""

# The other side of each choice: external database and redis (sentinels, TLS), otel, gcs.
OTHER_SIDE = """\
_version: 2.15.0
hostname: 203.0.113.10
harbor_admin_password: "S3cret-admin"
data_volume: /data
external_database:
  harbor:
    host: db.example.com
    port: 5433
    db_name: registry
    username: harbor
    password: "ext-db-pass"
    ssl_mode: verify-full
    max_idle_conns: 4
    max_open_conns: 50
    conn_max_lifetime: 1h30m
    conn_max_idle_time: 10m
external_redis:
  host: sentinel1.example.com:26379,sentinel2.example.com:26379
  sentinel_master_set: mymaster
  username: harbor
  password: "redis-pass"
  tlsOptions:
    enable: true
    rootCA: /etc/harbor/redis-ca.pem
  registry_db_index: 1
  jobservice_db_index: 2
  trivy_db_index: 5
  harbor_db_index: 6
  cache_layer_db_index: 7
  idle_timeout_seconds: 60
storage_service:
  gcs:
    bucket: harbor-gcs
    keyfile: /etc/harbor/gcs.json
trace:
  enabled: true
  otel:
    endpoint: otel.example.com:4318
    url_path: /v1/traces
    compression: true
    insecure: true
    timeout: 20
jobservice:
  max_job_workers: 10
  job_loggers: [FILE]
  logger_sweeper_duration: 1
notification:
  webhook_job_max_retry: 3
  webhook_job_http_client_timeout: 3
log:
  level: info
  local:
    location: /var/log/harbor
"""


def read_file(path: Path) -> bytes:
    if str(path) not in OPERATOR_FILES:
        raise FileNotFoundError(2, "No such file or directory", str(path))
    return OPERATOR_FILES[str(path)]


def check(text: str, name: str = "harbor.yml", with_trivy: bool = False) -> Validation2:
    return validate(parse_yaml_text(text, Path(name)), file_exists=lambda _: True,
                    read_file=read_file, with_trivy=with_trivy)


def formatted(result: Validation2) -> list[str]:
    return [p.format("harbor.yml").split("\n")[0] for p in result.problems]
