"""trust.py: where Docker looks for the CA, the text for other machines, insecure registries."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.errors import CertificateError, UsageError
from harborctl.tls.making import generate_ca
from harborctl.trust import (
    docker_trust_path,
    insecure_registry_entry,
    insecure_registry_instructions,
    install_trust,
    registry_address,
    trust_instructions,
)


@pytest.fixture(scope="module")
def ca_pem() -> bytes:
    return generate_ca("Trust Test CA").cert_pem


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("reg.example.com", 443, "/etc/docker/certs.d/reg.example.com/ca.crt"),
        ("reg.example.com", 8443, "/etc/docker/certs.d/reg.example.com:8443/ca.crt"),
        ("reg.example.com:8443", 8443, "/etc/docker/certs.d/reg.example.com:8443/ca.crt"),
        ("Reg.Example.com.", 443, "/etc/docker/certs.d/reg.example.com/ca.crt"),
        ("10.0.0.5", 80, "/etc/docker/certs.d/10.0.0.5:80/ca.crt"),
        ("fd00::5", 443, "/etc/docker/certs.d/[fd00::5]/ca.crt"),
        ("[fd00::5]:5443", 5443, "/etc/docker/certs.d/[fd00::5]:5443/ca.crt"),
    ],
)
def test_docker_trust_path(host: str, port: int, expected: str) -> None:
    assert docker_trust_path(host, port) == Path(expected)


def test_docker_trust_path_under_another_root(tmp_path: Path) -> None:
    assert docker_trust_path("reg.example.com", 8443, tmp_path) == (
        tmp_path / "etc/docker/certs.d/reg.example.com:8443/ca.crt"
    )


def test_conflicting_ports_are_refused() -> None:
    with pytest.raises(UsageError, match="carries the port 8443, which differs from port 443"):
        docker_trust_path("reg.example.com:8443", 443)
    with pytest.raises(UsageError, match="not a valid port"):
        docker_trust_path("reg.example.com", 70000)
    with pytest.raises(UsageError, match="host name is empty"):
        docker_trust_path("", 443)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("reg.example.com", 80, "reg.example.com"),
        ("reg.example.com", 8080, "reg.example.com:8080"),
        ("reg.example.com:8080", 8080, "reg.example.com:8080"),
        ("10.0.0.5", 443, "10.0.0.5:443"),
    ],
)
def test_insecure_registry_entry(host: str, port: int, expected: str) -> None:
    assert insecure_registry_entry(host, port) == expected


def test_registry_address_default_port() -> None:
    assert registry_address("reg.example.com", 443) == "reg.example.com"
    assert registry_address("reg.example.com", 80, default_port=80) == "reg.example.com"


def test_insecure_registry_instructions() -> None:
    text = insecure_registry_instructions("reg.example.com", 8080)
    assert '  {\n    "insecure-registries": [\n      "reg.example.com:8080"\n    ]\n  }' in text
    assert "/etc/docker/daemon.json" in text
    assert "sudo systemctl reload docker" in text
    assert "Prefer https" in text and "unencrypted" in text


def test_trust_instructions() -> None:
    text = trust_instructions("reg.example.com", 8443, Path("/data/cert/ca.crt"))
    lines = text.splitlines()
    assert "  scp reg.example.com:/data/cert/ca.crt ./ca.crt" in lines
    assert "  sudo mkdir -p /etc/docker/certs.d/reg.example.com:8443" in lines
    assert "  sudo cp ca.crt /etc/docker/certs.d/reg.example.com:8443/ca.crt" in lines
    assert "  docker login reg.example.com:8443" in lines
    assert "no restart is needed" in text
    assert "update-ca-certificates" in text and "update-ca-trust" in text
    assert "harbor-reg.example.com_8443.crt" in text
    default_port = trust_instructions("reg.example.com", 443)
    assert "  sudo cp ca.crt /etc/docker/certs.d/reg.example.com/ca.crt" in default_port
    # scp splits host and path at the first colon: an IPv6 host needs its brackets.
    ipv6 = trust_instructions("[fd00::5]", 443).splitlines()
    assert "  scp '[fd00::5]:/data/cert/ca.crt' ./ca.crt" in ipv6


def test_install_trust_refuses_anything_but_a_pem_certificate(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="does not contain a PEM certificate"):
        install_trust(b"not a certificate", "reg.example.com", 443, tmp_path)
    assert not (tmp_path / "etc").exists()
