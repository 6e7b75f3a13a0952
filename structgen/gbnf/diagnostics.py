"""Diagnostics: located errors and warnings about a grammar, rendered as ``file:line:col: level: message``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..errors import GrammarError, Location
from .ast import Span
from .source import Source


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One finding: ``code`` is a stable short name (``undefined-rule``, ``left-recursion``, ...)."""

    severity: Severity
    code: str
    message: str
    location: Location
    source_line: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, color: bool = False) -> str:
        level = self.severity.value
        if color:
            level = ("\x1b[1;31m" if self.is_error else "\x1b[1;33m") + level + "\x1b[0m"
        text = f"{self.location}: {level}: {self.message} [{self.code}]"
        if self.source_line:
            text += f"\n{self.source_line}\n{' ' * (self.location.column - 1)}^"
        return text

    def to_error(self) -> GrammarError:
        return GrammarError(f"{self.message} [{self.code}]", self.location, self.source_line or None)


def at(source: Source, span: Span | None, severity: Severity, code: str, message: str) -> Diagnostic:
    """A diagnostic at ``span`` (the start of the text when None)."""
    loc = source.location(span.start if span is not None else 0)
    return Diagnostic(severity, code, message, loc, source.line_text(loc.line))
