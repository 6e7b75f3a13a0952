"""Schema documents to normalized nodes: keyword dispatch, ``$ref`` definitions, unevaluated keywords."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from structgen.errors import InvalidSchemaError

from .defs import Definitions
from .intersect import Algebra, is_never
from .keywords import DRAFT_KEYWORDS, KEYWORDS, SIBLING_KEYWORDS, Fold
from .model import ANY, NEVER, AnyOf, ArrayNode, KeyClass, Node, ObjectNode, Ref, alternatives, union
from .refs import Document, Scope
from .report import Report

# Applicators run after the type keywords, in this order (``not`` and ``if`` run last on their own).
_ORDER = {
    keyword: index
    for index, keyword in enumerate(
        [
            "$ref",
            "$dynamicRef",
            "$recursiveRef",
            "allOf",
            "enum",
            "const",
            "dependentRequired",
            "dependencies",
            "dependentSchemas",
            "anyOf",
            "oneOf",
            "if",
            "not",
            "unevaluatedProperties",
            "unevaluatedItems",
        ],
        start=1,
    )
}


class Normalizer:
    """Builds the node of every schema of a document; ``$ref`` targets become named definitions."""

    def __init__(self, document: Document, report: Report, budget: int = 200_000):
        self.doc = document
        self.report = report
        self.defs = Definitions(budget)
        self.algebra = Algebra(self.defs)
        self.algebra.on_loosened = lambda keyword, reason: report.loosened("", keyword, reason)
        self._ref_names: dict[object, str] = {}

    def root(self) -> Node:
        """The node of the document root (a :class:`Ref` to the definition ``root``)."""
        scope = self.doc.root_scope()
        return self._define(self.doc.root, scope, "root")

    def node(self, schema: Any, scope: Scope) -> Node:
        """The node of ``schema`` found at ``scope``."""
        self.defs.tick()
        if schema is True:
            return ANY
        if schema is False:
            return NEVER
        if not isinstance(schema, Mapping):
            raise InvalidSchemaError("a schema must be an object or a boolean", scope.pointer)
        scope = self.doc.enter(scope, schema)
        if "$ref" in schema and scope.draft <= 7:
            value = schema["$ref"]
            if not isinstance(value, str):
                raise InvalidSchemaError("$ref must be a string", scope.child("$ref").pointer, "$ref")
            return self.ref(value, scope, "$ref")
        known = DRAFT_KEYWORDS[scope.draft]
        fold = Fold(self, schema, scope)
        for keyword in schema:
            function = KEYWORDS.get(keyword)
            if function is None:
                continue
            if keyword not in known:
                if keyword not in SIBLING_KEYWORDS:
                    self.report.ignored(
                        scope.child(keyword).pointer,
                        keyword,
                        f"{keyword} is not a keyword of draft {scope.draft}",
                    )
                continue
            fold.priority = _ORDER.get(keyword, 0)
            function(fold, schema[keyword])
        return fold.finish()

    def rank_names(self, names: Iterable[str]) -> None:
        """Remember the order in which property names first appear (it orders merged objects)."""
        rank = self.algebra.rank
        for name in names:
            rank.setdefault(name, len(rank))

    def ref(self, value: str, scope: Scope, keyword: str) -> Node:
        """A reference to the definition ``value`` resolves to (computed on first use)."""
        contents, target = self.doc.lookup(scope, value, keyword)
        if contents is True:
            return ANY
        if contents is False:
            return NEVER
        return self._define(contents, target, _hint(target.pointer, value))

    def _define(self, contents: Any, scope: Scope, hint: str) -> Node:
        key: object = id(contents) if isinstance(contents, (Mapping, list)) else repr(contents)
        name = self._ref_names.get(key)
        if name is None:
            name = self.defs.new_name(hint)
            self._ref_names[key] = name
            self.defs.pointers[name] = scope.pointer
            self.defs.compute(name, lambda: self.node(contents, scope))
        elif self.defs.in_progress(name):
            self.defs.recursive.add(name)
        return Ref(name)

    def apply_unevaluated_properties(self, current: Node, rest: Node, pointer: str) -> Node:
        """``current`` where keys no keyword evaluated must also match ``rest``."""
        objects = [
            alt
            for alt in self._expand(current, pointer, "unevaluatedProperties")
            if isinstance(alt, ObjectNode)
        ]
        self._check_disjoint(objects, pointer, "unevaluatedProperties")
        out: list[Node] = []
        for alt in self._expand(current, pointer, "unevaluatedProperties"):
            if isinstance(alt, ObjectNode):
                extras = []
                with self.defs.descend():
                    for cls in alt.extras:
                        if cls.evaluated:
                            extras.append(cls)
                        else:
                            extras.append(KeyClass(cls.keys, self.algebra.intersect(cls.value, rest), True))
                from .intersect import make_object

                alt = make_object(replace(alt, extras=tuple(extras)))
            out.append(alt)
        return union(out)

    def apply_unevaluated_items(self, current: Node, rest: Node, pointer: str) -> Node:
        """``current`` where items no keyword evaluated must also match ``rest``."""
        arrays = [
            alt for alt in self._expand(current, pointer, "unevaluatedItems") if isinstance(alt, ArrayNode)
        ]
        self._check_disjoint(arrays, pointer, "unevaluatedItems")
        out: list[Node] = []
        for alt in self._expand(current, pointer, "unevaluatedItems"):
            if isinstance(alt, ArrayNode) and not alt.items_evaluated:
                if alt.contains:
                    self.report.loosened(
                        pointer, "unevaluatedItems", "items evaluated by 'contains' are not tracked"
                    )
                else:
                    from .intersect import make_array

                    with self.defs.descend():
                        items = self.algebra.intersect(alt.items, rest)
                    alt = make_array(replace(alt, items=items, items_evaluated=True))
            out.append(alt)
        return union(out)

    def _expand(self, node: Node, pointer: str, keyword: str) -> list[Node]:
        out: list[Node] = []
        for alt in alternatives(node):
            if isinstance(alt, Ref):
                content = self.algebra.deref(alt)
                if content is None:
                    self.report.loosened(pointer, keyword, "not applied through a recursive $ref")
                    out.append(alt)
                    continue
                out.extend(self._expand(content, pointer, keyword))
            elif isinstance(alt, AnyOf):
                out.extend(self._expand(alt, pointer, keyword))
            else:
                out.append(alt)
        return out

    def _check_disjoint(self, nodes: list[Node], pointer: str, keyword: str) -> None:
        for i in range(len(nodes)):
            for j in range(i + 1, len(nodes)):
                if not is_never(self.algebra.intersect(nodes[i], nodes[j])):
                    self.report.loosened(
                        pointer,
                        keyword,
                        "overlapping alternatives: annotations of other alternatives are not merged",
                    )
                    return


def _hint(pointer: str, ref: str) -> str:
    """A readable rule name for the target of a reference."""
    tokens = [t for t in pointer.split("#")[-1].split("/") if t]
    skip = {"definitions", "$defs", "properties", "items", "allOf", "anyOf", "oneOf"}
    useful = [t.replace("~1", "-").replace("~0", "-") for t in tokens if t not in skip]
    if useful:
        return "-".join(useful[-2:])
    name = ref.rstrip("#/").rsplit("/", 1)[-1]
    return name or "root"
