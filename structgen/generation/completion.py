"""The completion step for a grammar of the caller's own: one request with generation's defaults, the
prompt rendered as generation renders it, and a cut-off answer refused as generation refuses it."""

from __future__ import annotations

from typing import Any

from ..client import Completion, LlamaClient, StopType
from .errors import OutputTruncatedError
from .pipeline import DEFAULT_N_PREDICT
from .prompting import PromptInput, render
from .result import Attempt

__all__ = ["complete"]


def complete(
    client: LlamaClient,
    prompt: PromptInput,
    grammar: str,
    *,
    timeout: float | None = None,
    **sampling: Any,
) -> Completion:
    """The text ``grammar`` allows after ``prompt`` (messages go through the server's chat template).

    ``temperature`` defaults to 0 and ``n_predict`` to generation's default; ``timeout`` bounds each
    wait on the server. An answer cut off by ``n_predict`` (or the context) raises
    :class:`OutputTruncatedError` holding the one attempt."""
    params = {"temperature": 0.0, "n_predict": DEFAULT_N_PREDICT, **sampling}
    if timeout is not None:
        params["timeout"] = timeout
    text = render(prompt, client)
    completion = client.completion(text, grammar=grammar, **params)
    if completion.stop_type is StopType.LIMIT or completion.truncated:
        error = f"output cut off by n_predict ({completion.tokens_predicted} tokens)"
        attempt = Attempt(text, completion.content, completion.stop_type, (error,), completion)
        raise OutputTruncatedError(f"output cut off after {completion.tokens_predicted} tokens", [attempt])
    return completion
