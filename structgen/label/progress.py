"""Progress of a run: a bar with rate and ETA on a terminal (tqdm), plain periodic lines elsewhere."""

from __future__ import annotations

import logging
import sys
import time
from typing import IO, Any, Literal

from tqdm import tqdm

__all__ = ["Progress", "ProgressMode", "choose_mode"]

ProgressMode = Literal["auto", "bar", "lines", "off"]

log = logging.getLogger("structgen.label")


def choose_mode(mode: ProgressMode | bool, stream: IO[str]) -> Literal["bar", "lines", "off"]:
    """``auto``: a bar when ``stream`` is a terminal, else lines; ``True`` is ``auto``, ``False`` is ``off``."""
    if mode is True or mode == "auto":
        isatty = getattr(stream, "isatty", None)
        return "bar" if isatty is not None and isatty() else "lines"
    if mode is False:
        return "off"
    return mode


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Counts finished records; ``note`` prints a message without breaking the bar (and logs it)."""

    def __init__(
        self,
        total: int,
        mode: ProgressMode | bool = "auto",
        stream: IO[str] | None = None,
        *,
        interval: float = 10.0,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.mode = choose_mode(mode, self.stream)
        self.total = total
        self.done = 0
        self.failed = 0
        self.interval = interval
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar: tqdm[Any] | None = None
        if self.mode == "bar":
            self._bar = tqdm(
                total=total, unit="rec", file=self.stream, dynamic_ncols=True, desc="label", smoothing=0.1
            )

    def advance(self, *, failed: bool = False) -> None:
        self.done += 1
        self.failed += failed
        if self._bar is not None:
            self._bar.update(1)
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
        self.tick()

    def tick(self) -> None:
        """Print a line if ``interval`` seconds passed since the last one (lines mode)."""
        if self.mode == "lines" and time.monotonic() - self._last_line >= self.interval:
            self._line()

    def line(self) -> str:
        """The progress as one line of text."""
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        percent = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        eta = (
            f", ETA {_clock((self.total - self.done) / rate)}" if rate > 0 and self.total >= self.done else ""
        )
        return (
            f"label: {self.done}/{self.total}{percent} done, {self.failed} failed, "
            f"{rate:.2f} rec/s, elapsed {_clock(elapsed)}{eta}"
        )

    def _line(self) -> None:
        self._last_line = time.monotonic()
        self.stream.write(self.line() + "\n")
        self.stream.flush()

    def note(self, message: str) -> None:
        log.log(logging.WARNING if self.mode == "off" else logging.INFO, "%s", message)
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        elif self.mode == "lines":
            self.stream.write(message + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self.done:
            self._line()
