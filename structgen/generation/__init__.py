"""Typed generation: ask a llama.cpp-style server for Python objects and get valid ones back."""

from .decorator import StructuredFunction, fn
from .errors import (
    GenerationError,
    GenerationTimeoutError,
    OutputTruncatedError,
    RepetitionLoopError,
    ValidationFailedError,
)
from .loops import Loop, LoopDetector
from .output import Output
from .pipeline import generate, generate_result
from .result import Attempt, Reason, Result
from .streaming import Partial, stream
from .tasks import classify, extract

__all__ = [
    "Attempt",
    "GenerationError",
    "GenerationTimeoutError",
    "Loop",
    "LoopDetector",
    "Output",
    "OutputTruncatedError",
    "Partial",
    "Reason",
    "RepetitionLoopError",
    "Result",
    "StructuredFunction",
    "ValidationFailedError",
    "classify",
    "extract",
    "fn",
    "generate",
    "generate_result",
    "stream",
]
