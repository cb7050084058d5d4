"""hostport.py: the one ``host[:port]`` parser and the one "is it an IP address" helper."""

from __future__ import annotations

import ipaddress

import pytest

from harborctl.errors import UsageError
from harborctl.hostport import (
    HostPort,
    PortOutOfRange,
    as_ip_address,
    format_host_port,
    parse_host_port,
    parse_ip_address,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("reg.example.com", HostPort("reg.example.com", None)),
        ("reg.example.com:8443", HostPort("reg.example.com", 8443)),
        ("Reg.Example.com.:8443", HostPort("Reg.Example.com.", 8443)),
        ("  reg.example.com:443 ", HostPort("reg.example.com", 443)),
        ("10.0.0.1", HostPort("10.0.0.1", None)),
        ("10.0.0.1:443", HostPort("10.0.0.1", 443)),
        ("[fd00::1]:8443", HostPort("fd00::1", 8443)),
        ("[fd00::1]", HostPort("fd00::1", None)),
        ("fd00::1", HostPort("fd00::1", None)),
        ("::1", HostPort("::1", None)),
        ("host:0443", HostPort("host", 443)),
        ("host:65535", HostPort("host", 65535)),
        ("", HostPort("", None)),
        (":8080", HostPort("", 8080)),
    ],
)
def test_parse_host_port(value: str, expected: HostPort) -> None:
    assert parse_host_port(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("host:0", "'host:0' is not a valid host[:port]: the port must be 1-65535"),
        ("host:99999", "'host:99999' is not a valid host[:port]: the port must be 1-65535"),
        ("[fd00::1]:0", "'[fd00::1]:0' is not a valid host[:port]: the port must be 1-65535"),
        ("h:p", "'h:p' is not a valid host[:port]: the port must be a number"),
        ("host:", "'host:' is not a valid host[:port]: the port must be a number"),
        ("host:-1", "'host:-1' is not a valid host[:port]: the port must be a number"),
        ("host:²", "'host:²' is not a valid host[:port]: the port must be a number"),
        ("[fd00::1", "'[fd00::1' is not a valid host: a '[' without its ']'"),
        ("[fd00::1]x", "'[fd00::1]x' is not a valid host[:port]"),
        ("[fd00::1]:", "'[fd00::1]:' is not a valid host[:port]"),
        ("[fd00::1]:https", "'[fd00::1]:https' is not a valid host[:port]"),
    ],
)
def test_parse_host_port_refuses(value: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_host_port(value)
    assert caught.value.message == message


def test_a_port_out_of_range_keeps_the_parts() -> None:
    with pytest.raises(PortOutOfRange) as caught:
        parse_host_port("reg.example.com:99999")
    assert (caught.value.host, caught.value.port) == ("reg.example.com", 99999)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # harbor.cfg's hostname: '[' is an ordinary character, to be refused as a name later
        ("[fd00::1]:443", HostPort("[fd00::1]:443", None)),
        ("[fd00::1]", HostPort("[fd00::1]", None)),
        ("[name]:443", HostPort("[name]", 443)),
        ("fd00::1", HostPort("fd00::1", None)),
        ("reg.example.com:8443", HostPort("reg.example.com", 8443)),
    ],
)
def test_parse_host_port_without_brackets(value: str, expected: HostPort) -> None:
    assert parse_host_port(value, brackets=False) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("reg.example.com", ("reg.example.com", None)),
        ("Reg.Example.com.:8443", ("reg.example.com", 8443)),
        ("10.0.0.1:443", ("10.0.0.1", 443)),
        ("[fd00::1]:8443", ("fd00::1", 8443)),
        ("fd00::1", ("fd00::1", None)),
    ],
)
def test_normalized_host_and_port(value: str, expected: tuple[str, int | None]) -> None:
    parsed = parse_host_port(value)
    assert (parsed.normalized_host, parsed.port) == expected


@pytest.mark.parametrize(
    ("value", "normalized", "ip"),
    [
        ("Reg.Example.COM.", "reg.example.com", None),
        ("reg.example.com:8443", "reg.example.com", None),
        ("10.0.0.1:443", "10.0.0.1", ipaddress.ip_address("10.0.0.1")),
        ("10.0.0.1.", "10.0.0.1", ipaddress.ip_address("10.0.0.1")),
        ("[FD00::1]:443", "fd00::1", ipaddress.ip_address("fd00::1")),
        ("fd00::1", "fd00::1", ipaddress.ip_address("fd00::1")),
        ("", "", None),
    ],
)
def test_normalized_host_and_ip(
    value: str, normalized: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
) -> None:
    parsed = parse_host_port(value)
    assert parsed.normalized_host == normalized
    assert parsed.ip == ip


@pytest.mark.parametrize(
    ("text", "is_ip"),
    [
        ("10.0.0.1", True),
        ("fd00::1", True),
        ("::1", True),
        ("reg.example.com", False),
        ("10.0.0.256", False),
        ("[fd00::1]", False),
        ("", False),
    ],
)
def test_as_ip_address(text: str, is_ip: bool) -> None:
    assert (as_ip_address(text) is not None) is is_ip


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10.0.0.5", "10.0.0.5"), (" 10.0.0.5 ", "10.0.0.5"), ("[fd00::5]", "fd00::5")],
)
def test_parse_ip_address(text: str, expected: str) -> None:
    assert str(parse_ip_address(text)) == expected


@pytest.mark.parametrize("text", ["reg.example.com", "10.0.0.256", ""])
def test_parse_ip_address_refuses(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ip_address(text)
    assert caught.value.message == f"{text!r} is not an IP address"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("reg.example.com", None, "reg.example.com"),
        ("reg.example.com", 8443, "reg.example.com:8443"),
        ("10.0.0.5", 80, "10.0.0.5:80"),
        ("fd00::5", None, "[fd00::5]"),
        ("fd00::5", 5443, "[fd00::5]:5443"),
    ],
)
def test_format_host_port_round_trips(host: str, port: int | None, expected: str) -> None:
    assert format_host_port(host, port) == expected
    assert parse_host_port(expected) == HostPort(host, port)
