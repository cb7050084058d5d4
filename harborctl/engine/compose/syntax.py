"""Small value syntaxes of compose files: durations, ``$VAR`` interpolation, env files."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_NS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(value: object) -> int:
    """Return nanoseconds for ``1s``, ``500ms``, ``1m30s``, ``1.5h``; a bare number is seconds.

    Raises ``ValueError`` with a readable reason on anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return round(value * 1_000_000_000)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration")
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return round(float(text) * 1_000_000_000)
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _NS_PER_UNIT[match.group(2)]
        pos = match.end()
    if pos == 0 or pos != len(text):
        raise ValueError(f"{value!r} is not a duration like 30s, 500ms or 1m30s")
    return round(total)


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<plain>[_a-zA-Z][_a-zA-Z0-9]*)|\{(?P<braced>[^}]*)\})"
)
_BLANKS = " \t\r"
_BRACED = re.compile(r"(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:-|-)(?P<default>.*))?", re.S)


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Substitute ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``; ``$$`` is ``$``.

    Unset variables become the empty string, as compose does (it warns; the caller may too).
    Raises ``ValueError`` on a form harborctl does not support (``${VAR:?err}``, a lone ``$``).
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("plain"):
            return environ.get(match.group("plain"), "")
        inner = match.group("braced")
        braced = _BRACED.fullmatch(inner) if inner is not None else None
        if braced is None:
            raise ValueError(f"unsupported substitution ${{{inner}}} (write $$ for a literal $)")
        name, op, default = braced.group("name", "op", "default")
        value = environ.get(name)
        if op == ":-" and not value:
            return str(default)
        if op == "-" and value is None:
            return str(default)
        return value or ""

    result = _VARIABLE.sub(substitute, text)
    if "$" in _VARIABLE.sub("", text):
        raise ValueError(f"a lone $ in {text!r} (write $$ for a literal $)")
    return result


def parse_env_file(text: str) -> dict[str, str]:
    """Parse an env file: ``KEY=VALUE`` lines, ``#`` comments, optional ``export``.

    A value in single quotes is taken literally; in double quotes ``\\n``, ``\\"`` and ``\\\\``
    are unescaped; an unquoted value loses trailing blanks and a `` #`` comment. ``$`` is never
    expanded here: compose 1.29 would expand ``${VAR}`` in unquoted and double-quoted values, so a
    value holding ``$`` should be written single-quoted to mean the same to both tools.
    """
    result: dict[str, str] = {}
    # Lines end at "\n" only, as the engine's own env-file reader sees them: ``splitlines`` would
    # also break at form feeds, U+2028 and the like inside a hand-edited value.
    for raw in text.split("\n"):
        line = raw.strip(_BLANKS)
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip(_BLANKS)
        if not sep:
            continue
        value = value.strip(_BLANKS)
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", _unescape, value[1:-1])
        else:
            value = re.split(r"[ \t]+#", value, maxsplit=1)[0].rstrip(_BLANKS)
        result[key] = value
    return result


def _unescape(match: re.Match[str]) -> str:
    return "\n" if match.group(1) == "n" else match.group(1)


def read_env_file(path: Path) -> dict[str, str]:
    """Read and parse an env file (UTF-8, a BOM tolerated)."""
    return parse_env_file(path.read_text(encoding="utf-8-sig"))


