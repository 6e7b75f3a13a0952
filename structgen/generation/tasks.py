"""Ready-made tasks on top of generate(): extraction and classification."""

from __future__ import annotations

import enum
import typing
from collections.abc import Sequence
from typing import Any, Literal, TypeVar

from ..client import LlamaClient
from ..errors import ArgumentError
from .checks import check_output_type, check_text
from .output import Output, output_options
from .pipeline import generate
from .prompting import chat, labels_instructions, labels_schema, schema_instructions

T = TypeVar("T")


def extract(
    text: str,
    output_type: type[T] | Any,
    *,
    client: LlamaClient | None = None,
    instructions: str | None = None,
    max_retries: int = 2,
    **sampling: Any,
) -> T:
    """Extract a value of ``output_type`` from ``text`` (chat prompt with the schema, grammar-constrained).

    Other options are those of :func:`generate` (``timeout``, ``max_string_length``, sampling...)."""
    check_text(text)
    output: Output[T] = Output(check_output_type(output_type), **output_options(sampling))
    task = instructions or "Extract the requested information from the user's text."
    messages = chat(schema_instructions(output.schema, task), text)
    value: T = generate(messages, output, client=client, max_retries=max_retries, **sampling)
    return value


def _label_values(labels: Sequence[str] | type[enum.Enum] | Any) -> tuple[list[str], Any]:
    """The label strings and a function turning a chosen string back into the caller's label type."""
    if isinstance(labels, type) and issubclass(labels, enum.Enum):
        members = list(labels)
        return [str(m.value) for m in members], lambda s: next(m for m in members if str(m.value) == s)
    if typing.get_origin(labels) is Literal:
        return [str(a) for a in typing.get_args(labels)], lambda s: s
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise ArgumentError(
            f"labels must be a list of strings, an Enum or a Literal, got {labels!r}"
            + (" (split a comma-separated string first)" if isinstance(labels, str) else "")
        )
    values = [str(v) for v in labels]
    if len(values) < 2 or len(set(values)) != len(values):
        raise ArgumentError(f"classify() needs two or more different labels, got {values!r}")
    return values, lambda s: s


def classify(
    text: str,
    labels: Sequence[str] | type[enum.Enum] | Any,
    *,
    multi: bool = False,
    client: LlamaClient | None = None,
    instructions: str | None = None,
    max_retries: int = 2,
    **sampling: Any,
) -> Any:
    """Classify ``text`` into one of ``labels`` (a list, an Enum or a Literal); several with ``multi=True``.

    The grammar only admits the labels, so the answer is always one of them.
    """
    check_text(text)
    values, back = _label_values(labels)
    messages = chat(labels_instructions(values, multi, instructions), text)
    answer = generate(
        messages, labels_schema(values, multi), client=client, max_retries=max_retries, **sampling
    )
    if multi:
        return [back(a) for a in answer]
    return back(answer)
