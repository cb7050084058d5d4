"""Fixtures shared by the unit tests that run the engine code on the fake engine."""

from __future__ import annotations

import pytest

from harborctl.engine.converge import containers, ports
from harborctl.engine.lifecycle import health


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waits and retries in milliseconds, not tenths of seconds."""
    monkeypatch.setattr(health, "POLL_SECONDS", 0.001)
    monkeypatch.setattr(health, "PROBE_PAUSE", 0.001)
    monkeypatch.setattr(containers, "START_RETRY_DELAY_S", 0.001)


@pytest.fixture
def free_ports(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """Host ports as free as the test says: the machine's own listeners do not matter."""
    taken: set[int] = set()
    monkeypatch.setattr(ports, "port_is_free", lambda port, protocol="tcp": port not in taken)
    return taken
