"""Fixtures shared by the unit tests that run the engine code on the fake engine."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from harborctl import render
from harborctl.engine.api import waiting
from harborctl.engine.converge import containers, ports, runner
from harborctl.engine.lifecycle import health
from harborctl.plan import v2 as plan_v2
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
            # The pool's keys are the suite's own: checking each RSA key's math on every load
            # cost 1.2 s per test process.
            keys = [load_pem_private_key(block + marker, None,
                                         unsafe_skip_rsa_key_validation=True)
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
def pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Token-signing keys from the pool (keys of other sizes are still made for real)."""
    monkeypatch.setattr(making, "rsa", _POOLED_RSA)


@pytest.fixture(autouse=True)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """fsync only matters after a power cut, which no test here makes; the kill tests check the
    order of writes and renames, which does not depend on it. 3,300 fsyncs were 2 s of CPU and
    disk waits. (tests/integration and tests/e2e keep them: they run harborctl for real.)"""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture(scope="session")
def _template_environment() -> jinja2.Environment:
    return render.environment()


@pytest.fixture(autouse=True)
def one_template_environment(_template_environment: jinja2.Environment,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """One jinja environment per test process. A run of harborctl plans once, so each plan
    makes its own environment and loads its 20-odd templates again; over the suite's 300-odd
    plans that was 2.5 s. The templates are the same files, so the output is too."""
    monkeypatch.setattr(render, "environment", lambda: _template_environment)
    monkeypatch.setattr(plan_v2, "environment", lambda: _template_environment)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits and retries in milliseconds, not tenths of seconds."""
    monkeypatch.setattr(health, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(health, "PROBE_PAUSE", 0.001)
    monkeypatch.setattr(containers, "START_RETRY_DELAY_S", 0.001)
    monkeypatch.setattr(containers, "ENDPOINT_RETRY_S", 0.001)
    monkeypatch.setattr(containers, "ENDPOINT_RELEASE_S", 0.05)
    monkeypatch.setattr(runner, "SETTLE", 0.001)
    monkeypatch.setattr(waiting, "POLL_S", 0.02)


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Host ports as free as the test says: the machine's own listeners do not matter."""
    taken: set[int] = set()
    monkeypatch.setattr(ports, "port_is_free", lambda port, protocol="tcp": port not in taken)
    return taken
