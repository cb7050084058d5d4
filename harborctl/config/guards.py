"""Checks that keep values out which a service, docker-compose or the host would read otherwise
than the operator meant: compose interpolation, folders of the operating system, host names
that break the URLs built from them, separators inside a password."""

from __future__ import annotations

import posixpath
import re

from harborctl.config.keys import DEFAULTS
from harborctl.config.reader import ValueReader
from harborctl.hostport import as_ip_address
from harborctl.quoting import COMPOSE_INTERPOLATION

# The folders that harbor.cfg's paths are mounted from (docker-compose.yml's volumes).
MOUNTED_FOLDER_KEYS = ("data_volume", "log_location", "secretkey_path")

# A path key naming one of these folders itself is refused. harborctl creates, chowns and
# SELinux-relabels (':z') what it is given, and 'down --purge-data' empties the data volume: on a
# folder that the operating system or other programs share, that breaks the host. These are the
# top of the filesystem hierarchy (FHS) and the shared folders directly under /usr and /var;
# a folder of Harbor's own below them (/var/lib/harbor, /srv/harbor, /opt/harbor) is fine.
SYSTEM_FOLDERS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/lost+found", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/snap", "/srv",
    "/sys", "/tmp", "/usr", "/var",
    "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local",
    "/usr/sbin", "/usr/share", "/usr/src",
    "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log", "/var/mail",
    "/var/opt", "/var/run", "/var/spool", "/var/tmp", "/var/lib/docker",
})
# Kernel and device filesystems: nothing below them keeps data.
VIRTUAL_FOLDERS = ("/proc", "/sys", "/dev")

# A name the services resolve (a compose service, a container, a DNS name). '_' is allowed:
# compose service and container names such as 'harbor_db' resolve on Docker's networks.
_SERVICE_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_SERVICE_NAME = re.compile(rf"{_SERVICE_LABEL}(\.{_SERVICE_LABEL})*")
MAX_HOST_NAME = 253
SERVICE_HOST_KEYS = ("db_host", "redis_host", "clair_db_host")


def check_hostile_values(r: ValueReader) -> None:
    check_compose_interpolation(r)
    check_mounted_folders(r)
    check_service_hosts(r)
    check_redis_password(r)


def check_compose_interpolation(r: ValueReader) -> None:
    for key, raw in r.raw.values.items():
        if COMPOSE_INTERPOLATION in raw.value:
            r.error(
                key,
                "holds '${', which docker-compose 1.29 replaces by an environment variable "
                "(even inside quotes), so the service would not get this value",
                "write the value without '${' ('$' alone is fine)",
            )


def normalized_folder(value: str) -> str:
    """``value`` as the folder it names: '..', '.' and repeated or trailing slashes resolved
    (without the file system; a symbolic link is not followed)."""
    normal = posixpath.normpath(value)
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


def check_mounted_folders(r: ValueReader) -> None:
    for key in MOUNTED_FOLDER_KEYS:
        if not r.is_set(key):
            continue
        value = r.text(key)
        if ":" in value:
            r.error(key, f"{value!r} holds ':', which docker-compose reads as the end of the "
                    "host folder of a volume", "choose a folder without ':'")
            continue
        if not value.startswith("/"):
            continue  # the reader reports a relative path
        folder = normalized_folder(value)
        if folder in SYSTEM_FOLDERS or any(
            folder == top or folder.startswith(top + "/") for top in VIRTUAL_FOLDERS
        ):
            r.error(
                key,
                f"{value!r} is a system folder; harborctl would create, chown and relabel files "
                "there, and 'down --purge-data' would delete them",
                f"use a folder of Harbor's own, such as {DEFAULTS[key]} or /srv/harbor",
            )


def service_host_problem(value: str) -> str | None:
    """Why ``value`` cannot be the host of the database or redis, or None when it can."""
    address = as_ip_address(value)
    if address is not None and address.version == 6:
        return (f"{value!r} is an IPv6 address, which the database and redis URLs cannot carry "
                "here; give a host name that resolves to it")
    if address is not None:
        return None
    if len(value) > MAX_HOST_NAME or not _SERVICE_NAME.fullmatch(value):
        return f"{value!r} is not a host name or an IPv4 address"
    return None


def check_service_hosts(r: ValueReader) -> None:
    for key in SERVICE_HOST_KEYS:
        value = r.text(key)
        if not value and key != "clair_db_host":
            continue  # reported as empty where the group is read
        problem = service_host_problem(value) if value else "must not be empty"
        if problem is not None:
            r.error(key, problem, f"use {DEFAULTS[key]!r} for the bundled one, or the name of "
                    "your server")


def check_redis_password(r: ValueReader) -> None:
    if "," in r.text("redis_password"):
        r.error(
            "redis_password",
            "holds ',', which splits Harbor core's redis setting (address,pool size,password) "
            "and cuts the password short",
            "choose a redis password without ','",
        )
