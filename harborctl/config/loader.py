"""Read a section-less ``key = value`` file into raw strings, keeping each key's line number.

The format is what Harbor 1.7's prepare reads with configparser under a synthetic section:
``key = value`` or ``key: value``, keys case-insensitive, ``#`` and ``;`` start a comment line,
values literal and stripped. harborctl reads it line by line itself rather than through
configparser, so that every line has the number an editor shows (configparser and
``str.splitlines`` also break at form feeds, U+2028 and the like), a ``[section]`` header is an
error at its line instead of silently moving the keys below it out of reach, and an indented line
is reported where it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.inputs import refuse_yml_for_17
from harborctl.config.problems import Problem
from harborctl.errors import ConfigError

# harbor.cfg is a few KiB; the cap keeps `-c /dev/zero` (or a log file passed by mistake) from
# reading without bound.
MAX_CONFIG_BYTES = 1 << 20
_BOM = "\ufeff"
_COMMENT_PREFIXES = ("#", ";")
# configparser's rule: a line starting with '[' and holding a ']' further on is a section header.
_HEADER = re.compile(r"\[.+\]")
# The key ends at the first '=' or ':', whichever comes first.
_KEY_VALUE = re.compile(r"(?P<key>[^=:]*?)\s*[=:]\s*(?P<value>.*)")


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


def _syntax(message: str, line: int, hint: str) -> Problem:
    return Problem("(syntax)", message, line=line, hint=hint)


def parse_text(text: str, path: Path, problems: tuple[Problem, ...] = ()) -> RawConfig:
    """Parse the text of a harbor.cfg; headers, duplicates and malformed lines become problems.

    An indented line continues the value of the key above it (as configparser reads it): the
    value then holds a line break, which validation refuses at the key's line."""
    found: list[Problem] = list(problems)
    values: dict[str, RawValue] = {}
    current: str | None = None  # the key an indented line would continue
    for number, line in enumerate(text.removeprefix(_BOM).split("\n"), start=1):
        line = line.removesuffix("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith(_COMMENT_PREFIXES):
            continue
        if line[0].isspace() and current is not None:
            raw = values[current]
            values[current] = RawValue(f"{raw.value}\n{stripped}", raw.line)
            continue
        if _HEADER.match(stripped):
            current = None
            found.append(_syntax(
                "a section header: harbor.cfg has none, and Harbor would not read the keys "
                "below it", number, "delete this line: every key belongs to the one file"))
            continue
        match = _KEY_VALUE.fullmatch(stripped)
        if line[0].isspace() or not match or not match.group("key"):
            current = None
            # The line itself is not shown: it may be a password whose '=' was forgotten.
            what = "an indented line with no key above it" if line[0].isspace() and match \
                else "not a 'key = value' line"
            found.append(_syntax(
                f"{what} (not shown: it may hold a secret)", number,
                "write it as 'key = value' at the start of the line, or start it with '#' "
                "to make it a comment"))
            continue
        key = match.group("key").lower()
        if key in values:
            found.append(Problem(
                key, f"set twice (first on line {values[key].line}); the later value would win "
                "silently", line=number, hint="keep one of the two lines"))
            current = None
            continue
        values[key] = RawValue(match.group("value").strip(), number)
        current = key
    return RawConfig(path=path, values=values, problems=tuple(found))


def _decode(data: bytes) -> tuple[str, tuple[Problem, ...]]:
    """The text of the file; a line that is not UTF-8 becomes a problem at its line (its bad
    bytes replaced), so that the rest of the file is still checked."""
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        pass
    lines, problems = [], []
    for number, chunk in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            problems.append(Problem(
                "(encoding)",
                f"this line is not UTF-8 text (byte 0x{chunk[exc.start]:02x} at column "
                f"{exc.start + 1})",
                line=number, hint="save the file as UTF-8"))
            lines.append(chunk.decode("utf-8", errors="replace"))
    return "\n".join(lines), tuple(problems)


def read_config_file(path: Path) -> RawConfig:
    """Read and parse ``path``; a file that cannot be read at all raises ConfigError."""
    path = Path(path)
    refuse_yml_for_17(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a harbor.cfg file",
                          hint="pass the file itself with -c FILE")
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no such file",
            hint="copy harbor.cfg.example to harbor.cfg and edit it, or pass -c FILE",
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than 1 MiB; harbor.cfg is a few KiB of 'key = value' "
                          "lines", hint="check that -c names harbor.cfg")
    text, problems = _decode(data)
    return parse_text(text, path, problems)
