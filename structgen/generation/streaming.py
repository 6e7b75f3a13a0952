"""stream(): partial objects while tokens arrive, then the validated value."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import from_json

from ..client import LlamaClient
from ..server import default_client
from . import fastforward
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
    text: str
    complete: bool = False
    value: T | None = None


def stream(prompt: PromptInput, output_type: type[T] | Any, *, client: LlamaClient | None = None,
           fast_forward: bool = False, **sampling: Any) -> Iterator[Partial[T]]:
    """Yield progressively more complete partial values as tokens arrive; the last one is validated.

    Partial data is the JSON parsed so far (unfinished strings included). Raises
    :class:`ValidationFailedError` when the finished output does not validate (no re-ask while streaming).
    With ``fast_forward`` a partial comes after each free segment (plain streaming when it cannot run).
    """
    output: Output[T] = Output(output_type)
    client = client or default_client()
    text = render(prompt, client)
    if fast_forward:
        try:
            yield from _fast_forward(text, output, client, sampling)
            return
        except fastforward.FastForwardUnavailable:
            pass
    raw = ""
    last: Any = None
    with client.stream(text, grammar=output.grammar, **_sampling(sampling)) as events:
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


def _fast_forward(text: str, output: Output[T], client: LlamaClient, sampling: dict[str, Any]) -> Iterator[Partial[T]]:
    steps = fastforward.segments(client, output, text, _sampling(sampling))
    last: Any = None
    while True:
        try:
            raw = next(steps)
        except StopIteration as done:
            final = done.value.completion
            break
        try:
            data = from_json(raw, allow_partial="trailing-strings")
        except ValueError:
            continue
        if data != last:
            last = data
            yield Partial(data, raw)
    value, errors = output.parse(final.content)
    if errors:
        attempt = Attempt(text, final.content, final.stop_type, tuple(errors), final)
        raise ValidationFailedError("streamed output did not validate", [attempt], value)
    yield Partial(from_json(final.content), final.content, True, value)
