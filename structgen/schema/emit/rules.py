"""The emitter's rule table: options, separator tokens, rule naming and sharing of equal rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..gbnftext import is_atom
from ..intersect import Algebra
from ..model import Node
from ..report import Report

Whitespace = Literal["compact", "flexible", "pretty"]

NOTHING = "[^\\x00-\\U0010FFFF]"
"""A rule body that matches nothing."""
EMPTY = '""'


class Atom(str):
    """Grammar text known to be one atom (a rule name, a literal or a character class): it can stand in
    a sequence or under a repetition as it is."""

    __slots__ = ()


def atom_if(text: str) -> str:
    """``text`` marked as an :class:`Atom` when it is one (for text built outside the emitter)."""
    return Atom(text) if is_atom(text) else text


def either(parts: list[str]) -> str:
    """The alternatives ``parts`` (one part as it is, keeping its marks)."""
    return parts[0] if len(parts) == 1 else " | ".join(parts)


@dataclass
class Options:
    """Emission options (see :func:`structgen.schema.compiler.compile`)."""

    whitespace: Whitespace = "flexible"
    any_order: bool = False
    max_digits: int | None = None


@dataclass(frozen=True)
class Tokens:
    """The punctuation of JSON objects and arrays, with the whitespace the options allow around it."""

    open_obj: str
    close_obj: str
    open_arr: str
    close_arr: str
    empty_obj: str
    empty_arr: str
    comma: str
    colon: str


def tokens_for(whitespace: Whitespace) -> Tokens:
    """The tokens for a whitespace option (``ws`` and ``nl`` are the rules they refer to)."""
    if whitespace == "compact":
        return Tokens('"{"', '"}"', '"["', '"]"', Atom('"{}"'), Atom('"[]"'), '","', '":"')
    if whitespace == "pretty":
        return Tokens('"{" nl', 'nl "}"', '"[" nl', 'nl "]"', Atom('"{}"'), Atom('"[]"'), '"," nl', '": "')
    return Tokens(
        '"{" ws', 'ws "}"', '"[" ws', 'ws "]"', '"{" ws "}"', '"[" ws "]"', 'ws "," ws', 'ws ":" ws'
    )


class Rules:
    """The rules written so far, each under a unique name, with equal bodies shared."""

    def __init__(
        self,
        definitions: dict[str, Node],
        algebra: Algebra,
        report: Report,
        options: Options,
        pointers: dict[str, str],
    ):
        self.definitions = definitions
        self.algebra = algebra
        self.report = report
        self.options = options
        self.pointers = pointers
        self._tokens = tokens_for(options.whitespace)
        self.uses_tokens = False
        """Whether some rule refers to the separator tokens (and so to ``ws`` or ``nl``)."""
        self.rules: dict[str, str] = {}
        self.names: set[str] = set()
        self.primitives: set[str] = set()
        self._by_node: dict[Node, str] = {}
        self._by_body: dict[str, str] = {}

    @property
    def tokens(self) -> Tokens:
        """The separator tokens (noted as used: their whitespace rule is then written)."""
        self.uses_tokens = True
        return self._tokens

    def fresh(self, hint: str) -> Atom:
        """A new rule name made from ``hint`` (reserved, without a body yet)."""
        base = rule_base(hint)
        name = base
        counter = 1
        while name in self.names or name in self.definitions and name != hint:
            counter += 1
            name = f"{base}-{counter}"
        self.names.add(name)
        return Atom(name)

    def define(self, hint: str, body: str) -> Atom:
        """A rule with ``body`` (an existing one when some rule already has that body)."""
        existing = self._by_body.get(body)
        if existing is not None:
            return Atom(existing)
        name = self.fresh(hint)
        self.rules[name] = body
        self._by_body[body] = name
        return name

    def add_rules(self, rules: dict[str, str]) -> None:
        """Rules built elsewhere under names of their own."""
        for name, body in rules.items():
            self.names.add(name)
            self.rules[name] = body

    def clashes(self, rules: dict[str, str]) -> bool:
        """Whether some of ``rules`` would replace a different rule of the same name."""
        return any(name in self.names and self.rules.get(name) != body for name, body in rules.items())

    # implemented by the emitter
    def expr(self, node: Node, hint: str) -> str | None:
        """An atom (rule name or literal) for ``node``; None when it matches nothing."""
        raise NotImplementedError  # pragma: no cover

    def productive(self, node: Node) -> bool:
        """Whether ``node`` matches some value."""
        raise NotImplementedError  # pragma: no cover


_NAME_CHAR = re.compile(r"[^A-Za-z0-9-]+")
_DASHES = re.compile("-{2,}")


def rule_base(hint: str) -> str:
    """A rule name made of ``hint``'s letters, digits and single dashes (at most 60 characters)."""
    base = _DASHES.sub("-", _NAME_CHAR.sub("-", hint)).strip("-") or "r"
    if base[0].isdigit():
        base = "r" + base
    return base[:60].rstrip("-")
