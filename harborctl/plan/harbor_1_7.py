"""Harbor 1.7.5 as a release profile: its services, images, health checks, ports, networks, start
edges, and the files and folders each service gets. The layout of ``harborctl.plan.profile``
explains the fields; a later release is another module like this one."""

from __future__ import annotations

from harborctl.config.model import Config, OperatorFile
from harborctl.config.validate import LOG_SERVICE_PORT
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
    always,
)
from harborctl.plan.storage import CHARTSERVER_DIR, GCS_KEY_NAME
from harborctl.secrets import SECRET_MODE

# On 127.0.0.1: where the Docker daemon sends every service's syslog. harbor.cfg's validation
# owns the number, as it refuses it for http_port and https_port.
LOG_PORT = LOG_SERVICE_PORT
LOG_CONTAINER_PORT = 10514  # where rsyslog listens inside the log container
NOTARY_PORT = 4443
HARBOR_UID = (10000, 10000)  # Harbor's own images run as this user
DATABASE_UID = (999, 999)  # the postgres and redis images run as this one
CUSTOM_CA_BUNDLE = "custom-ca-bundle.crt"  # under common/config

_BASE_CAPS = ("CHOWN", "SETGID", "SETUID")
# env_file after the common keys: where these entries always had it in docker-compose.yml (kept,
# so that an upgrade of harborctl does not rewrite an unchanged deployment's compose file).
_ENV_FILE_LAST = ("common", "env_file", "volumes", "networks", "ports", "health", "depends_on")


def _db_bundled(config: Config) -> bool:
    return config.database.bundled


def _clair_db_bundled(config: Config) -> bool:
    return config.clair_db.bundled


def _clair_db_external(config: Config) -> bool:
    return not config.clair_db.bundled


def _bundled_db_runs(config: Config) -> bool:
    """Harbor's own database, notary's (its users exist only in the harbor-db image) or clair's
    may each need the bundled server; it runs while one of them does."""
    return (config.database.bundled or config.components.notary
            or (config.components.clair and config.clair_db.bundled))


def _redis_bundled(config: Config) -> bool:
    return config.redis.bundled


def _redis_external(config: Config) -> bool:
    return not config.redis.bundled


def _notary(config: Config) -> bool:
    return config.components.notary


def _clair(config: Config) -> bool:
    return config.components.clair


def _chartmuseum(config: Config) -> bool:
    return config.components.chartmuseum


def _filesystem_storage(config: Config) -> bool:
    return config.storage.provider == "filesystem"


def _custom_ca(config: Config) -> bool:
    return config.storage.custom_ca_bundle is not None


def _custom_ca_bundle(config: Config) -> OperatorFile | None:
    return config.storage.custom_ca_bundle


def _gcs_key(config: Config) -> OperatorFile | None:
    return config.storage.gcs_key


def _uaa_ca(config: Config) -> OperatorFile | None:
    return config.auth.uaa.ca_cert if config.auth.mode == "uaa_auth" else None


def _https(config: Config) -> bool:
    return config.address.protocol == "https"


def _http(config: Config) -> bool:
    return config.address.protocol == "http"


def _http_port(config: Config) -> int:
    return config.address.http_port


def _https_port(config: Config) -> int:
    return config.address.https_port


def _curl(url: str) -> HealthCheck:
    return HealthCheck(("CMD", "curl", "--fail", "-s", url))


def _config_mount(source: str, target: str) -> Volume:
    return Volume(f"./common/config/{source}", target)


# The registry, clair and chartmuseum images add this file to their trusted roots at start.
_CUSTOM_CA = Volume(f"./common/config/{CUSTOM_CA_BUNDLE}", "/harbor_cust_cert/custom-ca-bundle.crt",
                    when=_custom_ca)


_HARBOR = NetworkJoin("harbor")

# Start edges. Hard only where the dependent cannot survive an early start; the others are
# soft: ordered after the dependency's start (compose's service_started), not its readiness.
# A soft edge whose dependent retries the dependency on any failure, a name not yet in Docker's
# DNS included, is not awaited by harborctl at all (awaited=False): only compose orders it.
# What an image does without its dependency is read from its test stand-in (tests/images/*/,
# which retries where Harbor's image does) and from Harbor's own compose file (which orders
# starts only); each soft edge is proven with its dependency held back in
# tests/integration/test_soft_edges.py.
_LOG = Dependency("log", True, "logs through the syslog driver: the engine refuses to start it "
                  "until the log service listens (the syslog race)")
_DB_RETRIED = "retries its database connection for 60 s"
_REDIS_RETRIED = "retries its redis connection for 30 s"
_ADMINSERVER_RETRIED = "retries fetching its configuration from the adminserver for 30 s"
# Without a stand-in to show how the real image behaves without it: kept a readiness gate.
_UNPROVEN = "no test image shows it survives an early start: kept a readiness gate"
# nginx resolves `server core:8080;`-style upstreams once, when it loads: the name must exist
# (the container running), its process need not answer yet (nginx answers 502 meanwhile).
_NGINX_UPSTREAM = "nginx resolves it as an upstream when it loads: it must run, not be ready"

SERVICES = (
    Service(
        "log", "harbor-log", "harbor-log", "v{release}",
        caps=("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"),
        syslog=False,
        volumes=(Volume("{log_location}/", "/var/log/docker/"),
                 _config_mount("log/", "/etc/logrotate.d/")),
        ports=(HostPort(LOG_PORT, LOG_CONTAINER_PORT, bind="127.0.0.1"),),
        health=HealthCheck(("CMD-SHELL", f"netstat -ltu | grep {LOG_CONTAINER_PORT}")),
        networks=(_HARBOR,),
        layout=("common", "volumes", "ports", "health", "networks"),
    ),
    Service(
        "registry", "registry", "registry-photon", "v2.6.2-v{release}",
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/registry", "/storage"),
                 _config_mount("registry/", "/etc/registry/"),
                 _CUSTOM_CA),
        networks=(_HARBOR, NetworkJoin("harbor-clair", when=_clair)),
        health=_curl("http://127.0.0.1:5000/"),
        depends_on=(_LOG,),
    ),
    Service(
        "registryctl", "registryctl", "harbor-registryctl", "v{release}",
        env_file="registryctl/env",
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/registry", "/storage"),
                 _config_mount("registry/", "/etc/registry/"),
                 _config_mount("registryctl/config.yml", "/etc/registryctl/config.yml")),
        networks=(_HARBOR,),
        health=_curl("http://127.0.0.1:8080/api/health"),
        depends_on=(_LOG,),
    ),
    Service(
        "postgresql", "harbor-db", "harbor-db", "v{release}",
        enabled=_bundled_db_runs,
        env_file="db/env",
        caps=("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"),
        volumes=(Volume("{data}/database", "/var/lib/postgresql/data"),),
        networks=(_HARBOR,
                  NetworkJoin("harbor-notary", ("harbor-db",), when=_notary),
                  NetworkJoin("notary-sig", ("harbor-db",), when=_notary),
                  NetworkJoin("harbor-clair", ("harbor-db",), when=_clair)),
        health=HealthCheck(("CMD", "/docker-healthcheck.sh")),
        depends_on=(_LOG,),
    ),
    Service(
        "adminserver", "harbor-adminserver", "harbor-adminserver", "v{release}",
        env_file="adminserver/env",
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/config/", "/etc/adminserver/config/"),
                 Volume("{secretkey}", "/etc/adminserver/key"),
                 Volume("{data}/", "/data/")),
        networks=(_HARBOR,),
        health=_curl("http://127.0.0.1:8080/api/ping"),
        depends_on=(_LOG, Dependency("postgresql", False, "its test image does not connect "
                                     "to it at start, and Harbor's own compose file has no "
                                     "such edge", when=_db_bundled, awaited=False)),
    ),
    Service(
        "core", "harbor-core", "harbor-core", "v{release}",
        env_file="core/env",
        caps=("SETGID", "SETUID"),
        volumes=(_config_mount("core/app.conf", "/etc/core/app.conf"),
                 _config_mount("core/private_key.pem", "/etc/core/private_key.pem"),
                 _config_mount("core/certificates/", "/etc/core/certificates/"),
                 Volume("{secretkey}", "/etc/core/key"),
                 Volume("{data}/ca_download/", "/etc/core/ca/"),
                 Volume("{data}/psc/", "/etc/core/token/"),
                 Volume("{data}/", "/data/")),
        networks=(_HARBOR,
                  NetworkJoin("harbor-notary", ("harbor-core",), when=_notary),
                  NetworkJoin("harbor-clair", ("harbor-core",), when=_clair),
                  NetworkJoin("harbor-chartmuseum", ("harbor-core",), when=_chartmuseum)),
        health=_curl("http://127.0.0.1:8080/api/ping"),
        depends_on=(_LOG, Dependency("adminserver", False, _ADMINSERVER_RETRIED, awaited=False),
                    Dependency("registry", False, "its nginx resolves the registry per request "
                               "(a resolver), and it does not call it at start", awaited=False),
                    Dependency("postgresql", False, _DB_RETRIED, when=_db_bundled,
                               awaited=False),
                    Dependency("redis", False, _REDIS_RETRIED, awaited=False)),
    ),
    Service(
        "portal", "harbor-portal", "harbor-portal", "v{release}",
        caps=(*_BASE_CAPS, "NET_BIND_SERVICE"),
        networks=(_HARBOR,),
        health=_curl("http://127.0.0.1:80/"),
        depends_on=(_LOG, Dependency("core", False, "serves its static files without core",
                                           awaited=False)),
    ),
    Service(
        "jobservice", "harbor-jobservice", "harbor-jobservice", "v{release}",
        env_file="jobservice/env",
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/job_logs", "/var/log/jobs"),
                 _config_mount("jobservice/config.yml", "/etc/jobservice/config.yml")),
        networks=(_HARBOR, NetworkJoin("harbor-clair", when=_clair)),
        # The image has no check of its own and its API wants the secret: curl without --fail
        # passes on any HTTP answer (a 401 proves it serves) and fails when nothing listens.
        health=HealthCheck(("CMD", "curl", "-s", "-o", "/dev/null",
                            "http://127.0.0.1:8080/api/v1/stats")),
        depends_on=(_LOG, Dependency("redis", False, _REDIS_RETRIED, awaited=False),
                    Dependency("core", False, "calls core only when a job runs", awaited=False),
                    Dependency("adminserver", False, _ADMINSERVER_RETRIED, awaited=False)),
    ),
    Service(
        "redis", "redis", "redis-photon", "v{release}",
        enabled=_redis_bundled,
        caps=_BASE_CAPS,
        volumes=(Volume("{data}/redis", "/var/lib/redis", options=""),),
        networks=(_HARBOR, NetworkJoin("harbor-chartmuseum", ("redis",), when=_chartmuseum)),
        health=HealthCheck(("CMD", "redis-cli", "ping")),
        depends_on=(_LOG,),
    ),
    Service(
        "proxy", "nginx", "nginx-photon", "v{release}",
        caps=(*_BASE_CAPS, "NET_BIND_SERVICE"),
        volumes=(Volume("./common/config/nginx", "/etc/nginx"),),
        networks=(_HARBOR, NetworkJoin("harbor-notary", when=_notary)),
        ports=(HostPort(_http_port, 80),
               HostPort(_https_port, 443, when=_https),
               HostPort(NOTARY_PORT, NOTARY_PORT, when=_notary)),
        health=_curl("http://127.0.0.1:80/"),
        depends_on=(Dependency("postgresql", False, "nginx never connects to it",
                               when=_db_bundled, awaited=False),
                    Dependency("registry", False, "reached through core, not an upstream of "
                               "nginx", awaited=False),
                    Dependency("core", False, _NGINX_UPSTREAM),
                    Dependency("portal", False, _NGINX_UPSTREAM), _LOG),
    ),
    Service(
        "notary-server", "notary-server", "notary-server-photon", "v0.6.1-v{release}",
        enabled=_notary,
        caps=("SETGID", "SETUID"),
        env_file="notary/server_env",
        volumes=(_config_mount("notary", "/etc/notary"),),
        networks=(NetworkJoin("notary-sig"), NetworkJoin("harbor-notary")),
        depends_on=(Dependency("postgresql", True, _UNPROVEN),
                    Dependency("notary-signer", False, "has no health check: started is all "
                               "there is to wait for")),
        layout=_ENV_FILE_LAST,
    ),
    Service(
        "notary-signer", "notary-signer", "notary-signer-photon", "v0.6.1-v{release}",
        enabled=_notary,
        caps=("SETGID", "SETUID"),
        env_file="notary/signer_env",
        volumes=(_config_mount("notary", "/etc/notary"),),
        networks=(NetworkJoin("notary-sig", ("notarysigner",)),),
        depends_on=(Dependency("postgresql", True, _UNPROVEN),),
        layout=_ENV_FILE_LAST,
    ),
    Service(
        "clair", "clair", "clair-photon", "v2.0.8-v{release}",
        enabled=_clair,
        # Harbor caps clair at half a core while it updates its vulnerability database.
        cpu_quota=50000,
        caps=("DAC_OVERRIDE", "SETGID", "SETUID"),
        env_file="clair/clair_env",
        volumes=(_config_mount("clair/config.yaml", "/etc/clair/config.yaml"), _CUSTOM_CA),
        networks=(NetworkJoin("harbor-clair"),),
        health=_curl("http://127.0.0.1:6061/health"),
        depends_on=(Dependency("postgresql", True, _UNPROVEN, when=_clair_db_bundled),
                    Dependency("log", True, _LOG.why, when=_clair_db_external)),
        layout=_ENV_FILE_LAST,
    ),
    Service(
        "chartmuseum", "chartmuseum", "chartmuseum-photon", "v0.8.1-v{release}",
        enabled=_chartmuseum,
        env_file="chartserver/env",
        caps=("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"),
        volumes=(Volume("{data}/chart_storage", "/chart_storage", when=_filesystem_storage),
                 _config_mount("chartserver", CHARTSERVER_DIR),
                 _CUSTOM_CA),
        networks=(NetworkJoin("harbor-chartmuseum"),),
        health=_curl("http://127.0.0.1:9999/health"),
        depends_on=(Dependency("redis", False, "retries its redis cache for 30 s",
                                          awaited=False), _LOG),
    ),
)


FILES = (
    ConfigFile("adminserver", "adminserver/env.j2", "adminserver/env", SECRET_MODE),
    ConfigFile("core", "core/env.j2", "core/env", SECRET_MODE),
    ConfigFile("core", "core/app.conf.j2", "core/app.conf", owner=HARBOR_UID),
    # Harbor's own prepare writes it with an external database as well.
    ConfigFile("postgresql", "db/env.j2", "db/env", SECRET_MODE, when=always),
    ConfigFile("jobservice", "jobservice/env.j2", "jobservice/env", SECRET_MODE),
    ConfigFile("jobservice", "jobservice/config.yml.j2", "jobservice/config.yml", SECRET_MODE,
               HARBOR_UID),
    ConfigFile("log", "log/logrotate.conf.j2", "log/logrotate.conf"),
    ConfigFile("registry", "registry/config.yml.j2", "registry/config.yml", SECRET_MODE,
               HARBOR_UID),
    ConfigFile("registryctl", "registryctl/env.j2", "registryctl/env", SECRET_MODE),
    ConfigFile("registryctl", "registryctl/config.yml.j2", "registryctl/config.yml",
               owner=HARBOR_UID),
    ConfigFile("notary-server", "notary/server-config.postgres.json.j2",
               "notary/server-config.postgres.json", SECRET_MODE, HARBOR_UID),
    ConfigFile("notary-signer", "notary/signer-config.postgres.json.j2",
               "notary/signer-config.postgres.json", SECRET_MODE, HARBOR_UID),
    ConfigFile("notary-server", "notary/server_env.j2", "notary/server_env", SECRET_MODE),
    ConfigFile("notary-signer", "notary/signer_env.j2", "notary/signer_env", SECRET_MODE),
    ConfigFile("proxy", "nginx/conf.d/notary.upstream.conf.j2",
               "nginx/conf.d/notary.upstream.conf", when=_notary),
    ConfigFile("proxy", "nginx/conf.d/notary.server.conf.j2", "nginx/conf.d/notary.server.conf",
               when=_notary),
    ConfigFile("clair", "clair/config.yaml.j2", "clair/config.yaml", SECRET_MODE, HARBOR_UID),
    ConfigFile("clair", "clair/postgres_env.j2", "clair/postgres_env", SECRET_MODE),
    ConfigFile("clair", "clair/clair_env.j2", "clair/clair_env", SECRET_MODE),
    ConfigFile("chartmuseum", "chartserver/env.j2", "chartserver/env", SECRET_MODE),
    ConfigFile("proxy", "nginx/nginx.http.conf.j2", "nginx/nginx.conf", when=_http),
    ConfigFile("proxy", "nginx/nginx.https.conf.j2", "nginx/nginx.conf", when=_https),
)

DIRS = (
    DataDir("registry", "data", "registry", owner=HARBOR_UID),
    DataDir("jobservice", "data", "job_logs", owner=HARBOR_UID),
    DataDir("core", "data", "ca_download", owner=HARBOR_UID),
    DataDir("core", "data", "psc", owner=HARBOR_UID),
    DataDir("adminserver", "data", "config", owner=HARBOR_UID),
    DataDir("log", "log", ""),
    DataDir("core", "generated", "core/certificates"),
    DataDir("postgresql", "data", "database", 0o700, DATABASE_UID),
    DataDir("redis", "data", "redis", owner=DATABASE_UID),
    DataDir("chartmuseum", "data", "chart_storage", owner=HARBOR_UID),
)

COPIES = (
    CopiedFile("registry", CUSTOM_CA_BUNDLE, _custom_ca_bundle),
    CopiedFile("registry", f"registry/{GCS_KEY_NAME}", _gcs_key, SECRET_MODE, HARBOR_UID),
    CopiedFile("chartmuseum", f"chartserver/{GCS_KEY_NAME}", _gcs_key, SECRET_MODE, HARBOR_UID),
    # UAA_CA_ROOT in core/env names it; core/certificates/ is mounted in core.
    CopiedFile("core", "core/certificates/uaa_ca.pem", _uaa_ca),
)

HARBOR_1_7 = ReleaseProfile(
    release="1.7.5",
    services=SERVICES,
    networks=("harbor", "harbor-notary", "notary-sig", "harbor-clair", "harbor-chartmuseum"),
    files=FILES,
    dirs=DIRS,
    log_port=LOG_PORT,
    service_uid=HARBOR_UID,
    reloaded_settings="adminserver/env.j2",
    copies=COPIES,
)
