"""Every key harbor.yml may hold (Harbor v2.15's harbor.yml.tmpl and the keys its prepare reads),
and the releases whose file harborctl reads."""

from __future__ import annotations

# A block's own name is listed too: "https" alone is a known key, "https.port" one of its keys.
KNOWN_KEYS = frozenset({
    "_version", "hostname", "external_url", "harbor_admin_password", "data_volume",
    "http", "http.port",
    "https", "https.port", "https.certificate", "https.private_key", "https.strong_ssl_ciphers",
    "ip_family", "ip_family.ipv4", "ip_family.ipv4.enabled", "ip_family.ipv6",
    "ip_family.ipv6.enabled",
    "internal_tls", "internal_tls.enabled", "internal_tls.dir", "internal_tls.strong_ssl_ciphers",
    "database", "database.password", "database.max_idle_conns", "database.max_open_conns",
    "database.conn_max_lifetime", "database.conn_max_idle_time",
    "storage_service", "storage_service.ca_bundle", "storage_service.redirect",
    "storage_service.redirect.disable",
    "trivy", "trivy.ignore_unfixed", "trivy.skip_update", "trivy.skip_java_db_update",
    "trivy.offline_scan", "trivy.security_check", "trivy.insecure", "trivy.timeout",
    "trivy.github_token", "trivy.db_repository", "trivy.java_db_repository",
    "jobservice", "jobservice.max_job_workers", "jobservice.max_job_duration_hours",
    "jobservice.job_loggers", "jobservice.logger_sweeper_duration",
    "notification", "notification.webhook_job_max_retry",
    "notification.webhook_job_http_client_timeout",
    "log", "log.level", "log.local", "log.local.rotate_count", "log.local.rotate_size",
    "log.local.location", "log.external_endpoint", "log.external_endpoint.protocol",
    "log.external_endpoint.host", "log.external_endpoint.port",
    "external_database", "external_database.harbor",
    *(f"external_database.harbor.{k}" for k in (
        "host", "port", "db_name", "username", "password", "ssl_mode", "max_idle_conns",
        "max_open_conns", "conn_max_lifetime", "conn_max_idle_time")),
    "redis", *(f"redis.{k}_db_index" for k in (
        "registry", "jobservice", "trivy", "harbor", "cache_layer")),
    "external_redis", "external_redis.tlsOptions", "external_redis.tlsOptions.enable",
    "external_redis.tlsOptions.rootCA",
    *(f"external_redis.{k}" for k in (
        "host", "password", "username", "sentinel_master_set", "idle_timeout_seconds",
        "registry_db_index", "jobservice_db_index", "trivy_db_index", "harbor_db_index",
        "cache_layer_db_index")),
    "uaa", "uaa.ca_file",
    "proxy", "proxy.http_proxy", "proxy.https_proxy", "proxy.no_proxy", "proxy.components",
    "metric", "metric.enabled", "metric.port", "metric.path",
    "trace", "trace.enabled", "trace.sample_rate", "trace.namespace", "trace.attributes",
    "trace.jaeger", *(f"trace.jaeger.{k}" for k in (
        "endpoint", "username", "password", "agent_host", "agent_port")),
    "trace.otel", *(f"trace.otel.{k}" for k in (
        "endpoint", "url_path", "compression", "insecure", "timeout")),
    "upload_purging", "upload_purging.enabled", "upload_purging.age", "upload_purging.interval",
    "upload_purging.dryrun",
    "cache", "cache.enabled", "cache.expire_hours",
    "core", "core.quota_update_provider",
})

STORAGE_DRIVERS = ("filesystem", "azure", "gcs", "s3", "swift", "oss")  # Harbor's order of choice
# Blocks whose keys are the operator's own: a storage driver's options, trace attributes.
FREE_FORM = frozenset({*(f"storage_service.{d}" for d in STORAGE_DRIVERS), "trace.attributes"})

# harbor.yml's _version: the release of Harbor whose template the file follows. Another 2.x file
# lacks keys 2.15 requires or holds keys 2.15 dropped; Harbor's own migrate converts it.
SUPPORTED_VERSION = "2.15.0"
SUPPORTED_SERIES = "2.15"
PLACEHOLDER_HOSTNAME = "reg.mydomain.com"
PLACEHOLDER_CERT = "/your/certificate/path"
PLACEHOLDER_KEY = "/your/private/key/path"
DEFAULT_ADMIN_PASSWORD = "Harbor12345"
LOG_LEVELS = ("debug", "info", "warning", "error", "fatal")
JOB_LOGGERS = ("STD_OUTPUT", "FILE", "DB")
PROXY_COMPONENTS = ("core", "jobservice", "trivy")
SSL_MODES = ("disable", "require", "verify-ca", "verify-full")


def is_known(path: str) -> bool:
    if path in KNOWN_KEYS or path in FREE_FORM:
        return True
    return any(path.startswith(block + ".") for block in FREE_FORM)
