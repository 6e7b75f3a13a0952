""":class:`Regular`, an immutable regular language over Unicode code points (decoded string values)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from . import dfa as _dfa
from .charset import ANY
from .dfa import Dfa
from .ecma import parse
from .nfa import compile_node, concatenate
from .rx import Chars, Node, Repeat, Seq, strip_anchor, trim_head, trim_tail

_ANY_STAR: Node = Repeat(Chars(ANY), 0, None)

# Schemas repeat the same languages (a pattern in many places, the same bounds under many keys, the
# same pairs of alternatives): every construction is remembered per process by its operands.
_memo = lru_cache(maxsize=2048)
_compile = _memo(compile_node)
_concatenate = _memo(concatenate)
_complement = _memo(_dfa.complement)
_with_length = _memo(_dfa.with_length)
_from_literals = _memo(_dfa.from_literals)


@_memo
def _product(a: Dfa, b: Dfa, op: _dfa.Op) -> Dfa:
    return _dfa.product(a, b, op)


def _combine(a: Dfa, b: Dfa, op: _dfa.Op) -> Dfa:
    """``a & b``, ``a | b`` or ``a - b``, answered without a product when an operand decides it."""
    if a == b:
        return _dfa.EMPTY_DFA if op == "sub" else a
    if not a.finals:
        return b if op == "or" else a
    if not b.finals:
        return _dfa.EMPTY_DFA if op == "and" else a
    if op != "sub" and hash(b) < hash(a):
        a, b = b, a
    return _product(a, b, op)


class Regular:
    """A regular language of strings, kept as a minimal DFA. Equal languages compare equal.

    Operations raise :class:`RegularTooLarge` rather than build an automaton of more than
    ``MAX_STATES`` states.
    """

    __slots__ = ("_dfa",)
    _dfa: Dfa

    def __init__(self, automaton: Dfa) -> None:
        object.__setattr__(self, "_dfa", automaton)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Regular is immutable")

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def pattern(cls, pattern: str, pointer: str = "") -> Regular:
        """The strings in which the ECMA-262 ``pattern`` finds a match (JSON Schema's unanchored search).

        Raises InvalidSchemaError (bad syntax) or UnsupportedSchemaError (lookaround, backreferences,
        other dialects), both with ``keyword="pattern"`` and ``pointer``, or RegularTooLarge.
        """
        node = parse(pattern, pointer)
        parts: list[Node] = []
        body = strip_anchor(node, "^")
        if body is None:  # unanchored start: any prefix, so optional leading material is irrelevant
            body = trim_head(node)
            parts.append(_ANY_STAR)
        anchored_end = strip_anchor(body, "$")
        parts.append(trim_tail(body) if anchored_end is None else anchored_end)
        if anchored_end is None:
            parts.append(_ANY_STAR)
        return cls(_compile(Seq(tuple(parts))))

    @classmethod
    def from_node(cls, node: Node) -> Regular:
        """The strings that the syntax tree ``node`` matches in full."""
        return cls(_compile(node))

    @classmethod
    def literals(cls, values: Iterable[str]) -> Regular:
        """Exactly the given strings."""
        return cls(_from_literals(tuple(values)))

    @classmethod
    def any_string(cls) -> Regular:
        return cls(_dfa.minimize([[(0, 0x10FFFF, 0)]], [0]))

    @classmethod
    def nothing(cls) -> Regular:
        return cls(_dfa.EMPTY_DFA)

    # -- operations -----------------------------------------------------------------------------
    def with_length(self, min_len: int, max_len: int | None) -> Regular:
        """The strings of this language with ``min_len`` to ``max_len`` code points."""
        if max_len is not None and max_len < min_len:
            return Regular.nothing()
        return Regular(_with_length(self._dfa, max(min_len, 0), max_len))

    def __and__(self, other: Regular) -> Regular:
        return Regular(_combine(self._dfa, other._dfa, "and"))

    def __or__(self, other: Regular) -> Regular:
        return Regular(_combine(self._dfa, other._dfa, "or"))

    def __sub__(self, other: Regular) -> Regular:
        return Regular(_combine(self._dfa, other._dfa, "sub"))

    def __add__(self, other: Regular) -> Regular:
        """Concatenation: a string of ``self`` followed by a string of ``other``."""
        return Regular(_concatenate(self._dfa, other._dfa))

    def __invert__(self) -> Regular:
        return Regular(_complement(self._dfa))

    # -- questions --------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self._dfa.finals

    def is_finite(self) -> bool:
        return _dfa.is_finite(self._dfa)

    def strings(self, limit: int) -> list[str] | None:
        """All strings in code-point order when there are at most ``limit``; else None."""
        if _dfa.count_strings(self._dfa, limit) is None:
            return None
        return _dfa.enumerate_strings(self._dfa)

    def matches(self, s: str) -> bool:
        return self._dfa.accepts(s)

    def length_bounds(self) -> tuple[int, int | None] | None:
        """(shortest, longest) length in code points, longest None when unbounded; None when empty."""
        return _dfa.length_bounds(self._dfa)

    def is_subset(self, other: Regular) -> bool:
        return (self - other).is_empty()

    @property
    def automaton(self) -> Dfa:
        """The minimal DFA (state 0 initial), for emitters."""
        return self._dfa

    @property
    def state_count(self) -> int:
        return self._dfa.size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regular) and self._dfa == other._dfa

    def __hash__(self) -> int:
        return hash(self._dfa)

    def __repr__(self) -> str:
        return f"<Regular: {self._dfa.size} states>"
