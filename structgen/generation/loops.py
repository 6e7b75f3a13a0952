"""Repetition loops in generated JSON: a stretch of text written again and again, and the field it is in."""

from __future__ import annotations

import json
from dataclasses import dataclass

# A loop starts after one of these (a unit reads best from the start of a word, item or value).
_BOUNDARY = ' ,:[{\n\t"'


@dataclass(frozen=True)
class Loop:
    """A repetition found in the output: ``unit`` written ``repeats`` times in a row at ``pointer``."""

    pointer: str
    """JSON pointer of the innermost value holding the whole repetition (``""``: the root)."""
    unit: str
    """The text that repeats (one period of it)."""
    repeats: int
    """How many times ``unit`` was written in a row (the last one may be unfinished)."""
    start: int
    """Offset in the output where the repetition starts."""

    def __str__(self) -> str:
        unit = self.unit if len(self.unit) <= 60 else self.unit[:57] + "..."
        return f"{self.pointer or '/'}: {json.dumps(unit, ensure_ascii=False)} repeated {self.repeats} times"


@dataclass(frozen=True)
class LoopDetector:
    """Finds a loop at the end of a text: its last ``min_span`` or more characters (and at least
    ``min_repeats`` periods) repeat one unit of at most ``max_period`` characters.

    Called after each streamed piece, it sees a loop as soon as it is that long, wherever it is.
    """

    min_span: int = 64
    """Characters a repetition must cover before it counts as a loop."""
    min_repeats: int = 2
    """Periods a repetition must cover before it counts as a loop (for long units: a whole item written
    twice in a row)."""
    max_period: int = 200
    """The longest unit looked for, in characters."""

    def find(self, text: str) -> Loop | None:
        """The loop ``text`` ends with, or None."""
        n = len(text)
        for period in range(1, min(self.max_period, n // 2) + 1):
            span = max(self.min_span, self.min_repeats * period)
            if span > n or text[-1] != text[-1 - period]:
                continue
            if text[n - span + period :] != text[n - span : n - period]:
                continue
            start = n - span
            while start > 0 and text[start - 1] == text[start - 1 + period]:
                start -= 1
            return _describe(text, start, period)
        return None


def _describe(text: str, start: int, period: int) -> Loop:
    starts = range(start, start + period)
    first = next(
        (at for at in starts if text[at] in "{["),
        next(
            (at for at in starts if at > 0 and text[at - 1] in _BOUNDARY and text[at] not in _BOUNDARY), start
        ),
    )
    unit = text[first : first + period]
    repeats = (len(text) - start) // period
    outer, inner = path_at(text[: first + 1]), path_at(text)
    common = []
    for a, b in zip(outer, inner):
        if a != b:
            break
        common.append(a)
    return Loop(pointer(common), unit, max(repeats, 1), first)


def path_at(text: str) -> list[str | int]:
    """The path (keys and indexes) of the value being written at the end of a partial JSON text."""
    frames: list[list[object]] = []  # [kind, key or index, expecting a key]
    in_string = escape = False
    piece: list[str] = []
    for ch in text:
        if not in_string:
            if ch == '"':
                in_string, piece = True, []
            else:
                _structure(frames, ch)
        elif escape:
            escape = False
            piece.append(ch)
        elif ch == '"':
            in_string = False
            if frames and frames[-1][0] == "{" and frames[-1][2]:
                frames[-1][1] = _unescape("".join(piece))
        else:
            escape = ch == "\\"
            piece.append(ch)
    path: list[str | int] = []
    for kind, key, expecting_key in frames:
        if kind == "{" and (expecting_key or key is None):
            break
        path.append(key)  # type: ignore[arg-type]
    return path


def _structure(frames: list[list[object]], ch: str) -> None:
    """Follow one character outside strings: open and close containers, keys, values and items."""
    if ch == "{":
        frames.append(["{", None, True])
    elif ch == "[":
        frames.append(["[", 0, False])
    elif not frames:
        return
    elif ch in "}]":
        frames.pop()
    elif ch == ":":
        frames[-1][2] = False
    elif ch == "," and frames[-1][0] == "{":
        frames[-1][2] = True
    elif ch == ",":
        frames[-1][1] = int(frames[-1][1]) + 1  # type: ignore[call-overload]


def _unescape(raw: str) -> str:
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


def pointer(path: list[str | int]) -> str:
    """The JSON pointer of a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
