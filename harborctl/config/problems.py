"""A problem found in harbor.cfg or harbor.yml, and how it is shown to the operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
_SHOWN_KEY = 80  # characters of a key shown; the file may hold a megabyte-long one


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    line: int | None = None
    hint: str | None = None
    severity: Severity = "error"

    @property
    def shown_key(self) -> str:
        """The key as printed: a key is whatever the file says, so its control characters (a
        terminal escape, a NUL) are shown escaped rather than sent to the terminal."""
        return printable(self.key if len(self.key) <= _SHOWN_KEY else self.key[:_SHOWN_KEY] + "…")

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        prefix = "warning: " if self.severity == "warning" else ""
        # A message may quote a value of the file (a path): escaped like the key.
        text = f"{where}: {prefix}{self.shown_key}: {printable(self.message)}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text

    def as_dict(self, filename: str) -> dict[str, object]:
        return {
            "file": filename,
            "line": self.line,
            "key": self.shown_key,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


class BySeverity:
    """The errors and the warnings of a validation's ``problems`` (harbor.cfg's and harbor.yml's
    results share them)."""

    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped as ``repr`` escapes it."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
