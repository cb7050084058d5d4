"""The start scheduler (engine/converge/runner.py): each service starts as soon as its OWN
dependencies allow — a hard edge (service_healthy) once the dependency is ready, a soft edge
(service_started) once it has been started — never when a whole level of the graph is done.

Readiness is scripted with events (no timed asserts): a service is ready when its event is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from harborctl.engine.compose.loader import load_compose
from harborctl.engine.compose.model import ComposeProject, Condition
from harborctl.engine.converge.runner import run_by_dependencies
from harborctl.errors import HarborctlError

# The 30 ms a released step waits before taking a slot, made 1 ms (tests/unit/conftest.py).
pytestmark = pytest.mark.usefixtures("fast")

# Long enough never to be reached by a correct scheduler; only bounds a broken one.
LIVENESS = 20.0
# How long a test watches for a start that must not happen. A scheduler that breaks a rule
# starts the service within milliseconds of the event that allowed it; 0.1 s is a wide margin
# and, over the 20-odd compose files checked, keeps this module at about two seconds.
QUIET = 0.1


class Gate:
    """A waiter whose readiness the test controls: ``ready[name]`` is set when it is healthy."""

    def __init__(self, names: list[str]) -> None:
        self.ready = {name: threading.Event() for name in names}
        self.started: set[str] = set()
        self.lock = threading.Lock()

    def wait(self, service: str, condition: Condition = "service_healthy") -> object:
        if condition == "service_started":
            with self.lock:
                if service not in self.started:
                    raise HarborctlError(f"{service} was never started")
            return None
        if not self.ready[service].wait(LIVENESS):
            raise HarborctlError(f"{service} did not become ready")
        return None


class Steps:
    """One step per service: records that it started, optionally blocks until released."""

    def __init__(self, gate: Gate, names: list[str]) -> None:
        self.gate = gate
        self.ran = {name: threading.Event() for name in names}
        self.release = {name: threading.Event() for name in names}
        self.ready_seen: dict[str, set[str]] = {}  # service -> what was ready at its start
        for name in names:
            self.release[name].set()

    def step(self, name: str) -> Callable[[], None]:
        def run() -> None:
            self.ready_seen[name] = {s for s, e in self.gate.ready.items() if e.is_set()}
            self.ran[name].set()
            if not self.release[name].wait(LIVENESS):
                raise HarborctlError(f"{name} was never released")
            with self.gate.lock:
                self.gate.started.add(name)
        return run

    def all(self) -> dict[str, Callable[[], None]]:
        return {name: self.step(name) for name in self.ran}


def project_of(tmp_path: Path, services: str) -> ComposeProject:
    (tmp_path / "docker-compose.yml").write_text(f"version: '2.3'\nservices:\n{services}")
    return load_compose(tmp_path / "docker-compose.yml", "stack", environ={})


def run_in_background(project: ComposeProject, steps: Steps, gate: Gate
                      ) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_by_dependencies(project, steps.all(), gate, lambda _line: None,
                                wait_for=project.service_names)
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


HARD = "condition: service_healthy"
SOFT = "condition: service_started"
HEALTH = "healthcheck: {test: ['CMD', 'true']}"


def test_a_service_starts_once_its_own_hard_dependencies_are_ready(tmp_path: Path) -> None:
    """`app` depends on `db` only; `slow` (same level as `db`) takes forever to be started.
    Level by level, `app` would wait for `slow` too."""
    project = project_of(tmp_path, f"""\
  log: {{image: x, {HEALTH}}}
  db: {{image: x, {HEALTH}, depends_on: {{log: {{{HARD}}}}}}}
  slow: {{image: x, {HEALTH}, depends_on: {{log: {{{HARD}}}}}}}
  app: {{image: x, {HEALTH}, depends_on: {{db: {{{HARD}}}}}}}
""")
    names = list(project.service_names)
    gate = Gate(names)
    steps = Steps(gate, names)
    steps.release["slow"].clear()
    gate.ready["log"].set()
    gate.ready["db"].set()
    thread, errors = run_in_background(project, steps, gate)

    assert steps.ran["app"].wait(LIVENESS), "app waited for an unrelated service"
    assert not steps.release["slow"].is_set()  # slow's step still runs
    assert "db" in steps.ready_seen["app"]
    steps.release["slow"].set()
    for name in names:
        gate.ready[name].set()
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors


def test_a_soft_edge_starts_the_service_before_its_dependency_is_ready(tmp_path: Path) -> None:
    """`core` retries its database: it starts once `db` is started, while `db` is not ready;
    `proxy` (hard on core) still waits for core to be ready."""
    project = project_of(tmp_path, f"""\
  log: {{image: x, {HEALTH}}}
  db: {{image: x, {HEALTH}, depends_on: {{log: {{{HARD}}}}}}}
  core: {{image: x, {HEALTH}, depends_on: {{log: {{{HARD}}}, db: {{{SOFT}}}}}}}
  proxy: {{image: x, {HEALTH}, depends_on: {{core: {{{HARD}}}}}}}
""")
    names = list(project.service_names)
    gate = Gate(names)
    steps = Steps(gate, names)
    gate.ready["log"].set()
    thread, errors = run_in_background(project, steps, gate)

    assert steps.ran["core"].wait(LIVENESS), "core waited for the database to be ready"
    assert "db" not in steps.ready_seen["core"]
    assert steps.ran["db"].is_set()  # ... but not before the database was started
    assert not steps.ran["proxy"].is_set()
    gate.ready["db"].set()
    gate.ready["core"].set()
    assert steps.ran["proxy"].wait(LIVENESS)
    assert "core" in steps.ready_seen["proxy"]
    gate.ready["proxy"].set()
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors


def test_the_run_ends_only_when_everything_is_ready(tmp_path: Path) -> None:
    """Soft edges start things early; the run still returns only once all are healthy."""
    project = project_of(tmp_path, f"""\
  db: {{image: x, {HEALTH}}}
  core: {{image: x, {HEALTH}, depends_on: {{db: {{{SOFT}}}}}}}
""")
    names = list(project.service_names)
    gate = Gate(names)
    steps = Steps(gate, names)
    gate.ready["core"].set()
    thread, errors = run_in_background(project, steps, gate)
    assert steps.ran["core"].wait(LIVENESS)
    thread.join(QUIET)  # not a timed assert: it must still be waiting whatever the delay
    assert thread.is_alive()
    gate.ready["db"].set()
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors


def test_a_failed_step_starts_none_of_its_dependents_and_is_the_error(tmp_path: Path) -> None:
    project = project_of(tmp_path, f"""\
  db: {{image: x, {HEALTH}}}
  core: {{image: x, {HEALTH}, depends_on: {{db: {{{SOFT}}}}}}}
  portal: {{image: x, {HEALTH}, depends_on: {{core: {{{SOFT}}}}}}}
""")
    names = list(project.service_names)
    gate = Gate(names)
    ran: list[str] = []

    def failing() -> None:
        raise HarborctlError("db refused to start")

    def step(name: str) -> Callable[[], None]:
        return lambda: ran.append(name)

    steps = {"db": failing, "core": step("core"), "portal": step("portal")}
    with pytest.raises(HarborctlError, match="db refused to start"):
        run_by_dependencies(project, steps, gate, lambda _line: None)
    assert ran == []


def test_a_dependency_without_a_step_is_waited_for_as_its_condition_says(tmp_path: Path) -> None:
    """`start` runs steps only for stopped services: a running dependency is checked, not
    started again."""
    project = project_of(tmp_path, f"""\
  log: {{image: x, {HEALTH}}}
  core: {{image: x, {HEALTH}, depends_on: {{log: {{{HARD}}}}}}}
""")
    gate = Gate(["log", "core"])
    steps = Steps(gate, ["core"])
    gate.ready["core"].set()
    thread, errors = run_in_background(project, steps, gate)
    assert not steps.ran["core"].wait(QUIET)  # log is running but not ready: core waits
    gate.ready["log"].set()
    assert steps.ran["core"].wait(LIVENESS)
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors


GOLDEN = Path(__file__).resolve().parents[1]
GOLDEN_TREES = sorted(p.parent for p in (GOLDEN / "golden").glob("*/docker-compose.yml")) + sorted(
    p.parent for p in (GOLDEN / "golden-v2").glob("*/docker-compose.yml"))


@pytest.mark.parametrize("tree", GOLDEN_TREES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_syslog_service_starts_before_the_log_service_is_ready(tree: Path) -> None:
    """The syslog race: on every compose file harborctl renders, the scheduler starts a
    service logging to the log service only once that service is ready. The log service is
    held back until everything that could start without it has had its chance."""
    project = load_compose(tree / "docker-compose.yml", "harbor", environ={})
    names = list(project.service_names)
    syslog = [s.name for s in project.services
              if s.logging is not None and s.logging.driver == "syslog"]
    assert "log" in names and len(syslog) == len(names) - 1
    gate = Gate(names)
    steps = Steps(gate, names)
    for name in names:
        if name != "log":
            gate.ready[name].set()
    thread, errors = run_in_background(project, steps, gate)
    assert steps.ran["log"].wait(LIVENESS)
    # Every syslog service reaches the log service through hard edges, so none may run now;
    # a soft edge anywhere on its path would let it start within milliseconds of log's start.
    thread.join(QUIET)
    assert not [name for name in syslog if steps.ran[name].is_set()]
    gate.ready["log"].set()
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors
    assert all("log" in steps.ready_seen[name] for name in syslog)


def test_a_dependency_started_without_is_not_waited_for(tmp_path: Path) -> None:
    """x-harborctl-start-without: core starts while db's own step is still running (held)."""
    project = project_of(tmp_path, f"""\
  db: {{image: x, {HEALTH}}}
  core: {{image: x, {HEALTH}, depends_on: {{db: {{{SOFT}}}}},
          x-harborctl-start-without: [db]}}
""")
    names = list(project.service_names)
    gate = Gate(names)
    steps = Steps(gate, names)
    steps.release["db"].clear()  # db's start does not return until the test says so
    thread, errors = run_in_background(project, steps, gate)
    assert steps.ran["core"].wait(LIVENESS)
    assert steps.ran["db"].wait(LIVENESS) and "db" not in gate.started
    steps.release["db"].set()
    gate.ready["db"].set()
    gate.ready["core"].set()
    thread.join(LIVENESS)
    assert not thread.is_alive() and not errors


def test_start_without_must_name_a_dependency(tmp_path: Path) -> None:
    with pytest.raises(HarborctlError, match="x-harborctl-start-without` of service core names "
                                             "redis, which is not in its depends_on"):
        project_of(tmp_path, f"""\
  db: {{image: x, {HEALTH}}}
  core: {{image: x, {HEALTH}, depends_on: {{db: {{{SOFT}}}}},
          x-harborctl-start-without: [redis]}}
""")


def test_start_without_leaves_the_container_hash_alone(tmp_path: Path) -> None:
    """Only how harborctl starts the service: adding it recreates no container."""
    from harborctl.engine.compose.labels import config_hash

    body = f"db: {{image: x, {HEALTH}}}\n  core: {{image: x, depends_on: {{db: {{{SOFT}}}}}"
    plain = project_of(tmp_path, f"  {body}}}\n").service("core")
    without = project_of(tmp_path, f"  {body}, x-harborctl-start-without: [db]}}\n"
                         ).service("core")
    assert without.start_without == ("db",) and plain.start_without == ()
    assert config_hash(plain) == config_hash(without)


def test_the_service_most_waited_on_is_started_first(tmp_path: Path) -> None:
    """With every step free to run, a free slot goes to the service the most others wait on
    (the database, on which an install's time hangs), ties in dependency order."""
    from harborctl.engine.converge.runner import _Admission, dependents_count

    project = project_of(tmp_path, f"""\
  portal: {{image: x, depends_on: {{core: {{{SOFT}}}}}}}
  a: {{image: x}}
  core: {{image: x, depends_on: {{db: {{{SOFT}}}}}}}
  db: {{image: x}}
""")
    assert dependents_count(project) == {"portal": 0, "a": 0, "core": 1, "db": 2}
    order = ["a", "db", "core", "portal"]
    admission = _Admission(1, order, dependents_count(project))
    ran: list[str] = []
    with admission.slot("a"):  # the only slot is taken while every other step queues
        threads = [threading.Thread(target=lambda n=n: admission.slot(n).__enter__()
                                    or ran.append(n)) for n in ("portal", "core", "db")]
        for thread in threads:
            thread.start()
        while len(admission._waiting) < 3:
            threading.Event().wait(0.01)
    # each thread keeps its slot: release them one by one as the test reads the order
    for _ in range(3):
        while len(ran) < _ + 1:
            threading.Event().wait(0.01)
        with admission._changed:
            admission._free += 1
            admission._changed.notify_all()
    for thread in threads:
        thread.join(LIVENESS)
    assert ran == ["db", "core", "portal"]


def test_steps_released_together_go_by_rank_not_by_who_came_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One readiness releases many steps a few ms apart: the first to arrive must not take the
    free slot from the service the most others wait on, arriving just after it."""
    from harborctl.engine.converge import runner

    monkeypatch.setattr(runner, "SETTLE", 0.5)  # wide, so that a busy host cannot flake it
    admission = runner._Admission(1, ["portal", "db"], {"portal": 0, "db": 5})
    ran: list[str] = []

    def take(name: str) -> None:
        with admission.slot(name):
            ran.append(name)

    first = threading.Thread(target=take, args=("portal",))
    first.start()
    threading.Event().wait(0.05)
    second = threading.Thread(target=take, args=("db",))
    second.start()
    first.join(LIVENESS)
    second.join(LIVENESS)
    assert ran == ["db", "portal"]
