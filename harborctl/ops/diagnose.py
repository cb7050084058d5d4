"""Running every doctor check against one deployment: the host's (engine, clock, disk, name,
certificate, state, ports) and the services' (health with their last log lines, restarts)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harborctl.config.inputs import data_volume, log_location, public_address
from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.engine.api.interface import EngineReader
from harborctl.engine.compose.model import ComposeProject
from harborctl.engine.status.summary import ListedContainer
from harborctl.errors import HarborctlError
from harborctl.files.lock import OPERATION_LOCK_NAME, is_held
from harborctl.ops.doctor import (
    FAIL,
    OK,
    SIZE_BUDGET_S,
    WARN,
    Check,
    Resolver,
    check_certificate,
    check_clock,
    check_disk,
    check_engine_version,
    check_hostname,
    check_interrupted_restores,
    check_ports,
    check_state,
    guarded,
    now_utc,
    resolve_host,
)
from harborctl.ops.logsources import EngineLog, LogSource, recent_lines, syslog_file

LOG_LINES = 5  # of a service that is not healthy


@dataclass(frozen=True)
class Deployment:
    """What the checks look at."""

    config: Config | Config2
    project_dir: Path
    project_name: str | None
    reader: EngineReader
    engine_log: EngineLog
    now: _dt.datetime = field(default_factory=now_utc)
    resolve: Resolver = resolve_host
    size_budget_s: float = SIZE_BUDGET_S
    # Runs a container's own health check now (health.check_now): for a service Docker has not
    # checked yet (``starting``, up to 10 s after a start). None: such a service fails.
    check_now: Callable[[str], bool] | None = None


def _engine_checks(target: Deployment) -> tuple[list[Check], bool]:
    try:
        info = target.reader.engine_info()
        api_version = target.reader.api_version()
    except HarborctlError as exc:
        return [Check("engine", FAIL, exc.message, exc.hint or "is dockerd running?")], False
    return [check_engine_version(info.server_version, api_version),
            check_clock(info.system_time, target.now)], True


def _project(target: Deployment) -> ComposeProject:
    from harborctl.engine.compose.project import compose_project

    return compose_project(target.project_dir, target.project_name)


def last_log_lines(target: Deployment, project: ComposeProject, service: str,
                   container_id: str | None) -> list[str]:
    source = LogSource(service, syslog_file(project.service(service),
                                            log_location(target.config)), container_id or None)
    try:
        return [line.text for line in recent_lines([source], LOG_LINES, None, target.engine_log,
                                                   target.now)]
    except (HarborctlError, OSError):
        return []


def _state_words(state: str, health: str | None) -> str:
    if state == "missing":
        return "has no container"
    if state != "running":
        return f"is {state}"
    return f"is running, {health}" if health else "is running"


def service_checks(target: Deployment, project: ComposeProject,
                   containers: list[ListedContainer]) -> list[Check]:
    from harborctl.engine.status.report import summarize

    checks = []
    for row in summarize(project, containers, target.now).services:
        name = f"service {row.service}"
        if not row.in_compose_file:
            checks.append(Check(name, WARN, f"{row.container} is left over: its service is no "
                                "longer in the compose file",
                                f"remove it: docker rm -f {row.container}"))
        elif row.ok:
            checks.append(Check(name, OK, _state_words(row.state, row.health or
                                                       "no health check")))
        elif row.starting and target.check_now is not None and target.check_now(
                row.container_id):
            checks.append(Check(name, OK, "is running, healthy (its check passes, run by "
                                "harborctl: Docker has not run its first check yet)"))
        else:
            lines = last_log_lines(target, project, row.service, row.container_id)
            detail = "\n".join([_state_words(row.state, row.health), *lines])
            checks.append(Check(name, FAIL, detail,
                                f"see `harborctl logs {row.service}`; `harborctl start` starts "
                                "stopped services, `harborctl install` creates missing ones"))
    return checks


def restart_check(reader: EngineReader, containers: list[ListedContainer]) -> Check:
    restarted = []
    for container in sorted(containers, key=lambda c: c.service):
        count = reader.inspect_container(container.id).restart_count
        if count:
            restarted.append(f"{container.service} {count} time{'s' if count > 1 else ''}")
    if not restarted:
        return Check("restarts", OK, "no service was restarted by the engine")
    return Check("restarts", WARN, "restarted by the engine: " + ", ".join(restarted),
                 "a service that keeps restarting is failing: see `harborctl logs SERVICE`")


def _listed(target: Deployment, project: ComposeProject) -> list[ListedContainer]:
    from harborctl.engine.status.summary import list_project

    return list_project(target.reader, project.name)


def diagnose(target: Deployment) -> list[Check]:
    """Every check, in the order shown."""
    checks, engine_ok = _engine_checks(target)
    config = target.config
    checks += guarded("disk", lambda: [check_disk(data_volume(config),
                                                  target.size_budget_s)])
    checks += guarded("restore", lambda: [check_interrupted_restores(
        data_volume(config), target.size_budget_s,
        is_held(target.project_dir, OPERATION_LOCK_NAME))])
    checks += guarded("hostname", lambda: [check_hostname(public_address(config).hostname,
                                                          target.resolve)])
    checks += guarded("certificate", lambda: [check_certificate(config, target.now)])
    checks += guarded("state", lambda: [check_state(target.project_dir)])
    try:
        project = _project(target)
    except HarborctlError as exc:
        return [*checks, Check("compose", FAIL, exc.message, exc.hint or "")]
    try:
        containers = _listed(target, project) if engine_ok else []
    except HarborctlError as exc:
        containers, engine_ok = [], False
        checks.append(Check("services", FAIL, f"could not list them: {exc.message}",
                            exc.hint or ""))
    ours = [port[0] for c in containers if c.running for port in c.ports]
    checks += guarded("ports", lambda: [check_ports(project, ours)])
    if engine_ok:
        checks += guarded("services", lambda: service_checks(target, project, containers))
        checks += guarded("restarts", lambda: [restart_check(target.reader, containers)])
    return checks


def service_logs(target: Deployment, count: int) -> dict[str, list[str]]:
    """The last ``count`` lines of every service's log, for a support bundle (what cannot be
    read is left out: the bundle is written anyway)."""
    try:
        project = _project(target)
        containers = _listed(target, project)
    except HarborctlError:
        return {}
    ids: dict[str, str] = {}
    for container in sorted(containers, key=lambda c: not c.running):
        ids.setdefault(container.service, container.id)
    found = {}
    for service in project.service_names:
        source = LogSource(service, syslog_file(project.service(service),
                                                log_location(target.config)), ids.get(service))
        try:
            found[service] = [line.text for line in recent_lines(
                [source], count, None, target.engine_log, target.now)]
        except (HarborctlError, OSError):
            continue
    return found
