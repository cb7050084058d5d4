"""The systemd unit that brings a deployment back after an engine restart or a host reboot.

Why a unit and not only ``restart: always``: when the engine starts, it restarts every such
container at once, before the log service's rsyslog listens, and the ``syslog`` logging driver
refuses to start a container whose address does not answer. The engine never retries a start
that failed at its own boot, so nine of ten services stay ``Exited``. The unit runs
``harborctl start`` once the engine is up, which starts them in dependency order (log first,
each one once its dependencies are healthy) and retries while the log address does not listen.

Rendering is pure (``render_unit``); ``install_unit`` writes through harborctl/files and runs
``systemctl`` only where systemd runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harborctl.errors import FilesystemError

UNIT_DIR = Path("/etc/systemd/system")
SYSTEMD_RUNNING = Path("/run/systemd/system")  # what sd_booted() checks
ENGINE_WAIT_S = 120  # the engine may still be restoring its containers and networks
START_LIMIT_S = 900  # ExecStart: engine wait + every service's health wait, with room to spare
STOP_LIMIT_S = 300
_PLAIN = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@dataclass(frozen=True)
class BootUnit:
    name: str  # e.g. harbor-harbor.service
    text: str


def unit_name(project_name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", project_name) or "harbor"
    return f"harbor-{safe}.service"


def harborctl_command(argv0: str | None = None, python: str | None = None) -> list[str]:
    """How systemd runs this harborctl: the script it was started as (absolute), or the Python
    running it with ``-m harborctl`` when started as a module (no script to name)."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    if os.path.basename(argv0) == "harborctl" and os.path.isfile(argv0):
        return [os.path.abspath(argv0)]
    return [os.path.abspath(python or sys.executable), "-m", "harborctl"]


def quote(word: str) -> str:
    """One word of a systemd command line: ``%`` and ``$`` are expanded by systemd, so doubled;
    anything beyond plain characters goes in double quotes with C escapes."""
    escaped = word.replace("%", "%%").replace("$", "$$")
    if _PLAIN.fullmatch(word):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_line(words: Sequence[str]) -> str:
    return " ".join(quote(w) for w in words)


def harborctl_args(command: Sequence[str], verb: str, config_path: Path, project_dir: Path | None,
                   project_name: str | None) -> list[str]:
    args = [*command, verb, "-c", str(config_path.absolute())]
    if project_dir is not None:
        args += ["--project-dir", str(project_dir.absolute())]
    if project_name is not None:
        args += ["-p", project_name]
    return args


def render_unit(command: Sequence[str], config_path: Path, project_name: str,
                project_dir: Path | None = None, explicit_name: str | None = None,
                docker_host: str | None = None) -> BootUnit:
    """The unit for the deployment of ``config_path``; ``command`` runs harborctl."""
    start = [*harborctl_args(command, "start", config_path, project_dir, explicit_name),
             "--wait-engine", str(ENGINE_WAIT_S)]
    stop = harborctl_args(command, "stop", config_path, project_dir, explicit_name)
    where = (project_dir or config_path.parent).absolute()
    environment = ([f"Environment={quote('DOCKER_HOST=' + docker_host)}"]
                   if docker_host else [])
    lines = [
        "# Written by harborctl (harborctl boot-unit); rewritten by each install.",
        "[Unit]",
        f"Description=Harbor registry {project_name} ({where})",
        # Requires + After: started once the engine is; PartOf: stopped and restarted with it,
        # so `systemctl restart docker` brings Harbor back too.
        "Requires=docker.service",
        "After=docker.service network-online.target",
        "Wants=network-online.target",
        "PartOf=docker.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        *environment,
        f"ExecStart={command_line(start)}",
        # An orderly stop (log last) before the engine stops: at the next engine start the
        # containers stay stopped and ExecStart starts them in order, with no race to lose.
        f"ExecStop={command_line(stop)}",
        f"TimeoutStartSec={START_LIMIT_S}",
        f"TimeoutStopSec={STOP_LIMIT_S}",
        "",
        "[Install]",
        # docker.service wanting it: a socket-activated engine start brings Harbor up as well.
        "WantedBy=multi-user.target docker.service",
        "",
    ]
    return BootUnit(unit_name(project_name), "\n".join(lines))


def systemd_runs(marker: Path | None = None) -> bool:
    return (SYSTEMD_RUNNING if marker is None else marker).is_dir()


def install_unit(unit: BootUnit, unit_dir: Path | None = None, enable: bool = True) -> Path:
    """Write the unit (0644, atomically) and, when ``enable``, reload systemd and enable it."""
    from harborctl.files import write_file_atomic

    path = (UNIT_DIR if unit_dir is None else unit_dir) / unit.name
    write_file_atomic(path, unit.text.encode("utf-8"), 0o644)
    if enable:
        for args in (["systemctl", "daemon-reload"], ["systemctl", "enable", unit.name]):
            try:
                done = subprocess.run(args, capture_output=True, text=True, check=False,
                                      timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise FilesystemError(f"wrote {path}, but `{' '.join(args)}` failed: {exc}",
                                      hint=f"run `systemctl enable {unit.name}` yourself"
                                      ) from exc
            if done.returncode != 0:
                raise FilesystemError(
                    f"wrote {path}, but `{' '.join(args)}` failed: "
                    f"{(done.stderr or done.stdout).strip()[:200]}",
                    hint=f"run `systemctl enable {unit.name}` yourself")
    return path
