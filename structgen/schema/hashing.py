"""A hash computed once per frozen dataclass instance (nodes and automata are deep and hashed often)."""

from __future__ import annotations

from typing import TypeVar

_T = TypeVar("_T")


def cached_hash(cls: type[_T]) -> type[_T]:
    """Cache the dataclass hash of a frozen class's instances (apply after ``@dataclass``)."""
    compute = cls.__hash__

    def __hash__(self: object) -> int:
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = compute(self)
            object.__setattr__(self, "_hash", cached)
        return cached

    cls.__hash__ = __hash__  # type: ignore[method-assign]
    return cls
