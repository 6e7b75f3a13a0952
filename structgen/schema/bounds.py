"""Generation bounds: unbounded strings and arrays get a largest size, so that a model's values end.

A schema's own ``maxLength``/``maxItems`` win; each bound added is reported as a restriction.
Strings with a ``pattern`` or ``format`` get the longest bound, at most the free strings' one, whose
language (the pattern's, cut at that length) stays small enough for a grammar; when none does, they
keep their language unbounded. Arrays with ``contains`` keep their counting automaton small the same way.
"""

from __future__ import annotations

from dataclasses import replace

from . import strings
from .emit.strings import MAX_BOUNDED_LENGTH, MAX_STRING_STATES
from .model import AnyOf, ArrayNode, Contains, KeyClass, Never, Node, ObjectNode, Ref, StringNode
from .report import Inexpressible, Report

SHORTEST_LANGUAGE_BOUND = 32
"""A patterned string is not bounded below this many characters (its language is left unbounded)."""


def bound_sizes(
    root: Node,
    definitions: dict[str, Node],
    report: Report,
    pointers: dict[str, str],
    *,
    max_string_length: int | None,
    max_items: int | None,
) -> Node:
    """``root`` (and ``definitions``, in place) with unbounded strings and arrays bounded."""
    memo: dict[Node, Node] = {}

    def visit(node: Node, where: str) -> Node:
        if isinstance(node, Ref):
            return node
        if isinstance(node, StringNode):
            return bound_string(node, where or node.pointer)
        cached = memo.get(node)
        if cached is not None:
            return cached
        result: Node = node
        if isinstance(node, AnyOf):
            result = AnyOf(tuple(visit(alt, where) for alt in node.alternatives))
        elif isinstance(node, ArrayNode):
            at = where or node.pointer
            result = replace(
                node,
                prefix=tuple(visit(item, f"{at}/prefixItems/{i}") for i, item in enumerate(node.prefix)),
                items=visit(node.items, f"{at}/items"),
                contains=tuple(
                    Contains(visit(c.node, f"{at}/contains"), c.minimum, c.maximum) for c in node.contains
                ),
            )
            if max_items is not None and _open_ended(result):
                limit = max(max_items, node.min_items, len(node.prefix))
                result = replace(result, max_items=limit)
                report.restricted(at, "maxItems", f"generation bound: at most {limit} items")
        elif isinstance(node, ObjectNode):
            at = where or node.pointer
            result = replace(
                node,
                properties=tuple(
                    (name, visit(value, f"{at}/properties/{_escape(name)}"))
                    for name, value in node.properties
                ),
                extras=tuple(
                    KeyClass(cls.keys, visit(cls.value, f"{at}/additionalProperties"), cls.evaluated)
                    for cls in node.extras
                ),
            )
        memo[node] = result
        return result

    def bound_string(node: StringNode, where: str) -> Node:
        if max_string_length is None or node.max_length is not None or node.literals is not None:
            return node
        if node.negated or node.excluded:
            return node
        limit = max(max_string_length, node.min_length)
        if node.patterns or node.formats:
            found = language_bound(node, limit)
            if found is None:
                return node
            limit = found
        report.restricted(where, "maxLength", f"generation bound: at most {limit} characters")
        return replace(node, max_length=limit)

    for name in list(definitions):
        definitions[name] = visit(definitions[name], pointers.get(name, ""))
    return visit(root, "")


def language_bound(node: StringNode, limit: int) -> int | None:
    """The longest length of at most ``limit`` that bounds the patterned string ``node`` in a grammar of
    at most :data:`MAX_STRING_STATES` states; None when its language needs no bound or none fits."""
    try:
        lengths: tuple[int, int | None] | None = strings.realize(node).length_bounds()
    except Inexpressible:
        return None
    if lengths is None or (lengths[1] is not None and lengths[1] <= limit):
        return None
    low = max(SHORTEST_LANGUAGE_BOUND, lengths[0], node.min_length)
    high = min(limit, MAX_BOUNDED_LENGTH)
    if low > high or not _fits(node, low):
        return None
    while low < high:  # the states grow with the length: the longest that fits, by bisection
        middle = (low + high + 1) // 2
        if _fits(node, middle):
            low = middle
        else:
            high = middle - 1
    return low


def _fits(node: StringNode, length: int) -> bool:
    try:
        return bool(strings.realize(replace(node, max_length=length)).state_count <= MAX_STRING_STATES)
    except Inexpressible:
        return False


def _open_ended(node: ArrayNode) -> bool:
    return node.max_items is None and not node.contains and not isinstance(node.items, Never)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
