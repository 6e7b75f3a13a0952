"""JSON-lines output that a crash cannot corrupt.

Each line is written whole with one ``write`` on an ``O_APPEND`` descriptor, so after the call returns
the line is in the kernel and survives ``kill -9`` of the process; ``fsync`` (by default at most once a
second, and on close) makes it survive a power cut too. A line cut short by a crash of the machine, or
by ``kill -9`` in the middle of its ``write`` (the call never returned, so the record is not counted as
written), is removed by :func:`read_done` before a resumed run appends to the file.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from structgen.client._compat import Self
from structgen.label.sources import RecordId

__all__ = ["DoneIds", "JsonlWriter", "MemorySink", "Sink", "encode_line", "read_done"]


class Sink(Protocol):
    """Where result or error lines go."""

    def write(self, entry: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


def encode_line(entry: Mapping[str, Any]) -> bytes:
    """One JSON line (UTF-8, newline-terminated; JSON escapes keep newlines out of the middle)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8") + b"\n"


class JsonlWriter:
    """Appends JSON lines to ``path`` from any thread.

    ``truncate`` empties an existing file when it is first opened; ``lazy`` opens (and creates) it
    only with the first line. ``fsync_every`` is the most seconds between two ``fsync`` calls (0:
    after every line, ``None``: only on close).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        truncate: bool = False,
        lazy: bool = False,
        fsync_every: float | None = 1.0,
    ):
        self.path = Path(path)
        self.lines = 0
        self._truncate = truncate
        self._fsync_every = fsync_every
        self._fd: int | None = None
        self._last_sync = time.monotonic()
        self._dirty = False
        self._lock = threading.Lock()
        if not lazy:
            self._open()

    def _open(self) -> int:
        if self._fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
            if self._truncate:
                flags |= os.O_TRUNC
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, flags, 0o644)
        return self._fd

    def write(self, entry: Mapping[str, Any]) -> None:
        """Append ``entry`` as one whole line."""
        data = memoryview(encode_line(entry))
        with self._lock:
            fd = self._open()
            while data:  # a regular file takes it all at once; the loop only guards against a short write
                written = os.write(fd, data)
                data = data[written:]
            self.lines += 1
            self._dirty = True
            now = time.monotonic()
            if self._fsync_every is not None and now - self._last_sync >= self._fsync_every:
                os.fsync(fd)
                self._last_sync, self._dirty = now, False

    def close(self) -> None:
        """Sync and close (safe to call twice)."""
        with self._lock:
            if self._fd is not None:
                try:
                    if self._dirty:
                        os.fsync(self._fd)
                finally:
                    os.close(self._fd)
                    self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class MemorySink:
    """Keeps the lines as dicts (for runs without an output file)."""

    entries: list[dict[str, Any]] = field(default_factory=list)

    def write(self, entry: Mapping[str, Any]) -> None:
        self.entries.append(dict(entry))

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class DoneIds:
    """What an existing output file holds: the ids done, and what was repaired or ignored."""

    ids: frozenset[RecordId]
    truncated_bytes: int = 0
    """Bytes of an unfinished last line that were cut off."""
    ignored: tuple[str, ...] = ()
    """Lines that are not result lines (each ``line N: reason``)."""


def read_done(path: str | os.PathLike[str]) -> DoneIds:
    """The ids already in a result file; an unfinished last line is cut off the file first."""
    p = Path(path)
    if not p.exists():
        return DoneIds(frozenset())
    ids: set[RecordId] = set()
    ignored: list[str] = []
    offset = 0
    cut: int | None = None
    with open(p, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.endswith(b"\n"):
                cut = offset
                break
            offset += len(raw)
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw)
            except ValueError:
                ignored.append(f"line {number}: not JSON")
                continue
            record_id = entry.get("id") if isinstance(entry, dict) else None
            if isinstance(record_id, (str, int)) and not isinstance(record_id, bool):
                ids.add(record_id)
            else:
                ignored.append(f"line {number}: no record id")
    truncated = 0
    if cut is not None:
        truncated = p.stat().st_size - cut
        os.truncate(p, cut)
    return DoneIds(frozenset(ids), truncated, tuple(ignored))
