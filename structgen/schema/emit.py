"""Nodes to GBNF: one rule per composite node, named from its schema path, equal rules shared.

Output is deterministic (no set iteration), free of left recursion, and uses only unambiguous
constructions for objects (an ordered automaton over declared keys), arrays and repetition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from structgen.errors import InvalidSchemaError

from . import numeric, strings
from .gbnftext import RepeatTooLarge, group, json_literal, repeat, seq
from .gbnftext import is_atom as _is_atom
from .intersect import Algebra, is_never
from .model import (
    AnyOf,
    AnyValue,
    ArrayNode,
    BooleanNode,
    Contains,
    Never,
    Node,
    NullNode,
    NumberNode,
    ObjectNode,
    Ref,
    StringNode,
    alternatives,
    kind_of,
    union,
)
from .regular.deadline import untimed
from .regular.excluded import excluded_content
from .regular.to_gbnf import shared_rules as excluded_rules
from .report import Inexpressible, Report

Whitespace = Literal["compact", "flexible", "pretty"]

MAX_OBJECT_STATES = 3000
MAX_BOUNDED_LENGTH = 256
MAX_STRING_STATES = 400
MAX_ANY_ORDER = 6
MAX_ANY_ORDER_REQUIRED = 7
MAX_UNIQUE_DOMAIN = 8
MAX_UNIQUE_STATES = 600
MAX_CONTAINS_STATES = 400
FLEXIBLE_INDENT = 40
NOTHING = "[^\\x00-\\U0010FFFF]"
_FORMAT_RULES: dict[str, tuple[str, dict[str, str]]] = {}
EMPTY = '""'

JSON_CHAR = (
    '[^"\\\\\\x00-\\x1F] | "\\\\" ["\\\\/bfnrt] | "\\\\u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2})'
    ' | "\\\\u" [dD] [89abAB] [0-9a-fA-F]{2} "\\\\u" [dD] [c-fC-F] [0-9a-fA-F]{2}'
)


@dataclass
class Options:
    """Emission options (see :func:`structgen.schema.compiler.compile`)."""

    whitespace: Whitespace = "flexible"
    any_order: bool = False
    max_digits: int | None = None


@dataclass
class _Tokens:
    open_obj: str
    close_obj: str
    open_arr: str
    close_arr: str
    empty_obj: str
    empty_arr: str
    comma: str
    colon: str


def _tokens(whitespace: Whitespace) -> _Tokens:
    if whitespace == "compact":
        return _Tokens('"{"', '"}"', '"["', '"]"', '"{}"', '"[]"', '","', '":"')
    if whitespace == "pretty":
        return _Tokens('"{" nl', 'nl "}"', '"[" nl', 'nl "]"', '"{}"', '"[]"', '"," nl', '": "')
    return _Tokens(
        '"{" ws', 'ws "}"', '"[" ws', 'ws "]"', '"{" ws "}"', '"[" ws "]"', 'ws "," ws', 'ws ":" ws'
    )


class Emitter:
    """Turns the root node and its definitions into grammar text."""

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
        self.tokens = _tokens(options.whitespace)
        self.rules: dict[str, str] = {}
        self._by_node: dict[Node, str] = {}
        self._by_body: dict[str, str] = {}
        self._names: set[str] = set()
        self._productive: dict[str, bool] = {}
        self.satisfiable = True
        self._primitives: set[str] = set()

    # ------------------------------------------------------------------ entry
    def emit(self, root: Node) -> str:
        """The grammar whose ``root`` rule matches exactly the JSON texts of ``root``."""
        self._analyse(root)
        self._names.add("root")
        self.rules["root"] = ""
        content = root
        while isinstance(content, Ref) and content not in self._by_node:
            self._by_node[content] = "root"
            content = self.definitions[content.name]
        self._by_node[content] = "root"
        body = self._body_uncached(content, "root") if self.productive(content) else None
        self.rules["root"] = NOTHING if body is None else body
        self.satisfiable = body is not None
        used = " ".join(self.rules.values())
        if self.options.whitespace == "flexible" and re.search(r"(?<![\w-])ws(?![\w-])", used):
            self.primitive("ws")
        if self.options.whitespace == "pretty" and re.search(r"(?<![\w-])nl(?![\w-])", used):
            self.primitive("nl")
        # an empty body would let llama.cpp read the next line as this rule's body
        lines = [f"{name} ::= {body if body.strip() else EMPTY}" for name, body in self.rules.items()]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ analysis
    def _analyse(self, root: Node) -> None:
        """Remove left recursion through definitions and find definitions that match nothing."""
        reachable = self._reachable(root)
        heads: dict[str, list[str]] = {name: self._head_refs(self.definitions[name]) for name in reachable}
        for component in _cycles(heads):
            members = set(component)
            for name in component:
                content = self.definitions[name]
                kept = [
                    alt for alt in alternatives(content) if not (isinstance(alt, Ref) and alt.name in members)
                ]
                if not kept and not isinstance(content, Never):
                    raise InvalidSchemaError(
                        f"$ref cycle without a base case through {name!r}",
                        self.pointers.get(name, ""),
                        "$ref",
                    )
                self.definitions[name] = union(kept)
        productive = {name: False for name in reachable}
        changed = True
        while changed:
            changed = False
            for name in reachable:
                if not productive[name] and self._node_productive(self.definitions[name], productive):
                    productive[name] = True
                    changed = True
        self._productive = productive

    def _reachable(self, root: Node) -> list[str]:
        seen: list[str] = []
        known: set[str] = set()
        visited: set[int] = set()
        stack: list[Node] = [root]
        while stack:
            node = stack.pop()
            for ref in _refs_in(node, visited):
                if ref not in known and ref in self.definitions:
                    known.add(ref)
                    seen.append(ref)
                    stack.append(self.definitions[ref])
        return seen

    def _head_refs(self, node: Node) -> list[str]:
        return [alt.name for alt in alternatives(node) if isinstance(alt, Ref)]

    def _node_productive(self, node: Node, productive: dict[str, bool]) -> bool:
        if isinstance(node, Never):
            return False
        if isinstance(node, Ref):
            return productive.get(node.name, False)
        if isinstance(node, AnyOf):
            return any(self._node_productive(alt, productive) for alt in node.alternatives)
        if isinstance(node, ArrayNode):
            for index in range(min(node.min_items, len(node.prefix))):
                if not self._node_productive(node.prefix[index], productive):
                    return False
            if node.min_items > len(node.prefix) and not self._node_productive(node.items, productive):
                return False
            return all(c.minimum == 0 or self._node_productive(c.node, productive) for c in node.contains)
        if isinstance(node, ObjectNode):
            return all(
                self._node_productive(value, productive)
                for name, value in node.properties
                if name in node.required
            )
        if isinstance(node, StringNode):
            return not is_never(node)
        return True

    def productive(self, node: Node) -> bool:
        return self._node_productive(node, self._productive)

    # ------------------------------------------------------------------ rules
    def _fresh(self, hint: str) -> str:
        base = _rule_base(hint)
        name = base
        counter = 1
        while name in self._names or name in self.definitions and name != hint:
            counter += 1
            name = f"{base}-{counter}"
        self._names.add(name)
        return name

    def define(self, hint: str, body: str) -> str:
        """A rule with ``body`` (an existing one when some rule already has that body)."""
        existing = self._by_body.get(body)
        if existing is not None:
            return existing
        name = self._fresh(hint)
        self.rules[name] = body
        self._by_body[body] = name
        return name

    def primitive(self, name: str) -> str:
        """A shared rule for JSON building blocks (``ws``, ``string``, ``number``, ``value``...)."""
        if name in self._primitives:
            return name
        self._primitives.add(name)
        self._names.add(name)
        self.rules[name] = ""
        t = self.tokens
        if self.options.whitespace == "flexible" and name != "ws":
            self.primitive("ws")
        if self.options.whitespace == "pretty" and name != "nl":
            self.primitive("nl")
        bodies: dict[str, Callable[[], str]] = {
            "ws": lambda: f'| " " | "\\n" [ \\t]{{0,{FLEXIBLE_INDENT}}}',
            "nl": lambda: f'"\\n" [ \\t]{{0,{FLEXIBLE_INDENT}}}',
            "char": lambda: JSON_CHAR,
            "string": lambda: f'"\\"" {self.primitive("char")}* "\\""',
            "integer": lambda: '"-"? ("0" | [1-9] ' + self._digits(True) + ")",
            "number": lambda: (
                '"-"? ("0" | [1-9] '
                + self._digits(True)
                + ') ("." '
                + self._digits(False)
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
            "object": lambda: (
                f"{t.empty_obj} | "
                + seq(t.open_obj, self.primitive("member"), group(seq(t.comma, "member")) + "*", t.close_obj)
            ),
            "member": lambda: seq(self.primitive("string"), t.colon, self.primitive("value")),
            "array": lambda: (
                f"{t.empty_arr} | "
                + seq(t.open_arr, self.primitive("value"), group(seq(t.comma, "value")) + "*", t.close_arr)
            ),
        }
        self.rules[name] = bodies[name]()
        self._by_body.setdefault(self.rules[name], name)
        return name

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Node, hint: str) -> str | None:
        """An atom (rule name or literal) for ``node``; None when it matches nothing."""
        self.algebra.defs.check_time()
        if not self.productive(node):
            return None
        if isinstance(node, Ref):
            return self._ref(node, hint)
        existing = self._by_node.get(node)
        if existing is not None:
            return existing
        body = self.body(node, hint)
        if body is None:
            return None
        result = body if _is_atom(body) else self.define(hint, body)
        self._by_node[node] = result
        return result

    def body(self, node: Node, hint: str) -> str | None:
        """A rule body for ``node``; None when it matches nothing."""
        if not self.productive(node):
            return None
        if isinstance(node, AnyValue):
            return self.primitive("value")
        if isinstance(node, NullNode):
            return '"null"'
        if isinstance(node, BooleanNode):
            if len(node.values) == 2:
                return self.primitive("boolean")
            return '"true"' if True in node.values else '"false"'
        if isinstance(node, Ref):
            return self._ref(node, hint)
        existing = self._by_node.get(node)
        if existing is not None:
            return existing
        return self._body_uncached(node, hint)

    def _body_uncached(self, node: Node, hint: str) -> str | None:
        if isinstance(node, (AnyValue, NullNode, BooleanNode, Ref)):
            return self.body(node, hint)
        if isinstance(node, StringNode):
            return self._string(node, hint)
        if isinstance(node, NumberNode):
            return self._number(node, hint)
        if isinstance(node, AnyOf):
            return self._any_of(node, hint)
        if isinstance(node, ArrayNode):
            return self._array(node, hint)
        if isinstance(node, ObjectNode):
            return self._object(node, hint)
        raise AssertionError(node)  # pragma: no cover

    def _ref(self, ref: Ref, hint: str = "") -> str | None:
        existing = self._by_node.get(ref)
        if existing is not None:
            return existing
        content = self.definitions[ref.name]
        seen = {ref.name}
        while isinstance(content, Ref) and content.name not in seen:
            seen.add(content.name)
            content = self.definitions[content.name]
        if not self.productive(content):
            return None
        if not isinstance(content, (ObjectNode, ArrayNode, AnyOf, Ref)):
            return self.expr(content, ref.name)
        known = self._by_node.get(content)
        if known is not None:
            self._by_node[ref] = known
            return known
        # definitions from $ref keep their name; those made by allOf/not take the path's
        rule = self._fresh(ref.name if ref.name in self.pointers or not hint else hint)
        self._by_node[ref] = rule
        self._by_node[content] = rule
        self.rules[rule] = ""
        body = self._body_uncached(content, rule)
        self.rules[rule] = body if body is not None else NOTHING
        return rule

    def _any_of(self, node: AnyOf, hint: str) -> str | None:
        parts: list[str] = []
        kinds = [
            kind_of(alt) if not isinstance(alt, (Ref, AnyOf, AnyValue, Never)) else ""
            for alt in node.alternatives
        ]
        values = {id(alt): value for alt in node.alternatives if (value := _integer_point(alt)) is not None}
        points = [alt for alt in node.alternatives if id(alt) in values]
        compact = (
            self._integers(points, set(values.values()), hint)
            if len(values) >= MIN_COMPACT_INTEGERS
            else None
        )
        compacted = values
        for index, alt in enumerate(node.alternatives):
            if compact is not None and id(alt) in compacted:
                if alt is points[0]:
                    parts.append(compact)
                continue
            kind = kinds[index]
            suffix = kind if kind and kinds.count(kind) == 1 else str(index)
            expr = self.expr(alt, f"{hint}-{suffix}")
            if expr is not None and expr not in parts:
                parts.append(expr)
        if not parts:
            return None
        return " | ".join(parts)

    def _integers(self, points: list[Node], distinct: set[int], hint: str) -> str | None:
        """One rule for many integer values (a large ``enum``): runs of consecutive values as ranges, the
        rest as a literal set, each in plain decimal (a zero fraction allowed, exponents not)."""
        if self.options.max_digits is not None:
            return None
        from .regular import Regular, RegularTooLarge, emit_dfa_gbnf, integer_range_gbnf

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
                    expr, rules = integer_range_gbnf(lo, hi, self._fresh(f"{hint}-range"))
                    self._add_rules(rules)
                    alternatives.append(expr)
            if singles:
                expr, rules = emit_dfa_gbnf(Regular.literals(sorted(singles)), self._fresh(f"{hint}-int"))
                self._add_rules(rules)
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

    # ------------------------------------------------------------------ strings
    def _string(self, node: StringNode, hint: str) -> str | None:
        if node.is_unconstrained():
            return self.primitive("string")
        if node.literals is not None:
            values = sorted(node.literals)
            if not values:
                return None
            body = " | ".join(json_literal(value) for value in values)
            return json_literal(values[0]) if len(values) == 1 else body
        if not (node.patterns or node.formats or node.negated or node.excluded):
            return self._string_length(node.min_length, node.max_length, hint, node.pointer)
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
        if any(name in self._names and self.rules.get(name) != body for name, body in bodies.items()):
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
        self._add_rules(bodies)
        return seq('"\\""', expr, '"\\""')

    def _string_length(self, low: int, high: int | None, hint: str, pointer: str) -> str:
        char = self.primitive("char")
        try:
            body = seq('"\\""', repeat(char, low, high), '"\\""')
        except RepeatTooLarge:
            self.report.loosened(pointer, "maxLength", "length bound too large for a grammar")
            return self.primitive("string")
        return body

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
                expr, rules = strings.emit_content(lang, self._fresh(hint + "-s"))
            except Inexpressible:
                continue
            if attempt is not node:
                self.report.loosened(pointer, "maxLength", "length bounds dropped: the language is too large")
            self._add_rules(rules)
            return seq('"\\""', expr, '"\\""')
        self.report.loosened(pointer, "pattern", "string constraints not enforced: the language is too large")
        return self._string_length(node.min_length, node.max_length, hint, pointer)

    def _format_rules(self, name: str) -> str | None:
        """The string rule of format ``name`` (its rules are built once per process, then reused)."""
        prefix = "format-" + "".join(c if c.isascii() and c.isalnum() else "-" for c in name)
        if prefix in self._names:
            return prefix
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
        if prefix in self.rules or any(
            name in self._names and self.rules.get(name) != body for name, body in rules.items()
        ):
            return None  # a name clash with this grammar's rules: build it under fresh names
        self._add_rules(rules)
        self._names.add(prefix)
        self.rules[prefix] = seq('"\\""', content, '"\\""')
        return prefix

    # ------------------------------------------------------------------ numbers
    def _digits(self, after_first: bool) -> str:
        """Digits of an integer part after its first digit, or of a fraction; bounded with ``max_digits``."""
        n = self.options.max_digits
        if n is None:
            return "[0-9]*" if after_first else "[0-9]+"
        return f"[0-9]{{0,{n - 1}}}" if after_first else f"[0-9]{{1,{n}}}"

    def _number(self, node: NumberNode, hint: str) -> str | None:
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
            expr, rules, note = numeric.emit(node, self._fresh(hint + "-n"), self.options.max_digits)
        except Inexpressible as error:
            self.report.loosened(node.pointer, error.keyword, str(error))
            return self.primitive("integer" if node.integer else "number")
        if expr is None:
            return None
        if note:
            keyword = "minimum" if node.multiple_of is None else "multipleOf"
            last = node.pointer.rsplit("/", 1)[-1]
            if node.minimum is not None and node.minimum == node.maximum and last in ("const", "enum"):
                keyword = last
            self.report.restricted(node.pointer, keyword, note)
        self._add_rules(rules)
        return expr

    def _add_rules(self, rules: dict[str, str]) -> None:
        for name, body in rules.items():
            self._names.add(name)
            self.rules[name] = body

    # ------------------------------------------------------------------ arrays
    def _array(self, node: ArrayNode, hint: str) -> str | None:
        t = self.tokens
        contains = [c for c in node.contains if c.minimum > 0 or c.maximum is not None]
        if len(contains) != len(node.contains):
            node = replace(node, contains=tuple(contains))
        if node.unique:
            body = self._unique_array(node, hint)
            if body is not None:
                return body
        if contains:
            if node.prefix or len(contains) > 1:
                self.report.loosened(
                    node.pointer, "contains", "only one 'contains' without a prefix is enforced"
                )
            if not node.prefix:
                body = self._contains_array(node, contains[0], hint)
                if body is not None:
                    return body
                self.report.loosened(node.pointer, "contains", "not enforced")
        prefix = [self.expr(item, f"{hint}-{index}") for index, item in enumerate(node.prefix)]
        max_items = node.max_items
        for index, expr in enumerate(prefix):
            if expr is None:
                max_items = index if max_items is None else min(max_items, index)
                break
        prefix = prefix[: max_items if max_items is not None else len(prefix)]
        items = (
            self.expr(node.items, f"{hint}-item") if max_items is None or max_items > len(prefix) else None
        )
        if items is None:
            limit = len(prefix)
            max_items = limit if max_items is None else min(max_items, limit)
        if node.min_items > (max_items if max_items is not None else node.min_items):
            return None
        low = node.min_items
        if max_items == 0:
            return t.empty_arr
        first = prefix[0] if prefix else items
        assert first is not None
        tail = self._array_tail(prefix, items, 1, low, max_items, hint, node.pointer)
        body = seq(t.open_arr, first, tail, t.close_arr)
        if low == 0:
            body = f"{t.empty_arr} | {body}"
        return body

    def _array_tail(
        self,
        prefix: list[str | None],
        items: str | None,
        index: int,
        low: int,
        high: int | None,
        hint: str,
        pointer: str,
    ) -> str:
        t = self.tokens
        if index < len(prefix):
            element = prefix[index]
            assert element is not None
            rest = self._array_tail(prefix, items, index + 1, low, high, hint, pointer)
            inner = seq(t.comma, element, rest)
            return inner if index < low else f"({inner})?"
        if items is None:
            return ""
        remaining_low = max(0, low - index)
        remaining_high = None if high is None else high - index
        if remaining_high == 0:
            return ""
        atom = group(seq(t.comma, items))
        if (remaining_low > 2000 or (remaining_high or 0) > 2000) and not atom.isidentifier():
            atom = self.define(hint + "-next", seq(t.comma, items))
        try:
            return repeat(atom, remaining_low, remaining_high)
        except RepeatTooLarge:
            self.report.loosened(pointer, "maxItems", "item count bound too large for a grammar")
            return f"{atom}*"

    def _contains_array(self, node: ArrayNode, contains: Contains, hint: str) -> str | None:
        """Arrays counting the items that match ``contains`` (states: matches so far, items so far)."""
        t = self.tokens
        try:
            matching = self.algebra.intersect(node.items, contains.node)
        except Inexpressible:
            return None
        try:
            other: Node | None = self.algebra.difference(node.items, contains.node)
        except Inexpressible:
            other = None
        low_c, high_c = contains.minimum, contains.maximum
        if other is None:
            if high_c is not None:
                self.report.loosened(node.pointer, "maxContains", "matching items cannot be told apart")
            high_c = None
        yes = self.expr(matching, f"{hint}-match")
        no = self.expr(other if other is not None else node.items, f"{hint}-other")
        if yes is None:
            return None if low_c > 0 else self._array(replace(node, contains=()), hint)
        count_cap = high_c if high_c is not None else low_c
        track_total = node.max_items is not None or node.min_items > low_c
        total_cap = (node.max_items if node.max_items is not None else node.min_items) if track_total else 0
        if (count_cap + 1) * (total_cap + 1) > MAX_CONTAINS_STATES:
            self.report.loosened(node.pointer, "contains", "count bounds too large to track")
            return None

        def bump_c(c: int) -> int | None:
            if high_c is not None:
                return c + 1 if c + 1 <= high_c else None
            return min(c + 1, low_c)

        def bump_n(n: int) -> int | None:
            if not track_total:
                return 0
            if node.max_items is not None:
                return n + 1 if n + 1 <= node.max_items else None
            return min(n + 1, node.min_items)

        def step(c: int, n: int, sep: list[str]) -> list[list[Any]]:
            alts: list[list[Any]] = []
            n2 = bump_n(n)
            if n2 is None:
                return alts
            c2 = bump_c(c)
            if c2 is not None:
                alts.append([*sep, yes, (c2, n2)])
            if no is not None:
                alts.append([*sep, no, (c, n2)])
            return alts

        firsts = step(0, 0, [])
        local: dict[tuple[int, int], list[list[Any]]] = {}
        todo = [x for alt in firsts for x in alt if _is_state(x)]
        while todo:
            state = todo.pop()
            if state in local:
                continue
            c, n = state
            alts = step(c, n, [t.comma])
            if c >= low_c and (not track_total or n >= node.min_items):
                alts.append([])
            local[state] = alts
            todo.extend(x for alt in alts for x in alt if _is_state(x))
        names = self._local_grammar(local, hint)
        first_parts = [
            seq(*(x if not _is_state(x) else names[x] for x in alt))
            for alt in firsts
            if all(not _is_state(x) or x in names for x in alt)
        ]
        parts = []
        if low_c == 0 and node.min_items == 0:
            parts.append(t.empty_arr)
        if first_parts:
            parts.append(seq(t.open_arr, group(" | ".join(first_parts)), t.close_arr))
        return " | ".join(parts) if parts else None

    def _unique_array(self, node: ArrayNode, hint: str) -> str | None:
        """Arrays of distinct items over small finite domains (per prefix position and for the rest).

        States are (position, values used so far); positions past the prefix share one state.
        """
        domains = [_points(item) for item in (*node.prefix, node.items)]
        if node.contains or any(domain is None for domain in domains):
            self.report.loosened(node.pointer, "uniqueItems", "items are not checked for duplicates")
            return None
        t = self.tokens
        keys: dict[Any, int] = {}
        choices: list[list[tuple[int, str]]] = []  # per position: (value index, expression)
        for position, domain in enumerate(domains):
            assert domain is not None
            options: list[tuple[int, str]] = []
            for value in domain:
                key = keys.setdefault(_point_key(value), len(keys))
                expr = self.expr(value, f"{hint}-{key}")
                if expr is not None:
                    options.append((key, expr))
            choices.append(options)
        tail = len(node.prefix)
        high = len(node.prefix) + len(choices[tail])
        if node.max_items is not None:
            high = min(high, node.max_items)
        local: dict[tuple[int, ...], list[list[str | tuple[int, ...]]]] = {}

        def step(position: int, used: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
            return [
                (expr, (min(position + 1, tail), *sorted((*used, key))))
                for key, expr in choices[min(position, tail)]
                if key not in used
            ]

        firsts = step(0, ()) if high >= 1 else []
        todo = [state for _, state in firsts]
        while todo:
            state = todo.pop()
            if state in local:
                continue
            if len(local) > MAX_UNIQUE_STATES:
                self.report.loosened(
                    node.pointer, "uniqueItems", "too many item combinations to check for duplicates"
                )
                return None
            used = state[1:]
            alts: list[list[str | tuple[int, ...]]] = []
            if len(used) < high:
                alts.extend([t.comma, expr, nxt] for expr, nxt in step(state[0], used))
            if len(used) >= node.min_items:
                alts.append([])
            local[state] = alts
            todo.extend(x for alt in alts for x in alt if isinstance(x, tuple))
        names = self._local_grammar(local, hint)
        starts = [seq(expr, names[state]) for expr, state in firsts if state in names]
        parts = []
        if node.min_items == 0:
            parts.append(t.empty_arr)
        if starts:
            parts.append(seq(t.open_arr, group(" | ".join(starts)), t.close_arr))
        return " | ".join(parts) if parts else None

    # ------------------------------------------------------------------ objects
    def _object(self, node: ObjectNode, hint: str) -> str | None:
        t = self.tokens
        props: list[tuple[str, str, bool]] = []
        for name, value in node.properties:
            required = name in node.required
            expr = self.expr(value, f"{hint}-{name}")
            if expr is None:
                if required:
                    return None
                continue
            props.append((name, seq(json_literal(name), t.colon, expr), required))
        extra = self._extras(node, hint)
        low, high = node.min_properties, node.max_properties
        required_count = sum(1 for _, _, r in props if r)
        # required keys are distinct and present; any further member adds at least one more key, but
        # repeated keys of additional properties could make up the rest of a larger count
        if extra is not None and low > required_count + 1:
            self.report.loosened(
                node.pointer,
                "minProperties",
                "repeated keys of additional properties could make up the count",
            )
        if high is not None and high < required_count:
            return None
        if not props and extra is None:
            return t.empty_obj if low == 0 else None
        if self.options.any_order and len(props) > 1:
            body = self._object_any_order(props, extra, low, high, hint)
            if body is not None:
                return body
        if not props and extra is not None:
            assert extra is not None
            first_low = max(low - 1, 0)
            rest_high = None if high is None else high - 1
            if high == 0:
                return t.empty_obj
            atom = group(seq(t.comma, extra))
            if first_low > 2000 or (rest_high or 0) > 2000:
                atom = self.define(hint + "-next", seq(t.comma, extra))
            try:
                tail = repeat(atom, first_low, rest_high)
            except RepeatTooLarge:
                self.report.loosened(node.pointer, "maxProperties", "bound too large for a grammar")
                tail = f"{atom}*"
            body = seq(t.open_obj, extra, tail, t.close_obj)
            if low == 0:
                body = f"{t.empty_obj} | {body}"
            return body
        counting = high is not None or low > required_count
        cap = (high if high is not None else low) if counting else 0
        if counting and (len(props) + 1) * (cap + 1) > MAX_OBJECT_STATES:
            self.report.loosened(
                node.pointer,
                "maxProperties" if high is not None else "minProperties",
                "property count bounds too large to track with this many properties",
            )
            counting, cap = False, 0
        body = self._object_ordered(
            props, extra, low if counting else 0, high if counting else None, cap, counting, hint
        )
        if body is not None and len(props) > 1 and (high is None or high > 1):
            self._report_order(node.pointer)
        return body

    def _report_order(self, pointer: str) -> None:
        """Report that two or more declared properties can only come in schema order."""
        if self.options.any_order:
            self.report.restricted(
                pointer, "properties", "properties must appear in schema order: too many for any order"
            )
        else:
            self.report.restricted(
                pointer,
                "properties",
                "properties must appear in schema order (any_order=True allows any order for small objects)",
            )

    def _extras(self, node: ObjectNode, hint: str) -> str | None:
        t = self.tokens
        declared = frozenset(name for name, _ in node.properties)
        members: list[str] = []
        for index, cls in enumerate(node.extras):
            if not self.productive(cls.value):
                continue
            keys = cls.keys
            if declared:
                from .intersect import intersect_strings

                narrowed = intersect_strings(keys, StringNode(excluded=declared))
                if isinstance(narrowed, Never):
                    continue
                keys = narrowed
            if not keys.pointer:
                keys = replace(keys, pointer=f"{node.pointer}/additionalProperties")
            key_expr = self.expr(keys, f"{hint}-key" if len(node.extras) == 1 else f"{hint}-key-{index}")
            if key_expr is None:
                continue
            value_expr = self.expr(
                cls.value, f"{hint}-value" if len(node.extras) == 1 else f"{hint}-value-{index}"
            )
            if value_expr is None:
                continue
            members.append(seq(key_expr, t.colon, value_expr))
        if not members:
            return None
        return self.define(hint + "-extra", " | ".join(members))

    def _object_ordered(
        self,
        props: list[tuple[str, str, bool]],
        extra: str | None,
        low: int,
        high: int | None,
        cap: int,
        counting: bool,
        hint: str,
    ) -> str | None:
        t = self.tokens
        n = len(props)

        def bump(c: int) -> int | None:
            if not counting:
                return 0
            if high is not None:
                return c + 1 if c + 1 <= high else None
            return min(c + 1, cap)

        local: dict[tuple[str, int, int], list[list[str | tuple[str, int, int]]]] = {}
        # R(i, c): after a member, next declared index i; S(i, c): the same without extras first
        todo: list[tuple[str, int, int]] = []
        firsts: list[list[str | tuple[str, int, int]]] = []
        c1 = bump(0)
        if c1 is not None:
            if extra is not None:
                firsts.append([extra, ("R", 0, c1)])
            for i in range(n):
                firsts.append([props[i][1], ("R", i + 1, c1)])
                if props[i][2]:
                    break
        todo = [s for alt in firsts for s in alt if isinstance(s, tuple)]
        while todo:
            state = todo.pop()
            if state in local:
                continue
            kind, i, c = state
            alts: list[list[str | tuple[str, int, int]]] = []
            if kind == "R":
                nxt = bump(c)
                if extra is not None and nxt is not None:
                    alts.append([t.comma, extra, ("R", i, nxt)])
                alts.append([("S", i, c)])
            else:
                if i < n:
                    nxt = bump(c)
                    if nxt is not None:
                        alts.append([t.comma, props[i][1], ("R", i + 1, nxt)])
                    if not props[i][2]:
                        alts.append([("S", i + 1, c)])
                elif not counting or c >= low:
                    alts.append([])
            local[state] = alts
            todo.extend(s for alt in alts for s in alt if isinstance(s, tuple))
        names = self._local_grammar(local, hint)
        first_parts = []
        for alt in firsts:
            if all(not isinstance(x, tuple) or x in names for x in alt):
                first_parts.append(seq(*(x if isinstance(x, str) else names[x] for x in alt)))
        parts = []
        if not any(r for _, _, r in props) and low == 0:
            parts.append(t.empty_obj)
        if first_parts:
            inner = first_parts[0] if len(first_parts) == 1 else group(" | ".join(first_parts))
            parts.append(seq(t.open_obj, inner, t.close_obj))
        if not parts:
            return None
        return " | ".join(parts)

    def _object_any_order(
        self, props: list[tuple[str, str, bool]], extra: str | None, low: int, high: int | None, hint: str
    ) -> str | None:
        """Members in any order: states are the sets of tracked properties seen so far.

        Every declared property is tracked (so none repeats) when there are at most
        ``MAX_ANY_ORDER``; otherwise only required ones are, and optional ones may come anywhere.
        Returns None when the object is too large for either (the caller keeps schema order).
        """
        n = len(props)
        required = frozenset(i for i, p in enumerate(props) if p[2])
        if n <= MAX_ANY_ORDER:
            tracked = frozenset(range(n))
        elif len(required) <= MAX_ANY_ORDER_REQUIRED:
            tracked = required
        else:
            return None
        counting = low > len(required) or high is not None
        if counting and (extra is not None or tracked != frozenset(range(n))):
            return None
        t = self.tokens
        free = [props[i][1] for i in range(n) if i not in tracked] + ([extra] if extra is not None else [])

        def moves(used: frozenset[int], sep: list[str]) -> list[list[Any]]:
            alts: list[list[Any]] = []
            if high is None or len(used) < high:
                for i in range(n):
                    if i in tracked and i not in used:
                        alts.append([*sep, props[i][1], used | {i}])
            for member in free:
                alts.append([*sep, member, used])
            return alts

        firsts = moves(frozenset(), [])
        local: dict[frozenset[int], list[list[Any]]] = {}
        todo = [x for alt in firsts for x in alt if _is_state(x)]
        while todo:
            used = todo.pop()
            if used in local:
                continue
            alts = moves(used, [t.comma])
            if required <= used and len(used) >= low:
                alts.append([])
            local[used] = alts
            todo.extend(x for alt in alts for x in alt if _is_state(x) and x not in local)
        names = self._local_grammar(local, hint)
        first_parts = [
            seq(*(x if not _is_state(x) else names[x] for x in alt))
            for alt in firsts
            if all(not _is_state(x) or x in names for x in alt)
        ]
        parts = []
        if not required and low == 0:
            parts.append(t.empty_obj)
        if first_parts:
            parts.append(seq(t.open_obj, group(" | ".join(first_parts)), t.close_obj))
        return " | ".join(parts) if parts else None

    def _local_grammar(self, local: dict[Any, list[list[Any]]], hint: str) -> dict[Any, str]:
        """Expressions for the states of a small state grammar.

        Alternatives are lists of text and states; an empty list is the empty alternative.  States
        that derive nothing are dropped, states with one alternative are inlined, the rest become
        rules named after ``hint``.
        """
        productive = _productive_states(local)
        pruned = {
            state: [alt for alt in alts if all(not _is_state(x) or x in productive for x in alt)]
            for state, alts in local.items()
            if state in productive
        }
        inline = {state: alts[0] for state, alts in pruned.items() if len(alts) == 1 and state not in alts[0]}
        names: dict[Any, str] = {}
        pending: list[Any] = []

        def name_of(state: Any) -> str:
            if state not in names:
                names[state] = self._fresh(f"{hint}-{_state_label(state)}")
                self.rules[names[state]] = ""
                pending.append(state)
            return names[state]

        def render(alt: list[Any], depth: int = 0) -> str:
            out: list[str] = []
            for x in alt:
                if not _is_state(x):
                    out.append(str(x))
                elif x in inline and depth < 100:
                    out.append(render(inline[x], depth + 1))
                else:
                    out.append(name_of(x))
            return seq(*out)

        result: dict[Any, str] = {}
        for state in sorted(pruned, key=_state_key):
            if state in inline:
                rendered = render(inline[state])
                result[state] = group(rendered) if rendered else ""
            else:
                result[state] = name_of(state)
        while pending:
            state = pending.pop()
            texts = [render(alt) for alt in pruned[state]]
            nonempty = [r for r in texts if r]
            body = " | ".join(nonempty)
            if len(nonempty) < len(texts):
                body = "| " + body if body else '""'
            self.rules[names[state]] = body
        return result


_NAME_CHAR = re.compile(r"[^A-Za-z0-9-]+")


def _rule_base(hint: str) -> str:
    """A rule name made of ``hint``'s letters, digits and single dashes (at most 60 characters)."""
    base = re.sub("-{2,}", "-", _NAME_CHAR.sub("-", hint)).strip("-") or "r"
    if base[0].isdigit():
        base = "r" + base
    return base[:60].rstrip("-")


def _productive_states(local: dict[Any, list[list[Any]]]) -> set[Any]:
    """The states of a state grammar that derive some text (a worklist: linear in its size)."""
    missing: list[int] = []  # per alternative: how many of its states are not known productive yet
    owner: list[Any] = []
    users: dict[Any, list[int]] = {}
    todo: list[Any] = []
    productive: set[Any] = set()
    for state, alts in local.items():
        for alt in alts:
            index = len(missing)
            needed = [x for x in alt if _is_state(x)]
            missing.append(len(needed))
            owner.append(state)
            for x in needed:
                users.setdefault(x, []).append(index)
            if not needed and state not in productive:
                productive.add(state)
                todo.append(state)
    while todo:
        for index in users.get(todo.pop(), ()):
            missing[index] -= 1
            if missing[index] == 0 and owner[index] not in productive:
                productive.add(owner[index])
                todo.append(owner[index])
    return productive


MIN_COMPACT_INTEGERS = 16
"""Unions of at least this many integer values are written as one rule (see ``Emitter._integers``)."""
MAX_COMPACT_INTEGER = 10**15
"""Larger magnitudes keep their exponent spellings (encoders write large floats with one)."""


def _integer_point(node: Node) -> int | None:
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


def _is_state(x: object) -> bool:
    return type(x) is tuple or type(x) is frozenset


def _state_key(state: object) -> tuple[object, ...]:
    if isinstance(state, frozenset):
        return (len(state), sorted(state))
    assert isinstance(state, tuple)
    return tuple(state)


def _state_label(state: object) -> str:
    if isinstance(state, frozenset):
        return "u" + "-".join(str(i) for i in sorted(state)) if state else "u"
    assert isinstance(state, tuple)
    return "".join(str(x) for x in state) if len(state) else "s"


def _point_key(node: Node) -> tuple[Any, ...]:
    """What makes two values of :func:`_points` equal for ``uniqueItems`` (1 and 1.0 are equal)."""
    if isinstance(node, NullNode):
        return ("null",)
    if isinstance(node, BooleanNode):
        return ("bool", *node.values)
    if isinstance(node, StringNode):
        return ("str", *sorted(node.literals or ()))
    assert isinstance(node, NumberNode)
    return ("number", node.minimum)


def _points(node: Node) -> list[Node] | None:
    """The distinct values of a small finite node, each as its own node (None when not finite)."""
    out: list[Node] = []
    for alt in alternatives(node):
        if isinstance(alt, NullNode):
            out.append(alt)
        elif isinstance(alt, BooleanNode):
            out.extend(BooleanNode(frozenset({v})) for v in sorted(alt.values))
        elif isinstance(alt, StringNode) and alt.literals is not None:
            out.extend(StringNode(literals=frozenset({v})) for v in sorted(alt.literals))
        elif isinstance(alt, NumberNode) and alt.minimum is not None and alt.minimum == alt.maximum:
            out.append(alt)
        elif (
            isinstance(alt, NumberNode)
            and alt.integer
            and alt.minimum is not None
            and alt.maximum is not None
            and alt.maximum - alt.minimum < MAX_UNIQUE_DOMAIN
        ):
            value = alt.minimum
            while value <= alt.maximum:
                out.append(NumberNode(integer=True, minimum=value, maximum=value))
                value += 1
        else:
            return None
        if len(out) > MAX_UNIQUE_DOMAIN:
            return None
    return out


def _refs_in(node: Node, visited: set[int]) -> list[str]:
    """Names of the definitions ``node`` refers to (sub-nodes in ``visited`` are skipped)."""
    out: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if isinstance(current, Ref):
            out.append(current.name)
        elif isinstance(current, AnyOf):
            stack.extend(current.alternatives)
        elif isinstance(current, ArrayNode):
            stack.extend(current.prefix)
            stack.append(current.items)
            stack.extend(c.node for c in current.contains)
        elif isinstance(current, ObjectNode):
            stack.extend(value for _, value in current.properties)
            stack.extend(cls.value for cls in current.extras)
    return out


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            edges = [w for w in graph.get(v, []) if w in graph]
            if i < len(edges):
                work.append((v, i + 1))
                w = edges[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            for w in edges:
                if w in on_stack:
                    low[v] = min(low[v], low[w])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1 or v in graph.get(v, []):
                    out.append(sorted(component))
    return out


__all__ = ["Emitter", "Options"]
