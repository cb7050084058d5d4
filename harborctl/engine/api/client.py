"""Connecting to the Docker engine, with advice when it fails; checking host ports are free.

The docker SDK behind ``connect`` is imported only when it is called (0.1-0.2 s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harborctl.engine.api.socket_client import MINIMUM_API_VERSION
from harborctl.engine.converge.ports import port_is_free, ports_in_use

if TYPE_CHECKING:
    from harborctl.engine.api.interface import Engine

DEFAULT_TIMEOUT = 60


def connect(timeout: int = DEFAULT_TIMEOUT) -> Engine:
    """The full ``Engine`` for ``DOCKER_HOST`` (default ``/var/run/docker.sock``).

    Raises ``DockerUnavailableError`` with advice when the engine cannot be reached or its API
    is older than ``MINIMUM_API_VERSION``. ``timeout`` is per request, in seconds.
    """
    from harborctl.engine.api.docker_sdk import connect as connect_sdk

    return connect_sdk(timeout)


__all__ = ["MINIMUM_API_VERSION", "connect", "port_is_free", "ports_in_use"]
