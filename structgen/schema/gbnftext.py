"""Small GBNF text builders: literals, character classes, bounded repetition within llama.cpp's limits."""

from __future__ import annotations

import json

from structgen.gbnf.formatter import format_text, is_literal
from structgen.gbnf.lower import MAX_REPETITION_THRESHOLD

from .report import Inexpressible

# llama.cpp refuses {m,n} with m > 2000 and silently unbounds n > 2000; repeats of a rule
# reference are split into exact blocks of half that size.
MAX_REPEAT = MAX_REPETITION_THRESHOLD
BLOCK = MAX_REPEAT // 2


class RepeatTooLarge(Inexpressible):
    """A repetition bound beyond what nested blocks can express (over two million)."""


def literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    return format_text(text)


def json_literal(value: object) -> str:
    """The canonical JSON text of ``value`` (as ``json.dumps(ensure_ascii=False)`` writes it) as a literal."""
    return literal(json.dumps(value, ensure_ascii=False))


def seq(*parts: str) -> str:
    """A sequence of expressions (empty parts dropped)."""
    return " ".join([part for part in parts if part])


def group(expr: str) -> str:
    """``expr`` as one atom."""
    if not expr:
        return '""'
    if is_atom(expr):
        return expr
    return f"({expr})"


def is_atom(expr: str) -> bool:
    if expr and all(c.isascii() and (c.isalnum() or c == "-") for c in expr):
        return True
    if is_literal(expr):
        return True
    return expr.startswith("[") and expr.endswith("]") and expr.count("]") == 1 and "\\]" not in expr


def repeat(atom: str, low: int, high: int | None) -> str:
    """``atom`` repeated ``low`` to ``high`` times (None: unbounded), unambiguous, within llama.cpp's limits.

    ``atom`` must be a single rule reference or literal when a bound exceeds ``MAX_REPEAT`` (the limit counts
    the rules a repeated group creates).
    """
    if high is not None and high < low:
        raise ValueError("high < low")
    if high is None:
        if low == 0:
            return f"{atom}*"
        if low == 1:
            return f"{atom}+"
        return seq(exact(atom, low - 1), f"{atom}+")
    return seq(exact(atom, low), optional(atom, high - low))


def exact(atom: str, count: int) -> str:
    """``atom`` exactly ``count`` times."""
    if count == 0:
        return ""
    if count == 1:
        return atom
    if count <= MAX_REPEAT:
        return f"{atom}{{{count}}}"
    blocks, rest = divmod(count, BLOCK)
    if blocks > MAX_REPEAT:
        raise RepeatTooLarge(f"repetition count {count} is too large")
    return seq(f"({atom}{{{BLOCK}}}){{{blocks}}}", exact(atom, rest))


def optional(atom: str, count: int) -> str:
    """``atom`` zero to ``count`` times."""
    if count == 0:
        return ""
    if count == 1:
        return f"{atom}?"
    if count <= MAX_REPEAT:
        return f"{atom}{{0,{count}}}"
    blocks, rest = divmod(count, BLOCK)
    if blocks > MAX_REPEAT:
        raise RepeatTooLarge(f"repetition count {count} is too large")
    # lengths a*BLOCK + b: a < blocks with any b < BLOCK, or a == blocks with b <= rest (one parse each)
    below = seq(f"({atom}{{{BLOCK}}}){{0,{blocks - 1}}}" if blocks > 1 else "", f"{atom}{{0,{BLOCK - 1}}}")
    top = seq(
        f"({atom}{{{BLOCK}}}){{{blocks}}}" if blocks > 1 else f"{atom}{{{BLOCK}}}", optional(atom, rest)
    )
    return f"({below} | {top})"
