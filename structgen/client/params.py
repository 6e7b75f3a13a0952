"""Request parameters of the native completion API, for both server generations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from structgen.client.transport import Timeout

__all__ = [
    "CompletionParams",
    "InfillParams",
    "Prompt",
    "RequestOptions",
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
    """Sampling temperature; 0 always takes the most likely token (server default 0.8)."""
    dynatemp_range: float
    """Dynamic temperature: the temperature varies by up to this much with the entropy (0: off)."""
    dynatemp_exponent: float
    """Dynamic temperature: the exponent of its scaling with the entropy."""
    top_k: int
    """Keep only the k most likely tokens (0: all)."""
    top_p: float
    """Keep the most likely tokens until their probabilities add up to p (1.0: off)."""
    min_p: float
    """Drop tokens less likely than ``min_p`` times the most likely one (0: off)."""
    top_n_sigma: float
    """Keep tokens whose logit is within n standard deviations of the top one (-1: off)."""
    n_predict: int
    """The most tokens to generate (-1: until end of sequence or a full context)."""
    n_indent: int
    """The least indentation, in spaces, of generated lines (code infill)."""
    n_keep: int
    """Prompt tokens kept when a full context is shifted (-1: all)."""
    n_discard: int
    """Tokens after ``n_keep`` dropped when a full context is shifted (0: half)."""
    n_cache_reuse: int
    """The smallest chunk of the cache reused by shifting it (0: off)."""
    n_probs: int
    """Return the probabilities of the n most likely tokens at each position (0: none)."""
    min_keep: int
    """The fewest tokens each sampler keeps (0: no minimum)."""
    stop: Sequence[str]
    """Strings that end generation; the matched string is not part of ``content``."""
    tfs_z: float
    """Tail-free sampling parameter z (older servers; 1.0: off)."""
    typical_p: float
    """Locally typical sampling parameter p (1.0: off)."""
    repeat_penalty: float
    """Penalty on tokens seen in the last ``repeat_last_n`` (1.0: off)."""
    repeat_last_n: int
    """How many recent tokens the repetition penalties look at (0: off, -1: the context)."""
    penalize_nl: bool
    """Apply the repetition penalty to newline tokens too (older servers)."""
    presence_penalty: float
    """Subtracted from the logit of every token already generated (0: off)."""
    frequency_penalty: float
    """Subtracted from a token's logit once per time it was generated (0: off)."""
    dry_multiplier: float
    """DRY (don't repeat yourself) penalty strength (0: off)."""
    dry_base: float
    """DRY: the base of the penalty's growth with the length of the repetition."""
    dry_allowed_length: int
    """DRY: repetitions up to this many tokens are not penalised."""
    dry_penalty_last_n: int
    """DRY: how many recent tokens are scanned (-1: the context)."""
    dry_sequence_breakers: Sequence[str]
    """DRY: strings that end a repeated sequence (newline, colon, quote, asterisk by default)."""
    xtc_probability: float
    """XTC (exclude top choices): the chance of removing the top tokens at a step (0: off)."""
    xtc_threshold: float
    """XTC: tokens above this probability may be removed (above 0.5: off)."""
    mirostat: int
    """Mirostat sampling: 0 off, 1 Mirostat, 2 Mirostat 2.0."""
    mirostat_tau: float
    """Mirostat: the target entropy."""
    mirostat_eta: float
    """Mirostat: the learning rate."""
    grammar: str
    """A GBNF grammar the output must follow."""
    json_schema: Mapping[str, Any] | bool
    """A JSON Schema the server converts to a grammar itself (structgen sends ``grammar``)."""
    seed: int
    """The sampler's random seed (-1: a random one)."""
    ignore_eos: bool
    """Keep generating past the end-of-sequence token."""
    logit_bias: Sequence[Sequence[Any]] | Mapping[str, float | bool]
    """Token likelihood changes: ``[[token, bias], ...]`` or ``{"text": bias}``; ``false`` bans."""
    image_data: Sequence[Mapping[str, Any]]
    """Images for a multimodal model, ``[{"data": base64, "id": n}]``, cited as ``[img-n]``."""
    slot: int
    """The slot to use, sent as both ``id_slot`` and ``slot_id`` (-1: an idle one)."""
    id_slot: int
    """The slot, as current servers name it (prefer ``slot``)."""
    slot_id: int
    """The slot, as older servers name it (prefer ``slot``)."""
    cache_prompt: bool
    """Reuse the slot's cached prefix of the prompt (structgen sends true unless told)."""
    system_prompt: str | Mapping[str, Any]
    """A prompt shared by every slot (older servers only)."""
    samplers: Sequence[str]
    """The samplers in the order applied, e.g. ``["top_k", "top_p", "temperature"]``."""
    return_tokens: bool
    """Also return the generated token ids (``tokens``)."""
    post_sampling_probs: bool
    """Report the ``n_probs`` probabilities after the sampler chain, not before it."""
    timings_per_token: bool
    """Send timings with every streamed chunk."""
    t_max_predict_ms: int
    """Stop after this many ms of generation once a newline was written (0: no limit)."""
    response_fields: Sequence[str]
    """Return only these fields of the answer (``a/b`` reaches into objects)."""
    lora: Sequence[Mapping[str, Any]]
    """LoRA adapter scales for this request: ``[{"id": n, "scale": s}]``."""


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


class RequestOptions(CompletionParams, total=False):
    """The options of a completion request: those of ``POST /completion``, other body keys and the timeout."""

    extra: Mapping[str, Any] | None
    """Further body keys, sent unchanged."""
    timeout: Timeout
    """Replaces the client's timeout for this request."""


class InfillParams(CompletionParams, total=False):
    """The options of ``POST /infill``: those of ``/completion`` and the infill request's own."""

    input_extra: Sequence[Mapping[str, str]] | None
    """Extra context as ``{"filename": ..., "text": ...}`` chunks."""
    prompt: str | None
    """Text added after the fill-in-the-middle tokens."""
    extra: Mapping[str, Any] | None
    """Further body keys, sent unchanged."""


def infill_body(prefix: str, suffix: str, params: Mapping[str, Any], *, stream: bool) -> dict[str, Any]:
    """The JSON body for ``/infill``: prefix, suffix, optional extra context chunks and completion options
    (``params`` as :class:`InfillParams`)."""
    options = dict(params)
    input_extra = options.pop("input_extra", None)
    body = completion_body(
        options.pop("prompt", None), options, stream=stream, extra=options.pop("extra", None)
    )
    body["input_prefix"] = prefix
    body["input_suffix"] = suffix
    if input_extra is not None:
        body["input_extra"] = [dict(chunk) for chunk in input_extra]
    return body
