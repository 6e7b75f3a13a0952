"""OpenAPI 3.0's ``nullable`` spelled as JSON Schema, for the validation of generated values.

OpenAPI 3.0.3 defines ``nullable: true`` as adding ``"null"`` to the types that ``type`` lists in the
same schema object, and nothing more: ``enum``, ``const``, ``allOf``, ``$ref``... still apply to
``null`` (so ``{"type": "string", "enum": ["a"], "nullable": true}`` still rejects it).  The grammar
follows that definition; python-jsonschema ignores ``nullable``, so the schema given to it must list
``"null"`` in ``type`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from structgen.errors import StructgenError

from .refs import Document, Scope

Token = str | int
Path = tuple[Token, ...]

_ONE = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "contentSchema",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_LIST = frozenset({"allOf", "anyOf", "items", "oneOf", "prefixItems"})
_MAP = frozenset(
    {"$defs", "definitions", "dependencies", "dependentSchemas", "patternProperties", "properties"}
)
_REFS = ("$ref", "$dynamicRef", "$recursiveRef")


def nullable_as_type(schema: Any, draft: int = 2020) -> Any:
    """``schema`` with ``"null"`` added to ``type`` wherever a sub-schema says ``nullable: true``.

    Sub-schemas are found where the keywords of every draft put them and where a ``$ref`` points.
    Nothing moves (``nullable`` stays, ``$ref`` pointers still resolve) and ``schema`` is not
    changed: the parts that change are copies.  ``schema`` itself is returned when nothing changes.
    """
    if not _mentions_nullable(schema):
        return schema
    paths = _nullable_paths(schema, draft)
    if not paths:
        return schema
    trie = _Trie()
    for path in paths:
        node = trie
        for token in path:
            node = node.children.setdefault(token, _Trie())
        node.here = True
    return trie.apply(schema)


def _mentions_nullable(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if item.get("nullable") is True:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _with_null(schema: Mapping[str, Any]) -> list[str] | None:
    """The ``type`` of a ``nullable: true`` schema with ``"null"`` added (None: nothing to add)."""
    if schema.get("nullable") is not True:
        return None
    names = schema.get("type")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names) or "null" in names:
        return None
    return [*names, "null"]


def _nullable_paths(root: Any, draft: int) -> set[Path]:
    """The paths of the sub-schemas whose ``type`` needs ``"null"``."""
    document = Document(root, draft)
    found: set[Path] = set()
    seen: set[Path] = set()
    stack: list[tuple[Any, Scope, Path]] = [(root, document.root_scope(), ())]
    while stack:
        schema, scope, path = stack.pop()
        if not isinstance(schema, Mapping) or path in seen:
            continue
        seen.add(path)
        scope = document.enter(scope, schema)
        if _with_null(schema) is not None:
            found.add(path)
        for keyword, value in schema.items():
            if keyword in _ONE and isinstance(value, Mapping):
                stack.append((value, scope, (*path, keyword)))
            elif keyword in _LIST and isinstance(value, list):
                stack.extend((item, scope, (*path, keyword, i)) for i, item in enumerate(value))
            elif keyword in _MAP and isinstance(value, Mapping):
                stack.extend((item, scope, (*path, keyword, name)) for name, item in value.items())
        for keyword in _REFS:
            target = _target(root, document, scope, schema.get(keyword), keyword)
            if target is not None:
                stack.append(target)
    return found


def _target(
    root: Any, document: Document, scope: Scope, ref: Any, keyword: str
) -> tuple[Any, Scope, Path] | None:
    """What ``ref`` points to inside ``root``, with its scope and path (None: elsewhere or nowhere)."""
    if not isinstance(ref, str):
        return None
    try:
        contents, target = document.lookup(scope, ref, keyword)
    except StructgenError:
        return None
    pointer = target.pointer
    if pointer and not pointer.startswith("/"):
        return None  # another document
    path: list[Token] = []
    node = root
    for raw in pointer.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and token in node:
            path.append(token)
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            path.append(int(token))
            node = node[int(token)]
        else:
            return None
    return (contents, target, tuple(path)) if node is contents else None


@dataclass
class _Trie:
    """Paths to rewrite: ``here`` marks a schema whose ``type`` gets ``"null"``."""

    here: bool = False
    children: dict[Token, _Trie] = field(default_factory=dict)

    def apply(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            copy = dict(value)
            for token, child in self.children.items():
                copy[str(token)] = child.apply(value[token])
            if self.here:
                copy["type"] = _with_null(value)
            return copy
        items = list(value)
        for token, child in self.children.items():
            index = int(token)
            items[index] = child.apply(value[index])
        return items
