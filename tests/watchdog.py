"""A test run never hangs on a dead engine: while a docker-marked test runs, a watchdog thread
asks the engine for its version every few seconds (bounded) and minds the test's own deadline.
When the engine stops answering, or the test outlives its deadline (Docker 20.10.24's
moby/moby#46661 deadlock leaves `version` and `ps` answering while every call about one
container hangs), it saves the daemon's goroutine dump (SIGUSR1: /var/run/docker/
goroutine-stacks-*.log), restarts the daemon the test host started (which breaks the test's
hung calls) and fails that one test with the dump's path.

    HARBORCTL_TEST_WATCHDOG_S  a docker test's deadline in seconds (default 900; 0: no watchdog)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator

import pytest

from tests import enginectl

PING_EVERY_S = 5.0
PING_TIMEOUT_S = 5.0
MISSED_PINGS = 3  # in a row: a busy 2-core host may miss one
DEFAULT_DEADLINE_S = 900.0


class Watchdog(threading.Thread):
    def __init__(self, test: str, deadline_s: float) -> None:
        super().__init__(name="engine-watchdog", daemon=True)
        self.test = test
        self.deadline_s = deadline_s
        self.finished = threading.Event()
        self.verdict: str | None = None

    def run(self) -> None:
        started = time.monotonic()
        missed = 0
        while not self.finished.wait(PING_EVERY_S):
            if enginectl.MAINTENANCE.is_set():  # the test restarts it on purpose
                missed = 0
                continue
            missed = 0 if enginectl.answers(PING_TIMEOUT_S) else missed + 1
            if missed >= MISSED_PINGS:
                self.bite(f"the Docker engine did not answer {MISSED_PINGS} version requests "
                          f"in a row ({PING_TIMEOUT_S:g} s each)")
                return
            if time.monotonic() - started > self.deadline_s:
                self.bite(f"the test ran past its deadline of {self.deadline_s:g} s "
                          "(HARBORCTL_TEST_WATCHDOG_S): an engine call hangs")
                return

    def bite(self, why: str) -> None:
        if self.finished.is_set():
            return
        dump = enginectl.goroutine_dump()
        try:
            enginectl.restart_dockerd()
            restarted = "dockerd was restarted"
        except (OSError, RuntimeError) as exc:
            restarted = f"restarting dockerd failed: {exc}"
        self.verdict = f"{why}; goroutine dump: {dump or 'none written'}; {restarted}"

    def stop(self) -> None:
        self.finished.set()


def deadline() -> float:
    return float(os.environ.get("HARBORCTL_TEST_WATCHDOG_S", DEFAULT_DEADLINE_S))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    if item.get_closest_marker("docker") is None or deadline() <= 0:
        return (yield)
    dog = Watchdog(item.nodeid, deadline())
    dog.start()
    try:
        result = yield
    except BaseException:
        dog.stop()
        dog.join()
        if dog.verdict is not None:  # the test's failure is the engine's: say so
            pytest.fail(f"engine watchdog: {dog.verdict}", pytrace=False)
        raise
    dog.stop()
    dog.join()
    if dog.verdict is not None:
        pytest.fail(f"engine watchdog: {dog.verdict}", pytrace=False)
    return result
