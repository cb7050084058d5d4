"""The Jinja environment: strict about undefined names, and filters that quote a value for the
format it lands in, so that no value can add a line or a key to a rendered file."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import jinja2

from harborctl.errors import ConfigError
from harborctl.quoting import env_quoting, yaml_bare_scalar

_UNSAFE_LINE = re.compile(r"[\r\n\x00]")


def templates_dir() -> Path:
    """The top-level templates/ folder, through ``harborctl/templates``: a link to it in a
    source checkout (and an editable install), a copy of it in the wheel (setup.py)."""
    return Path(__file__).resolve().parent / "templates"


def _one_line(value: object, where: str) -> str:
    text = str(value)
    if _UNSAFE_LINE.search(text):
        raise ConfigError(f"a value for {where} contains a line break and cannot be rendered")
    return text


def env_value(value: object) -> str:
    """A value for an env file (``KEY=VALUE``), quoted so that it reads back exactly."""
    text = str(value)
    quoted = env_quoting(text)
    if quoted is None:
        raise ConfigError(f"a value cannot be written to an env file exactly: {_hint()}")
    return quoted


def _hint() -> str:
    return "it holds a line break or a backslash, or mixes a single quote with '\"' or '$'"


def yaml_value(value: object) -> str:
    """A YAML scalar. A JSON string is a valid YAML double-quoted scalar with every character
    escaped, so quotes, '#', ': ' and '{{' stay inside it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def compose_value(value: object) -> str:
    """A YAML scalar for docker-compose.yml, where '$' is interpolated by compose unless doubled."""
    return yaml_value(value).replace("$", "$$")


def storage_option(value: object) -> str:
    """A storage driver option: booleans and numbers bare (the drivers parse them), text quoted."""
    text = str(value)
    if yaml_bare_scalar(text):
        return text
    return yaml_value(text)


def json_value(value: object) -> str:
    return json.dumps(value)


def nginx_value(value: object) -> str:
    """An nginx directive argument, double-quoted with its quotes and backslashes escaped.

    nginx expands '$name' even inside quotes and has no escape for it, so a '$' is refused."""
    text = _one_line(value, "nginx.conf")
    if "$" in text:
        raise ConfigError(f"{text!r} contains '$', which nginx.conf cannot hold literally")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # Compiling the ~25 templates costs about 0.12 s per run; the cache (keyed by each
        # template's checksum) makes a re-run of prepare cheap.
        bytecode_cache=_bytecode_cache(),
    )
    env.filters.update(env=env_value, yaml=yaml_value, compose=compose_value, json=json_value,
                       nginx=nginx_value, storage_option=storage_option)
    return env


def _private_folder(path: Path) -> bool:
    """Create ``path`` 0700 if missing; True only if it is a real folder of this user that no
    one else can write: cached bytecode is code that every later run executes."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and stat.S_IMODE(info.st_mode) & 0o077 == 0)


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """A cache in this user's own cache folder (~/.cache/harborctl/jinja), never in the shared
    temp folder, where any user could pre-create jinja's folder and make every run fail.
    Without a folder that passes the checks, templates are simply compiled each time."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        info = os.stat(base)
    except (OSError, RuntimeError, KeyError):
        return None
    if info.st_uid not in (0, os.geteuid()) or stat.S_IMODE(info.st_mode) & 0o022:
        return None
    folder = base / "harborctl"
    if not (_private_folder(folder) and _private_folder(folder / "jinja")):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder / "jinja"))


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> bytes:
    try:
        template = env.get_template(name)
        return template.render(**context).encode("utf-8")
    except jinja2.TemplateError as exc:
        raise ConfigError(f"template {name} cannot be rendered: {exc}",
                          hint="this is a bug in harborctl's templates; please report it") from exc
