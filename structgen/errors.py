"""The exception hierarchy: every error structgen raises derives from :class:`StructgenError`.

Each layer adds its own subclasses next to its code (``structgen.client.errors`` for HTTP);
this module holds the base and the errors of the language and compiler layers.
"""

from __future__ import annotations

from dataclasses import dataclass


class StructgenError(Exception):
    """Base class of every error raised by structgen."""


@dataclass(frozen=True)
class Location:
    """A place in a source text: 1-based line and column (in code points), 0-based offset."""

    line: int
    column: int
    offset: int = 0
    file: str | None = None

    def __str__(self) -> str:
        return f"{self.file or '<grammar>'}:{self.line}:{self.column}"


class GrammarError(StructgenError, ValueError):
    """A GBNF grammar text that cannot be parsed or that llama.cpp would refuse."""

    def __init__(self, message: str, location: Location | None = None, source_line: str | None = None):
        self.message = message
        self.location = location
        self.source_line = source_line
        super().__init__(self._render())

    def _render(self) -> str:
        if self.location is None:
            return self.message
        text = f"{self.location}: error: {self.message}"
        if self.source_line is not None:
            caret = " " * (self.location.column - 1) + "^"
            text += f"\n{self.source_line}\n{caret}"
        return text


class SchemaError(StructgenError, ValueError):
    """A schema or type that cannot be compiled; ``pointer`` is a JSON pointer into the schema."""

    def __init__(self, message: str, pointer: str = "", keyword: str | None = None):
        self.message = message
        self.pointer = pointer
        self.keyword = keyword
        where = pointer or "/"
        super().__init__(f"{where}: {message}")


class InvalidSchemaError(SchemaError):
    """The schema is not valid JSON Schema (bad JSON, metaschema violation, unknown or cyclic $ref)."""


class UnsupportedSchemaError(SchemaError):
    """Nothing sensible can be emitted for ``keyword`` at ``pointer`` (or ``strict=True`` refused it)."""


class ArgumentError(StructgenError, TypeError, ValueError):
    """An argument of the wrong type or value passed to the Python API; the message names it."""


class UnsatisfiableSchemaError(SchemaError):
    """No JSON value satisfies the schema (``false``, or contradicting keywords), so nothing can be generated."""


EXIT_OK = 0
"""Exit status of a command that did all it was asked (``match``: the text matches)."""
EXIT_FAIL = 1
"""Exit status when problems were found or some work failed (records, rows, a schema that cannot compile)."""
EXIT_USAGE = 2
"""Exit status when the command could not start: bad arguments, an unreadable file, no server."""
EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (or SIGTERM); finished work is kept."""
