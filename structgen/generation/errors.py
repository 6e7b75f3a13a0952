"""Errors of typed generation: each carries every attempt made."""

from __future__ import annotations

from typing import Any

from ..errors import StructgenError
from .result import Attempt


class GenerationError(StructgenError):
    """Generation did not give a valid object; ``attempts`` holds every try (raw text, errors)."""

    def __init__(
        self, message: str, attempts: list[Attempt] | tuple[Attempt, ...] = (), last_value: Any = None
    ):
        self.attempts = tuple(attempts)
        self.last_value = last_value
        detail = ""
        if self.attempts and self.attempts[-1].errors:
            detail = "; last errors: " + "; ".join(self.attempts[-1].errors[:5])
        super().__init__(message + detail)

    @property
    def partial(self) -> str:
        """The raw output of the last attempt (what was written before it stopped)."""
        return self.attempts[-1].raw if self.attempts else ""


class ValidationFailedError(GenerationError):
    """Every attempt gave output that failed validation (JSON, schema or the type's own validators)."""


class OutputTruncatedError(GenerationError):
    """The output was cut off by ``n_predict`` (or the context) and retries ran out."""


class RepetitionLoopError(OutputTruncatedError):
    """The output kept repeating itself (each attempt's ``loop`` says where and what); retries ran out."""


class GenerationTimeoutError(GenerationError, TimeoutError):
    """The call's time budget ran out; ``attempts`` holds every try, the last one's partial output included."""
