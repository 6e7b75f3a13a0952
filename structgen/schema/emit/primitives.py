"""Shared JSON building blocks (``ws``, ``string``, ``number``, ``value``...) and numbers."""

from __future__ import annotations

from collections.abc import Callable

from .. import numeric
from ..gbnftext import MAX_REPEAT, group, repeat, seq
from ..model import Node, NumberNode
from ..report import Inexpressible
from .rules import Atom, Rules, atom_if

FLEXIBLE_INDENT = 40
JSON_CHAR = (
    '[^"\\\\\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] | "\\\\u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})'
    ' | "\\\\u" [dD] [89abAB] [0-9a-fA-F]{2} "\\\\u" [dD] [c-fC-F] [0-9a-fA-F]{2}'
)
MIN_COMPACT_INTEGERS = 16
"""Unions of at least this many integer values are written as one rule (see ``Primitives.integers``)."""
MAX_COMPACT_INTEGER = 10**15
"""Larger magnitudes keep their exponent spellings (encoders write large floats with one)."""


class Primitives(Rules):
    """Rules for the JSON building blocks, written once per grammar when first used."""

    def primitive(self, name: str) -> Atom:
        """The shared rule ``name`` (``ws``, ``nl``, ``char``, ``string``, ``integer``, ``number``,
        ``boolean``, ``value``, ``object``, ``member``, ``array``), written on first use."""
        if name in self.primitives:
            return Atom(name)
        self.primitives.add(name)
        self.names.add(name)
        self.rules[name] = ""
        self.rules[name] = self._primitive_bodies()[name]()
        self._by_body.setdefault(self.rules[name], name)
        return Atom(name)

    def _primitive_bodies(self) -> dict[str, Callable[[], str]]:
        return {
            "ws": lambda: f'| " " | "\\n" [ \\t]{{0,{FLEXIBLE_INDENT}}}',
            "nl": lambda: f'"\\n" [ \\t]{{0,{FLEXIBLE_INDENT}}}',
            "char": lambda: JSON_CHAR,
            "string": lambda: f'"\\"" {self.primitive("char")}* "\\""',
            "integer": lambda: '"-"? ("0" | [1-9] ' + self.digits(True) + ")",
            "number": lambda: (
                '"-"? ("0" | [1-9] '
                + self.digits(True)
                + ') ("." '
                + self.digits(False)
                + ")? ([eE] [-+]? "
                + ("[0-9]{1,3}" if self.options.max_digits else "[0-9]+")
                + ")?"
            ),
            "boolean": lambda: '"true" | "false"',
            "value": lambda: " | ".join(
                [
                    self.primitive("object"),
                    self.primitive("array"),
                    self.primitive("string"),
                    self.primitive("number"),
                    '"true"',
                    '"false"',
                    '"null"',
                ]
            ),
            "object": lambda: self._container("obj", self.primitive("member")),
            "member": lambda: seq(self.primitive("string"), self.tokens.colon, self.primitive("value")),
            "array": lambda: self._container("arr", self.primitive("value")),
        }

    def _container(self, kind: str, item: str) -> str:
        t = self.tokens
        opening, closing, empty = (
            (t.open_obj, t.close_obj, t.empty_obj)
            if kind == "obj"
            else (t.open_arr, t.close_arr, t.empty_arr)
        )
        return f"{empty} | " + seq(opening, item, group(seq(t.comma, item)) + "*", closing)

    def repeat_next(self, item: str, low: int, high: int | None, hint: str) -> str:
        """``low`` to ``high`` more of ``item``, each after a comma (raises ``RepeatTooLarge`` past what
        a grammar can count)."""
        t = self.tokens
        atom = group(seq(t.comma, item))
        if low > MAX_REPEAT or (high or 0) > MAX_REPEAT:
            atom = self.define(hint + "-next", seq(t.comma, item))
        return repeat(atom, low, high)

    def digits(self, after_first: bool) -> str:
        """Digits of an integer part after its first digit, or of a fraction; bounded with ``max_digits``."""
        n = self.options.max_digits
        if n is None:
            return "[0-9]*" if after_first else "[0-9]+"
        return f"[0-9]{{0,{n - 1}}}" if after_first else f"[0-9]{{1,{n}}}"

    def number(self, node: NumberNode, hint: str) -> str | None:
        """Numbers of ``node`` (None when there are none)."""
        zero_fraction = node.integer and node.integer_zero_fraction
        bounded = node.minimum is not None or node.maximum is not None or node.multiple_of is not None
        bounded = bounded or node.non_integer or bool(node.not_multiple_of)
        if not bounded:
            base = self.primitive("integer" if node.integer else "number")
            if zero_fraction:
                zeros = '"0"+' if self.options.max_digits is None else f'"0"{{1,{self.options.max_digits}}}'
                return self.define("integer-value", seq(base, f'("." {zeros})?'))
            return base
        try:
            expr, rules, note = numeric.emit(node, self.fresh(hint + "-n"), self.options.max_digits)
        except Inexpressible as error:
            self.report.loosened(node.pointer, error.keyword, str(error))
            return self.primitive("integer" if node.integer else "number")
        if expr is None:
            return None
        expr = atom_if(expr)
        if note:
            keyword = "minimum" if node.multiple_of is None else "multipleOf"
            last = node.pointer.rsplit("/", 1)[-1]
            if node.minimum is not None and node.minimum == node.maximum and last in ("const", "enum"):
                keyword = last
            self.report.restricted(node.pointer, keyword, note)
        self.add_rules(rules)
        return expr

    def integers(self, points: list[Node], distinct: set[int], hint: str) -> str | None:
        """One rule for many integer values (a large ``enum``): runs of consecutive values as ranges, the
        rest as a literal set, each in plain decimal (a zero fraction allowed, exponents not)."""
        if self.options.max_digits is not None:
            return None
        from ..regular import Regular, RegularTooLarge, emit_dfa_gbnf, integer_range_gbnf

        values = sorted(distinct)
        runs: list[list[int]] = []
        for value in values:
            if runs and runs[-1][1] + 1 == value:
                runs[-1][1] = value
            else:
                runs.append([value, value])
        singles = [str(v) for lo, hi in runs if hi - lo < 2 for v in range(lo, hi + 1)]
        singles += ["-0"] if 0 in values else []
        alternatives = []
        try:
            for lo, hi in runs:
                if hi - lo >= 2:
                    expr, rules = integer_range_gbnf(lo, hi, self.fresh(f"{hint}-range"))
                    self.add_rules(rules)
                    alternatives.append(expr)
            if singles:
                expr, rules = emit_dfa_gbnf(Regular.literals(sorted(singles)), self.fresh(f"{hint}-int"))
                self.add_rules(rules)
                alternatives.append(expr)
        except RegularTooLarge:
            return None
        pointer = next((p.pointer for p in points if isinstance(p, NumberNode) and p.pointer), "")
        self.report.restricted(
            pointer,
            pointer.rsplit("/", 1)[-1] or "enum",
            "integers of a large enum are accepted without exponent",
        )
        return self.define(f"{hint}-integers", seq(group(" | ".join(alternatives)), '("." "0"+)?'))


def integer_point(node: Node) -> int | None:
    """The value of a node that holds exactly one integer (of moderate size), else None."""
    if type(node) is not NumberNode or node.minimum is None or node.maximum is None:
        return None
    low, high = node.minimum, node.maximum
    if (
        low.denominator == 1
        and high.denominator == 1
        and low.numerator == high.numerator
        and -MAX_COMPACT_INTEGER < low.numerator < MAX_COMPACT_INTEGER
        and not (node.exclusive_minimum or node.exclusive_maximum or node.non_integer)
        and node.multiple_of is None
        and not node.not_multiple_of
    ):
        return low.numerator
    return None
