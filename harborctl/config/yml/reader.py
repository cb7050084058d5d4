"""Typed access to harbor.yml's key paths that records a problem instead of failing on the first
bad value. Harbor's prepare renders values with Python's str(): an unquoted ``yes`` becomes
``True`` in a password. harborctl refuses a value whose YAML type is not the key's type, and says
to quote it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from harborctl.config.problems import Problem
from harborctl.config.reader import shown
from harborctl.config.yml.loader import RawYaml

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_TYPE_NAMES = {bool: "a yes/no value", int: "a number", float: "a number", list: "a list",
               dict: "a block of keys", type(None): "empty"}


def type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class YamlReader:
    def __init__(self, raw: RawYaml) -> None:
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)

    def line(self, path: str) -> int | None:
        """The key's line, or its nearest block's line when the key is missing."""
        while path:
            line = self.raw.line_of(path)
            if line is not None:
                return line
            path = path.rpartition(".")[0]
        return None

    def error(self, path: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(path, message, self.line(path), hint))

    def warn(self, path: str, message: str, hint: str | None = None) -> None:
        self.problems.append(Problem(path, message, self.line(path), hint, "warning"))

    def value(self, path: str) -> object:
        item = self.raw.items.get(path)
        return None if item is None else item.value

    def is_set(self, path: str) -> bool:
        """Set to something: Harbor's prepare reads an empty value as an absent one."""
        return self.value(path) not in (None, "")

    def _missing(self, path: str, required: bool, example: str | None) -> None:
        if required:
            self.error(path, "missing", f"set it{f' (for example {example})' if example else ''};"
                       " Harbor's prepare stops without it")

    def block(self, path: str, required: bool = False) -> bool:
        """Whether the block is given (a mapping with at least one key)."""
        value = self.value(path)
        if value is None or value == {}:
            self._missing(path, required, None)
            return False
        if not isinstance(value, dict):
            self.error(path, f"must be a block of keys, not {type_name(value)}",
                       "indent its keys below it, as harbor.yml.tmpl shows")
            return False
        return True

    def text(self, path: str, default: str = "", required: bool = False,
             example: str | None = None) -> str:
        item = self.raw.items.get(path)
        if item is None or item.value is None or item.value == "":
            self._missing(path, required, example)
            return default
        if isinstance(item.value, str):
            return item.value
        if type(item.value) is int and item.text is not None and _DECIMAL.fullmatch(item.text):
            return item.text  # 5432, 123456: the same text whatever reads it (not 0123: octal)
        written = shown(item.text) if item.text is not None else "this value"
        self.error(path, f"YAML reads {written} as {type_name(item.value)}, not as text",
                   f"quote it: {path.rpartition('.')[2]}: \"...\"")
        return default

    def integer(self, path: str, default: int, low: int = 0, high: int = 2**31 - 1,
                required: bool = False) -> int:
        value = self.value(path)
        if value is None or value == "":
            self._missing(path, required, str(default))
            return default
        if isinstance(value, str) and _DIGITS.fullmatch(value) and len(value) < 12:
            value = int(value)
        if type(value) is not int:
            self.error(path, f"{shown(str(value))} is not a whole number")
            return default
        if not low <= value <= high:
            self.error(path, f"{value} is out of range ({low}–{high})")
            return default
        return value

    def port(self, path: str, default: int, required: bool = False) -> int:
        return self.integer(path, default, 1, 65535, required)

    def boolean(self, path: str, default: bool = False) -> bool:
        value = self.value(path)
        if value is None or value == "":
            return default
        if not isinstance(value, bool):
            self.error(path, f"{shown(str(value))} is not a yes/no value",
                       "write true or false, without quotes")
            return default
        return value

    def choice(self, path: str, options: Iterable[str], default: str,
               required: bool = False) -> str:
        allowed = tuple(options)
        value = self.text(path, default, required, example=default)
        if value not in allowed:
            self.error(path, f"{shown(value)} is not one of: {', '.join(allowed)}")
            return default
        return value

    def absolute_path(self, path: str, required: bool = False,
                      example: str | None = None) -> Path | None:
        value = self.text(path, "", required, example)
        if not value:
            return None
        if not value.startswith("/"):
            self.error(path, f"{shown(value)} is a relative path; give an absolute one "
                       "(starting with /)")
            return None
        return Path(value)

    def names(self, path: str, options: Iterable[str], default: tuple[str, ...] = (),
              required: bool = False) -> tuple[str, ...]:
        """A list of names, each one of ``options``, none twice."""
        value = self.value(path)
        allowed = tuple(options)
        if value is None:
            self._missing(path, required, f"[{', '.join(allowed)}]")
            return default
        if not isinstance(value, list):
            self.error(path, f"must be a list, not {type_name(value)}",
                       f"write it as a list: - {allowed[0]}")
            return default
        names: list[str] = []
        for entry in value:
            if not isinstance(entry, str) or entry not in allowed:
                self.error(path, f"{shown(str(entry))} is not one of: {', '.join(allowed)}")
            elif entry in names:
                self.error(path, f"{entry} is listed twice")
            else:
                names.append(entry)
        return tuple(names)
