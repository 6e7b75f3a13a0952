"""stream(): partial objects while tokens arrive, then the validated value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import from_json

from ..client import LlamaClient
from ..server import default_client
from .checks import check_output_type, check_satisfiable
from .errors import ValidationFailedError
from .output import Output
from .pipeline import _sampling
from .prompting import PromptInput, render
from .result import Attempt

T = TypeVar("T")


@dataclass(frozen=True)
class Partial(Generic[T]):
    """One step of a stream: ``data`` parsed from the text so far; on the last step ``value`` is set."""

    data: Any
    """The JSON parsed from the text so far (unfinished strings included)."""
    text: str
    """The text generated so far."""
    complete: bool = False
    """True on the last step, once the whole output validated."""
    value: T | None = None
    """The validated value, on the last step (``None`` before)."""


def stream(prompt: PromptInput, output_type: type[T] | Any, *, client: LlamaClient | None = None,
           **sampling: Any) -> Iterator[Partial[T]]:
    """Yield progressively more complete partial values as tokens arrive; the last one is validated.

    Partial data is the JSON parsed so far (unfinished strings included). Raises
    :class:`ValidationFailedError` when the finished output does not validate (no re-ask while streaming).
    """
    output: Output[T] = Output(check_output_type(output_type))
    check_satisfiable(output)
    params = _sampling(sampling)
    client = client or default_client()
    text = render(prompt, client)
    raw = ""
    last: Any = None
    with client.stream(text, grammar=output.grammar, **params) as events:
        for delta in events:
            if not delta.content:
                continue
            raw += delta.content
            try:
                data = from_json(raw, allow_partial="trailing-strings")
            except ValueError:
                continue
            if data != last:
                last = data
                yield Partial(data, raw)
        final = events.final
    value, errors = output.parse(raw)
    if errors:
        attempt = Attempt(text, raw, final.stop_type, tuple(errors), final)
        raise ValidationFailedError("streamed output did not validate", [attempt], value)
    yield Partial(last, raw, True, value)
