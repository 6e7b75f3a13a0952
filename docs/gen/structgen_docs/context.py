"""Where the repository is, and how generators report problems (warnings fail ``mkdocs build --strict``)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.structgen_docs")

ROOT = Path(__file__).resolve().parents[3]


class DirectiveError(Exception):
    """A directive cannot be expanded (unknown name, bad argument, missing file)."""


def warn(message: str) -> None:
    """Report a problem in generated content; strict builds stop on it."""
    log.warning("structgen docs: %s", message)
