"""Request parameters of the native completion API, for both server generations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

__all__ = [
    "CompletionParams",
    "Prompt",
    "completion_body",
    "infill_body",
]

Prompt = str | Sequence[int | str]
"""A prompt: text, token ids, or a mix of both (``[12, 34, "text", 56]``)."""


class CompletionParams(TypedDict, total=False):
    """Every documented option of ``POST /completion``, old and new server alike.

    ``slot`` selects the server slot and is sent as both ``id_slot`` (current servers) and
    ``slot_id`` (older servers); ``-1`` lets the server pick an idle one. Options a server
    does not know are ignored by it, so old and new names can be sent together.
    """

    temperature: float
    dynatemp_range: float
    dynatemp_exponent: float
    top_k: int
    top_p: float
    min_p: float
    top_n_sigma: float
    n_predict: int
    n_indent: int
    n_keep: int
    n_discard: int
    n_cache_reuse: int
    n_probs: int
    min_keep: int
    stop: Sequence[str]
    tfs_z: float
    typical_p: float
    repeat_penalty: float
    repeat_last_n: int
    penalize_nl: bool
    presence_penalty: float
    frequency_penalty: float
    dry_multiplier: float
    dry_base: float
    dry_allowed_length: int
    dry_penalty_last_n: int
    dry_sequence_breakers: Sequence[str]
    xtc_probability: float
    xtc_threshold: float
    mirostat: int
    mirostat_tau: float
    mirostat_eta: float
    grammar: str
    json_schema: Mapping[str, Any] | bool
    seed: int
    ignore_eos: bool
    logit_bias: Sequence[Sequence[Any]] | Mapping[str, float | bool]
    image_data: Sequence[Mapping[str, Any]]
    slot: int
    id_slot: int
    slot_id: int
    cache_prompt: bool
    system_prompt: str | Mapping[str, Any]
    samplers: Sequence[str]
    return_tokens: bool
    post_sampling_probs: bool
    timings_per_token: bool
    t_max_predict_ms: int
    response_fields: Sequence[str]
    lora: Sequence[Mapping[str, Any]]


def _slot(params: Mapping[str, Any]) -> Any:
    for key in ("slot", "id_slot", "slot_id"):
        if params.get(key) is not None:
            return params[key]
    return None


def completion_body(
    prompt: Prompt | None, params: Mapping[str, Any], *, stream: bool, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body for ``/completion``: options with value ``None`` are dropped, ``slot`` is sent
    under both names, ``cache_prompt`` defaults to true and ``extra`` keys pass through unchanged."""
    body: dict[str, Any] = {}
    if prompt is not None:
        body["prompt"] = prompt if isinstance(prompt, str) else list(prompt)
    for key, value in params.items():
        if value is not None and key not in ("slot", "id_slot", "slot_id"):
            body[key] = value
    if extra:
        body.update(extra)
    slot = _slot(params)
    if slot is not None:
        body["id_slot"] = body["slot_id"] = slot
    body.setdefault("cache_prompt", True)
    body["stream"] = stream
    return body


def infill_body(
    prefix: str,
    suffix: str,
    params: Mapping[str, Any],
    *,
    stream: bool,
    input_extra: Sequence[Mapping[str, str]] | None = None,
    prompt: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body for ``/infill``: prefix, suffix, optional extra context chunks and completion options."""
    body = completion_body(prompt, params, stream=stream, extra=extra)
    body["input_prefix"] = prefix
    body["input_suffix"] = suffix
    if input_extra is not None:
        body["input_extra"] = [dict(chunk) for chunk in input_extra]
    return body
