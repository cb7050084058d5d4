"""Waiting for a container to be ready: running, and healthy where it has a health check.

Docker runs a container's first health probe only one ``interval`` after start (30 s with the
Harbor images' defaults). To gate dependents sooner, the waiter also runs the container's own
health-check command itself (``exec``) right after start, again and again until it succeeds.

The choice, documented: for ``service_healthy`` gating a success of that very command, run in
that very container, counts as ready — it is the same evidence Docker's probe would get, only
earlier. Docker's reported health stays the truth everywhere else: ``converge`` and ``start``
return only once Docker itself reports every service healthy (so a ``status`` right after agrees),
``status`` shows what Docker says, and ``wait_ready(accelerate=False)`` does not probe at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harborctl.engine.api.interface import ContainerDetails, Engine
from harborctl.engine.compose.model import Condition
from harborctl.errors import (
    DockerUnavailableError,
    EngineError,
    EngineNotFoundError,
    HarborctlError,
    UnhealthyError,
)

Report = Callable[[str], None]

DEFAULT_TIMEOUT = 120.0
POLL_SECONDS = 0.1
PROBE_PAUSE = 0.2
DEFAULT_PROBE_TIMEOUT = 30.0
STOPPED_FOR_GOOD = ("exited", "dead")


@dataclass(frozen=True)
class Readiness:
    """How a wait ended: ``how`` is ``running``, ``healthy`` (Docker said) or ``probe``;
    ``waited``: not ready at the first look (only then is the wait worth a line)."""

    service: str
    how: str
    seconds: float
    waited: bool = True


class _Probe:
    """One ``exec`` of the health-check command, started detached and polled."""

    def __init__(self, engine: Engine, container_id: str, test: tuple[str, ...],
                 timeout: float) -> None:
        command = test[1:] if test[0] == "CMD" else ("/bin/sh", "-c", test[1])
        self.engine = engine
        self.deadline = time.monotonic() + timeout
        self.exec_id = engine.start_exec(container_id, command)

    def result(self) -> int | None:
        """Exit code once finished, ``-1`` if it outlived its timeout, ``None`` while running."""
        try:
            status = self.engine.exec_status(self.exec_id)
        except EngineError:
            return -1
        if not status.running:
            return status.exit_code or 0
        return -1 if time.monotonic() > self.deadline else None


def wait_ready(
    engine: Engine,
    container_id: str,
    service: str,
    condition: Condition = "service_healthy",
    timeout: float = DEFAULT_TIMEOUT,
    accelerate: bool = True,
) -> Readiness:
    """Block until the container is ready for ``condition``; raise ``UnhealthyError`` otherwise.

    ``service_started`` needs it running; ``service_healthy`` needs it healthy too when it has a
    health check (a container without one counts as ready once running).
    """
    start = time.monotonic()
    deadline = start + timeout
    probe: _Probe | None = None
    next_probe = start
    looks = 0
    while True:
        details = _inspect(engine, container_id, service)
        looks += 1
        test = _health_test(details)
        if details.status == "running":
            if condition == "service_started" or test is None:
                return Readiness(service, "running", time.monotonic() - start, looks > 1)
            if details.health == "healthy":
                return Readiness(service, "healthy", time.monotonic() - start, looks > 1)
            if accelerate:
                code = probe.result() if probe is not None else None
                if code == 0:
                    return Readiness(service, "probe", time.monotonic() - start)
                if code is not None:
                    probe, next_probe = None, time.monotonic() + PROBE_PAUSE
                if probe is None and time.monotonic() >= next_probe:
                    probe = _start_probe(engine, container_id, test, details)
                    next_probe = time.monotonic() + PROBE_PAUSE
        elif details.status in STOPPED_FOR_GOOD and details.restart_policy in ("", "no"):
            raise unhealthy_error(engine, container_id, service, details,
                                  f"exited with code {details.exit_code}")
        if time.monotonic() >= deadline:
            what = "healthy" if condition == "service_healthy" else "running"
            raise unhealthy_error(engine, container_id, service, details,
                                  f"did not become {what} within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


def _inspect(engine: Engine, container_id: str, service: str) -> ContainerDetails:
    try:
        return engine.inspect_container(container_id)
    except EngineNotFoundError as exc:
        raise UnhealthyError(f"service {service}: its container {container_id[:12]} is gone",
                             hint="it was removed while harborctl waited for it") from exc
    except DockerUnavailableError as exc:
        raise exc.during(f"waiting for service {service}") from exc


def _health_test(details: ContainerDetails) -> tuple[str, ...] | None:
    test = details.healthcheck_test
    if not test or test[0] == "NONE" or (test[0] == "CMD-SHELL" and len(test) < 2):
        return None
    return test if test[0] in ("CMD", "CMD-SHELL") else ("CMD-SHELL", " ".join(test))


def _start_probe(
    engine: Engine, container_id: str, test: tuple[str, ...], details: ContainerDetails
) -> _Probe | None:
    timeout_ns = details.healthcheck_timeout_ns
    timeout = timeout_ns / 1e9 if timeout_ns else DEFAULT_PROBE_TIMEOUT
    try:
        return _Probe(engine, container_id, test, timeout)
    except EngineError:
        return None  # e.g. the container is restarting; Docker's own probe remains


def unhealthy_error(
    engine: Engine, container_id: str, service: str, details: ContainerDetails, what: str,
) -> UnhealthyError:
    """An error naming the service, its state and health, the last probe output and logs."""
    name = details.name or container_id[:12]
    lines = [f"service {service} ({name}) {what}: state {details.status or '?'}, "
             f"health {details.health or 'none (no health check)'}"]
    if details.last_probe is not None:
        output = details.last_probe.output.strip()[-500:] or "(no output)"
        lines.append(f"last health probe (exit {details.last_probe.exit_code}): {output}")
    try:
        text = engine.container_logs(container_id, tail=20)
        lines.append("last log lines:" if text.strip() else "no log lines")
        lines.extend("  " + line for line in text.rstrip().splitlines()[-20:])
    except EngineError:
        lines.append(f"no log lines: the {details.log_driver or 'configured'} logging driver "
                     "does not give them back; look where that driver sends them")
    return UnhealthyError("\n".join(lines),
                          hint=f"inspect it with `docker inspect {name}` and `docker logs {name}`")


class ReadinessWaiter:
    """Shares waits between threads: each service is waited for once per condition.

    Not global: one instance per converge or start run.
    """

    def __init__(self, engine: Engine, report: Report,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = engine
        self.report = report
        self.timeout = timeout
        self._lock = threading.Lock()
        self._containers: dict[str, str] = {}
        self._locks: dict[tuple[str, str, bool], threading.Lock] = {}
        self._done: dict[tuple[str, str, bool], Readiness | HarborctlError] = {}

    def set_container(self, service: str, container_id: str) -> None:
        with self._lock:
            self._containers[service] = container_id
            for key in [k for k in self._done if k[0] == service]:
                del self._done[key]

    def wait(
        self, service: str, condition: Condition = "service_healthy", trust_probe: bool = True
    ) -> Readiness:
        """Wait once for ``service``; ``trust_probe=False`` insists on Docker's own verdict."""
        key = (service, condition, trust_probe)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                done = self._done.get(key)
                container_id = self._containers.get(service)
            if isinstance(done, Readiness):
                return done
            if isinstance(done, HarborctlError):
                raise done
            if container_id is None:
                raise HarborctlError(f"service {service} has no container to wait for")
            try:
                result = wait_ready(self.engine, container_id, service, condition,
                                    self.timeout, trust_probe)
            except HarborctlError as exc:
                with self._lock:
                    self._done[key] = exc
                raise
            with self._lock:
                self._done[key] = result
            # A service ready at the first look (a no-op converge: every one) gets no line,
            # however long that look took on a busy engine.
            if result.waited and result.seconds > 0.05:
                self.report(f"{service} is ready ({result.how}) after {result.seconds:.1f} s")
            return result
