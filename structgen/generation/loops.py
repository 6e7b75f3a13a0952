"""Repetition loops in generated JSON: a stretch of text written again and again, and the field it is in."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise

# A loop starts after one of these (a unit reads best from the start of a word, item or value).
_BOUNDARY = ' ,:[{\n\t"'
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
# Object items that differ in their numbers only: written this many times in a row, with a value
# holding a word (lists of points or readings are not loops), every number counting on by a fixed step.
_VARYING_REPEATS = 4
_TEXT_VALUE = re.compile(r':\s*"[^"]*[A-Za-z]')
_NUMBER_CHARS = "0123456789.-+eE"


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
    items: int | None = None
    """When the repetition is of whole items of the array at ``pointer``: the items written before its
    second period (those before it and one period), else None."""
    varying: bool = False
    """True when the periods differ in their numbers only (object items of an array)."""

    def __str__(self) -> str:
        unit = self.unit if len(self.unit) <= 60 else self.unit[:57] + "..."
        again = "with other numbers " if self.varying else ""
        return f"{self.pointer or '/'}: {json.dumps(unit, ensure_ascii=False)} repeated {again}{self.repeats} times"


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
        """The loop ``text`` ends with, or None.

        Object items of an array that differ in their numbers only (the same product with another
        quantity, again and again) are a loop too, once three of them are written in a row."""
        found = self._periodic(text, self.min_repeats)
        if found is not None:
            start, period = found
            first = _unit_start(text, start, period)
            return _describe(text, first, first + period, (len(text) - start) // period)
        return self._varying(text)

    def _periodic(self, text: str, min_repeats: int) -> tuple[int, int] | None:
        """(start, period) of the repetition ``text`` ends with, or None."""
        n = len(text)
        for period in range(1, min(self.max_period, n // 2) + 1):
            span = max(self.min_span, min_repeats * period)
            if span > n or text[-1] != text[-1 - period]:
                continue
            if text[n - span + period :] != text[n - span : n - period]:
                continue
            start = n - span
            while start > 0 and text[start - 1] == text[start - 1 + period]:
                start -= 1
            return start, period
        return None

    def _varying(self, text: str) -> Loop | None:
        if not text.rstrip(" \n\t,").endswith("}"):
            return None  # looked for when an item ends: it can only begin to repeat there
        if _NUMBER.search(text, max(len(text) - self.max_period, 0)) is None:
            return None  # no number near the end: numbers cannot be what varies
        at = max(len(text) - (_VARYING_REPEATS + 1) * self.max_period, 0)
        while 0 < at < len(text) and text[at - 1] in _NUMBER_CHARS:
            at += 1  # the window starts outside a number
        origin: list[int] = []  # offset in ``text`` of each character of ``normalized``
        parts: list[str] = []
        for number in _NUMBER.finditer(text, at):
            parts += [text[at : number.start()], "0"]
            origin += [*range(at, number.start()), number.start()]
            at = number.end()
        parts.append(text[at:])
        origin += [*range(at, len(text) + 1)]
        normalized = "".join(parts)
        found = self._periodic(normalized, _VARYING_REPEATS)
        if found is None:
            return None
        start, period = found
        first = _unit_start(normalized, start, period)
        unit = normalized[first : first + period]
        if not unit.startswith("{") or not _TEXT_VALUE.search(unit):
            return None
        repeats = (len(normalized) - start) // period
        whole = (len(normalized) - first) // period
        periods = [text[origin[first + k * period] : origin[first + (k + 1) * period]] for k in range(whole)]
        if not _counting(periods):
            return None
        return _describe(text, origin[first], origin[first + period], repeats, varying=True)


def _counting(periods: list[str]) -> bool:
    """True when each number of the periods moves on by the same step from one period to the next."""
    rows = [[float(n) for n in _NUMBER.findall(period)] for period in periods]
    if len(rows) < 3 or any(len(row) != len(rows[0]) for row in rows):
        return False
    for column in zip(*rows):
        step = column[1] - column[0]
        if any(abs((b - a) - step) > 1e-9 * max(1.0, abs(b)) for a, b in pairwise(column)):
            return False
    return True


def _unit_start(text: str, start: int, period: int) -> int:
    """Where a period of the repetition from ``start`` reads best: an item's or a word's start."""
    starts = range(start, start + period)
    return next(
        (at for at in starts if text[at] in "{["),
        next(
            (at for at in starts if at > 0 and text[at - 1] in _BOUNDARY and text[at] not in _BOUNDARY), start
        ),
    )


def _describe(text: str, first: int, second: int, repeats: int, varying: bool = False) -> Loop:
    """The loop whose first period is ``text[first:second]``."""
    outer, inner = path_at(text[: first + 1]), path_at(text)
    common = []
    for a, b in zip(outer, inner):
        if a != b:
            break
        common.append(a)
    following = path_at(text[: second + 1])[len(common) : len(common) + 1]
    items = following[0] if len(outer) > len(common) and following and isinstance(following[0], int) else None
    return Loop(pointer(common), text[first:second], max(repeats, 1), first, items, varying)


def path_at(text: str) -> list[str | int]:
    """The path (keys and indexes) of the value being written at the end of a partial JSON text."""
    path: list[str | int] = []
    for kind, key, expecting_key in _scan(text)[0]:
        if kind == "{" and (expecting_key or key is None):
            break
        path.append(key)  # type: ignore[arg-type]
    return path


def trimmed(text: str, loop: Loop) -> str | None:
    """For a loop of whole items of an array: ``text`` up to the end of the loop's first period (its
    first ``loop.items`` items), with the arrays and objects still open closed; else None."""
    if loop.items is None or loop.varying:
        return None  # items that differ in their numbers may be real data: never cut
    depth = loop.pointer.count("/") + 1
    cut = loop.start + len(loop.unit)
    while cut > loop.start:
        cut -= 1
        if text[cut] != ",":
            continue
        frames, in_string = _scan(text[:cut])
        if not in_string and len(frames) == depth and frames[-1][:2] == ["[", loop.items - 1]:
            return text[:cut].rstrip() + "".join("]" if f[0] == "[" else "}" for f in reversed(frames))
    return None


def _scan(text: str) -> tuple[list[list[object]], bool]:
    """The containers open at the end of a partial JSON text (kind, key or index, expecting a key),
    and whether it ends inside a string."""
    frames: list[list[object]] = []
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
    return frames, in_string


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
