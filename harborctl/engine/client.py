"""Connecting to the Docker engine, with advice when it fails; checking host ports are free."""

from __future__ import annotations

import errno

import docker

from harborctl.engine.ports import port_is_free, ports_in_use
from harborctl.engine.socket_client import MINIMUM_API_VERSION, check_api_version
from harborctl.errors import DockerUnavailableError

DEFAULT_TIMEOUT = 60



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
    try:
        check_api_version(api_version)
    except DockerUnavailableError:
        client.close()
        raise
    return client


__all__ = ["MINIMUM_API_VERSION", "connect", "port_is_free", "ports_in_use"]
