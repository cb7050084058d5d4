"""Harbor v2.15 as a release profile: the services of its installer's docker-compose.yml with
harborctl's health checks and start edges, and the files and folders each service gets (see
docs: harbor2-facts.md; the fields are explained in ``harborctl.plan.profile``)."""

from __future__ import annotations

from collections.abc import Callable

from harborctl.config.model import OperatorFile
from harborctl.config.validate import LOG_SERVICE_PORT
from harborctl.config.yml.model import Config2
from harborctl.plan.profile import (
    ConfigFile,
    CopiedFile,
    DataDir,
    Dependency,
    HealthCheck,
    HostPort,
    NetworkJoin,
    ReleaseProfile,
    Service,
    Volume,
    When,
    always,
)
from harborctl.secrets import SECRET_MODE

RELEASE = "2.15.2"
LOG_CONTAINER_PORT = 10514
METRIC_CONTAINER_PORT = 9090  # the proxy's metrics server
HARBOR_UID = (10000, 10000)
DATABASE_UID = (999, 999)
TRUST = "shared/trust-certificates"  # under common/config, mounted at /harbor_cust_cert
_BASE_CAPS = ("CHOWN", "SETGID", "SETUID")


def _tls(config: Config2) -> bool:
    return config.internal_tls is not None


def _https(config: Config2) -> bool:
    return config.https is not None


def _http(config: Config2) -> bool:
    return config.https is None


def _metric(config: Config2) -> bool:
    return config.metric is not None


def _trivy(config: Config2) -> bool:
    return config.with_trivy


def _db_bundled(config: Config2) -> bool:
    return not config.database.external


def _redis_bundled(config: Config2) -> bool:
    return not config.redis.external


def _gcs(config: Config2) -> bool:
    return config.storage.gcs_key is not None


def _http_port(config: Config2) -> int:
    return config.http_port


def _https_port(config: Config2) -> int:
    return config.https.port if config.https is not None else 443


def _metric_port(config: Config2) -> int:
    return config.metric.port if config.metric is not None else 9090


def _tls_file(name: str) -> Callable[[Config2], OperatorFile | None]:
    def source(config: Config2) -> OperatorFile | None:
        files = dict(config.internal_tls.files) if config.internal_tls is not None else {}
        return files.get(name)
    return source


def _storage_ca(config: Config2) -> OperatorFile | None:
    return config.storage.ca_bundle


def _redis_ca(config: Config2) -> OperatorFile | None:
    return config.redis.tls_root_ca


def _gcs_key(config: Config2) -> OperatorFile | None:
    return config.storage.gcs_key


def _uaa_ca(config: Config2) -> OperatorFile | None:
    return config.uaa_ca_file


def _probe(path: str, port: int, tls_port: int, fail: bool = True) -> HealthCheck:
    """What the v2 images' own checks do: plain http, or https once internal TLS is on (the
    service then listens on its TLS port only)."""
    flag = "--fail -s" if fail else "-s -o /dev/null"
    return HealthCheck(("CMD-SHELL", f"curl {flag} http://127.0.0.1:{port}{path} || "
                        f"curl {flag} -k https://127.0.0.1:{tls_port}{path}"))


def _config_mount(source: str, target: str, options: str = "z") -> Volume:
    return Volume(f"./common/config/{source}", target, options)


def _tls_pair(stem: str, folder: str) -> tuple[Volume, ...]:
    return tuple(Volume(f"{{data}}/secret/tls/{stem}.{ext}", f"{folder}/{stem}.{ext}", "",
                        when=_tls) for ext in ("crt", "key"))


_TRUST = _config_mount(TRUST, "/harbor_cust_cert", "")
_HARBOR = (NetworkJoin("harbor"),)
_REGISTRY_VOLUMES = (
    Volume("{data}/registry", "/storage"),
    _config_mount("registry/", "/etc/registry/"),
    _TRUST,
    Volume("{data}/secret/tls/registry.crt", "/etc/harbor/tls/registry.crt", "", when=_tls),
    Volume("{data}/secret/tls/registry.key", "/etc/harbor/tls/registry.key", "", when=_tls),
    Volume("{data}/secret/tls/core.crt", "/harbor_cust_cert/core.crt", "", when=_tls),
)


# Start edges: every one a readiness gate, as before. The log edge is hard for good (syslog);
# the others may prove soft as 1.7.5's did, once 2.15 test images show how each service behaves
# when its dependency comes up late.
_LOG = Dependency("log", True, "logs through the syslog driver: the engine refuses to start it "
                  "until the log service listens (the syslog race)")
_UNPROVEN = "no test image shows it survives an early start: kept a readiness gate"


def _gate(service: str, when: When = always) -> Dependency:
    return Dependency(service, True, _UNPROVEN, when)


SERVICES = (
    Service(
        "log", "harbor-log", "harbor-log", "v{release}",
        caps=("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"),
        syslog=False,
        volumes=(Volume("{log_location}/", "/var/log/docker/"),
                 _config_mount("log/logrotate.conf", "/etc/logrotate.d/logrotate.conf", ""),
                 _config_mount("log/rsyslog_docker.conf", "/etc/rsyslog.d/rsyslog_docker.conf",
                               "")),
        ports=(HostPort(LOG_SERVICE_PORT, LOG_CONTAINER_PORT, bind="127.0.0.1"),),
        health=HealthCheck(("CMD-SHELL", f"netstat -ltun | grep {LOG_CONTAINER_PORT}")),
        networks=_HARBOR,
    ),
    Service(
        "registry", "registry", "registry-photon", "v{release}",
        caps=_BASE_CAPS,
        volumes=(*_REGISTRY_VOLUMES[:2], Volume("{data}/secret/registry/root.crt",
                                                "/etc/registry/root.crt", ""),
                 *_REGISTRY_VOLUMES[2:]),
        networks=_HARBOR,
        health=_probe("/", 5000, 5443),
        depends_on=(_LOG,),
    ),
    Service(
        "registryctl", "registryctl", "harbor-registryctl", "v{release}",
        env_file="registryctl/env",
        caps=_BASE_CAPS,
        volumes=(*_REGISTRY_VOLUMES[:3],
                 _config_mount("registryctl/config.yml", "/etc/registryctl/config.yml", ""),
                 *_tls_pair("registryctl", "/etc/harbor/ssl")),
        networks=_HARBOR,
        health=_probe("/api/health", 8080, 8443),
        depends_on=(_LOG,),
    ),
    Service(
        "postgresql", "harbor-db", "harbor-db", "v{release}",
        enabled=_db_bundled,
        env_file="db/env",
        caps=("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"),
        volumes=(Volume("{data}/database", "/var/lib/postgresql/data"),),
        networks=_HARBOR,
        health=HealthCheck(("CMD", "/docker-healthcheck.sh")),
        depends_on=(_LOG,),
    ),
    Service(
        "core", "harbor-core", "harbor-core", "v{release}",
        env_file="core/env",
        caps=("SETGID", "SETUID"),
        volumes=(Volume("{data}/ca_download/", "/etc/core/ca/"),
                 Volume("{data}/", "/data/"),
                 _config_mount("core/certificates/", "/etc/core/certificates/"),
                 _config_mount("core/app.conf", "/etc/core/app.conf", ""),
                 Volume("{data}/secret/core/private_key.pem", "/etc/core/private_key.pem", ""),
                 Volume("{data}/secret/keys/secretkey", "/etc/core/key", ""),
                 _TRUST, *_tls_pair("core", "/etc/harbor/ssl")),
        networks=_HARBOR,
        health=_probe("/api/v2.0/ping", 8080, 8443),
        depends_on=(_LOG, _gate("registry"), _gate("redis"),
                    _gate("postgresql")),
    ),
    Service(
        "portal", "harbor-portal", "harbor-portal", "v{release}",
        caps=(*_BASE_CAPS, "NET_BIND_SERVICE"),
        volumes=(_config_mount("portal/nginx.conf", "/etc/nginx/nginx.conf", ""),
                 *_tls_pair("portal", "/etc/harbor/tls")),
        networks=_HARBOR,
        health=_probe("/", 8080, 8443),
        depends_on=(_LOG,),
    ),
    Service(
        "jobservice", "harbor-jobservice", "harbor-jobservice", "v{release}",
        env_file="jobservice/env",
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/job_logs", "/var/log/jobs"),
                 _config_mount("jobservice/config.yml", "/etc/jobservice/config.yml", ""),
                 _TRUST, *_tls_pair("job_service", "/etc/harbor/ssl")),
        networks=_HARBOR,
        # its stats API wants the secret: any HTTP answer (a 401) proves it serves
        health=_probe("/api/v1/stats", 8080, 8443, fail=False),
        depends_on=(_gate("core"),),
    ),
    Service(
        "redis", "redis", "valkey-photon", "v{release}",
        enabled=_redis_bundled,
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/redis", "/var/lib/redis", ""),),
        networks=_HARBOR,
        health=HealthCheck(("CMD", "docker-healthcheck")),
        depends_on=(_LOG,),
    ),
    Service(
        "proxy", "nginx", "nginx-photon", "v{release}",
        caps=(*_BASE_CAPS, "NET_BIND_SERVICE"),
        volumes=(_config_mount("nginx", "/etc/nginx"),
                 Volume("{data}/secret/cert", "/etc/cert", when=_https),
                 _TRUST, *_tls_pair("proxy", "/etc/harbor/tls")),
        networks=_HARBOR,
        ports=(HostPort(_http_port, 8080),
               HostPort(_https_port, 8443, when=_https),
               HostPort(_metric_port, METRIC_CONTAINER_PORT, when=_metric)),
        health=HealthCheck(("CMD", "curl", "--fail", "-s", "http://127.0.0.1:8080/")),
        # nginx resolves its upstreams when it loads: with metrics those include jobservice,
        # registry and the exporter
        depends_on=(_gate("registry"), _gate("core"), _gate("portal"),
                    _LOG, _gate("jobservice", when=_metric),
                    _gate("exporter", when=_metric)),
    ),
    Service(
        "trivy-adapter", "trivy-adapter", "trivy-adapter-photon", "v{release}",
        enabled=_trivy,
        env_file="trivy-adapter/env",
        caps=(),
        volumes=(Volume("{data}/trivy-adapter/trivy", "/home/scanner/.cache/trivy", ""),
                 Volume("{data}/trivy-adapter/reports", "/home/scanner/.cache/reports", ""),
                 _TRUST, *_tls_pair("trivy_adapter", "/etc/harbor/ssl")),
        networks=_HARBOR,
        health=_probe("/probe/healthy", 8080, 8443),
        depends_on=(_LOG, _gate("redis")),
    ),
    Service(
        "exporter", "harbor-exporter", "harbor-exporter", "v{release}",
        enabled=_metric,
        env_file="exporter/env",
        caps=(),
        volumes=(_TRUST,),
        networks=_HARBOR,
        depends_on=(_gate("core"), _gate("postgresql")),
    ),
)

FILES = (
    ConfigFile("core", "v2/core/env.j2", "core/env", SECRET_MODE),
    ConfigFile("core", "v2/core/app.conf.j2", "core/app.conf", owner=HARBOR_UID),
    # Harbor's prepare writes it with an external database as well
    ConfigFile("postgresql", "v2/db/env.j2", "db/env", SECRET_MODE, when=always),
    ConfigFile("jobservice", "v2/jobservice/env.j2", "jobservice/env", SECRET_MODE),
    ConfigFile("jobservice", "v2/jobservice/config.yml.j2", "jobservice/config.yml",
               SECRET_MODE, HARBOR_UID),
    ConfigFile("log", "v2/log/logrotate.conf.j2", "log/logrotate.conf", owner=HARBOR_UID),
    ConfigFile("log", "v2/log/rsyslog_docker.conf.j2", "log/rsyslog_docker.conf",
               owner=HARBOR_UID),
    ConfigFile("registry", "v2/registry/config.yml.j2", "registry/config.yml", SECRET_MODE,
               HARBOR_UID),
    ConfigFile("registry", "v2/registry/passwd.j2", "registry/passwd", SECRET_MODE, HARBOR_UID),
    ConfigFile("registryctl", "v2/registryctl/env.j2", "registryctl/env", SECRET_MODE),
    ConfigFile("registryctl", "v2/registryctl/config.yml.j2", "registryctl/config.yml",
               owner=HARBOR_UID),
    ConfigFile("portal", "v2/portal/nginx.conf.j2", "portal/nginx.conf", owner=HARBOR_UID),
    ConfigFile("proxy", "v2/nginx/nginx.http.conf.j2", "nginx/nginx.conf", owner=HARBOR_UID,
               when=_http),
    ConfigFile("proxy", "v2/nginx/nginx.https.conf.j2", "nginx/nginx.conf", owner=HARBOR_UID,
               when=_https),
    ConfigFile("trivy-adapter", "v2/trivy-adapter/env.j2", "trivy-adapter/env", SECRET_MODE),
    ConfigFile("exporter", "v2/exporter/env.j2", "exporter/env", SECRET_MODE),
)

DIRS = (
    DataDir("registry", "data", "registry", owner=HARBOR_UID),
    DataDir("jobservice", "data", "job_logs", owner=HARBOR_UID),
    DataDir("core", "data", "ca_download", owner=HARBOR_UID),
    DataDir("log", "log", ""),
    DataDir("core", "generated", "core/certificates"),
    DataDir("proxy", "generated", "nginx/conf.d", owner=HARBOR_UID),
    DataDir("core", "generated", TRUST),
    DataDir("postgresql", "data", "database", 0o700, DATABASE_UID),
    DataDir("redis", "data", "redis", owner=DATABASE_UID),
    DataDir("trivy-adapter", "data", "trivy-adapter/trivy", owner=HARBOR_UID),
    DataDir("trivy-adapter", "data", "trivy-adapter/reports", owner=HARBOR_UID),
)

COPIES = (
    CopiedFile("core", f"{TRUST}/harbor_internal_ca.crt", _tls_file("harbor_internal_ca.crt")),
    CopiedFile("registry", f"{TRUST}/storage_ca_bundle.crt", _storage_ca),
    CopiedFile("core", f"{TRUST}/redis_tls_ca.crt", _redis_ca),
    CopiedFile("registry", "registry/gcs.key", _gcs_key, SECRET_MODE, HARBOR_UID),
    CopiedFile("core", "core/certificates/uaa_ca.pem", _uaa_ca),
)

HARBOR_2_15 = ReleaseProfile(
    release=RELEASE,
    services=SERVICES,
    networks=("harbor",),
    files=FILES,
    dirs=DIRS,
    log_port=LOG_SERVICE_PORT,
    service_uid=HARBOR_UID,
    copies=COPIES,
)
