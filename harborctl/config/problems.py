"""A problem found in harbor.cfg, and how it is shown to the operator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    line: int | None = None
    hint: str | None = None
    severity: Severity = "error"

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        prefix = "warning: " if self.severity == "warning" else ""
        text = f"{where}: {prefix}{self.key}: {self.message}"
        return f"{text}\n    hint: {self.hint}" if self.hint else text

    def as_dict(self, filename: str) -> dict[str, object]:
        return {
            "file": filename,
            "line": self.line,
            "key": self.key,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }
