"""Whether host ports are free (no docker package needed)."""

from __future__ import annotations

import errno
import socket
from collections.abc import Collection, Iterable

from harborctl.engine.compose.model import PortMapping


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
