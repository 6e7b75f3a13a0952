"""stream(): partial objects while tokens arrive, then the validated value."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic_core import from_json

from ..client import ClientTimeoutError, LlamaClient
from ..server import shared_client
from .checks import check_output_type, check_satisfiable
from .fastforward import FastForwardUnavailable
from .output import Output, output_options
from .pipeline import (
    DEFAULT_TIMEOUT,
    AttemptRun,
    _deadline,
    _sampling,
    failure,
    fast_forward_attempt,
    run_attempt,
)
from .prompting import PromptInput, render
from .result import Attempt, Reason

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


def stream(
    prompt: PromptInput,
    output_type: type[T] | Any,
    *,
    client: LlamaClient | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    fast_forward: bool = False,
    **sampling: Any,
) -> Iterator[Partial[T]]:
    """Yield progressively more complete partial values as tokens arrive; the last one is validated.

    Partial data is the JSON parsed so far (unfinished strings included). Raises
    :class:`ValidationFailedError` when the finished output does not validate (no re-ask while streaming),
    :class:`OutputTruncatedError` when ``n_predict`` cuts it off, :class:`RepetitionLoopError` when it
    repeats itself and :class:`GenerationTimeoutError` when it is not done within ``timeout`` seconds
    (the request is cancelled in the last two cases). With ``fast_forward`` a partial comes after each
    free segment (plain streaming when fast-forward cannot run).
    """
    output: Output[T] = Output(check_output_type(output_type), **output_options(sampling))
    check_satisfiable(output)
    params = _sampling(sampling)
    deadline = _deadline(timeout)
    client = client or shared_client()
    try:
        text = render(prompt, client, deadline)
    except ClientTimeoutError:
        if deadline is None or time.monotonic() < deadline:
            raise
        raise failure([], timeout, out_of_time=True) from None
    seen: list[Any] = [None]
    done: tuple[Attempt, Any] | None = None
    if fast_forward:
        try:
            done = yield from _partials(fast_forward_attempt(client, text, output, params, deadline), seen)
        except FastForwardUnavailable:
            pass
    if done is None:
        done = yield from _partials(run_attempt(client, text, output, params, deadline), seen)
    attempt, value = done
    if attempt.reason is not Reason.VALID:
        raise failure([attempt], timeout, value)
    yield Partial(seen[0], attempt.raw, True, value)


def _partials(run: AttemptRun, seen: list[Any]) -> Generator[Partial[Any], None, tuple[Attempt, Any]]:
    """Follow an attempt, yielding a partial whenever the data parsed so far changes (kept in ``seen[0]``)."""
    while True:
        try:
            raw = next(run)
        except StopIteration as stop:
            result: tuple[Attempt, Any] = stop.value
            return result
        try:
            data = from_json(raw, allow_partial="trailing-strings")
        except ValueError:
            continue
        if data != seen[0]:
            seen[0] = data
            yield Partial(data, raw)
