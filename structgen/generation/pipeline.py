"""generate(): compile the type, send the grammar, parse, validate, and re-ask with the errors."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from ..client import Completion, LlamaClient, StopType
from ..server import default_client
from . import fastforward
from .errors import OutputTruncatedError, ValidationFailedError
from .output import Output
from .prompting import PromptInput, render, with_feedback
from .result import Attempt, Result

T = TypeVar("T")

DEFAULT_N_PREDICT = 512
MAX_N_PREDICT = 4096


def _sampling(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    out.setdefault("temperature", 0.0)
    out.setdefault("n_predict", DEFAULT_N_PREDICT)
    return out


def generate_result(
    prompt: PromptInput,
    output_type: type[T] | Any,
    *,
    client: LlamaClient | None = None,
    max_retries: int = 2,
    fast_forward: bool = False,
    **sampling: Any,
) -> Result[T]:
    """Like :func:`generate`, returning the value with every attempt's metadata (raw text, stop reason, tokens)."""
    output: Output[T] = output_type if isinstance(output_type, Output) else Output(output_type)
    client = client or default_client()
    params = _sampling(sampling)
    attempts: list[Attempt] = []
    current = prompt
    last_value: Any = None
    truncated_only = True
    skipped: str | None = None
    for _ in range(max_retries + 1):
        text = render(current, client)
        completion, shape, reason = _complete(client, output, text, params, fast_forward and skipped is None)
        skipped = skipped or reason
        raw = completion.content
        if completion.stop_type is StopType.LIMIT or completion.truncated:
            attempts.append(Attempt(text, raw, completion.stop_type, ("output cut off by n_predict",), completion,
                                    *shape))
            params["n_predict"] = min(MAX_N_PREDICT, int(params["n_predict"]) * 2)
            continue
        value, errors = output.parse(raw)
        attempts.append(Attempt(text, raw, completion.stop_type, tuple(errors), completion, *shape))
        if not errors:
            return Result(value, tuple(attempts), skipped if fast_forward else None)  # type: ignore[arg-type]
        truncated_only = False
        if value is not None:
            last_value = value
        current = with_feedback(prompt, raw, errors)
    if truncated_only:
        raise OutputTruncatedError(f"output cut off in all {len(attempts)} attempts", attempts)
    raise ValidationFailedError(f"no valid output after {len(attempts)} attempts", attempts, last_value)


def _complete(
    client: LlamaClient, output: Output[Any], text: str, params: dict[str, Any], fast_forward: bool
) -> tuple[Completion, tuple[int, int], str | None]:
    """One attempt's completion, its (segments, forced tokens), and why fast-forward was skipped."""
    skipped = None
    if fast_forward:
        try:
            done = fastforward.complete(client, output, text, params)
            return done.completion, (done.segments, done.forced_tokens), None
        except fastforward.FastForwardUnavailable as exc:
            skipped = str(exc)
    return client.completion(text, grammar=output.grammar, **params), (1, 0), skipped


@overload
def generate(prompt: PromptInput, output_type: type[T], *, client: LlamaClient | None = ...,
             max_retries: int = ..., fast_forward: bool = ..., **sampling: Any) -> T: ...
@overload
def generate(prompt: PromptInput, output_type: Any, *, client: LlamaClient | None = ...,
             max_retries: int = ..., fast_forward: bool = ..., **sampling: Any) -> Any: ...
def generate(
    prompt: PromptInput,
    output_type: Any,
    *,
    client: LlamaClient | None = None,
    max_retries: int = 2,
    fast_forward: bool = False,
    **sampling: Any,
) -> Any:
    """Ask the server for a value of ``output_type`` (a type or a JSON Schema) and return it validated.

    ``prompt`` is a string (sent as is) or chat messages (rendered with the server's template).
    ``max_retries`` counts re-asks after the first attempt; ``sampling`` goes to ``/completion``
    (``temperature`` defaults to 0, ``n_predict`` to 512). Raises :class:`ValidationFailedError` or
    :class:`OutputTruncatedError` with every attempt when no valid value comes back.
    ``fast_forward=True`` writes the text the grammar forces (keys, brackets) without the model and asks
    it only for the values, one request per free segment (see :mod:`structgen.generation.fastforward`).
    """
    return generate_result(
        prompt, output_type, client=client, max_retries=max_retries, fast_forward=fast_forward, **sampling
    ).value
