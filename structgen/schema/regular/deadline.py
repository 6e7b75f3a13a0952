"""The time limit of the compile in progress, checked inside every automaton construction.

:class:`TimeLimitExceeded` is deliberately not a :class:`~structgen.errors.StructgenError`: no
handler for "too large" or "unsupported" may swallow it; the compiler turns it into a refusal.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

DEADLINE: ContextVar[float | None] = ContextVar("structgen_schema_deadline", default=None)
"""When the compile in progress must give up (``time.monotonic()`` seconds); None: never."""


class TimeLimitExceeded(Exception):
    """The compile in progress ran past its deadline."""


def check_time() -> None:
    """Raise :class:`TimeLimitExceeded` once the deadline of the compile in progress is past."""
    deadline = DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TimeLimitExceeded()


@contextmanager
def untimed() -> Iterator[None]:
    """Suspend the deadline: for work whose result is kept for the whole process (format languages),
    a fixed cost that says nothing about the schema being compiled."""
    token = DEADLINE.set(None)
    try:
        yield
    finally:
        DEADLINE.reset(token)
