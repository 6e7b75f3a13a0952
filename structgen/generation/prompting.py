"""Prompts: chat messages rendered with the server's own template, and re-asks that carry the errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..client import ClientError, LlamaClient
from .loops import Loop

Message = Mapping[str, Any]
PromptInput = str | Sequence[Message]

_templates: dict[str, bool] = {}
_lock = threading.Lock()


def _fallback(messages: Sequence[Message]) -> str:
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


def render(prompt: PromptInput, client: LlamaClient, deadline: float | None = None) -> str:
    """The text to send: a string as is; messages through the server's chat template (``/apply-template``).

    Servers without that endpoint (older versions) get a ChatML rendering; which one a server needs is
    remembered per server URL. With a ``deadline`` (``time.monotonic()``), the request waits no longer.
    """
    if isinstance(prompt, str):
        return prompt
    messages = [dict(m) for m in prompt]
    with _lock:
        supported = _templates.get(client.base_url, True)
    if supported:
        try:
            if deadline is None:
                return client.apply_template(messages)
            return client.apply_template(messages, timeout=max(deadline - time.monotonic(), 0.001))
        except ClientError as exc:
            if getattr(exc, "status", None) not in (404, 405, 501):
                raise
            with _lock:
                _templates[client.base_url] = False
    return _fallback(messages)


def with_feedback(prompt: PromptInput, raw: str, errors: Sequence[str]) -> PromptInput:
    """The next attempt's prompt: the previous output and a short list of what was wrong with it."""
    problems = "\n".join(f"- {e}" for e in errors[:8])
    note = (
        f"Your previous answer was invalid.\nPrevious answer:\n{raw}\nProblems:\n{problems}\n"
        "Answer again with corrected JSON only."
    )
    if isinstance(prompt, str):
        return f"{prompt}{raw}\n\n{note}\n"
    return [*prompt, {"role": "assistant", "content": raw}, {"role": "user", "content": note}]


def with_loop_feedback(prompt: PromptInput, loop: Loop) -> PromptInput:
    """The next attempt's prompt after a loop: what repeated and where (the looping text is not repeated)."""
    unit = loop.unit.strip() or loop.unit
    where = f"the field {loop.pointer}" if loop.pointer else "the answer"
    note = (
        f"Your previous answer got stuck in {where}, writing {json.dumps(unit, ensure_ascii=False)} "
        f"over and over ({loop.repeats} times). Write each value once, keep it short, and finish the JSON."
    )
    if isinstance(prompt, str):
        return f"{prompt}\n\n{note}\n"
    return [*prompt, {"role": "user", "content": note}]


def describe_schema(schema: Any) -> str:
    """A compact JSON rendering of a schema for prompts."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def schema_instructions(schema: Any, task: str) -> str:
    """The system message asking for JSON valid for ``schema``, after ``task`` (what to do)."""
    return f"{task} Reply with JSON that follows this JSON Schema: {describe_schema(schema)}"


def labels_schema(labels: Sequence[str], multi: bool) -> dict[str, Any]:
    """The JSON Schema of one of ``labels``, or with ``multi`` of a non-empty list of different ones."""
    one: dict[str, Any] = {"enum": list(labels)}
    return {"type": "array", "items": one, "uniqueItems": True, "minItems": 1} if multi else one


def labels_instructions(labels: Sequence[str], multi: bool, task: str | None = None) -> str:
    """The system message asking to choose among ``labels`` (``task`` replaces the default request)."""
    if task is None:
        task = (
            "Choose every label that applies to the text."
            if multi
            else "Choose the one label that best fits the text."
        )
    return f"{task} Labels: {', '.join(labels)}. Reply with JSON only."


def chat(system: str | None, user: str) -> list[dict[str, Any]]:
    """Chat messages: the ``system`` message (when there is one), then ``user``."""
    return [*([{"role": "system", "content": system}] if system else []), {"role": "user", "content": user}]
