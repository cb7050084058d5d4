"""Fixtures shared by the unit tests that run the engine code on the fake engine."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harborctl.engine.converge import containers, ports
from harborctl.engine.lifecycle import health
from harborctl.tls import making

RSA_KEYS = Path(__file__).parent / "data" / "rsa-keys.pem"


class _PooledRsa:
    """cryptography's rsa module, except that a new 2048- or 4096-bit key comes from a pool of
    real keys made beforehand (tests/unit/data/rsa-keys.pem), handed out in turn so that two
    keys asked for one after the other still differ. Searching primes cost 6 of 40 s of the
    unit suite (60-odd token-signing pairs, most of them made by a first prepare)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._pools: dict[int, Iterator[Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _pool(self, bits: int) -> Iterator[Any] | None:
        if not self._pools:
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            marker = b"-----END PRIVATE KEY-----\n"
            keys = [load_pem_private_key(block + marker, None)
                    for block in RSA_KEYS.read_bytes().split(marker) if block.strip()]
            for size in {key.key_size for key in keys}:
                self._pools[size] = itertools.cycle([k for k in keys if k.key_size == size])
        return self._pools.get(bits)

    def generate_private_key(self, public_exponent: int, key_size: int,
                             backend: Any = None) -> Any:
        pool = self._pool(key_size) if public_exponent == 65537 else None
        if pool is None:
            return self._real.generate_private_key(public_exponent, key_size)
        return next(pool)


_POOLED_RSA = _PooledRsa(making.rsa)


@pytest.fixture(autouse=True)
def pooled_rsa_keys(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Token-signing keys from the pool, except in tests marked ``real_key_generation``."""
    if request.node.get_closest_marker("real_key_generation") is None:
        monkeypatch.setattr(making, "rsa", _POOLED_RSA)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits and retries in milliseconds, not tenths of seconds."""
    monkeypatch.setattr(health, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(health, "PROBE_PAUSE", 0.001)
    monkeypatch.setattr(containers, "START_RETRY_DELAY_S", 0.001)
    monkeypatch.setattr(containers, "ENDPOINT_RETRY_S", 0.001)
    monkeypatch.setattr(containers, "ENDPOINT_RELEASE_S", 0.05)


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Host ports as free as the test says: the machine's own listeners do not matter."""
    taken: set[int] = set()
    monkeypatch.setattr(ports, "port_is_free", lambda port, protocol="tcp": port not in taken)
    return taken
