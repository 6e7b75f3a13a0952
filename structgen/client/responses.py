"""Typed responses that read both server generations.

Older servers (the "llama-like" hosted API) answer with ``slot_id`` and ``stopped_eos`` /
``stopped_word`` / ``stopped_limit``; current llama-server answers with ``id_slot`` and
``stop_type``. Both are normalised here: ``Completion.slot_id`` and ``Completion.stop_type``
are always set, and ``stopped_eos`` & co. are derived properties.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

from structgen.client.errors import ResponseFormatError

_ModelT = TypeVar("_ModelT", bound=BaseModel)

__all__ = [
    "Completion",
    "HealthStatus",
    "ServerProps",
    "StopType",
    "StreamDelta",
    "Timings",
    "TokenCandidate",
    "TokenPiece",
    "TokenProbability",
    "parse_model",
]


class StopType(str, Enum):
    """Why generation stopped."""

    NONE = "none"
    """Not stopped (a partial, streamed chunk)."""
    EOS = "eos"
    """The model produced its end-of-sequence token."""
    LIMIT = "limit"
    """``n_predict`` tokens were generated (or the context was full)."""
    WORD = "word"
    """One of the ``stop`` strings was produced."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Timings(_Model):
    """Timing and token counts of one completion; ``cache_n`` exists on current servers only."""

    model_config = ConfigDict(extra="allow", frozen=True)

    prompt_n: int | None = None
    """Prompt tokens actually evaluated (the part not found in the cache)."""
    prompt_ms: float | None = None
    """Milliseconds spent evaluating the prompt."""
    prompt_per_token_ms: float | None = None
    """Milliseconds per evaluated prompt token."""
    prompt_per_second: float | None = None
    """Prompt tokens evaluated per second."""
    predicted_n: int | None = None
    """Tokens generated."""
    predicted_ms: float | None = None
    """Milliseconds spent generating."""
    predicted_per_token_ms: float | None = None
    """Milliseconds per generated token."""
    predicted_per_second: float | None = None
    """Tokens generated per second."""
    cache_n: int | None = None
    """Prompt tokens reused from the cache (current servers)."""


class TokenCandidate(_Model):
    """One candidate token with its probability (``prob``) or log-probability (``logprob``)."""

    token: str = ""
    """The token's text."""
    id: int | None = None
    """The token id (current servers)."""
    logprob: float | None = None
    """The natural log of its probability (current servers)."""
    prob: float | None = None
    """Its probability (older servers, or ``post_sampling_probs``)."""
    bytes: list[int] | None = None
    """The token's UTF-8 bytes (current servers)."""

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and "token" not in data and "tok_str" in data:
            data = {**data, "token": data["tok_str"]}
        return data


class TokenProbability(TokenCandidate):
    """A generated token and the most likely candidates at its position."""

    top: list[TokenCandidate] = Field(default_factory=list)
    """The most likely candidates at this position, most likely first."""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        if "token" not in out and "content" in out:  # older servers: {"content", "probs": [...]}
            out["token"] = out["content"]
        for key in ("top_logprobs", "top_probs", "probs"):
            if key in out and "top" not in out:
                out["top"] = out[key]
        if "prob" not in out and "logprob" not in out:
            # older servers only list candidates; the generated token's own probability is its entry
            for cand in out.get("top") or []:
                if isinstance(cand, dict) and cand.get("tok_str", cand.get("token")) == out.get("token"):
                    out["prob"] = cand.get("prob")
                    break
        return out


def _stop_type(data: dict[str, Any]) -> StopType:
    value = data.get("stop_type")
    if isinstance(value, str) and value in StopType._value2member_map_:
        return StopType(value)
    if data.get("stopped_word"):
        return StopType.WORD
    if data.get("stopped_eos"):
        return StopType.EOS
    if data.get("stopped_limit"):
        return StopType.LIMIT
    return StopType.NONE


class Completion(_Model):
    """The final result of a completion or infill (also the summary closing a stream)."""

    content: str = ""
    """The generated text (the stop string excluded)."""
    tokens: list[int] = Field(default_factory=list)
    """The generated token ids, when ``return_tokens`` was set."""
    slot_id: int = Field(-1, validation_alias=AliasChoices("id_slot", "slot_id"))
    """The slot that served the request; pass it back as ``slot`` to reuse its cache."""
    stop: bool = True
    """True on the final answer (false on streamed chunks)."""
    stop_type: StopType = StopType.NONE
    """Why generation stopped (``eos``, ``limit``, ``word``; ``none`` while streaming)."""
    stopping_word: str = ""
    """The ``stop`` string that ended generation (empty otherwise)."""
    model: str = ""
    """The model's name or path, as the server reports it."""
    prompt: Any = None
    """The prompt as the server saw it (text or token ids)."""
    tokens_predicted: int = 0
    """Tokens generated."""
    tokens_evaluated: int = 0
    """Prompt tokens of the request (current servers count the whole prompt, cached or not)."""
    tokens_cached: int = 0
    """Tokens held by the slot's cache after this request (prompt plus generated)."""
    truncated: bool = False
    """True when the context was full and the prompt or output was cut."""
    has_new_line: bool = False
    """True when the output contains a newline (used by ``t_max_predict_ms``)."""
    timings: Timings | None = None
    """Timing and token counts, when the server sends them."""
    generation_settings: dict[str, Any] = Field(default_factory=dict)
    """The sampling settings the server actually used."""
    completion_probabilities: list[TokenProbability] = Field(default_factory=list)
    """Per generated token, the candidates and probabilities (with ``n_probs``)."""
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)
    """The response exactly as the server sent it."""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        missing = {"stopping_word": "", "raw": data, "tokens": []}
        filled = {key: value for key, value in missing.items() if data.get(key) is None}
        return {**data, **filled, "stop_type": _stop_type(data)}

    @property
    def stopped_eos(self) -> bool:
        """Generation ended on the end-of-sequence token."""
        return self.stop_type is StopType.EOS

    @property
    def stopped_word(self) -> bool:
        """Generation ended on one of the ``stop`` strings (see ``stopping_word``)."""
        return self.stop_type is StopType.WORD

    @property
    def stopped_limit(self) -> bool:
        """Generation ended because ``n_predict`` tokens were produced."""
        return self.stop_type is StopType.LIMIT

    @property
    def prompt_tokens_processed(self) -> int:
        """Prompt tokens the server had to evaluate for this request (fewer when its prefix was cached)."""
        if self.timings is not None and self.timings.prompt_n is not None:
            return self.timings.prompt_n
        return self.tokens_evaluated

    @property
    def prompt_tokens_reused(self) -> int | None:
        """Prompt tokens taken from the cache, or ``None`` when the server does not say."""
        if self.timings is None:
            return None
        if self.timings.cache_n is not None:
            return self.timings.cache_n
        if self.timings.prompt_n is not None and self.tokens_evaluated:
            return max(self.tokens_evaluated - self.timings.prompt_n, 0)
        return None


class StreamDelta(_Model):
    """One streamed piece of text (usually one token)."""

    content: str = ""
    """The new text."""
    tokens: list[int] = Field(default_factory=list)
    """The new token ids, when ``return_tokens`` was set."""
    slot_id: int = Field(-1, validation_alias=AliasChoices("id_slot", "slot_id"))
    """The slot that serves the request."""
    completion_probabilities: list[TokenProbability] = Field(default_factory=list)
    """Candidates and probabilities of the new tokens (with ``n_probs``)."""

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("tokens") is None:
            return {**data, "tokens": []}
        return data


class TokenPiece(_Model):
    """A token id with its text; ``piece`` is bytes when the token is not valid UTF-8 on its own."""

    id: int
    """The token id."""
    piece: str | bytes
    """Its text (bytes when not valid UTF-8 on its own)."""

    @model_validator(mode="before")
    @classmethod
    def _bytes(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("piece"), list):
            return {**data, "piece": bytes(data["piece"])}
        return data


class HealthStatus(_Model):
    """The answer of ``GET /health``; ``ok`` is true when the server takes requests."""

    ok: bool
    """True when the server takes requests."""
    status: str
    """The server's word for its state: ``ok``, ``loading model``, ``error``, ``no slot available``."""
    http_status: int
    """The HTTP status of the answer (200 ok, 503 loading or busy)."""
    slots_idle: int | None = None
    """Idle slots, when the server reports them (older servers)."""
    slots_processing: int | None = None
    """Busy slots, when the server reports them (older servers)."""


class ServerProps(_Model):
    """Global properties of the server (``GET /props``); fields an older server lacks stay empty."""

    model_config = ConfigDict(extra="allow", frozen=True, protected_namespaces=())

    total_slots: int | None = None
    """How many requests the server runs at once (``--parallel``)."""
    model_path: str | None = None
    """The path of the loaded model file."""
    chat_template: str | None = None
    """The model's chat template (Jinja)."""
    build_info: str | None = None
    """llama.cpp's build number and commit."""
    default_generation_settings: dict[str, Any] = Field(default_factory=dict)
    """The settings a request gets unless it says otherwise (``n_ctx`` among them)."""
    modalities: dict[str, Any] = Field(default_factory=dict)
    """What the model takes besides text, e.g. ``{"vision": true}``."""
    assistant_name: str | None = None
    """The assistant's name in the prompt (older servers)."""
    user_name: str | None = None
    """The user's name in the prompt (older servers)."""

    @property
    def n_ctx(self) -> int | None:
        """The context size of one slot, when the server reports it."""
        settings = self.default_generation_settings
        value = settings.get("n_ctx")
        return value if isinstance(value, int) else None


def parse_model(model: type[_ModelT], data: Any, url: str | None = None) -> _ModelT:
    """Validate ``data`` as ``model``; a mismatch becomes :class:`ResponseFormatError`."""
    if not isinstance(data, dict):
        raise ResponseFormatError(
            f"expected a JSON object for {model.__name__}, got {type(data).__name__}",
            url=url,
            body=repr(data)[:500],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise ResponseFormatError(
            f"unexpected {model.__name__} response: {where}: {first['msg']}", url=url, body=repr(data)[:500]
        ) from None
