"""The regular-expression syntax tree that the ECMA-262 parser and the format/number builders produce."""

from __future__ import annotations

from collections.abc import Iterator
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


def _assertions(node: Node) -> Iterator[AssertKind]:
    """The kinds of the zero-width assertions in ``node``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Assert):
            yield n.kind
        elif isinstance(n, Seq | Alt):
            stack.extend(n.parts if isinstance(n, Seq) else n.options)
        elif isinstance(n, Repeat):
            stack.append(n.node)


def uses_word_boundary(node: Node) -> bool:
    """Whether ``\\b`` or ``\\B`` occurs in ``node``."""
    return any(kind in ("b", "B") for kind in _assertions(node))


def _has_assert(node: Node) -> bool:
    return any(True for _ in _assertions(node))


def _trim(node: Node, tail: bool) -> Node:
    """A shorter pattern with the same unanchored-search language: optional material at the trailing
    (``tail``) or leading end is dropped, since the surrounding ``.*`` absorbs it. Parts with
    assertions are kept as they are."""
    if isinstance(node, (Chars, Assert)) or _has_assert(node):
        return node
    if isinstance(node, Repeat):
        if node.low == 0:
            return EPSILON
        rest = Repeat(node.node, node.low - 1, node.low - 1)
        end = _trim(node.node, tail)
        return Seq((rest, end) if tail else (end, rest))
    if isinstance(node, Alt):
        options = tuple(_trim(o, tail) for o in node.options)
        return EPSILON if any(o == EPSILON for o in options) else Alt(options)
    parts = list(node.parts)
    while parts:
        i = len(parts) - 1 if tail else 0
        trimmed = _trim(parts[i], tail)
        if trimmed != EPSILON:
            parts[i] = trimmed
            break
        parts.pop(i)
    return Seq(tuple(parts))


def trim_tail(node: Node) -> Node:
    """``node`` without optional trailing material (same language when followed by ``.*``)."""
    return _trim(node, True)


def trim_head(node: Node) -> Node:
    """``node`` without optional leading material (same language when preceded by ``.*``)."""
    return _trim(node, False)


def strip_anchor(node: Node, kind: AssertKind) -> Node | None:
    """``node`` without the ``^`` (or ``$``) that starts (ends) every alternative; None when some
    alternative does not begin (end) with that anchor."""
    if isinstance(node, Assert):
        return EPSILON if node.kind == kind else None
    if isinstance(node, Alt):
        options = [strip_anchor(o, kind) for o in node.options]
        if not options or any(o is None for o in options):
            return None
        return Alt(tuple(o for o in options if o is not None))
    if isinstance(node, Seq) and node.parts:
        i = 0 if kind == "^" else len(node.parts) - 1
        inner = strip_anchor(node.parts[i], kind)
        if inner is None:
            return None
        parts = list(node.parts)
        parts[i] = inner
        return Seq(tuple(parts))
    return None
