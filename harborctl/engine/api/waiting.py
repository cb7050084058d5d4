"""Waiting, with a bound, for an engine that is (re)starting: what the boot unit's
``harborctl start --wait-engine`` does before anything else."""

from __future__ import annotations

import time
from collections.abc import Callable

from harborctl.engine.api.socket_client import LightClient, socket_path
from harborctl.errors import DockerUnavailableError

POLL_S = 0.5
PROBE_TIMEOUT_S = 5.0


def wait_for_engine(seconds: float, report: Callable[[str], None],
                    probe: Callable[[], object] | None = None) -> float:
    """Return once the engine answers (the seconds waited); DockerUnavailableError, naming the
    wait, when it did not within ``seconds``."""
    if probe is None:
        probe = _default_probe()
    started = time.monotonic()
    deadline = started + seconds
    said = False
    while True:
        try:
            probe()
            return time.monotonic() - started
        except DockerUnavailableError as exc:
            if time.monotonic() >= deadline:
                raise DockerUnavailableError(
                    f"the Docker engine did not answer within {seconds:g} s of waiting for it: "
                    f"{exc.message}",
                    hint="start it (`systemctl start docker`) and see `journalctl -u docker`",
                ) from exc
            if not said:
                report("waiting for the Docker engine to answer")
                said = True
            time.sleep(POLL_S)


def _default_probe() -> Callable[[], object]:
    path = socket_path()
    if path is not None:
        return LightClient(path, PROBE_TIMEOUT_S).api_version

    def connect_and_close() -> None:
        from harborctl.engine.api.client import connect

        connect(int(PROBE_TIMEOUT_S)).close()

    return connect_and_close
