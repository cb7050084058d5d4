"""The typed, frozen model of a valid harbor.yml (Harbor 2.x)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harborctl.config.model import OperatorFile

# A storage driver's option: YAML scalars, or nested blocks (kept as sorted pairs: frozen).
StorageOptions = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Https:
    port: int
    certificate: Path
    private_key: Path
    strong_ssl_ciphers: bool


@dataclass(frozen=True)
class Pool:
    max_idle_conns: int
    max_open_conns: int
    conn_max_lifetime: str
    conn_max_idle_time: str


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    name: str
    username: str
    password: str
    ssl_mode: str
    pool: Pool
    external: bool


@dataclass(frozen=True)
class Storage:
    driver: str
    options: StorageOptions
    ca_bundle: OperatorFile | None
    gcs_key: OperatorFile | None
    redirect_disabled: bool


@dataclass(frozen=True)
class Trivy:
    ignore_unfixed: bool
    skip_update: bool
    skip_java_db_update: bool
    offline_scan: bool
    security_check: str
    insecure: bool
    timeout: str
    github_token: str
    db_repository: str
    java_db_repository: str


@dataclass(frozen=True)
class Jobservice:
    max_job_workers: int
    max_job_duration_hours: int
    job_loggers: tuple[str, ...]
    logger_sweeper_duration: int
    webhook_job_max_retry: int
    webhook_job_http_client_timeout: int


@dataclass(frozen=True)
class ExternalLog:
    protocol: str
    host: str
    port: int


@dataclass(frozen=True)
class Log:
    level: str
    rotate_count: int
    rotate_size: str
    location: Path
    external: ExternalLog | None


@dataclass(frozen=True)
class Redis:
    """The bundled valkey (external False) or the operator's redis."""

    external: bool
    hosts: tuple[str, ...]  # "host:port" each; more than one with sentinel
    sentinel_master_set: str
    username: str
    password: str
    tls: bool
    tls_root_ca: OperatorFile | None
    registry_db: int
    jobservice_db: int
    trivy_db: int
    harbor_db: int | None
    cache_layer_db: int | None
    idle_timeout_seconds: int


@dataclass(frozen=True)
class Proxy:
    http_proxy: str
    https_proxy: str
    no_proxy: str
    components: tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    port: int
    path: str


@dataclass(frozen=True)
class Jaeger:
    endpoint: str
    username: str
    password: str
    agent_host: str
    agent_port: int | None


@dataclass(frozen=True)
class Otel:
    endpoint: str
    url_path: str
    compression: bool
    insecure: bool
    timeout: int


@dataclass(frozen=True)
class Trace:
    sample_rate: float
    namespace: str
    attributes: tuple[tuple[str, str], ...]
    jaeger: Jaeger | None
    otel: Otel | None


@dataclass(frozen=True)
class UploadPurging:
    enabled: bool
    age: str
    interval: str
    dryrun: bool


@dataclass(frozen=True)
class InternalTls:
    """internal_tls.dir's files as gencert names them, read at validation (name -> file)."""

    dir: Path
    files: tuple[tuple[str, OperatorFile], ...]


@dataclass(frozen=True)
class Config2:
    """A valid harbor.yml. Optional blocks are None when off (https, internal TLS, metrics...)."""

    source: Path
    version: str
    hostname: str
    http_port: int
    https: Https | None
    ipv4: bool
    ipv6: bool
    internal_tls: InternalTls | None
    strong_ssl_ciphers: bool  # https's or internal_tls's: Harbor ORs them
    external_url: str
    admin_password: str
    database: Database
    data_volume: Path
    storage: Storage
    trivy: Trivy
    jobservice: Jobservice
    log: Log
    redis: Redis
    uaa_ca_file: OperatorFile | None
    proxy: Proxy
    metric: Metric | None
    trace: Trace | None
    upload_purging: UploadPurging
    cache_expire_hours: int | None  # None: the cache is off
    quota_update_provider: str
    with_trivy: bool

    release: str = "2.15.2"

    @property
    def image_source(self) -> str:
        return "goharbor"

    def volume_roots(self) -> dict[str, str]:
        return {"data": str(self.data_volume).rstrip("/"),
                "log_location": str(self.log.location).rstrip("/")}

    @property
    def protocol(self) -> str:
        return "https" if self.https is not None else "http"

    def secret_values(self) -> tuple[str, ...]:
        """Every value the operator gave that must never be shown."""
        values = [self.admin_password, self.database.password, self.redis.password,
                  self.trivy.github_token]
        values += [str(v) for k, v in self.storage.options
                   if k in ("accesskey", "secretkey", "accountkey", "password",
                            "accesskeysecret", "secret", "credentials")]
        if self.trace is not None and self.trace.jaeger is not None:
            values.append(self.trace.jaeger.password)
        return tuple(v for v in values if v)
