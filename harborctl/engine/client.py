"""Connecting to the Docker engine, with advice when it fails; checking host ports are free."""

from __future__ import annotations

import errno
import socket
from collections.abc import Collection, Iterable

import docker

from harborctl.engine.model import PortMapping
from harborctl.errors import DockerUnavailableError

MINIMUM_API_VERSION = "1.39"  # Docker Engine 18.09
DEFAULT_TIMEOUT = 60


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def connect(timeout: int = DEFAULT_TIMEOUT) -> docker.DockerClient:
    """A client for the engine named by ``DOCKER_HOST`` (default ``/var/run/docker.sock``).

    Raises ``DockerUnavailableError`` with advice when the engine cannot be reached or its API
    is older than ``MINIMUM_API_VERSION``. ``timeout`` is per request, in seconds; loading a large
    image bundle needs a generous one.
    """
    try:
        client = docker.from_env(timeout=timeout)
        api_version = str(client.version().get("ApiVersion", "0"))
    except docker.errors.DockerException as exc:
        text = str(exc)
        if "Permission denied" in text or f"Errno {errno.EACCES}" in text:
            hint = ("run harborctl as root, or add your user to the docker group "
                    "(then log in again)")
        else:
            hint = ("is dockerd running (`systemctl status docker` / `service docker status`)? "
                    "is /var/run/docker.sock there and reachable (or DOCKER_HOST set right)? "
                    "are you root or in the docker group?")
        raise DockerUnavailableError(f"cannot reach the Docker engine: {text}", hint=hint) from exc
    if _version_tuple(api_version) < _version_tuple(MINIMUM_API_VERSION):
        client.close()
        raise DockerUnavailableError(
            f"the Docker engine speaks API {api_version}; harborctl needs at least "
            f"{MINIMUM_API_VERSION} (Docker 18.09)",
            hint="upgrade the Docker engine on this host",
        )
    return client


def port_is_free(port: int, protocol: str = "tcp") -> bool:
    """Whether a socket can bind ``0.0.0.0:port`` right now (a listener anywhere blocks it)."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            if exc.errno == errno.EACCES:
                return True  # a privileged port and we are not root: Docker's proxy may bind it
            raise
    return True


def ports_in_use(
    ports: Iterable[PortMapping | int], ours: Collection[int] = ()
) -> list[PortMapping]:
    """The host ports of ``ports`` that something else holds; ports in ``ours`` (published by
    the project's own running containers) are not tested. Order kept, duplicates dropped."""
    busy: list[PortMapping] = []
    seen: set[tuple[int, str]] = set()
    for port in ports:
        mapping = port if isinstance(port, PortMapping) else PortMapping(port, port)
        key = (mapping.host_port, mapping.protocol)
        if key in seen or mapping.host_port in ours:
            continue
        seen.add(key)
        if not port_is_free(mapping.host_port, mapping.protocol):
            busy.append(mapping)
    return busy
