"""Escapes in GBNF literals and character classes, decoded exactly as llama.cpp's ``parse_char`` does."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GrammarError

SIMPLE_ESCAPES = {"t": 0x09, "r": 0x0D, "n": 0x0A, "\\": 0x5C, '"': 0x22, "[": 0x5B, "]": 0x5D, "-": 0x2D}
HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_HEX = set("0123456789abcdefABCDEF")


def read_char(text: str, i: int, error: Callable[[str, int], GrammarError]) -> tuple[int, int]:
    """Decode one (possibly escaped) character of ``text`` at ``i``; return (code point, next index)."""
    ch = text[i]
    if ch != "\\":
        return ord(ch), i + 1
    if i + 1 >= len(text):
        raise error("unexpected end of input after '\\'", i)
    kind = text[i + 1]
    if kind in SIMPLE_ESCAPES:
        return SIMPLE_ESCAPES[kind], i + 2
    if kind in HEX_ESCAPES:
        size = HEX_ESCAPES[kind]
        digits = text[i + 2 : i + 2 + size]
        if len(digits) != size or any(c not in _HEX for c in digits):
            raise error(f"expecting {size} hex chars after '\\{kind}'", i)
        return int(digits, 16), i + 2 + size
    raise error(f"unknown escape '\\{kind}'", i)
