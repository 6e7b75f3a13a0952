"""What one generation did: its attempts and the typed value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..client import Completion, StopType

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """One request: the prompt sent, the raw text back, why it stopped and what was wrong with it."""

    prompt: str
    raw: str
    stop_type: StopType
    errors: tuple[str, ...]
    completion: Completion | None = None
    segments: int = 1
    """Requests this attempt sent (fast-forward: one per free segment)."""
    forced_tokens: int = 0
    """Answer tokens the client wrote itself (fast-forward), without the model decoding them."""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Result(Generic[T]):
    """A validated value with the metadata of how it was obtained."""

    value: T
    attempts: tuple[Attempt, ...]
    fast_forward_skipped: str | None = None
    """Why fast-forward was asked for but plain generation ran (None when it ran or was not asked)."""

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]

    @property
    def raw(self) -> str:
        return self.last.raw

    @property
    def stop_type(self) -> StopType:
        return self.last.stop_type

    @property
    def tokens_predicted(self) -> int:
        return sum(a.completion.tokens_predicted for a in self.attempts if a.completion)

    @property
    def tokens_evaluated(self) -> int:
        return sum(a.completion.tokens_evaluated for a in self.attempts if a.completion)

    @property
    def timings(self) -> Any:
        return self.last.completion.timings if self.last.completion else None
