"""Checks of what callers pass to generation, so a wrong argument fails at once with an
:class:`~structgen.errors.ArgumentError` naming it, instead of being sent or silently ignored."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import inspect
import typing
from collections.abc import Mapping
from typing import Any

import pydantic

from ..client.params import CompletionParams
from ..errors import ArgumentError, UnsatisfiableSchemaError

__all__ = [
    "SAMPLING_NAMES",
    "check_max_retries",
    "check_output_type",
    "check_sampling",
    "check_satisfiable",
    "check_text",
]

SAMPLING_NAMES = frozenset(CompletionParams.__annotations__) - {"grammar", "json_schema"}
"""The sampling options generation passes on to the server (``POST /completion``, as the client knows it)."""


def check_sampling(sampling: Mapping[str, Any]) -> dict[str, Any]:
    """``sampling`` when every name is a known option; ``extra`` (a mapping) carries any other keys."""
    unknown = sorted(set(sampling) - SAMPLING_NAMES - {"extra"})
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, sorted(SAMPLING_NAMES), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ArgumentError(
            f"unknown sampling option {name!r}: {hint}"
            f"pass options the client does not know in extra={{{name!r}: ...}}"
        )
    extra = sampling.get("extra")
    if extra is not None and not isinstance(extra, Mapping):
        raise ArgumentError(f"extra must be a mapping of option names to values, got {type(extra).__name__}")
    return dict(sampling)


def check_satisfiable(output: Any) -> None:
    """:class:`UnsatisfiableSchemaError` when no value satisfies the schema of ``output`` (an ``Output``)."""
    if not output.compiled.satisfiable:
        raise UnsatisfiableSchemaError(UNSATISFIABLE, "")


UNSATISFIABLE = "nothing can satisfy this schema: no JSON value is valid, so nothing can be generated"


def check_max_retries(max_retries: Any) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ArgumentError(f"max_retries must be a whole number, 0 or more; got {max_retries!r}")
    return max_retries


def check_text(text: Any, name: str = "text") -> str:
    if not isinstance(text, str):
        raise ArgumentError(f"{name} must be a string, got {type(text).__name__}")
    return text


def check_output_type(output_type: Any) -> Any:
    """``output_type`` unless it is plainly not a type or a JSON Schema (a function, ``None``, an instance)."""
    if isinstance(output_type, (dict, bool, type)) or typing.get_origin(output_type) is not None:
        return output_type
    if (
        output_type is None
        or inspect.isroutine(output_type)
        or inspect.ismodule(output_type)
        or isinstance(output_type, (str, bytes, int, float, list, tuple, set, enum.Enum, pydantic.BaseModel))
        or (dataclasses.is_dataclass(output_type) and not isinstance(output_type, type))
    ):
        raise ArgumentError(
            f"output type must be a type (a pydantic model, dataclass, Enum, list[int], ...) or a JSON Schema "
            f"dict, got {output_type!r}"
        )
    return output_type
