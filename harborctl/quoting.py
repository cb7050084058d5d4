"""Quoting of values for env files, shared by validation (to refuse early) and rendering."""

from __future__ import annotations

import re

# NUL, and every character at which some env-file reader ends a line: '\n' and '\r' for all,
# and the others str.splitlines breaks at (harborctl's own reader), where compose does not.
_LINE_BREAK = re.compile("[\x00\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
COMPOSE_INTERPOLATION = "${"
# A YAML plain scalar that YAML reads as the same decimal integer: no leading zero (YAML 1.1 reads
# "0123" as octal 83), ASCII digits, and short enough for a 64-bit integer.
_YAML_DECIMAL = re.compile(r"0|[1-9][0-9]{0,17}")
_ENV_BARE = re.compile(r"[A-Za-z0-9_./:@,+=%*?!^~;<>()\[\]{}|&-]*")


def env_quoting(text: str) -> str | None:
    """The form of ``text`` that every env-file reader harborctl meets (its own engine,
    docker-compose 1.29, Compose v2) reads back as exactly ``text``; None when there is none.

    Bare when it has no blank, quote, '#', '$' or backslash; else single quotes (literal for
    all of them); a value holding a single quote goes in double quotes if it has no '"' or '$'.
    A backslash is never safe: the readers unescape it differently; nor is '${', which
    docker-compose 1.29 replaces by an environment variable even inside single quotes."""
    if _LINE_BREAK.search(text) or "\\" in text or COMPOSE_INTERPOLATION in text:
        return None
    if _ENV_BARE.fullmatch(text):
        return text
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text and "$" not in text:
        return f'"{text}"'
    return None


def yaml_bare_scalar(text: str) -> bool:
    """Whether ``text`` may be written bare in YAML and still read back as the value meant:
    ``true``/``false`` as booleans and plain decimal integers; everything else is quoted."""
    return text in ("true", "false") or _YAML_DECIMAL.fullmatch(text) is not None
