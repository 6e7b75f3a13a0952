"""Where the repository is, and how generators report problems (warnings fail ``mkdocs build --strict``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.structgen_docs")

ROOT = Path(__file__).resolve().parents[3]

_captured: list[list[str]] = []


class DirectiveError(Exception):
    """A directive cannot be expanded (unknown name, bad argument, missing file)."""


def warn(message: str) -> None:
    """Report a problem in generated content; strict builds stop on it."""
    for sink in _captured:
        sink.append(message)
    log.warning("structgen docs: %s", message)


@contextmanager
def capture() -> Iterator[list[str]]:
    """Collect the warnings issued inside the block (they are still logged)."""
    sink: list[str] = []
    _captured.append(sink)
    try:
        yield sink
    finally:
        _captured.remove(sink)
