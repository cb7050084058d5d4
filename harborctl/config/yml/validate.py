"""From harbor.yml's raw key paths to a typed Config2, reporting every problem at once."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harborctl.config.guards import SYSTEM_FOLDERS, normalized_folder, service_host_problem
from harborctl.config.operator_files import ReadFile, read_bytes
from harborctl.config.problems import BySeverity, Problem
from harborctl.config.reader import shown
from harborctl.config.validate import LOG_SERVICE_PORT
from harborctl.config.yml import keys as k
from harborctl.config.yml import model as m
from harborctl.config.yml.loader import RawYaml
from harborctl.config.yml.reader import YamlReader
from harborctl.config.yml.sections import (
    read_ca,
    read_internal_tls,
    read_redis,
    read_storage,
    read_trace,
)
from harborctl.errors import UsageError
from harborctl.hostport import as_ip_address, parse_host_port
from harborctl.quoting import COMPOSE_INTERPOLATION, env_quoting

FileExists = Callable[[Path], bool]


@dataclass(frozen=True)
class Validation2(BySeverity):
    """The outcome of validating a harbor.yml: a Config2 when there is no error."""

    config: m.Config2 | None
    problems: tuple[Problem, ...]


_VERSION = re.compile(r"(?P<major>[0-9]+)\.(?P<minor>[0-9]+)(\.(?P<patch>[0-9]+))?")
_DURATION = re.compile(r"0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+")
_HOURS = re.compile(r"(?P<n>[0-9]+)h")
_SIZE = re.compile(r"[0-9]+[kKmMgG]?")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def validate(raw: RawYaml, file_exists: FileExists = os.path.isfile,
             read_file: ReadFile = read_bytes, with_trivy: bool = False) -> Validation2:
    """Validate a harbor.yml; ``with_trivy`` is Harbor's ``--with-trivy`` flag."""
    r = YamlReader(raw)
    if not raw.items:  # unreadable: the reader's problems say why
        return Validation2(None, tuple(r.problems))
    _check_unknown_keys(r)
    _check_strings(r)
    version = _read_version(r)
    hostname = _read_hostname(r)
    http_port = r.port("http.port", 80)
    https = _read_https(r, file_exists)
    if https is None:
        r.warn("https", "plain http: passwords and images cross the network unencrypted, and "
               "every docker client needs an insecure-registries entry",
               "add an https block with your certificate (harborctl gencert makes one)")
    internal_tls = read_internal_tls(r, read_file, with_trivy)
    metric = _read_metric(r)
    _check_ports(r, http_port, https, metric)
    external_url = _read_external_url(r)
    admin = r.text("harbor_admin_password", required=True, example='"a password of yours"')
    if admin == k.DEFAULT_ADMIN_PASSWORD:
        r.warn("harbor_admin_password", "is the well-known default; anyone can log in as admin",
               "set a password of your own before the first install (it is applied only then)")
    config = m.Config2(
        source=raw.path, version=version, hostname=hostname, http_port=http_port, https=https,
        ipv4=r.boolean("ip_family.ipv4.enabled", True),
        ipv6=r.boolean("ip_family.ipv6.enabled", False),
        internal_tls=internal_tls,
        strong_ssl_ciphers=r.boolean("https.strong_ssl_ciphers")
        or r.boolean("internal_tls.strong_ssl_ciphers"),
        external_url=external_url, admin_password=admin,
        database=_read_database(r),
        data_volume=_read_folder(r, "data_volume", "/data"),
        storage=read_storage(r, read_file),
        trivy=_read_trivy(r),
        jobservice=_read_jobservice(r),
        log=_read_log(r),
        redis=read_redis(r, read_file),
        uaa_ca_file=read_ca(r, "uaa.ca_file", read_file) if r.is_set("uaa.ca_file") else None,
        proxy=m.Proxy(r.text("proxy.http_proxy"), r.text("proxy.https_proxy"),
                      r.text("proxy.no_proxy"), r.names("proxy.components", k.PROXY_COMPONENTS)),
        metric=metric,
        trace=read_trace(r),
        upload_purging=_read_upload_purging(r),
        cache_expire_hours=r.integer("cache.expire_hours", 24, 1)
        if r.boolean("cache.enabled") else None,
        quota_update_provider=r.choice("core.quota_update_provider", ("db", "redis"), "db"),
        with_trivy=with_trivy,
    )
    if not (config.ipv4 or config.ipv6):
        r.error("ip_family", "both IPv4 and IPv6 are off: nothing would listen")
    problems = tuple(sorted(r.problems, key=lambda p: (p.severity != "error",
                                                        p.line or 10**9, p.key)))
    has_error = any(p.severity == "error" for p in problems)
    return Validation2(None if has_error else config, problems)


def _check_unknown_keys(r: YamlReader) -> None:
    for path in r.raw.items:
        if k.is_known(path):
            continue
        parent, _, name = path.rpartition(".")
        if parent and not k.is_known(parent):
            continue  # the block itself is reported
        siblings = [key.rpartition(".")[2] for key in k.KNOWN_KEYS
                    if key.rpartition(".")[0] == parent]
        close = difflib.get_close_matches(name, siblings, n=1)
        hint = f"did you mean {(parent + '.' if parent else '') + close[0]}?" if close else \
            "harbor.yml.tmpl of Harbor v2.15 lists every key"
        r.error(path, "unknown key: Harbor v2.15 does not read it", hint)


def _check_strings(r: YamlReader) -> None:
    """Every text value reaches an env file, YAML or nginx: refuse what cannot pass exactly."""
    for path, item in r.raw.items.items():
        if not isinstance(item.value, str):
            continue
        if COMPOSE_INTERPOLATION in item.value:
            r.error(path, "holds '${', which docker-compose replaces by an environment variable",
                    "write the value without '${' ('$' alone is fine)")
        elif env_quoting(item.value) is None:
            r.error(path, "this value cannot be passed to Harbor's services exactly: it holds a "
                    "line break, a backslash, or mixes a single quote with a double quote or '$'",
                    "drop the backslash or line break, or use only one kind of quote")


def _read_version(r: YamlReader) -> str:
    item = r.raw.items.get("_version")
    if item is None or item.value is None:
        r.warn("_version", f"missing; read as a Harbor {k.SUPPORTED_VERSION} file",
               f"add _version: {k.SUPPORTED_VERSION} at the top")
        return k.SUPPORTED_VERSION
    text = item.text or ""  # 2.15 unquoted is a float for YAML: the written text counts
    match = _VERSION.fullmatch(text)
    if not match:
        r.error("_version", f"{shown(text)} is not a Harbor release such as "
                f"{k.SUPPORTED_VERSION}")
        return k.SUPPORTED_VERSION
    series = f"{match['major']}.{match['minor']}"
    if series != k.SUPPORTED_SERIES:
        hint = ("convert it with Harbor's own migrate: docker run --rm -v /:/hostfs "
                "goharbor/prepare:v2.15.2 migrate -i <path of harbor.yml>"
                if match["major"] != "1" or int(match["minor"]) >= 9 else
                "a Harbor 1.8 file: convert it with Harbor's migrator first, or write a new "
                "harbor.yml from Harbor v2.15's harbor.yml.tmpl")
        r.error("_version", f"a Harbor {series} file; harborctl reads the files of Harbor "
                f"{k.SUPPORTED_SERIES} (their keys differ)", hint)
    return text


def _read_hostname(r: YamlReader) -> str:
    value = r.text("hostname", required=True, example="harbor.example.com")
    if not value:
        return ""
    if value == k.PLACEHOLDER_HOSTNAME:
        r.error("hostname", f"is still the example {k.PLACEHOLDER_HOSTNAME}",
                "give the name docker clients use to reach this host")
        return value
    try:
        host = parse_host_port(value).normalized_host
    except UsageError as exc:
        r.error("hostname", exc.message)
        return value
    if as_ip_address(host) is None and not _DNS_NAME.fullmatch(host):
        r.error("hostname", f"{shown(host)} is not a host name or IP address",
                "give the name docker clients use, such as harbor.example.com")
    elif host in ("127.0.0.1", "localhost", "::1"):
        r.error("hostname", f"{host} cannot be the hostname: clients elsewhere, and the "
                "services' containers, would reach themselves", "give the host's name or address")
    return value


def _read_https(r: YamlReader, file_exists: FileExists) -> m.Https | None:
    if not r.block("https"):
        return None
    files = []
    for key, placeholder in (("certificate", k.PLACEHOLDER_CERT),
                             ("private_key", k.PLACEHOLDER_KEY)):
        path = r.absolute_path(f"https.{key}", required=True,
                               example=f"/etc/harbor/server.{key[:3]}")
        if path is not None and str(path) == placeholder:
            r.error(f"https.{key}", "is still the example path of harbor.yml.tmpl",
                    "give your certificate's files, or run 'harborctl gencert'")
        elif path is not None and not file_exists(path):
            r.error(f"https.{key}", f"{path}: no such file",
                    "give the absolute path of an existing file, readable by root")
        files.append(path or Path("/"))
    return m.Https(r.port("https.port", 443), files[0], files[1],
                   r.boolean("https.strong_ssl_ciphers"))


def _read_metric(r: YamlReader) -> m.Metric | None:
    if not r.block("metric") or not r.boolean("metric.enabled"):
        return None
    path = r.text("metric.path", "/metrics", required=True, example="/metrics")
    if not path.startswith("/") or any(c.isspace() or c in "{};$\"'" for c in path):
        r.error("metric.path", f"{shown(path)} is not a URL path such as /metrics")
    return m.Metric(r.port("metric.port", 9090, required=True), path)


def _check_ports(r: YamlReader, http_port: int, https: m.Https | None,
                 metric: m.Metric | None) -> None:
    used = {"http.port": http_port}
    if https is not None:
        used["https.port"] = https.port
    if metric is not None:
        used["metric.port"] = metric.port
    seen: dict[int, str] = {LOG_SERVICE_PORT: "the log service"}
    for key, port in used.items():
        if port in seen:
            r.error(key, f"port {port} is already taken by {seen[port]}",
                    "give each published port its own number")
        seen[port] = key


def _read_external_url(r: YamlReader) -> str:
    value = r.text("external_url")
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            r.error("external_url", f"{shown(value)} is not an http:// or https:// URL",
                    "write it as https://harbor.example.com[:port]")
    return value


def _pool(r: YamlReader, block: str) -> m.Pool:
    durations = []
    for key, default in (("conn_max_lifetime", "5m"), ("conn_max_idle_time", "0")):
        value = r.text(f"{block}.{key}", default)
        if not _DURATION.fullmatch(value):
            r.error(f"{block}.{key}", f"{shown(value)} is not a duration such as 5m or 1h30m")
        durations.append(value)
    # Harbor's prepare reads 0 (or empty) as "use the default"
    return m.Pool(r.integer(f"{block}.max_idle_conns", 2) or 2,
                  r.integer(f"{block}.max_open_conns", 0), durations[0], durations[1])


def _read_database(r: YamlReader) -> m.Database:
    if r.block("external_database"):
        if not r.block("external_database.harbor", required=True):
            return m.Database("", 5432, "", "", "", "disable", _pool(r, "database"), True)
        b = "external_database.harbor"
        host = r.text(f"{b}.host", required=True, example="db.example.com")
        problem = service_host_problem(host) if host else None
        if problem:
            r.error(f"{b}.host", problem)
        return m.Database(host, r.port(f"{b}.port", 5432, required=True),
                          r.text(f"{b}.db_name", required=True, example="registry"),
                          r.text(f"{b}.username", required=True, example="harbor"),
                          r.text(f"{b}.password", required=True, example='"a password"'),
                          r.choice(f"{b}.ssl_mode", k.SSL_MODES, "disable", required=True),
                          _pool(r, b), True)
    password = r.text("database.password")
    if not password:
        r.warn("database.password", "empty: the bundled PostgreSQL then accepts any "
               "connection from the Harbor network without a password",
               "set database.password before the first install (it is applied only then)")
    return m.Database("postgresql", 5432, "registry", "postgres", password, "disable",
                      _pool(r, "database"), False)


def _read_folder(r: YamlReader, key: str, default: str) -> Path:
    path = r.absolute_path(key, required=key == "data_volume", example=default)
    if path is None:
        return Path(default)
    if ":" in str(path):
        r.error(key, f"{shown(str(path))} holds ':', which docker-compose reads as the end of "
                "the host folder of a volume", "choose a folder without ':'")
    elif normalized_folder(str(path)) in SYSTEM_FOLDERS:
        r.error(key, f"{shown(str(path))} is a system folder; harborctl would create, chown and "
                "relabel files there", f"use a folder of Harbor's own, such as {default}")
    return path


def _read_trivy(r: YamlReader) -> m.Trivy:
    timeout = r.text("trivy.timeout", "5m0s")
    if not _DURATION.fullmatch(timeout):
        r.error("trivy.timeout", f"{shown(timeout)} is not a duration such as 5m0s")
    return m.Trivy(
        r.boolean("trivy.ignore_unfixed"), r.boolean("trivy.skip_update"),
        r.boolean("trivy.skip_java_db_update"), r.boolean("trivy.offline_scan"),
        r.text("trivy.security_check", "vuln"), r.boolean("trivy.insecure"), timeout,
        r.text("trivy.github_token"),
        r.text("trivy.db_repository", "ghcr.io/aquasecurity/trivy-db"),
        r.text("trivy.java_db_repository", "ghcr.io/aquasecurity/trivy-java-db"))


def _read_jobservice(r: YamlReader) -> m.Jobservice:
    hours = r.integer("jobservice.max_job_duration_hours", 24, 0)
    if hours < 24:
        r.warn("jobservice.max_job_duration_hours", f"{hours} is below 24: Harbor uses 24",
               "write 24 or more")
        hours = 24
    loggers = r.names("jobservice.job_loggers", k.JOB_LOGGERS, required=True)
    if r.value("jobservice.job_loggers") == []:
        r.error("jobservice.job_loggers", "empty: the job logs would go nowhere",
                "list STD_OUTPUT, FILE and/or DB")
    return m.Jobservice(
        r.integer("jobservice.max_job_workers", 10, 1, 1000, required=True), hours, loggers,
        r.integer("jobservice.logger_sweeper_duration", 1, 0, required=True),
        r.integer("notification.webhook_job_max_retry", 3, 0, required=True),
        r.integer("notification.webhook_job_http_client_timeout", 3, 1, required=True))


def _read_log(r: YamlReader) -> m.Log:
    level = r.choice("log.level", k.LOG_LEVELS, "info", required=True)
    size = r.text("log.local.rotate_size", "200M")
    if not _SIZE.fullmatch(size):
        r.error("log.local.rotate_size", f"{shown(size)} is not a size such as 200M")
    external = None
    if r.block("log.external_endpoint"):
        host = r.text("log.external_endpoint.host", required=True, example="syslog.example.com")
        if host and service_host_problem(host):
            r.error("log.external_endpoint.host", str(service_host_problem(host)))
        external = m.ExternalLog(
            r.choice("log.external_endpoint.protocol", ("tcp", "udp"), "tcp", required=True),
            host, r.port("log.external_endpoint.port", 514, required=True))
    return m.Log(level, r.integer("log.local.rotate_count", 50, 0, 10000), size,
                 _read_folder(r, "log.local.location", "/var/log/harbor"), external)


def _read_upload_purging(r: YamlReader) -> m.UploadPurging:
    if not r.block("upload_purging"):
        return m.UploadPurging(False, "168h", "24h", False)
    hours = []
    for key, default in (("age", "168h"), ("interval", "24h")):
        value = r.text(f"upload_purging.{key}", default)
        match = _HOURS.fullmatch(value)
        if not match or int(match["n"]) < 2:
            r.error(f"upload_purging.{key}", f"{shown(value)} is not a number of hours of 2 "
                    "or more, such as 24h")
        hours.append(value)
    return m.UploadPurging(r.boolean("upload_purging.enabled"), hours[0], hours[1],
                           r.boolean("upload_purging.dryrun"))

