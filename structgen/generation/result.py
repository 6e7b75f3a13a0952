"""What one generation did: its attempts and the typed value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from ..client import Completion, StopType
from .loops import Loop

T = TypeVar("T")


class Reason(str, Enum):
    """How an attempt ended."""

    VALID = "valid"
    """The output validated."""
    INVALID = "invalid"
    """The output was complete but failed validation."""
    CUT_OFF = "cut_off"
    """The output hit ``n_predict`` (or the context) without repeating itself."""
    LOOP = "loop"
    """The output repeated itself; it was stopped early (see :attr:`Attempt.loop`)."""
    TIMED_OUT = "timed_out"
    """The call's time budget ran out during this attempt; it was cancelled."""
    TRIMMED = "trimmed"
    """The last attempt wrote the same items of an array again (see :attr:`Attempt.loop`); its items
    before the repetition (``loop.items``), with the JSON closed after them, validated and are the value."""


@dataclass(frozen=True)
class Attempt:
    """One request: the prompt sent, the raw text back, why it stopped and what was wrong with it."""

    prompt: str
    """The prompt as sent, after the chat template (with the errors of the previous try, on a re-ask)."""
    raw: str
    """The text the model wrote."""
    stop_type: StopType
    """Why generation stopped."""
    errors: tuple[str, ...]
    """What was wrong with ``raw`` (empty when it parsed and validated)."""
    completion: Completion | None = None
    """The server's whole answer (``None`` when there was none)."""
    reason: Reason | None = None
    """How the attempt ended (derived from ``errors`` and ``stop_type`` when not given)."""
    loop: Loop | None = None
    """The repetition that stopped this attempt, if one did."""
    seconds: float = 0.0
    """Wall time of the request."""
    pieces: int = 0
    """Streamed pieces received (about one per token), for attempts stopped before the server's summary."""
    segments: int = 1
    """Requests this attempt sent (fast-forward: one per free segment)."""
    forced_tokens: int = 0
    """Answer tokens the client wrote itself (fast-forward), without the model decoding them."""
    restriction: str | None = None
    """A bound this attempt's grammar added to the call's own, and why (after a loop of whole items of
    an array, at most the items written before the loop); None when there was none."""

    def __post_init__(self) -> None:
        if self.reason is None:
            derived = Reason.VALID if not self.errors else Reason.INVALID
            if self.errors and self.stop_type is StopType.LIMIT:
                derived = Reason.CUT_OFF
            object.__setattr__(self, "reason", derived)

    @property
    def ok(self) -> bool:
        """True when the attempt parsed and validated."""
        return not self.errors

    @property
    def tokens_predicted(self) -> int:
        """Tokens generated (counted from the stream when the attempt was stopped early)."""
        return self.completion.tokens_predicted if self.completion else self.pieces


@dataclass(frozen=True)
class Result(Generic[T]):
    """A validated value with the metadata of how it was obtained."""

    value: T
    """The validated value, of the type asked for."""
    attempts: tuple[Attempt, ...]
    """Every request made, in order; the last one gave ``value``."""
    fast_forward_skipped: str | None = None
    """Why fast-forward was asked for but plain generation ran (None when it ran or was not asked)."""

    @property
    def last(self) -> Attempt:
        """The attempt that gave ``value``."""
        return self.attempts[-1]

    @property
    def raw(self) -> str:
        """The text of the last attempt."""
        return self.last.raw

    @property
    def stop_type(self) -> StopType:
        """Why the last attempt stopped."""
        return self.last.stop_type

    @property
    def tokens_predicted(self) -> int:
        """Tokens generated, over all attempts."""
        return sum(a.tokens_predicted for a in self.attempts)

    @property
    def tokens_evaluated(self) -> int:
        """Prompt tokens, over all attempts."""
        return sum(a.completion.tokens_evaluated for a in self.attempts if a.completion)

    @property
    def timings(self) -> Any:
        """The server's timings of the last attempt (``None`` when it sent none)."""
        return self.last.completion.timings if self.last.completion else None
