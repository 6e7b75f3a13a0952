"""Definitions made ready for emission: left recursion through ``$ref`` alternatives removed, and the
definitions that match nothing found."""

from __future__ import annotations

from structgen.errors import InvalidSchemaError
from structgen.gbnf.analysis import strongly_connected

from .intersect import is_never
from .model import AnyOf, ArrayNode, Never, Node, ObjectNode, Ref, StringNode, alternatives, union


def prepare(root: Node, definitions: dict[str, Node], pointers: dict[str, str]) -> dict[str, bool]:
    """Rewrite the definitions ``root`` reaches in place so that none starts with itself, and say which
    of them match something.

    A definition whose alternatives lead back to it through other definitions' alternatives (``a: b |
    x``, ``b: a | y``) matches what its other alternatives match: the cycle's alternatives are dropped.
    """
    reachable = _reachable(root, definitions)
    numbers = {name: index for index, name in enumerate(reachable)}
    heads = [
        [
            numbers[alt.name]
            for alt in alternatives(definitions[name])
            if isinstance(alt, Ref) and alt.name in numbers
        ]
        for name in reachable
    ]
    for component in strongly_connected(heads):
        if len(component) == 1 and component[0] not in heads[component[0]]:
            continue
        members = {reachable[index] for index in component}
        for name in sorted(members):
            content = definitions[name]
            kept = [
                alt for alt in alternatives(content) if not (isinstance(alt, Ref) and alt.name in members)
            ]
            if not kept and not isinstance(content, Never):
                raise InvalidSchemaError(
                    f"$ref cycle without a base case through {name!r}", pointers.get(name, ""), "$ref"
                )
            definitions[name] = union(kept)
    productive = dict.fromkeys(reachable, False)
    changed = True
    while changed:
        changed = False
        for name in reachable:
            if not productive[name] and is_productive(definitions[name], productive):
                productive[name] = True
                changed = True
    return productive


def is_productive(node: Node, productive: dict[str, bool]) -> bool:
    """Whether ``node`` matches some value, given which definitions do."""
    if isinstance(node, Never):
        return False
    if isinstance(node, Ref):
        return productive.get(node.name, False)
    if isinstance(node, AnyOf):
        return any(is_productive(alt, productive) for alt in node.alternatives)
    if isinstance(node, ArrayNode):
        needed = list(node.prefix[: node.min_items])
        if node.min_items > len(node.prefix):
            needed.append(node.items)
        needed.extend(c.node for c in node.contains if c.minimum > 0)
        return all(is_productive(item, productive) for item in needed)
    if isinstance(node, ObjectNode):
        return all(
            is_productive(value, productive) for name, value in node.properties if name in node.required
        )
    if isinstance(node, StringNode):
        return not is_never(node)
    return True


def _reachable(root: Node, definitions: dict[str, Node]) -> list[str]:
    """The definitions ``root`` refers to, directly or through other definitions (in order of discovery)."""
    seen: list[str] = []
    known: set[str] = set()
    visited: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        for ref in _refs_in(stack.pop(), visited):
            if ref not in known and ref in definitions:
                known.add(ref)
                seen.append(ref)
                stack.append(definitions[ref])
    return seen


def _children(node: Node) -> list[Node]:
    if isinstance(node, AnyOf):
        return list(node.alternatives)
    if isinstance(node, ArrayNode):
        return [*node.prefix, node.items, *(c.node for c in node.contains)]
    if isinstance(node, ObjectNode):
        return [value for _, value in node.properties] + [cls.value for cls in node.extras]
    return []


def _refs_in(node: Node, visited: set[int]) -> list[str]:
    """Names of the definitions ``node`` refers to (sub-nodes in ``visited`` are skipped)."""
    out: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) not in visited:
            visited.add(id(current))
            if isinstance(current, Ref):
                out.append(current.name)
            stack.extend(_children(current))
    return out
