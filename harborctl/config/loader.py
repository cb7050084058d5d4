"""Read a section-less ``key = value`` file into raw strings, keeping each key's line number."""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.problems import Problem
from harborctl.errors import ConfigError

_SECTION = "harbor"
# A key line starts at column 0 (indented lines continue the previous value, as configparser reads
# them) and is not a comment.
_KEY_LINE = re.compile(r"^(?![#;\s])([^=:]+?)\s*[=:]")


@dataclass(frozen=True)
class RawValue:
    value: str
    line: int


@dataclass(frozen=True)
class RawConfig:
    """What the file says, untyped: each key's value and line, plus problems found while reading."""

    path: Path
    values: dict[str, RawValue]
    problems: tuple[Problem, ...] = ()

    def line_of(self, key: str) -> int | None:
        raw = self.values.get(key)
        return raw.line if raw else None


def parse_text(text: str, path: Path) -> RawConfig:
    """Parse the text of a harbor.cfg; duplicates and malformed lines become problems."""
    problems: list[Problem] = []
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _KEY_LINE.match(line)
        if not match:
            continue
        key = match.group(1).strip().lower()
        if key in lines:
            problems.append(
                Problem(
                    key,
                    f"set twice (first on line {lines[key]}); the later value would win silently",
                    line=number,
                    hint="keep one of the two lines",
                )
            )
            continue
        lines[key] = number

    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=", ":"))
    try:
        parser.read_string(f"[{_SECTION}]\n{text}", source=str(path))
    except configparser.ParsingError as exc:
        for lineno, bad in exc.errors:
            problems.append(
                Problem(
                    "(syntax)",
                    f"not a 'key = value' line: {bad.strip()[:60]!r}",
                    line=lineno - 1,
                    hint="write it as 'key = value', or start it with '#' to make it a comment",
                )
            )
    except configparser.Error as exc:  # e.g. a stray [section] header
        raise ConfigError(f"{path}: cannot be read: {exc.message}") from exc

    values = {}
    if parser.has_section(_SECTION):
        for key, value in parser.items(_SECTION, raw=True):
            values[key] = RawValue(value.strip(), lines.get(key, 0))
    return RawConfig(path=path, values=values, problems=tuple(problems))


def read_config_file(path: Path) -> RawConfig:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no such file",
            hint="copy harbor.cfg.example to harbor.cfg and edit it, or pass -c FILE",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    return parse_text(text, Path(path))
