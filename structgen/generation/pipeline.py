"""generate(): compile the type, send the grammar, parse, validate, and re-ask with the errors.

Every attempt is streamed: a repetition loop is seen while it is written and the request is closed
(the server cancels it), and the call's time budget cuts the attempt running when it ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, TypeVar, overload

from ..client import ClientError, ClientTimeoutError, Completion, CompletionStream, LlamaClient, StopType
from ..server import shared_client
from . import fastforward
from .checks import check_max_retries, check_output_type, check_sampling, check_satisfiable
from .errors import (
    GenerationError,
    GenerationTimeoutError,
    OutputTruncatedError,
    RepetitionLoopError,
    ValidationFailedError,
)
from .loops import Loop, LoopDetector, trimmed
from .output import MAX_ITEMS, MAX_STRING_LENGTH, Output
from .prompting import PromptInput, render, with_feedback, with_loop_feedback
from .result import Attempt, Reason, Result

T = TypeVar("T")

DEFAULT_N_PREDICT = 512
MAX_N_PREDICT = 4096
DEFAULT_TIMEOUT = 60.0
"""Seconds a call may take by default, retries included."""
CONNECT_TIMEOUT = 5.0
LOOP_BREAKING: Mapping[str, Any] = {
    "temperature": 0.3,
    "dry_multiplier": 0.8,
    "dry_base": 1.75,
    "dry_allowed_length": 4,
    "dry_penalty_last_n": 64,
    "seed": 1,
}
"""Sampling of a re-ask after a loop: the DRY sampler over the recent tokens and a little temperature.
The caller's own settings win, except that the temperature is at least this one (first attempts stay
as the caller asked, greedy by default). No repeat penalty: extraction copies from the prompt, and
penalties on the prompt's tokens push a small model into garbage."""

AttemptRun = Generator[str, None, tuple[Attempt, Any]]


def _sampling(params: Mapping[str, Any]) -> dict[str, Any]:
    out = check_sampling(params)
    out.setdefault("temperature", 0.0)
    out.setdefault("n_predict", DEFAULT_N_PREDICT)
    return out


def _loop_breaking(params: Mapping[str, Any], chosen: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key, value in LOOP_BREAKING.items():
        if key == "temperature":
            out[key] = max(float(out.get(key) or 0.0), value)
        elif key not in chosen:
            out[key] = value
    return out


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if timeout <= 0:
        raise ValueError(f"timeout must be positive (seconds), got {timeout}")
    return time.monotonic() + timeout


def run_attempt(
    client: LlamaClient,
    text: str,
    output: Output[Any],
    params: Mapping[str, Any],
    deadline: float | None,
    detector: LoopDetector | None = None,
) -> AttemptRun:
    """One streamed request: yields the text so far after each piece, returns the attempt and its value.

    Stops (closing the connection, so the server cancels the request) at a loop or at the deadline.
    """
    detector = detector or LoopDetector()
    started = time.monotonic()
    request: dict[str, Any] = dict(params)
    options: dict[str, Any] = {}
    if deadline is not None:
        remaining = max(deadline - started, 0.001)
        request["t_max_predict_ms"] = max(1, int(remaining * 1000))
        options["timeout"] = (min(CONNECT_TIMEOUT, remaining), remaining)
    raw, pieces, loop, final, timed_out = "", 0, None, None, False
    try:
        stream = client.stream(text, grammar=output.grammar, **options, **request)
    except ClientTimeoutError:
        if deadline is None:
            raise
        stream, timed_out = None, True
    if stream is not None:
        fired = threading.Event()
        watchdog = _watchdog(stream, deadline, fired)
        try:
            with stream:
                for delta in stream:
                    if not delta.content:
                        continue
                    raw += delta.content
                    pieces += 1
                    yield raw
                    loop = detector.find(raw)
                    if loop is not None:
                        break
                else:
                    final = stream.final
        except ClientError:
            if not (fired.is_set() or (deadline is not None and time.monotonic() >= deadline)):
                raise
            timed_out = True
        finally:
            if watchdog is not None:
                watchdog.cancel()
    ended = None if timed_out else (loop or final)
    return outcome(text, raw, output, ended, seconds=time.monotonic() - started, pieces=pieces)


def _watchdog(
    stream: CompletionStream, deadline: float | None, fired: threading.Event
) -> threading.Timer | None:
    """A started timer that aborts ``stream`` at ``deadline`` (setting ``fired``); None without one."""
    if deadline is None:
        return None

    def give_up() -> None:
        fired.set()
        stream.abort()

    watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), give_up)
    watchdog.daemon = True
    watchdog.start()
    return watchdog


def outcome(
    text: str, raw: str, output: Output[Any], ended: Loop | Completion | None, **shape: Any
) -> tuple[Attempt, Any]:
    """The attempt that ``ended`` with a loop, with the server's answer, or (None) when time ran out,
    and its value."""
    if ended is None:
        error = f"the time budget ran out after {shape['seconds']:.1f} s; the request was cancelled"
        return Attempt(text, raw, StopType.NONE, (error,), None, Reason.TIMED_OUT, **shape), None
    if isinstance(ended, Loop):
        error = f"{ended}: the output repeated itself, so it was stopped"
        return Attempt(text, raw, StopType.NONE, (error,), None, Reason.LOOP, ended, **shape), None
    if ended.stop_type is StopType.LIMIT or ended.truncated:
        error = f"output cut off by n_predict ({ended.tokens_predicted} tokens)"
        return Attempt(text, raw, ended.stop_type, (error,), ended, Reason.CUT_OFF, **shape), None
    value, errors = output.parse(raw)
    reason = Reason.INVALID if errors else Reason.VALID
    return Attempt(text, raw, ended.stop_type, tuple(errors), ended, reason, **shape), value


def fewer_items(output: Output[T], loop: Loop, restriction: str | None) -> tuple[Output[T], str | None]:
    """After a loop of whole items of an array: ``output`` with at most the items written before the
    loop's second period in every array (each item once), and the restriction that says so."""
    options = output.compiled.options
    bound = options.get("max_items")
    if loop.items is None or loop.varying or (bound is not None and bound <= loop.items):
        return output, restriction  # items that differ in their numbers may be real data: never fewer
    narrowed: Output[T] = Output(
        output.output_type,
        whitespace=options["whitespace"],
        max_string_length=options.get("max_string_length"),
        max_items=loop.items,
    )
    return narrowed, f"maxItems: at most {loop.items} items in each array, after a loop in {loop.pointer}"


def kept_items(
    attempt: Attempt, value: Any, output: Output[T], restriction: str | None, last_chance: bool
) -> tuple[Attempt, Any]:
    """The attempt with the ``restriction`` it ran under, and its value. On the ``last_chance``, an
    attempt stopped at a loop of whole items of an array gives its items before the repetition,
    closed, when they validate (:attr:`Reason.TRIMMED`)."""
    if restriction is not None:
        attempt = replace(attempt, restriction=restriction)
    text = trimmed(attempt.raw, attempt.loop) if last_chance and attempt.loop is not None else None
    if text is None:
        return attempt, value
    kept, errors = output.parse(text)
    if errors:
        return attempt, value
    return replace(attempt, errors=(), reason=Reason.TRIMMED), kept


def finish(run: AttemptRun) -> tuple[Attempt, Any]:
    """Run an attempt to its end without looking at the pieces."""
    return fastforward.complete(run)


def failure(
    attempts: list[Attempt], timeout: float | None, last_value: Any = None, out_of_time: bool = False
) -> GenerationError:
    """The error for a call whose attempts gave no valid value: a time-out when the budget ended it,
    else what the last attempt did."""
    loops = [a.loop for a in attempts if a.loop is not None]
    seen = f"; it repeated itself ({loops[-1]})" if loops else ""
    n = len(attempts)
    if out_of_time or not attempts or attempts[-1].reason is Reason.TIMED_OUT:
        message = f"no valid output within the time budget of {timeout or 0:g} s ({n} attempts{seen})"
        return GenerationTimeoutError(message, attempts, last_value)
    last = attempts[-1]
    if last.reason is Reason.LOOP:
        message = f"the output repeated itself in {len(loops)} of {n} attempts; last: {last.loop}"
        return RepetitionLoopError(message, attempts, last_value)
    if all(a.reason in (Reason.CUT_OFF, Reason.LOOP) for a in attempts):
        return OutputTruncatedError(f"output cut off in all {n} attempts{seen}", attempts, last_value)
    return ValidationFailedError(f"no valid output after {n} attempts{seen}", attempts, last_value)


def generate_result(
    prompt: PromptInput,
    output_type: type[T] | Any,
    *,
    client: LlamaClient | None = None,
    max_retries: int = 2,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_string_length: int | None = MAX_STRING_LENGTH,
    max_items: int | None = MAX_ITEMS,
    fast_forward: bool = False,
    **sampling: Any,
) -> Result[T]:
    """Like :func:`generate`, returning the value with every attempt's metadata (raw text, stop reason, tokens)."""
    output: Output[T] = (
        output_type
        if isinstance(output_type, Output)
        else Output(check_output_type(output_type), max_string_length=max_string_length, max_items=max_items)
    )
    check_max_retries(max_retries)
    check_satisfiable(output)
    deadline = _deadline(timeout)
    client = client or shared_client()
    params = _sampling(sampling)
    attempts: list[Attempt] = []
    current = prompt
    last_value: Any = None
    skipped: str | None = None
    restriction: str | None = None
    for number in range(max_retries + 1):
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            text = render(current, client, deadline)
        except ClientTimeoutError:
            if deadline is None or time.monotonic() < deadline:
                raise
            break
        attempt: Attempt | None = None
        value: Any = None
        if fast_forward and skipped is None:
            try:
                attempt, value = finish(fast_forward_attempt(client, text, output, params, deadline))
            except fastforward.FastForwardUnavailable as exc:
                skipped = str(exc)
        if attempt is None:
            attempt, value = finish(run_attempt(client, text, output, params, deadline))
        last_chance = number == max_retries or (deadline is not None and time.monotonic() >= deadline)
        attempt, value = kept_items(attempt, value, output, restriction, last_chance)
        attempts.append(attempt)
        if attempt.reason in (Reason.VALID, Reason.TRIMMED):
            return Result(value, tuple(attempts), skipped if fast_forward else None)
        if attempt.reason is Reason.TIMED_OUT:
            break
        if attempt.loop is not None:
            current = with_loop_feedback(prompt, attempt.loop)
            params = _loop_breaking(params, sampling)
            if number + 1 == max_retries:  # the last retry: each item once (earlier ones stay free)
                output, restriction = fewer_items(output, attempt.loop, restriction)
        elif attempt.reason is Reason.CUT_OFF:
            params["n_predict"] = min(MAX_N_PREDICT, int(params["n_predict"]) * 2)
        else:
            if value is not None:
                last_value = value
            current = with_feedback(prompt, attempt.raw, attempt.errors)
    out_of_time = deadline is not None and time.monotonic() >= deadline and len(attempts) <= max_retries
    raise failure(attempts, timeout, last_value, out_of_time)


def fast_forward_attempt(
    client: LlamaClient,
    text: str,
    output: Output[Any],
    params: Mapping[str, Any],
    deadline: float | None,
) -> AttemptRun:
    """One attempt by fast-forward (see :mod:`structgen.generation.fastforward`): yields the answer so far
    after each segment, returns the attempt and its value; stops at a loop or at the deadline like
    :func:`run_attempt`. Raises :class:`fastforward.FastForwardUnavailable` when it cannot run."""
    started = time.monotonic()
    request: dict[str, Any] = dict(params)
    if deadline is not None:
        remaining = max(deadline - started, 0.001)
        request["t_max_predict_ms"] = max(1, int(remaining * 1000))
        request["timeout"] = (min(CONNECT_TIMEOUT, remaining), remaining)
    detector = LoopDetector()
    steps = fastforward.segments(client, output, text, request)
    raw, loop, done = "", None, None
    try:
        while True:
            try:
                raw = next(steps)
            except StopIteration as stop:
                done = stop.value
                break
            yield raw
            loop = detector.find(raw)
            if loop is not None or (deadline is not None and time.monotonic() >= deadline):
                steps.close()
                break
    except ClientError:
        if deadline is None or time.monotonic() < deadline:
            raise
    seconds = time.monotonic() - started
    if done is None or loop is not None:
        return outcome(text, raw, output, loop, seconds=seconds)
    shape = {"seconds": seconds, "segments": done.segments, "forced_tokens": done.forced_tokens}
    return outcome(text, done.completion.content, output, done.completion, **shape)


@overload
def generate(
    prompt: PromptInput,
    output_type: type[T],
    *,
    client: LlamaClient | None = ...,
    max_retries: int = ...,
    timeout: float | None = ...,
    fast_forward: bool = ...,
    **sampling: Any,
) -> T: ...
@overload
def generate(
    prompt: PromptInput,
    output_type: Any,
    *,
    client: LlamaClient | None = ...,
    max_retries: int = ...,
    timeout: float | None = ...,
    fast_forward: bool = ...,
    **sampling: Any,
) -> Any: ...
def generate(
    prompt: PromptInput,
    output_type: Any,
    *,
    client: LlamaClient | None = None,
    max_retries: int = 2,
    timeout: float | None = DEFAULT_TIMEOUT,
    fast_forward: bool = False,
    **sampling: Any,
) -> Any:
    """Ask the server for a value of ``output_type`` (a type or a JSON Schema) and return it validated.

    ``prompt`` is a string (sent as is) or chat messages (rendered with the server's template).
    ``max_retries`` counts re-asks after the first attempt; ``sampling`` goes to ``/completion``
    (``temperature`` defaults to 0, ``n_predict`` to 512). An output that repeats itself is stopped
    early and re-asked with loop-breaking sampling (:data:`LOOP_BREAKING`). The whole call, retries
    included, ends within ``timeout`` seconds (None: no limit); the server is told, and a request given
    up is cancelled. ``max_string_length``/``max_items`` bound free strings and arrays (see
    :class:`Output`). ``fast_forward=True`` writes the text the grammar forces (keys, brackets) without
    the model and asks it only for the values, one request per free segment (see
    :mod:`structgen.generation.fastforward`). Raises :class:`ValidationFailedError`,
    :class:`OutputTruncatedError`, :class:`RepetitionLoopError` or :class:`GenerationTimeoutError`,
    each with every attempt.
    """
    return generate_result(
        prompt,
        output_type,
        client=client,
        max_retries=max_retries,
        timeout=timeout,
        fast_forward=fast_forward,
        **sampling,
    ).value
