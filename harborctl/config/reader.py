"""Typed access to raw values that records a problem instead of failing on the first bad one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from harborctl.config.keys import DEFAULTS
from harborctl.config.loader import RawConfig
from harborctl.config.problems import Problem

_SHOWN_CHARACTERS = 60
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


class ValueReader:
    """Reads keys of a RawConfig as typed values, collecting every problem it meets."""

    def __init__(self, raw: RawConfig) -> None:
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)

    def line(self, key: str) -> int | None:
        return self.raw.line_of(key)

    def is_set(self, key: str) -> bool:
        return key in self.raw.values

    def error(self, key: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(key, message, self.line(key), hint))

    def warn(self, key: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(key, message, self.line(key), hint, "warning"))

    def text(self, key: str) -> str:
        raw = self.raw.values.get(key)
        return raw.value if raw is not None else DEFAULTS[key]

    def integer(self, key: str, low: int = 0, high: int = 2**31 - 1) -> int:
        value = self.text(key)
        fallback = int(DEFAULTS[key]) if DEFAULTS[key].isdigit() else low
        # ASCII digits only: int() would also read "٥" or "５", which the services' parsers do not.
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            self.error(key, f"{shown(value)} is not a whole number")
            return fallback
        # int() refuses more than 4300 digits; no setting needs more than a dozen.
        if len(value) > 20 or not low <= int(value) <= high:
            self.error(key, f"{shown(value)} is out of range ({low}–{high})")
            return fallback
        return int(value)

    def port(self, key: str) -> int:
        return self.integer(key, 1, 65535)

    def boolean(self, key: str) -> bool:
        value = self.text(key).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.error(key, f"{shown(self.text(key))} is not a yes/no value",
                   "write on, off, true or false")
        return DEFAULTS[key].lower() in _TRUE

    def choice(self, key: str, options: Iterable[str]) -> str:
        value = self.text(key)
        allowed = tuple(options)
        if value not in allowed:
            self.error(key, f"{shown(value)} is not one of: {', '.join(allowed)}")
            return DEFAULTS[key]
        return value

    def absolute_path(self, key: str, optional: bool = False) -> Path | None:
        value = self.text(key)
        if not value:
            if not optional:
                self.error(key, "must not be empty; give an absolute path")
            return None
        if not value.startswith("/"):
            self.error(key, f"{shown(value)} is a relative path; give an absolute one (starting "
                       "with /)")
            return None
        return Path(value)


def shown(value: str) -> str:
    """``value`` quoted for a message, cut short: a value may be a megabyte of garbage."""
    if len(value) <= _SHOWN_CHARACTERS:
        return repr(value)
    return repr(value[:_SHOWN_CHARACTERS]) + "…"
