"""`harborctl prepare` answered from the record of an earlier prepare that changed nothing
(harborctl/prepare_record.py), without click, the validator, jinja2 or cryptography.

Like the quick status, it never reports an error itself: whatever it cannot answer exactly as
the full command would (other options, no record, any input changed, output it cannot write) it
hands back, and the full prepare runs."""

from __future__ import annotations

import os
import sys
import time

from harborctl.prepare_record import replay

_VALUED = {"-c": "config", "--config": "config", "--project-dir": "project_dir"}


def parse_prepare_args(args: list[str]) -> dict[str, str] | None:
    """The options of a plain prepare (``-c``, ``--project-dir``), or None for anything else
    (components, --dry-run, --help, a typo, a missing value: the full command handles those)."""
    parsed: dict[str, str] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        name, has_value, value = arg.partition("=")
        if name in _VALUED and name.startswith("--") and has_value:
            parsed[_VALUED[name]] = value
        elif arg in _VALUED and rest:
            parsed[_VALUED[arg]] = rest.pop(0)
        else:
            return None
        if not parsed[_VALUED[name]]:
            return None
    return parsed


def quick_prepare(args: list[str]) -> int | None:
    """Print what the recorded prepare printed and return 0, or None: the full one must run."""
    parsed = parse_prepare_args(args)
    if parsed is None:
        return None
    cwd = os.getcwd()
    folder = parsed.get("project_dir") or os.path.dirname(parsed.get("config", "harbor.cfg"))
    output = replay(os.path.join(cwd, folder or "."), args, cwd, time.time())
    if output is None:
        return None
    try:
        for stream, text in ((sys.stdout, output[0]), (sys.stderr, output[1])):
            text.encode(stream.encoding or "utf-8", stream.errors or "strict")
        for stream, text in ((sys.stdout, output[0]), (sys.stderr, output[1])):
            stream.write(text)
            stream.flush()
    except (OSError, UnicodeError, ValueError):
        return None  # the full command says what is wrong with the output
    return 0
