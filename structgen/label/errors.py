"""Errors of data labeling; each is raised before the first request, so no work is lost."""

from __future__ import annotations

from structgen.errors import StructgenError

__all__ = ["InputError", "LabelError", "OutputSpecError", "TemplateError"]


class LabelError(StructgenError):
    """A labeling run cannot start (bad input, template, output type, output file or servers)."""


class InputError(LabelError):
    """The input cannot be read at all (missing file, unknown format, a CSV header that is unusable)."""


class TemplateError(LabelError):
    """The prompt template is malformed or names a field the data lacks (``field`` says which)."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class OutputSpecError(LabelError):
    """The output type cannot be loaded: a bad ``module:Type``, schema file, label list or grammar file."""
