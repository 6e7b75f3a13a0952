"""Errors of the local llama-server launcher."""

from __future__ import annotations

from pathlib import Path

from structgen.errors import StructgenError

__all__ = [
    "BadServerURLError",
    "LocalServerError",
    "LocalServerNotInstalledError",
    "LocalServerStartError",
    "PortInUseError",
]


class LocalServerError(StructgenError):
    """Base of the errors raised while running a local llama-server."""


class LocalServerNotInstalledError(LocalServerError):
    """The llama-server binary or a model is missing; the message says how to install it."""


class LocalServerStartError(LocalServerError):
    """llama-server exited or did not become ready; ``log_tail`` holds the end of its log."""

    def __init__(self, message: str, *, log_path: Path | None = None, log_tail: str = ""):
        self.log_path = log_path
        self.log_tail = log_tail
        text = message
        if log_path is not None:
            text += f"\nserver log: {log_path}"
        if log_tail:
            text += "\n--- last lines of the log ---\n" + log_tail
        super().__init__(text)


class PortInUseError(LocalServerStartError):
    """The port asked for is taken by another process (found before starting, or because another server
    answered there instead of ours)."""


class BadServerURLError(StructgenError, ValueError):
    """A server URL (an argument or ``$STRUCTGEN_URL``) that is not an absolute http(s) URL."""
