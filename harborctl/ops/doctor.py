"""`harborctl doctor`: the checks an operator runs when something is wrong, each OK, WARN or
FAIL with what to do. Each check reads what it needs and never changes anything; one that
cannot run (a file unreadable, the engine gone) reports that instead of stopping the others."""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.engine.compose.model import ComposeProject
from harborctl.errors import HarborctlError
from harborctl.files.staging import PREFIX as RESTORE_STAGING_PREFIX
from harborctl.ops.logs import UTC, parse_iso_time

OK, WARN, FAIL = "OK", "WARN", "FAIL"
# Docker 20.10.0-20.10.26 can deadlock its network controller when several containers stop
# at once (moby/moby#46661, fixed in 20.10.27): harborctl stops services concurrently.
DEADLOCK_FIRST, DEADLOCK_FIXED = (20, 10, 0), (20, 10, 27)
LOW_DISK_BYTES = 1 << 30  # below this the database and registry start failing writes
CLOCK_SKEW_S = 30  # beyond this, tokens Harbor issues may be refused as not yet valid
SIZE_BUDGET_S = 5.0  # time allowed to add up the data volume's size

Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "hint": self.hint}


def version_numbers(version: str) -> tuple[int, ...] | None:
    """``20.10.24`` or ``20.10.24+dfsg1`` (Debian) as numbers; None when not a version."""
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", version)
    return tuple(int(part) for part in found.groups()) if found else None


def check_engine_version(version: str, api_version: str) -> Check:
    numbers = version_numbers(version)
    detail = f"Docker {version or 'of unknown version'} (API {api_version})"
    if numbers is not None and DEADLOCK_FIRST <= numbers < DEADLOCK_FIXED:
        return Check("engine", WARN, detail + ": known to deadlock its network when containers "
                     "stop at the same time (moby/moby#46661)",
                     "upgrade the Docker engine to 20.10.27 or later")
    return Check("engine", OK, detail)


def check_clock(system_time: str, now: _dt.datetime) -> Check:
    engine_time = parse_iso_time(system_time) if system_time else None
    if engine_time is None:
        return Check("clock", OK, "not checked: the engine did not give its time")
    skew = (engine_time - now).total_seconds()
    if abs(skew) > CLOCK_SKEW_S:
        return Check("clock", WARN, f"the engine's clock is {abs(skew):.0f} s "
                     f"{'ahead of' if skew > 0 else 'behind'} this host's",
                     "synchronise both clocks (chrony or systemd-timesyncd): registry tokens "
                     "are refused when clocks disagree")
    return Check("clock", OK, f"the engine's clock agrees with this host's ({skew:+.1f} s)")


def folder_size(root: Path, budget_s: float = SIZE_BUDGET_S) -> tuple[int, bool]:
    """The bytes of the files under ``root`` (links not followed), and whether every file was
    counted before the time budget ran out."""
    import time

    deadline = time.monotonic() + budget_s
    total, pending = 0, [str(root)]
    while pending:
        if time.monotonic() > deadline:
            return total, False
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue  # a folder we may not read (the database's, when not root): not counted
    return total, True


def _gib(size: int) -> str:
    if size < 1 << 30:
        return f"{size / (1 << 20):.0f} MiB"
    return f"{size / (1 << 30):.1f} GiB"


def _size_text(size: int, complete: bool) -> str:
    return f"{'' if complete else 'at least '}{_gib(size)}"


def check_disk(data_volume: Path, budget_s: float = SIZE_BUDGET_S) -> Check:
    try:
        usage = shutil.disk_usage(data_volume)
    except OSError as exc:
        return Check("disk", FAIL, f"cannot look at {data_volume}: {exc.strerror or exc}",
                     "check that data_volume exists and is mounted")
    size, complete = folder_size(data_volume, budget_s)
    held = _size_text(size, complete)
    detail = f"{_gib(usage.free)} free under {data_volume}, which holds {held}"
    if usage.free < LOW_DISK_BYTES:
        return Check("disk", FAIL, detail, "free space on that file system: pushes and the "
                     "database fail when it is full")
    if usage.free < size or usage.free < usage.total // 20:
        return Check("disk", WARN, detail, "less free space than the data already takes: "
                     "plan more space (a backup to the same disk would not fit)")
    return Check("disk", OK, detail)


def check_ports(project: ComposeProject, ours: Sequence[int]) -> Check:
    from harborctl.engine.converge.ports import ports_in_use

    wanted = [port for service in project.services for port in service.ports]
    if not wanted:
        return Check("ports", OK, "no host port published")
    taken = ports_in_use(wanted, ours)
    names = ", ".join(str(p.host_port) for p in wanted)
    if taken:
        busy = ", ".join(str(p.host_port) for p in taken)
        return Check("ports", FAIL, f"host port(s) {busy} held by something else",
                     f"find it with `ss -ltnp 'sport = :{taken[0].host_port}'` and stop it, or "
                     "change the port in harbor.cfg and run install")
    return Check("ports", OK, f"host ports {names} are free or ours")


def check_certificate(config: Config | Config2, now: _dt.datetime) -> Check:
    from harborctl.config.inputs import server_certificate

    found = server_certificate(config)
    if found is None:
        return Check("certificate", OK, "plain http: no certificate")
    from harborctl.tls.checking import check_server_certificate

    cert, key, host = found
    problems = check_server_certificate(cert, key, host, now)
    if not problems:
        return Check("certificate", OK, f"{cert} is valid for {host}, its chain complete")
    worst = FAIL if any(p.severity == "error" for p in problems) else WARN
    hints = [p.hint for p in problems if p.hint]
    return Check("certificate", worst, "; ".join(p.message for p in problems),
                 hints[0] if hints else "renew it with `harborctl gencert --force`")


def check_interrupted_restores(data_volume: Path, budget_s: float = SIZE_BUDGET_S,
                               running: bool = False) -> Check:
    """A restore unpacks into data_volume/.harborctl-restore-*; one that was killed leaves that
    folder behind, holding up to a whole archive's data. It is named, never removed. While a
    backup or restore of the project is ``running`` (it holds the operation lock), a folder may
    be that restore's own: no removal is suggested then."""
    try:
        # Each folder's time is read while listing: a restore that ends meanwhile removes its
        # folder, which must not turn this check into a failure.
        with os.scandir(data_volume) as entries:
            found = sorted((Path(e.path), e.stat(follow_symlinks=False).st_mtime)
                           for e in entries
                           if e.name.startswith(RESTORE_STAGING_PREFIX)
                           and e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        found = []
    except OSError as exc:
        return Check("restore", FAIL, f"cannot look in {data_volume}: {exc.strerror or exc}")
    if not found:
        return Check("restore", OK, "no folder left by an interrupted restore")
    shown = []
    for folder, mtime in found:
        started = _dt.datetime.fromtimestamp(mtime, UTC)
        shown.append(f"{folder} ({_size_text(*folder_size(folder, budget_s / len(found)))}, "
                     f"{started:%Y-%m-%d %H:%M} UTC)")
    if running:
        return Check("restore", WARN, "a backup or restore of this project is running now; "
                     "its staging folder, or one left by an interrupted restore: "
                     + "; ".join(shown), "run `harborctl doctor` again once it has ended")
    return Check("restore", WARN, "left by an interrupted restore: " + "; ".join(shown),
                 "no restore of this project is running: remove it with rm -rf "
                 + " ".join(str(folder) for folder, _ in found))


def resolve_host(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def check_hostname(hostname: str, resolve: Resolver = resolve_host) -> Check:
    from harborctl.hostport import as_ip_address, parse_host_port

    host = parse_host_port(hostname).host
    if as_ip_address(host) is not None:
        return Check("hostname", OK, f"{host} is an IP address")
    try:
        addresses = resolve(host)
    except (OSError, UnicodeError) as exc:
        return Check("hostname", WARN, f"{host} does not resolve on this host: {exc}",
                     "add it to DNS (or /etc/hosts) where the clients and this host look")
    return Check("hostname", OK, f"{host} resolves to {', '.join(addresses)}")


def check_state(project_dir: Path) -> Check:
    from harborctl.engine.compose.service_list import COMPOSE_NAME
    from harborctl.state import read_state, state_path

    compose = project_dir / COMPOSE_NAME
    try:
        compose_hash = hashlib.sha256(compose.read_bytes()).hexdigest()
    except OSError as exc:
        return Check("state", FAIL, f"cannot read {compose}: {exc.strerror or exc}",
                     "run `harborctl prepare` (or install)")
    recorded = read_state(project_dir).get("compose_sha256")
    if not isinstance(recorded, str):
        return Check("state", WARN, f"{state_path(project_dir)} is missing or not harborctl's",
                     "run `harborctl prepare` to record this deployment")
    if recorded != compose_hash:
        return Check("state", WARN, f"{compose} is not the one harborctl last wrote (edited "
                     "by hand?): changes to harbor.cfg do not reach it",
                     "delete it and run `harborctl prepare` to have it rendered anew, if the "
                     "edit is not wanted")
    return Check("state", OK, f"{compose.name} is the one the last prepare wrote")


def guarded(name: str, check: Callable[[], list[Check]]) -> list[Check]:
    """A check that fails to run is a FAIL of its own; the others still run."""
    try:
        return check()
    except HarborctlError as exc:
        return [Check(name, FAIL, f"could not check: {exc.message}", exc.hint or "")]
    except OSError as exc:
        return [Check(name, FAIL, f"could not check: {exc.strerror or exc}")]


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def exit_status(checks: Sequence[Check]) -> int:
    from harborctl.errors import EXIT_OK, EXIT_UNHEALTHY

    return EXIT_UNHEALTHY if any(c.status == FAIL for c in checks) else EXIT_OK

