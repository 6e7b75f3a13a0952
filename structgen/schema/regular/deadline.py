"""The time limit of the compile in progress, checked inside every automaton construction.

:class:`TimeLimitExceeded` is deliberately not a :class:`~structgen.errors.StructgenError`: no
handler for "too large" or "unsupported" may swallow it; the compiler turns it into a refusal.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

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


COMPILE_THRESHOLD = 50_000
"""The cyclic garbage collector's first threshold while a compile runs (Python's default is 700)."""
_compiles = 0
_thresholds = gc.get_threshold()
_lock = threading.Lock()


def enter_compile(deadline: float | None) -> Token[float | None]:
    """Set the deadline of a compile and collect garbage less often until the last compile in
    progress leaves (:func:`leave_compile`). A compile makes many containers that outlive a
    collection (nodes, automata, caches), so frequent collections, whose full passes walk every object
    of the process, would take a third of its time or more."""
    global _compiles, _thresholds
    with _lock:
        if _compiles == 0:
            _thresholds = gc.get_threshold()
            if _thresholds[0]:  # 0: the caller turned automatic collection off
                gc.set_threshold(max(_thresholds[0], COMPILE_THRESHOLD), *_thresholds[1:])
        _compiles += 1
    return DEADLINE.set(deadline)


def leave_compile(token: Token[float | None]) -> None:
    """Undo :func:`enter_compile`."""
    global _compiles
    DEADLINE.reset(token)
    with _lock:
        _compiles -= 1
        if _compiles == 0:
            gc.set_threshold(*_thresholds)
