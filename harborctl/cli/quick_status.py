"""`harborctl status` without click, YAML or the docker package: the services come from the list
remembered beside the compose file, the containers from one request on the engine's socket.

The quick path never reports an error itself: whatever it cannot answer exactly as the full
command would (other options, no remembered list, a remote engine, an engine that does not
answer) it hands back, and the full command runs and says what is wrong."""

from __future__ import annotations

import os
import sys

from harborctl.engine.api.socket_client import LightClient, socket_path
from harborctl.engine.compose.service_list import read_service_list
from harborctl.engine.status.report import project_status, status_dict, status_table
from harborctl.errors import EXIT_OK, EXIT_UNHEALTHY, HarborctlError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harborctl.engine.status.report import ProjectStatus

_VALUED = {"-c": "config", "--config": "config", "--project-dir": "project_dir",
           "-p": "project_name", "--project-name": "project_name"}


def parse_status_args(args: list[str]) -> dict[str, str] | None:
    """The options of a plain status (``-c``, ``--project-dir``, ``-p``, ``--json``), or None
    for anything else (``--help``, a typo, a missing value: click explains those)."""
    parsed: dict[str, str] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, has_value, value = arg.partition("=")
        if arg == "--json":
            parsed["json"] = "1"
        elif name in _VALUED and name.startswith("--") and has_value:
            parsed[_VALUED[name]] = value
        elif arg in _VALUED and rest:
            parsed[_VALUED[arg]] = rest.pop(0)
        else:
            return None
    return parsed


def print_status(status: ProjectStatus, as_json: bool) -> int:
    """Print a status as the table (problems on stderr) or as JSON; return the exit code."""
    if as_json:
        import json

        sys.stdout.write(json.dumps(status_dict(status), indent=2) + "\n")
    else:
        sys.stdout.write(status_table(status) + "\n")
        for problem in status.problems:
            sys.stderr.write(f"problem: {problem}\n")
        sys.stderr.flush()  # whoever swapped sys.stderr (click 8.1 test runner) reads it now
    return EXIT_OK if status.overall_ok else EXIT_UNHEALTHY


def quick_status(args: list[str]) -> int | None:
    """Answer the status and return its exit code, or None: the full command must answer."""
    parsed = parse_status_args(args)
    engine = socket_path()
    if parsed is None or engine is None:
        return None
    folder = parsed.get("project_dir") or os.path.dirname(parsed.get("config", "harbor.cfg"))
    if ".." in folder.split(os.sep):
        return None  # pathlib keeps "..", os.path folds it: the spellings would differ
    services = read_service_list(os.path.normpath(os.path.join(os.getcwd(), folder)),
                                 parsed.get("project_name"))
    if services is None:
        return None
    try:
        status = project_status(LightClient(engine), services)
    except (HarborctlError, ValueError, KeyError, TypeError):
        return None
    if any(s.starting for s in status.services):
        return None  # the full command runs their checks (engine/status/confirm.py)
    return print_status(status, "json" in parsed)
