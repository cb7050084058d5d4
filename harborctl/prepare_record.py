"""The record of a prepare that changed nothing, so that the same prepare run again answers in a
few milliseconds instead of importing the validator, jinja2 and cryptography (issue 18: a
re-run with every component took 0.5 s here, most of it imports).

A full prepare that changed nothing writes ``.harborctl-prepared`` beside docker-compose.yml:
what it printed, and an observation of every input it read and every path it checked or would
have written: harbor.cfg and each file validation consulted, the certificate files, every
secret file (present or not), every planned file and folder (content, type, mode, owner), the
listing of each folder it scans (a leftover staging copy, an operator's file), the journal
(absent), harborctl's own code and templates, the user, the command line and the folder it ran
in, and the time window in which the certificate checks answer the same. A later run with the
same command line answers from the record only when every observation is the same again;
otherwise (or for anything unexpected) the full prepare runs, and records anew if it changes
nothing. Only standard-library imports here: this module is the fast path.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

RECORD_NAME = ".harborctl-prepared"
FORMAT = 1
# Files that come and go in the project folder without changing what prepare would do (the two
# lock files are files/lock.py's LOCK_NAME and OPERATION_LOCK_NAME: this module stays light).
UNLISTED = frozenset({RECORD_NAME, ".harborctl.lock", ".harborctl-operation.lock",
                      ".harborctl-services"})

Observation = list[object]  # JSON-ready: [kind, path, ...facts]


def _identity(info: os.stat_result) -> list[int]:
    return [stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid]


def observe_file(path: str) -> Observation:
    """A file as prepare sees it: the link itself (never followed by the writer), and what
    reading it gives (readers of harbor.cfg and certificates follow links)."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return ["file", path, None]
    except OSError as exc:
        return ["file", path, f"error {exc.errno}"]
    facts: list[object] = ["file", path, _identity(link)]
    try:
        target = os.stat(path)
        facts.append(_identity(target))
        if stat.S_ISREG(target.st_mode):
            with open(path, "rb") as handle:
                facts.append(hashlib.sha256(handle.read()).hexdigest())
    except OSError as exc:
        facts.append(f"error {exc.errno}")
    return facts


def observe_folder(path: str, listed: bool) -> Observation:
    """A folder: type, mode and owner, and with ``listed`` the names in it."""
    try:
        facts: list[object] = ["folder", path, _identity(os.lstat(path))]
        if listed:
            names = sorted(n for n in os.listdir(path) if n not in UNLISTED)
            facts.append(hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape"))
                         .hexdigest())
    except FileNotFoundError:
        return ["folder", path, None]
    except OSError as exc:
        return ["folder", path, f"error {exc.errno}"]
    return facts


def observe_tree(root: str) -> list[Observation]:
    """Every folder below ``root`` with its listing, as the sweep of operator files walks it."""
    out = []
    for folder, subfolders, _ in os.walk(root):  # never descends into a link
        subfolders.sort()
        out.append(observe_folder(folder, listed=True))
    return out


def code_digest() -> str:
    """harborctl's code and templates as installed: names, sizes and modification times."""
    package = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for top in (package, os.path.realpath(os.path.join(package, "templates"))):
        for folder, subfolders, names in os.walk(top):
            subfolders[:] = sorted(s for s in subfolders if s != "__pycache__")
            for name in sorted(names):
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                parts.append(f"{folder}/{name}\0{info.st_size}\0{info.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def situation() -> dict[str, object]:
    """What must be the same besides the files: harborctl's code and the user."""
    from harborctl import __version__

    return {"format": FORMAT, "version": __version__, "code": code_digest(),
            "euid": os.geteuid()}


def observations(files: Iterable[str], folders: Iterable[str], listed: Iterable[str],
                 trees: Iterable[str]) -> list[Observation]:
    out = [observe_file(p) for p in sorted(set(files))]
    listed = set(listed)
    out += [observe_folder(p, p in listed) for p in sorted(set(folders) | listed)]
    for root in sorted(set(trees)):
        out += observe_tree(root)
    return out


def record_text(config: str, seen: list[Observation], window: tuple[float, float],
                warnings: list[str], certificate_fits: bool,
                invocation: tuple[list[str], str, tuple[str, str]] | None) -> bytes:
    """The record's content (JSON). ``window``: the moments (seconds since the epoch) between
    which the checks that depend on the time (certificate dates) answer as they did.
    ``warnings``: the prepare's, which an install prints. ``invocation``: the command line, the
    folder and what a `harborctl prepare` printed (stdout, stderr); None from an install."""
    argv, cwd, output = invocation if invocation is not None else (None, None, (None, None))
    record = {**situation(), "config": config, "seen": seen, "valid_from": window[0],
              "valid_until": window[1], "warnings": warnings,
              "certificate_fits": certificate_fits, "argv": argv, "cwd": cwd,
              "stdout": output[0], "stderr": output[1]}
    return (json.dumps(record, sort_keys=True) + "\n").encode("utf-8", "surrogatepass")


def replay(project_dir: str, argv: list[str], cwd: str, now: float) -> tuple[str, str] | None:
    """What the prepare recorded in ``project_dir`` printed (stdout, stderr), when running it
    again now with ``argv`` in ``cwd`` would change nothing and print the same; else None."""
    record = _read(project_dir)
    if record is None or record.get("argv") != argv or record.get("cwd") != cwd:
        return None
    stdout, stderr = record.get("stdout"), record.get("stderr")
    if not (isinstance(stdout, str) and isinstance(stderr, str) and _current(record, now)):
        return None
    return stdout, stderr


def unchanged(project_dir: str, config: str, now: float) -> dict[str, object] | None:
    """The record, when preparing ``project_dir`` from ``config`` (absolute) without options
    would change nothing now (whichever command recorded it); else None."""
    record = _read(project_dir)
    if record is None or record.get("config") != config or not _current(record, now):
        return None
    return record


def _read(project_dir: str) -> dict[str, object] | None:
    path = os.path.join(project_dir, RECORD_NAME)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            # only this user's own record, writable by no one else: it decides what is skipped
            if info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o022:
                return None
            record = json.loads(handle.read().decode("utf-8", "surrogatepass"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _current(record: dict[str, object], now: float) -> bool:
    """The same code and user, inside the time window, and every observation the same."""
    if any(record.get(key) != value for key, value in situation().items()):
        return False
    valid_from, valid_until = record.get("valid_from"), record.get("valid_until")
    if not (isinstance(valid_from, (int, float)) and isinstance(valid_until, (int, float))
            and valid_from <= now < valid_until):
        return False
    seen = record.get("seen")
    return isinstance(seen, list) and bool(seen) and all(_same(entry) for entry in seen)


def _same(entry: object) -> bool:
    if not (isinstance(entry, list) and len(entry) >= 3 and isinstance(entry[1], str)):
        return False
    kind, path = entry[0], entry[1]
    if kind == "file":
        return observe_file(path) == entry
    if kind == "folder":
        return observe_folder(path, listed=len(entry) > 3) == entry
    return False
