"""Waiting for a container to be ready: running, and healthy where it has a health check.

Docker runs a container's first health check only one ``interval`` after start (10 s as
harborctl renders them, 30 s with the Harbor images' defaults), and on Docker before 25 there is
no faster start-up pace. So the waiter runs the container's own check itself, from its start
until it passes: an HTTP check (a curl of the container's loopback) as the same request sent from
the host to the container's address (``host_probe``: no ``exec``, about a millisecond), any
other check as that very command through ``exec``.

The choice, documented: a pass of the service's own check counts as ready, for gating its
dependents and for ``converge`` and ``start`` to return. It is the evidence Docker's check would
get, only sooner. ``status`` shows what Docker says, except that it runs the check of a service
Docker has not checked yet (``check_now``, engine/status/confirm.py). Where the container's
address gives no answer at all (rootless Docker: its network is not the host's), an HTTP check
runs through ``exec`` too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from harborctl.engine.api.interface import ContainerDetails, Engine
from harborctl.engine.compose.model import Condition
from harborctl.engine.lifecycle.host_probe import HttpCheck, Outcome, http_checks, probe
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
MAX_PROBE_PAUSE = 1.0
EXEC_RESULT_WAIT = 0.3
EXEC_POLL = 0.02
# Between two host probes; Docker is asked again (an exit, its own verdict) at every LOOK_EVERY.
HOST_PROBE_PAUSE = 0.1
LOOK_EVERY = 0.5
HOST_PROBE_TIMEOUT = 5.0
UNREACHABLE_FOR = 2.0
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


class _ExecChecks:
    """The check run through ``exec`` again and again until it passes, the pause between two
    runs growing from PROBE_PAUSE to MAX_PROBE_PAUSE: each run costs the engine a process, and
    a service that is not ready at once (the database's first start) is seldom ready soon."""

    def __init__(self, engine: Engine, container_id: str) -> None:
        self.engine, self.container_id = engine, container_id
        self.probe: _Probe | None = None
        self.failed = False  # a run ended and did not pass
        self.pause = PROBE_PAUSE
        self.next_run = time.monotonic()

    def passed(self, test: tuple[str, ...], details: ContainerDetails) -> bool:
        if self.probe is None and time.monotonic() >= self.next_run:
            self.probe = _start_probe(self.engine, self.container_id, test, details)
            self.next_run = time.monotonic() + self.pause
        if self.probe is None:
            return False
        code = self._result_within(EXEC_RESULT_WAIT)
        if code is None:
            return False  # still running: asked again at the next look
        self.probe = None
        if code == 0:
            return True
        self.failed = True
        self.next_run = time.monotonic() + self.pause
        self.pause = min(self.pause * 1.5, MAX_PROBE_PAUSE)
        return False

    def _result_within(self, seconds: float) -> int | None:
        """The run's exit code, asked often for ``seconds``: a check takes a few tens of ms,
        and a no-op install right after an install waits on exactly that."""
        assert self.probe is not None
        until = time.monotonic() + seconds
        while True:
            code = self.probe.result()
            if code is not None or time.monotonic() >= until:
                return code
            time.sleep(EXEC_POLL)


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
    exec_checks = _ExecChecks(engine, container_id)
    from_host = _HostChecks()
    # Seen not ready: not running, unhealthy, or a run of its check failed. Only then was the
    # wait worth a line (``starting`` alone is no sign: Docker has not checked it yet).
    seen_not_ready = False
    while True:
        details = _inspect(engine, container_id, service)
        test = _health_test(details)
        if details.status == "running":
            if condition == "service_started" or test is None:
                return Readiness(service, "running", time.monotonic() - start, seen_not_ready)
            if details.health == "healthy":
                return Readiness(service, "healthy", time.monotonic() - start,
                                 seen_not_ready or exec_checks.failed)
            seen_not_ready = seen_not_ready or details.health == "unhealthy"
            requests = http_checks(test) if accelerate and details.addresses else ()
            if requests and from_host.usable():
                tries = from_host.run(requests, details, min(time.monotonic() + LOOK_EVERY,
                                                             deadline))
                if tries:
                    return Readiness(service, "probe", time.monotonic() - start,
                                     seen_not_ready or tries > 1)
                seen_not_ready = True
            elif accelerate and exec_checks.passed(test, details):
                return Readiness(service, "probe", time.monotonic() - start,
                                 seen_not_ready or exec_checks.failed)
        else:
            seen_not_ready = True
        if details.status in STOPPED_FOR_GOOD and details.restart_policy in ("", "no"):
            raise unhealthy_error(engine, container_id, service, details,
                                  f"exited with code {details.exit_code}")
        if time.monotonic() >= deadline:
            what = "healthy" if condition == "service_healthy" else "running"
            raise unhealthy_error(engine, container_id, service, details,
                                  f"did not become {what} within {timeout:.0f} s")
        time.sleep(POLL_SECONDS)


def check_now(engine: Engine, container_id: str) -> bool:
    """Run the container's own health check once, now (from the host for an HTTP check, else
    through ``exec``): whether it passes. False for a container not running or without one."""
    try:
        details = engine.inspect_container(container_id)
    except EngineError:
        return False
    test = _health_test(details)
    if details.status != "running" or test is None:
        return False
    requests = http_checks(test) if details.addresses else ()
    if requests:
        outcome = probe(requests, details.addresses[0], HOST_PROBE_TIMEOUT)
        if outcome is not Outcome.UNREACHABLE:
            return outcome is Outcome.PASSED
    run = _start_probe(engine, container_id, test, details)
    while run is not None:
        code = run.result()
        if code is not None:
            return code == 0
        time.sleep(POLL_SECONDS / 2)
    return False


class _HostChecks:
    """An HTTP check sent from the host every HOST_PROBE_PAUSE; given up for ``exec`` once the
    container's address has not answered at all for UNREACHABLE_FOR seconds."""

    def __init__(self) -> None:
        self.unreachable_since: float | None = None
        self.given_up = False

    def usable(self) -> bool:
        return not self.given_up

    def run(self, requests: tuple[HttpCheck, ...], details: ContainerDetails,
            until: float) -> int:
        """Try until one passes (the number of tries) or ``until`` (0)."""
        timeout_ns = details.healthcheck_timeout_ns
        answer_within = min(timeout_ns / 1e9 if timeout_ns else HOST_PROBE_TIMEOUT,
                            HOST_PROBE_TIMEOUT)
        tries = 0
        while True:
            tries += 1
            outcome = probe(requests, details.addresses[0], answer_within)
            if outcome is Outcome.PASSED:
                return tries
            now = time.monotonic()
            if outcome is not Outcome.UNREACHABLE:
                self.unreachable_since = None
            elif self.unreachable_since is None:
                self.unreachable_since = now
            elif now - self.unreachable_since >= UNREACHABLE_FOR:
                self.given_up = True
                return 0
            if now + HOST_PROBE_PAUSE >= until:
                return 0
            time.sleep(HOST_PROBE_PAUSE)


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
        self._started: set[str] = set()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._done: dict[tuple[str, str], Readiness | HarborctlError] = {}

    def set_container(self, service: str, container_id: str, started: bool = False) -> None:
        """``started``: this run starts it (its wait is worth a line even when its check passes
        at its first run)."""
        with self._lock:
            self._containers[service] = container_id
            if started:
                self._started.add(service)
            else:
                self._started.discard(service)
            for key in [k for k in self._done if k[0] == service]:
                del self._done[key]

    def wait(
        self, service: str, condition: Condition = "service_healthy"
    ) -> Readiness:
        """Wait once for ``service`` (later calls get the first one's answer)."""
        key = (service, condition)
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
                                    self.timeout)
            except HarborctlError as exc:
                with self._lock:
                    self._done[key] = exc
                raise
            with self._lock:
                self._done[key] = result
            # A service this run did not start and that was ready when first asked (a no-op
            # converge: every one) gets no line, however long asking took on a busy engine.
            with self._lock:
                started = service in self._started
            if (result.waited or (started and result.how != "running")) and \
                    result.seconds > 0.05:
                self.report(f"{service} is ready ({result.how}) after {result.seconds:.1f} s")
            return result
