"""Generation bounds: unbounded strings and arrays get a largest size, so that a model's values end.

A schema's own ``maxLength``/``maxItems`` win; each bound added is reported as a restriction.
Strings with a ``pattern`` or ``format`` keep their language (a length bound could make it too large
for a grammar); arrays with ``contains`` keep their counting automaton small the same way.
"""

from __future__ import annotations

from dataclasses import replace

from .model import AnyOf, ArrayNode, Contains, KeyClass, Never, Node, ObjectNode, Ref, StringNode
from .report import Report


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
        if node.patterns or node.formats or node.negated or node.excluded:
            return node
        limit = max(max_string_length, node.min_length)
        report.restricted(where, "maxLength", f"generation bound: at most {limit} characters")
        return replace(node, max_length=limit)

    for name in list(definitions):
        definitions[name] = visit(definitions[name], pointers.get(name, ""))
    return visit(root, "")


def _open_ended(node: ArrayNode) -> bool:
    return node.max_items is None and not node.contains and not isinstance(node.items, Never)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
