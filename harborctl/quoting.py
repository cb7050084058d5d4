"""Quoting of values for env files, shared by validation (to refuse early) and rendering."""

from __future__ import annotations

import re

_LINE_BREAK = re.compile(r"[\r\n\x00]")
_ENV_BARE = re.compile(r"[A-Za-z0-9_./:@,+=%*?!^~;<>()\[\]{}|&-]*")


def env_quoting(text: str) -> str | None:
    """The form of ``text`` that every env-file reader harborctl meets (its own engine,
    docker-compose 1.29, Compose v2) reads back as exactly ``text``; None when there is none.

    Bare when it has no blank, quote, '#', '$' or backslash; else single quotes (literal for
    all of them); a value holding a single quote goes in double quotes if it has no '"' or '$'.
    A backslash is never safe: the readers unescape it differently."""
    if _LINE_BREAK.search(text) or "\\" in text:
        return None
    if _ENV_BARE.fullmatch(text):
        return text
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text and "$" not in text:
        return f'"{text}"'
    return None
