"""The typed tree of a GBNF grammar: small immutable nodes, each with its source span."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Where a node stands in the source: code-point offsets [start, end) and 1-based line/column of start."""

    start: int
    end: int
    line: int
    column: int


NO_SPAN = Span(0, 0, 1, 1)


@dataclass(frozen=True)
class _Node:
    span: Span = field(default=NO_SPAN, compare=False, kw_only=True)
    """Where the node stands in the source (not compared: equal trees may come from different texts)."""


@dataclass(frozen=True)
class Literal(_Node):
    """A string literal ``"..."``; ``chars`` are code points after escapes are decoded."""

    chars: tuple[int, ...]


@dataclass(frozen=True)
class CharClass(_Node):
    """A character class ``[...]`` or ``[^...]``; ``ranges`` are inclusive code-point pairs in source order."""

    ranges: tuple[tuple[int, int], ...]
    negated: bool = False

    def contains(self, cp: int) -> bool:
        inside = any(lo <= cp <= hi for lo, hi in self.ranges)
        return inside != self.negated


@dataclass(frozen=True)
class AnyChar(_Node):
    """``.``: any single code point."""


@dataclass(frozen=True)
class RuleRef(_Node):
    """A reference to a rule by name."""

    name: str


@dataclass(frozen=True)
class Token(_Node):
    """A token reference: ``<[id]>`` (``token_id`` set) or ``<text>`` (``text`` set); ``!`` negates."""

    token_id: int | None
    text: str | None
    negated: bool = False


@dataclass(frozen=True)
class Group(_Node):
    """A parenthesised group of alternatives."""

    body: Alternates


@dataclass(frozen=True)
class Repeat(_Node):
    """``item`` repeated ``min`` to ``max`` times (``max`` None = unbounded); ``op`` is the source spelling."""

    item: Expr
    min: int
    max: int | None
    op: str


Expr = Literal | CharClass | AnyChar | RuleRef | Token | Group | Repeat


@dataclass(frozen=True)
class Sequence(_Node):
    """Items matched one after the other (possibly none: the empty string)."""

    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Alternates(_Node):
    """One or more sequences separated by ``|``."""

    options: tuple[Sequence, ...]


@dataclass(frozen=True)
class Rule(_Node):
    """``name ::= body``."""

    name: str
    body: Alternates


@dataclass(frozen=True)
class Comment(_Node):
    """A ``#`` comment (text without the ``#``); ``own_line`` when nothing but space precedes it."""

    text: str
    own_line: bool


@dataclass(frozen=True)
class Grammar:
    """A parsed grammar: its rules in source order, its comments and the source it came from."""

    rules: tuple[Rule, ...]
    comments: tuple[Comment, ...] = ()
    source: str = field(default="", compare=False, repr=False)
    filename: str | None = field(default=None, compare=False)

    def rule_names(self) -> list[str]:
        return [r.name for r in self.rules]

    def get(self, name: str) -> Rule | None:
        """The rule llama.cpp uses for ``name``: the last definition wins."""
        found = None
        for r in self.rules:
            if r.name == name:
                found = r
        return found


Node = Expr | Sequence | Alternates | Rule


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes of ``node`` (for generic walks)."""
    if isinstance(node, Rule):
        return (node.body,)
    if isinstance(node, Alternates):
        return node.options
    if isinstance(node, Sequence):
        return node.items
    if isinstance(node, Group):
        return (node.body,)
    if isinstance(node, Repeat):
        return (node.item,)
    return ()
