"""The keys and certificates the tls tests share; made once per module, they are slow to make."""

from __future__ import annotations

import pytest

from harborctl.tls.making import (
    KeyPair,
    generate_ca,
    generate_server_cert,
    generate_token_signing_pair,
)


@pytest.fixture(scope="module")
def ca() -> KeyPair:
    return generate_ca("Test Harbor CA")


@pytest.fixture(scope="module")
def server(ca: KeyPair) -> KeyPair:
    return generate_server_cert(ca, "reg.example.com", ["10.0.0.5", "fd00::5"])


@pytest.fixture(scope="module")
def token_pair() -> KeyPair:
    return generate_token_signing_pair(bits=2048)
