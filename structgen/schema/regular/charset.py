"""Immutable sets of Unicode code points, stored as sorted disjoint closed intervals."""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from operator import itemgetter

MAX_CP = 0x10FFFF

Interval = tuple[int, int]


class CharSet:
    """A set of code points in ``0..0x10FFFF``; ``ranges`` are sorted, disjoint and non-adjacent."""

    __slots__ = ("ranges",)
    ranges: tuple[Interval, ...]

    def __init__(self, ranges: Iterable[Interval] = ()) -> None:
        merged: list[Interval] = []
        for lo, hi in sorted(ranges):
            if lo > hi:
                continue
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1] = (merged[-1][0], hi)
            else:
                merged.append((lo, hi))
        object.__setattr__(self, "ranges", tuple(merged))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CharSet is immutable")

    @classmethod
    def of(cls, chars: str) -> CharSet:
        return cls((ord(c), ord(c)) for c in chars)

    @classmethod
    def span(cls, lo: int, hi: int) -> CharSet:
        return cls([(lo, hi)])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharSet) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __repr__(self) -> str:
        return f"CharSet({list(self.ranges)!r})"

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, cp: int) -> bool:
        i = bisect_right(self.ranges, cp, key=itemgetter(0)) - 1
        return i >= 0 and cp <= self.ranges[i][1]

    def __or__(self, other: CharSet) -> CharSet:
        return CharSet(self.ranges + other.ranges)

    def __invert__(self) -> CharSet:
        out: list[Interval] = []
        nxt = 0
        for lo, hi in self.ranges:
            if lo > nxt:
                out.append((nxt, lo - 1))
            nxt = hi + 1
        if nxt <= MAX_CP:
            out.append((nxt, MAX_CP))
        return CharSet(out)

    def __and__(self, other: CharSet) -> CharSet:
        out: list[Interval] = []
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return CharSet(out)

    def __sub__(self, other: CharSet) -> CharSet:
        return self & ~other

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)


EMPTY = CharSet()
ANY = CharSet([(0, MAX_CP)])
SURROGATES = CharSet([(0xD800, 0xDFFF)])
DIGIT = CharSet([(0x30, 0x39)])
WORD = CharSet([(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)])
LINE_TERMINATORS = CharSet.of("\n\r\u2028\u2029")
# ECMA-262 WhiteSpace and LineTerminator (the \s class).
SPACE = CharSet.of("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff") | CharSet.span(
    0x2000, 0x200A
)
HEX_DIGIT = CharSet.of("0123456789abcdefABCDEF")

_GC_LONG = {
    "Letter": "L",
    "Cased_Letter": "LC",
    "Uppercase_Letter": "Lu",
    "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt",
    "Modifier_Letter": "Lm",
    "Other_Letter": "Lo",
    "Mark": "M",
    "Combining_Mark": "M",
    "Nonspacing_Mark": "Mn",
    "Spacing_Mark": "Mc",
    "Enclosing_Mark": "Me",
    "Number": "N",
    "Decimal_Number": "Nd",
    "digit": "Nd",
    "Letter_Number": "Nl",
    "Other_Number": "No",
    "Punctuation": "P",
    "punct": "P",
    "Connector_Punctuation": "Pc",
    "Dash_Punctuation": "Pd",
    "Open_Punctuation": "Ps",
    "Close_Punctuation": "Pe",
    "Initial_Punctuation": "Pi",
    "Final_Punctuation": "Pf",
    "Other_Punctuation": "Po",
    "Symbol": "S",
    "Math_Symbol": "Sm",
    "Currency_Symbol": "Sc",
    "Modifier_Symbol": "Sk",
    "Other_Symbol": "So",
    "Separator": "Z",
    "Space_Separator": "Zs",
    "Line_Separator": "Zl",
    "Paragraph_Separator": "Zp",
    "Other": "C",
    "Control": "Cc",
    "cntrl": "Cc",
    "Format": "Cf",
    "Surrogate": "Cs",
    "Private_Use": "Co",
    "Unassigned": "Cn",
}
_GC_GROUPS = {
    "L": "Lu Ll Lt Lm Lo",
    "LC": "Lu Ll Lt",
    "M": "Mn Mc Me",
    "N": "Nd Nl No",
    "P": "Pc Pd Ps Pe Pi Pf Po",
    "S": "Sm Sc Sk So",
    "Z": "Zs Zl Zp",
    "C": "Cc Cf Cs Co Cn",
}


# Planes 4 to 13 hold no assigned code point in any Unicode version so far; skipping them halves the scan.
_UNASSIGNED_PLANES = (0x40000, 0xDFFFF)


@lru_cache(maxsize=1)
def _category_table() -> dict[str, CharSet]:
    spans: dict[str, list[Interval]] = {}
    category = unicodedata.category
    gap_lo, gap_hi = _UNASSIGNED_PLANES
    skip = int(unicodedata.unidata_version.split(".")[0]) <= 16
    start, current = 0, category("\0")

    def scan(lo: int, hi: int) -> None:
        nonlocal start, current
        for cp in range(lo, hi):
            cat = category(chr(cp))
            if cat != current:
                spans.setdefault(current, []).append((start, cp - 1))
                start, current = cp, cat

    if skip:
        scan(1, gap_lo)
        if current != "Cn":
            spans.setdefault(current, []).append((start, gap_lo - 1))
            start, current = gap_lo, "Cn"
        scan(gap_hi + 1, MAX_CP + 1)
    else:
        scan(1, MAX_CP + 1)
    spans.setdefault(current, []).append((start, MAX_CP))
    return {name: CharSet(r) for name, r in spans.items()}


def unicode_property(name: str, value: str | None) -> CharSet | None:
    """The code points of ``\\p{name}`` or ``\\p{name=value}`` (general categories and a few binary
    properties); None when the property is not known here."""
    if value is not None:
        if name not in ("General_Category", "gc"):
            return None
        name = value
    if name == "Any":
        return ANY
    if name == "ASCII":
        return CharSet.span(0, 0x7F)
    if name == "Assigned":
        return ~general_category("Cn")
    short = _GC_LONG.get(name, name)
    if short in _GC_GROUPS or short in _category_table() or short in ("Cn", "Cs", "Co"):
        return general_category(short)
    return None


@lru_cache(maxsize=64)
def general_category(short: str) -> CharSet:
    """The code points whose Unicode general category is ``short`` (a one- or two-letter name)."""
    table = _category_table()
    if short in _GC_GROUPS:
        result = EMPTY
        for part in _GC_GROUPS[short].split():
            result = result | table.get(part, EMPTY)
        return result
    return table.get(short, EMPTY)
