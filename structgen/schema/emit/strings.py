"""Strings: literals, lengths, excluded keys and regular languages (patterns and formats)."""

from __future__ import annotations

from .. import strings
from ..gbnftext import RepeatTooLarge, json_literal, repeat, seq
from ..model import StringNode
from ..regular.deadline import untimed
from ..regular.excluded import excluded_content
from ..regular.to_gbnf import shared_rules as excluded_rules
from ..report import Inexpressible
from .primitives import Primitives
from .rules import Atom, either

MAX_BOUNDED_LENGTH = 256
MAX_STRING_STATES = 400
QUOTE = '"\\""'
_FORMAT_RULES: dict[str, tuple[str, dict[str, str]]] = {}


def quoted(content: str) -> str:
    """A JSON string whose content is ``content``."""
    return seq(QUOTE, content, QUOTE)


class Strings(Primitives):
    """Rules for string nodes."""

    def string(self, node: StringNode, hint: str) -> str | None:
        """Strings of ``node`` (None when there are none)."""
        if node.is_unconstrained():
            return self.primitive("string")
        if node.literals is not None:
            values = sorted(node.literals)
            if not values:
                return None
            return either([Atom(json_literal(value)) for value in values])
        if not (node.patterns or node.formats or node.negated or node.excluded):
            return self._string_length(node.min_length, node.max_length, node.pointer)
        low, high = node.min_length, node.max_length
        if node == StringNode(low, high, excluded=node.excluded) and (high or 0) <= MAX_BOUNDED_LENGTH:
            trie = self._excluded(node.excluded, low, high, node.pointer)
            if trie is not None:
                return trie or None
        return self._string_language(node, hint)

    def _excluded(self, keys: frozenset[str], low: int, high: int | None, pointer: str) -> str | None:
        """Strings other than ``keys`` of ``low`` to ``high`` characters, from rules shared by every
        grammar ("" when there are none; None on a name clash)."""
        expr, names, restricted = excluded_content(keys, low, high)
        if expr is None:
            return ""
        bodies = excluded_rules(names)
        if self.clashes(bodies):
            return None
        if restricted:
            extra = pointer.endswith("/additionalProperties")
            self.report.restricted(
                pointer,
                "additionalProperties" if extra else "not",
                f"until {'a key differs from every declared key' if extra else 'the string differs from every excluded one'},"
                " its printable ASCII characters must be written unescaped (as JSON encoders write them)",
            )
        self.primitive("char")
        self.add_rules(bodies)
        return quoted(expr)

    def _string_length(self, low: int, high: int | None, pointer: str) -> str:
        char = self.primitive("char")
        try:
            return quoted(repeat(char, low, high))
        except RepeatTooLarge:
            self.report.loosened(pointer, "maxLength", "length bound too large for a grammar")
            return self.primitive("string")

    def _string_language(self, node: StringNode, hint: str) -> str | None:
        pointer = node.pointer
        if len(node.formats) == 1 and node == StringNode(formats=node.formats):
            cached = self._format_rules(node.formats[0])
            if cached is not None:
                return cached
        attempts = []
        if node.max_length is None or node.max_length <= MAX_BOUNDED_LENGTH:
            attempts.append(node)
        if node.min_length or node.max_length is not None:
            attempts.append(
                StringNode(
                    patterns=node.patterns,
                    formats=node.formats,
                    literals=node.literals,
                    excluded=node.excluded,
                    negated=node.negated,
                )
            )
        for attempt in attempts:
            try:
                lang = strings.realize(attempt)
                if lang.is_empty():
                    return None
                if lang.state_count > MAX_STRING_STATES and attempt is not attempts[-1]:
                    continue
                expr, rules = strings.emit_content(lang, self.fresh(hint + "-s"))
            except Inexpressible:
                continue
            if attempt is not node:
                self.report.loosened(pointer, "maxLength", "length bounds dropped: the language is too large")
            self.add_rules(rules)
            return quoted(expr)
        self.report.loosened(pointer, "pattern", "string constraints not enforced: the language is too large")
        return self._string_length(node.min_length, node.max_length, pointer)

    def _format_rules(self, name: str) -> Atom | None:
        """The string rule of format ``name`` (its rules are built once per process, then reused)."""
        prefix = "format-" + "".join(c if c.isascii() and c.isalnum() else "-" for c in name)
        if prefix in self.names:
            return Atom(prefix)
        built = _FORMAT_RULES.get(name)
        if built is None:
            try:
                with untimed():  # kept for the whole process
                    lang = strings.realize(StringNode(formats=(name,)))
                    content, rules = strings.emit_content(lang, prefix + "-s")
            except Inexpressible:
                return None
            built = _FORMAT_RULES[name] = (content, rules)
        content, rules = built
        if prefix in self.rules or self.clashes(rules):
            return None  # a name clash with this grammar's rules: build it under fresh names
        self.add_rules(rules)
        self.names.add(prefix)
        self.rules[prefix] = quoted(content)
        return Atom(prefix)
