"""The typed, frozen model of a validated harbor.cfg."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harborctl.hostport import format_host_port

Protocol = Literal["http", "https"]
AuthMode = Literal["db_auth", "ldap_auth", "uaa_auth"]
CreationRestriction = Literal["everyone", "adminonly"]
StorageProvider = Literal["filesystem", "s3", "gcs", "azure", "swift", "oss"]
# The storage drivers' options that hold credentials (s3, azure, swift, oss).
STORAGE_SECRET_OPTIONS = frozenset({"secretkey", "accountkey", "password", "accesskeysecret"})


@dataclass(frozen=True)
class Address:
    hostname: str  # without any ":port", and an IPv6 address without brackets
    protocol: Protocol
    http_port: int
    https_port: int

    @property
    def public_port(self) -> int:
        return self.https_port if self.protocol == "https" else self.http_port

    @property
    def authority(self) -> str:
        """``host[:port]`` as clients type it (``docker login``), the port only when not default,
        an IPv6 address in brackets (as URLs and image names write it)."""
        default = 443 if self.protocol == "https" else 80
        port = self.public_port
        return format_host_port(self.hostname, None if port == default else port)

    @property
    def external_url(self) -> str:
        return f"{self.protocol}://{self.authority}"


@dataclass(frozen=True)
class Tls:
    ssl_cert: Path
    ssl_cert_key: Path
    customize_crt: bool


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    user: str
    password: str

    @property
    def bundled(self) -> bool:
        return self.host == "postgresql"


@dataclass(frozen=True)
class RedisDbIndex:
    registry: int
    jobservice: int
    chartmuseum: int


@dataclass(frozen=True)
class Redis:
    host: str
    port: int
    password: str
    db_index: RedisDbIndex

    @property
    def bundled(self) -> bool:
        return self.host == "redis"


@dataclass(frozen=True)
class OperatorFile:
    """A file harbor.cfg names, read at validation, that the deployment gets a copy of."""

    path: Path
    content: bytes


@dataclass(frozen=True)
class Storage:
    provider: StorageProvider
    provider_config: Mapping[str, str]
    custom_ca_bundle: OperatorFile | None
    gcs_key: OperatorFile | None = None  # the keyfile option of gcs storage

    def secret_values(self) -> tuple[str, ...]:
        return tuple(value for key, value in self.provider_config.items()
                     if key in STORAGE_SECRET_OPTIONS)


@dataclass(frozen=True)
class Ldap:
    url: str
    searchdn: str
    search_pwd: str
    basedn: str
    filter: str
    uid: str
    scope: int
    timeout: int
    verify_cert: bool
    group_basedn: str
    group_filter: str
    group_gid: str
    group_scope: int
    group_admin_dn: str


@dataclass(frozen=True)
class Uaa:
    endpoint: str
    clientid: str
    clientsecret: str
    verify_cert: bool
    ca_cert: OperatorFile | None


@dataclass(frozen=True)
class Auth:
    mode: AuthMode
    admin_password: str
    self_registration: bool
    token_expiration: int  # minutes
    project_creation_restriction: CreationRestriction
    ldap: Ldap
    uaa: Uaa


@dataclass(frozen=True)
class Email:
    identity: str
    server: str
    port: int
    username: str
    password: str
    sender: str  # harbor.cfg's email_from
    ssl: bool
    insecure: bool


@dataclass(frozen=True)
class Jobs:
    max_job_workers: int


@dataclass(frozen=True)
class Logs:
    rotate_count: int
    rotate_size: str
    location: Path


@dataclass(frozen=True)
class Proxy:
    http_proxy: str
    https_proxy: str
    no_proxy: str


@dataclass(frozen=True)
class ClairDb:
    host: str
    port: int
    username: str
    password: str
    database: str
    updaters_interval: int  # hours

    @property
    def bundled(self) -> bool:
        return self.host == "postgresql"


@dataclass(frozen=True)
class Components:
    notary: bool
    clair: bool
    chartmuseum: bool


@dataclass(frozen=True)
class Images:
    source: str  # "goharbor" (Docker Hub) or "mirror.example.com/goharbor"
    release: str  # "1.7.5"


@dataclass(frozen=True)
class Paths:
    data_volume: Path
    secretkey_path: Path


@dataclass(frozen=True)
class Config:
    source: Path
    version: str
    address: Address
    tls: Tls
    database: Database
    redis: Redis
    storage: Storage
    auth: Auth
    email: Email
    jobs: Jobs
    logs: Logs
    proxy: Proxy
    clair_db: ClairDb
    components: Components
    images: Images
    paths: Paths
    reload_config: bool
    skip_reload_env_pattern: str
    admiral_url: str

    @property
    def image_source(self) -> str:
        return self.images.source

    def volume_roots(self) -> dict[str, str]:
        """The host paths of harbor.cfg that volumes and templates name, without a trailing '/'."""
        return {
            "data": str(self.paths.data_volume).rstrip("/") or "",
            "log_location": str(self.logs.location).rstrip("/"),
            "secretkey": str(self.paths.secretkey_path / "secretkey"),
        }

    def secret_values(self) -> tuple[str, ...]:
        """The operator's secrets in harbor.cfg, never to be shown back (messages, diffs, JSON)."""
        return (self.auth.admin_password, self.database.password, self.redis.password,
                self.email.password, self.auth.ldap.search_pwd, self.auth.uaa.clientsecret,
                self.clair_db.password, *self.storage.secret_values())
