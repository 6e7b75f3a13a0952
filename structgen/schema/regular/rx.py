"""The regular-expression syntax tree that the ECMA-262 parser and the format/number builders produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .charset import CharSet

AssertKind = Literal["^", "$", "b", "B"]


@dataclass(frozen=True)
class Chars:
    """One code point from ``chars``."""

    chars: CharSet


@dataclass(frozen=True)
class Seq:
    """The parts one after another (the empty sequence matches the empty string)."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    """Any one of the options (no option: matches nothing)."""

    options: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat:
    """``node`` repeated ``low`` to ``high`` times (``high`` None: unbounded)."""

    node: Node
    low: int
    high: int | None


@dataclass(frozen=True)
class Assert:
    """A zero-width assertion: ``^`` start of input, ``$`` end, ``b``/``B`` (not) a word boundary."""

    kind: AssertKind


Node = Chars | Seq | Alt | Repeat | Assert

EPSILON: Node = Seq(())
NOTHING: Node = Alt(())


def lit(text: str) -> Node:
    """The literal string ``text``."""
    return Seq(tuple(Chars(CharSet.of(c)) for c in text))


def cls(chars: CharSet | str) -> Node:
    """One character of ``chars`` (a CharSet, or a string listing the characters)."""
    return Chars(chars if isinstance(chars, CharSet) else CharSet.of(chars))


def seq(*parts: Node | str) -> Node:
    """Concatenation; string parts are literals."""
    return Seq(tuple(lit(p) if isinstance(p, str) else p for p in parts))


def alt(*options: Node | str) -> Node:
    """Alternation; string options are literals."""
    return Alt(tuple(lit(p) if isinstance(p, str) else p for p in options))


def rep(node: Node | str, low: int = 0, high: int | None = None) -> Node:
    return Repeat(lit(node) if isinstance(node, str) else node, low, high)


def opt(node: Node | str) -> Node:
    return rep(node, 0, 1)


def uses_word_boundary(node: Node) -> bool:
    """Whether ``\\b`` or ``\\B`` occurs in ``node``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Assert):
            if n.kind in ("b", "B"):
                return True
        elif isinstance(n, Seq):
            stack.extend(n.parts)
        elif isinstance(n, Alt):
            stack.extend(n.options)
        elif isinstance(n, Repeat):
            stack.append(n.node)
    return False
