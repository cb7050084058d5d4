"""From raw strings to a typed Config, reporting every problem at once."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from harborctl.config import model as m
from harborctl.config.guards import MAX_HOST_NAME, check_hostile_values
from harborctl.config.keys import DEFAULTS, SUPPORTED_RELEASES
from harborctl.config.loader import RawConfig
from harborctl.config.operator_files import ReadFile, read_bytes
from harborctl.config.problems import BySeverity, Problem
from harborctl.config.reader import ValueReader, shown
from harborctl.config.sections import read_auth, read_storage
from harborctl.config.whole import check_whole_config
from harborctl.errors import UsageError
from harborctl.hostport import PortOutOfRange, as_ip_address, parse_host_port
from harborctl.quoting import COMPOSE_INTERPOLATION, env_quoting

PLACEHOLDER_HOSTNAME = "reg.mydomain.com"
LOG_SERVICE_PORT = 1514
MAX_SUGGESTIONS = 20  # "did you mean" hints for unknown keys
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_SIZE = re.compile(r"[0-9]+[kKmMgG]?")  # ASCII digits: logrotate reads no others
_IMAGE_SOURCE = re.compile(r"[a-z0-9]([a-z0-9._:-]*[a-z0-9])?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*")
FileExists = Callable[[Path], bool]


@dataclass(frozen=True)
class Validation(BySeverity):
    """The outcome of validation: a Config when there is no error, and every problem found."""

    config: m.Config | None
    problems: tuple[Problem, ...]


def validate(
    raw: RawConfig,
    file_exists: FileExists = os.path.isfile,
    overrides: dict[str, bool] | None = None,
    read_file: ReadFile = read_bytes,
) -> Validation:
    """Validate ``raw``; ``overrides`` turns components on (``{"notary": True}``), as flags do.
    ``read_file`` reads the files harbor.cfg names for copying (CA bundles, a gcs key)."""
    r = ValueReader(raw)
    _check_lines(r)
    _check_unknown_keys(r)
    check_hostile_values(r)
    address = _read_address(r)
    components = m.Components(
        notary=r.boolean("with_notary") or bool((overrides or {}).get("notary")),
        clair=r.boolean("with_clair") or bool((overrides or {}).get("clair")),
        chartmuseum=r.boolean("with_chartmuseum") or bool((overrides or {}).get("chartmuseum")),
    )
    tls = _read_tls(r, address, file_exists)
    if components.notary and address.protocol != "https":
        r.error(
            "with_notary" if r.is_set("with_notary") else "ui_url_protocol",
            "notary (content trust) needs https",
            "set ui_url_protocol = https with a certificate, or leave notary off",
        )
    if r.text("ui_url_protocol") == "http":
        r.warn(
            "ui_url_protocol",
            "plain http: passwords and images cross the network unencrypted, and every docker "
            "client needs an insecure-registries entry",
            "run 'harborctl gencert' and set ui_url_protocol = https",
        )
    config = m.Config(
        source=raw.path,
        version=r.text("_version"),
        address=address,
        tls=tls,
        database=_read_database(r),
        redis=_read_redis(r),
        storage=read_storage(r, read_file),
        auth=read_auth(r, read_file),
        email=m.Email(
            identity=r.text("email_identity"),
            server=r.text("email_server"),
            port=r.port("email_server_port"),
            username=r.text("email_username"),
            password=r.text("email_password"),
            sender=r.text("email_from"),
            ssl=r.boolean("email_ssl"),
            insecure=r.boolean("email_insecure"),
        ),
        jobs=m.Jobs(max_job_workers=r.integer("max_job_workers", 1, 1000)),
        logs=_read_logs(r),
        proxy=m.Proxy(r.text("http_proxy"), r.text("https_proxy"), r.text("no_proxy")),
        clair_db=m.ClairDb(
            host=r.text("clair_db_host"),
            port=r.port("clair_db_port"),
            username=r.text("clair_db_username"),
            password=r.text("clair_db_password"),
            database=r.text("clair_db"),
            updaters_interval=r.integer("clair_updaters_interval", 0, 24 * 365),
        ),
        components=components,
        images=_read_images(r),
        paths=m.Paths(
            data_volume=r.absolute_path("data_volume") or Path(DEFAULTS["data_volume"]),
            secretkey_path=r.absolute_path("secretkey_path") or Path(DEFAULTS["secretkey_path"]),
        ),
        reload_config=r.boolean("reload_config"),
        skip_reload_env_pattern=r.text("skip_reload_env_pattern"),
        admiral_url=r.text("admiral_url"),
    )
    check_whole_config(r, config)
    problems = tuple(
        sorted(r.problems, key=lambda p: (p.severity != "error", p.line or 10**9, p.key))
    )
    has_error = any(p.severity == "error" for p in problems)
    return Validation(None if has_error else config, problems)


def _check_lines(r: ValueReader) -> None:
    for key, raw in r.raw.values.items():
        if "\n" in raw.value:
            r.error(
                key,
                "the value continues on an indented line below; values must fit on one line",
                "join the lines, or remove the indentation of the next line if it is another key",
            )
        elif COMPOSE_INTERPOLATION not in raw.value and env_quoting(raw.value) is None:
            r.error(
                key,
                "this value cannot be passed to Harbor's services exactly: it holds a backslash "
                "or a character that ends a line for some reader, or mixes a single quote with "
                "a double quote or '$'",
                "drop the backslash, or use only one kind of quote",
            )


def _check_unknown_keys(r: ValueReader) -> None:
    suggested = 0
    for key in r.raw.values:
        if key in DEFAULTS:
            continue
        # difflib costs ~2 ms a key: a megabyte of junk keys took minutes. The first few
        # suggestions are the ones an operator reads.
        close = []
        if suggested < MAX_SUGGESTIONS:
            suggested += 1
            close = difflib.get_close_matches(key, DEFAULTS.keys(), n=1, cutoff=0.75)
        hint = f"did you mean '{close[0]}'?" if close else "see harbor.cfg.example for every key"
        r.warn(key, "unknown key, ignored", hint)


def _read_address(r: ValueReader) -> m.Address:
    protocol = cast(m.Protocol, r.choice("ui_url_protocol", ("http", "https")))
    http_port = r.port("http_port")
    https_port = r.port("https_port")
    host, port_in_name = _parse_hostname(r)
    if port_in_name is not None:
        port_key = "https_port" if protocol == "https" else "http_port"
        configured = https_port if protocol == "https" else http_port
        if r.is_set(port_key) and configured != port_in_name:
            r.error(
                "hostname",
                f"names port {port_in_name} but {port_key} is {configured} "
                f"(line {r.line(port_key)})",
                f"give the port in one place only: remove ':{port_in_name}' or {port_key}",
            )
        elif protocol == "https":
            https_port = port_in_name
        else:
            http_port = port_in_name
    if http_port == https_port:
        r.error("https_port", f"http_port and https_port are both {http_port}", "use two ports")
    for key, port in (("http_port", http_port), ("https_port", https_port)):
        if port == LOG_SERVICE_PORT:
            r.error(key, f"port {port} is taken by Harbor's log service on 127.0.0.1")
    return m.Address(host, protocol, http_port, https_port)


def _parse_hostname(r: ValueReader) -> tuple[str, int | None]:
    value = r.text("hostname")
    if "://" in value or "/" in value:
        r.error(
            "hostname",
            f"{value!r} must be a bare host name, without a scheme or a path",
            "for example: hostname = registry.example.com (the protocol is ui_url_protocol)",
        )
        return value, None
    host, port = _split_hostname(r, value)
    if not host:
        r.error("hostname", "must not be empty", "set the name clients use to reach the registry")
    elif host == PLACEHOLDER_HOSTNAME:
        r.error(
            "hostname",
            f"{host!r} is the example placeholder",
            "set the DNS name or IP address that docker clients will use to reach this host",
        )
    elif host.lower() == "localhost" or _is_this_machine(host):
        r.error(
            "hostname",
            f"{host!r} is this machine only: other clients, and the containers, cannot use it",
            "set the host's DNS name or its LAN IP address",
        )
    elif "%" in host and ":" in host:
        r.error("hostname", f"{host!r} is an IPv6 address with a zone, which only this "
                "machine's link knows; clients cannot use it in image names",
                "give the address without '%zone', or a DNS name")
    elif not (as_ip_address(host) is not None
              or (_DNS_NAME.fullmatch(host) and len(host) <= MAX_HOST_NAME)):
        r.error("hostname", f"{shown(host)} is not a valid host name or IP address",
                f"a host name has at most {MAX_HOST_NAME} characters and labels of at most 63")
    return host, port


def _is_this_machine(host: str) -> bool:
    address = as_ip_address(host)
    if address is not None and address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address is not None and (address.is_loopback or address.is_unspecified)


def _split_hostname(r: ValueReader, value: str) -> tuple[str, int | None]:
    """``name:port``, ``v6``, ``[v6]`` or ``[v6]:port`` from harbor.cfg; whatever does not split
    stays whole, to be reported as an invalid host name. The host is kept without brackets:
    ``Address.authority`` adds them wherever a URL or ``host:port`` is made."""
    if "\n" in value:  # _check_lines reports it; the hostname check names the value whole
        return value, None
    if value.startswith("[") and _bracketed_ipv6(value) is None:
        return value, None  # "[name]" or "[10.0.0.1]": brackets are for IPv6 addresses only
    try:
        parsed = parse_host_port(value)
    except PortOutOfRange as exc:
        if not exc.host:
            return value, None
        r.error("hostname", f"port {exc.port} is out of range (1–65535)")
        return exc.host, None
    except UsageError:
        return value, None
    if not parsed.host:  # ":8080"
        return value, None
    return parsed.host, parsed.port


def _bracketed_ipv6(value: str) -> str | None:
    inside = value[1:].partition("]")[0]
    address = as_ip_address(inside)
    return inside if address is not None and address.version == 6 else None


def _read_tls(r: ValueReader, address: m.Address, file_exists: FileExists) -> m.Tls:
    https = address.protocol == "https"
    paths: dict[str, Path] = {}
    for key in ("ssl_cert", "ssl_cert_key"):
        path = r.absolute_path(key, optional=not https)
        paths[key] = path or Path(DEFAULTS[key])
        if https and path is not None and not file_exists(path):
            r.error(
                key,
                f"{path} does not exist (https needs it)",
                "run 'harborctl gencert' to create a certificate there, or point to yours",
            )
    return m.Tls(paths["ssl_cert"], paths["ssl_cert_key"], r.boolean("customize_crt"))


def _read_database(r: ValueReader) -> m.Database:
    database = m.Database(
        host=r.text("db_host"),
        port=r.port("db_port"),
        user=r.text("db_user"),
        password=r.text("db_password"),
    )
    if not database.password:
        r.error("db_password", "must not be empty", "PostgreSQL needs a password for its user")
    elif database.password == DEFAULTS["db_password"]:
        r.warn("db_password", "is the well-known default", "set a password of your own")
    if not database.host:
        r.error("db_host", "must not be empty", "use 'postgresql' for the bundled database")
    return database


def _read_redis(r: ValueReader) -> m.Redis:
    raw_index = r.text("redis_db_index")
    parts = [part.strip() for part in raw_index.split(",")]
    index = m.RedisDbIndex(1, 2, 3)
    if len(parts) != 3 or not all(re.fullmatch("[0-9]{1,9}", part) for part in parts):
        r.error(
            "redis_db_index",
            f"{raw_index!r} is not three numbers",
            "write the redis databases of registry, jobservice and chartmuseum, e.g. 1,2,3",
        )
    else:
        numbers = [int(part) for part in parts]
        if len(set(numbers)) != 3 or not all(1 <= n <= 15 for n in numbers):
            r.error(
                "redis_db_index",
                f"{raw_index!r} must be three different numbers from 1 to 15",
                "database 0 belongs to core; registry, jobservice and chartmuseum need one each",
            )
        else:
            index = m.RedisDbIndex(*numbers)
    host = r.text("redis_host")
    if not host:
        r.error("redis_host", "must not be empty", "use 'redis' for the bundled redis")
    return m.Redis(host=host, port=r.port("redis_port"), password=r.text("redis_password"),
                   db_index=index)


def _read_logs(r: ValueReader) -> m.Logs:
    size = r.text("log_rotate_size")
    if not _SIZE.fullmatch(size):
        r.error("log_rotate_size", f"{size!r} is not a size", "write a number with k, M or G")
        size = DEFAULTS["log_rotate_size"]
    location = r.absolute_path("log_location") or Path(DEFAULTS["log_location"])
    return m.Logs(r.integer("log_rotate_count", 0, 10000), size, location)


def _read_images(r: ValueReader) -> m.Images:
    source = r.text("image_source").rstrip("/")
    if not _IMAGE_SOURCE.fullmatch(source):
        r.error(
            "image_source",
            f"{source!r} is not an image repository prefix",
            "use goharbor (Docker Hub) or a mirror such as mirror.example.com/goharbor",
        )
        source = DEFAULTS["image_source"]
    release = r.text("harbor_release").removeprefix("v")
    if release not in SUPPORTED_RELEASES:
        r.error("harbor_release", f"{release!r} is not supported; supported: "
                f"{', '.join(SUPPORTED_RELEASES)}")
        release = DEFAULTS["harbor_release"]
    return m.Images(source, release)
