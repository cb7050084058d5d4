"""``host[:port]`` as operators write it, and whether a host is an IP address: the one parser.

Config validation, the certificates and the Docker trust paths all read host names through
here, so ``[v6]:port``, a bare IPv6 address and a port out of range mean the same everywhere.
Pure: no I/O, no cryptography.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Union

from harborctl.errors import UsageError

__all__ = [
    "HostPort",
    "IPAddress",
    "PortOutOfRange",
    "as_ip_address",
    "format_host_port",
    "parse_host_port",
    "parse_ip_address",
]

# Union, not |: a module-level alias is evaluated at import, and 3.9 has no | of types.
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# ASCII digits only: int() also reads "٨٠" or "８０", which Docker, URLs and nginx do not.
_PORT = re.compile(r"[0-9]+")


class PortOutOfRange(UsageError):
    """A well-formed ``host:port`` whose port is not 1-65535; the parts are kept so that a
    caller reporting every problem at once can name the port and go on with the host."""

    def __init__(self, value: str, host: str, port: int) -> None:
        super().__init__(f"{value!r} is not a valid host[:port]: the port must be 1-65535")
        self.host = host
        self.port = port


@dataclass(frozen=True)
class HostPort:
    """A host as written (brackets of ``[v6]`` removed) and the port that followed it, if any."""

    host: str
    port: int | None

    @property
    def normalized_host(self) -> str:
        """The host as names are compared (certificates, Docker's certs.d): lower case, without
        the trailing dot of a fully qualified name."""
        return self.host.rstrip(".").lower()

    @property
    def ip(self) -> IPAddress | None:
        """The host as an IP address, or None when it is a name."""
        return as_ip_address(self.normalized_host)


def parse_host_port(value: str, *, brackets: bool = True) -> HostPort:
    """Split ``host[:port]``, ``[v6]`` or ``[v6]:port``; a bare IPv6 address has no port.

    Raises ``UsageError`` for a malformed value (``PortOutOfRange`` when only the port's range
    is wrong). An empty value gives an empty host: each caller words that case itself.
    ``brackets=False`` reads ``[`` as an ordinary character, for a setting whose host is later
    joined to its port without brackets (harbor.cfg's hostname).
    """
    text = value.strip()
    port_text: str | None = None
    if brackets and text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise UsageError(f"{value!r} is not a valid host: a '[' without its ']'")
        host, rest = text[1:end], text[end + 1 :]
        if rest:
            if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
                raise UsageError(f"{value!r} is not a valid host[:port]")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not _PORT.fullmatch(port_text):
            raise UsageError(f"{value!r} is not a valid host[:port]: the port must be a number")
    else:  # a plain name, or a bare IPv6 address
        host = text
    if port_text is None:
        return HostPort(host, None)
    if len(port_text) > 10:  # int() refuses thousands of digits; no port needs more than five
        raise UsageError(f"{value[:80]!r} is not a valid host[:port]: the port must be 1-65535")
    port = int(port_text)
    if not 0 < port < 65536:
        raise PortOutOfRange(value, host, port)
    return HostPort(host, port)


def format_host_port(host: str, port: int | None) -> str:
    """``host[:port]`` as Docker and URLs write it: an IPv6 address in brackets, so that its own
    colons are not taken for the port's."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def as_ip_address(text: str) -> IPAddress | None:
    """``text`` as an IP address, or None when it is a name (or anything else)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_ip_address(text: str) -> IPAddress:
    """An IP address an operator gave as an option (surrounding blanks and ``[]`` allowed)."""
    address = as_ip_address(text.strip().strip("[]"))
    if address is None:
        raise UsageError(f"{text!r} is not an IP address")
    return address
