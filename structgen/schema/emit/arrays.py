"""Arrays: prefix items and bounded repetition, ``contains`` counts, and distinct items."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..gbnftext import RepeatTooLarge, seq
from ..model import ArrayNode, BooleanNode, Contains, Node, NullNode, NumberNode, StringNode, alternatives
from ..report import Inexpressible
from . import states
from .primitives import Primitives

MAX_UNIQUE_DOMAIN = 8
MAX_UNIQUE_STATES = 600
MAX_CONTAINS_STATES = 400


class Arrays(Primitives):
    """Rules for array nodes."""

    def array(self, node: ArrayNode, hint: str) -> str | None:
        """Arrays of ``node`` (None when there are none)."""
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
        return self._plain_array(node, hint)

    def _plain_array(self, node: ArrayNode, hint: str) -> str | None:
        t = self.tokens
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
        return f"{t.empty_arr} | {body}" if low == 0 else body

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
        remaining_high = None if high is None else high - index
        if remaining_high == 0:
            return ""
        try:
            return self.repeat_next(items, max(0, low - index), remaining_high, hint)
        except RepeatTooLarge:
            self.report.loosened(pointer, "maxItems", "item count bound too large for a grammar")
            return self.repeat_next(items, 0, None, hint)

    def _contains_array(self, node: ArrayNode, contains: Contains, hint: str) -> str | None:
        """Arrays counting the items that match ``contains`` (states: matches so far, items so far)."""
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
            return None if low_c > 0 else self.array(replace(node, contains=()), hint)
        count_cap = high_c if high_c is not None else low_c
        track_total = node.max_items is not None or node.min_items > low_c
        total_cap = (node.max_items if node.max_items is not None else node.min_items) if track_total else 0
        if (count_cap + 1) * (total_cap + 1) > MAX_CONTAINS_STATES:
            self.report.loosened(node.pointer, "contains", "count bounds too large to track")
            return None
        count = states.Counter(low_c, high_c)
        total = states.Counter(node.min_items, node.max_items) if track_total else None
        t = self.tokens

        def moves(c: int, n: int, sep: list[str]) -> list[states.Step]:
            alts: list[states.Step] = []
            n2 = total.bump(n) if total is not None else 0
            if n2 is None:
                return alts
            c2 = count.bump(c)
            if c2 is not None:
                alts.append([*sep, yes, (c2, n2)])
            if no is not None:
                alts.append([*sep, no, (c, n2)])
            return alts

        def step(state: states.State) -> list[states.Step]:
            c, n = state
            assert isinstance(c, int) and isinstance(n, int)
            alts = moves(c, n, [t.comma])
            if c >= low_c and (total is None or n >= node.min_items):
                alts.append([])
            return alts

        empty = t.empty_arr if low_c == 0 and node.min_items == 0 else None
        return states.build(self, hint, moves(0, 0, []), step, (t.open_arr, t.close_arr), empty)

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
        for domain in domains:
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

        def moves(state: tuple[Any, ...], sep: list[str]) -> list[states.Step]:
            position, used = state[0], state[1:]
            return [
                [*sep, expr, (min(position + 1, tail), *sorted((*used, key)))]
                for key, expr in choices[min(position, tail)]
                if key not in used
            ]

        def step(state: states.State) -> list[states.Step]:
            assert isinstance(state, tuple)
            used = len(state) - 1
            alts = moves(state, [t.comma]) if used < high else []
            return [*alts, []] if used >= node.min_items else alts

        firsts = moves((0,), []) if high >= 1 else []
        empty = t.empty_arr if node.min_items == 0 else None
        try:
            return states.build(
                self, hint, firsts, step, (t.open_arr, t.close_arr), empty, limit=MAX_UNIQUE_STATES
            )
        except states.TooManyStates:
            self.report.loosened(
                node.pointer, "uniqueItems", "too many item combinations to check for duplicates"
            )
            return None


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
