"""Schema documents to normalized nodes: keyword dispatch, ``$ref`` definitions, unevaluated keywords."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from structgen.errors import InvalidSchemaError

from .defs import Definitions
from .intersect import Algebra, intersect_strings, is_never
from .keywords import DRAFT_KEYWORDS, KEYWORDS, SIBLING_KEYWORDS, Fold
from .model import (
    ANY,
    NEVER,
    AnyOf,
    AnyValue,
    ArrayNode,
    KeyClass,
    Node,
    ObjectNode,
    Ref,
    StringNode,
    alternatives,
    everything_but,
    make_array,
    make_object,
    union,
)
from .refs import Document, Scope
from .report import Report, Severity
from .strings import string_matches

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


MAX_NESTED_DEFINITIONS = 24
"""Definitions computed inside one another before the next one is left for later (stack depth)."""


class Normalizer:
    """Builds the node of every schema of a document; ``$ref`` targets become named definitions.

    It is the :class:`~structgen.schema.keywords.Context` of the keyword functions.
    """

    def __init__(
        self,
        document: Document,
        report: Report,
        budget: int = 200_000,
        formats: bool = True,
    ):
        self.doc = document
        self.report = report
        self.formats = formats
        self.defs = Definitions(budget)
        self.algebra = Algebra(self.defs)
        self.algebra.on_loosened = lambda keyword, reason: report.loosened("", keyword, reason)
        self._ref_names: dict[object, str] = {}
        self.inexact: set[str] = set()
        self._defining = 0
        self._exact = 0  # sub-schemas being read that must be known exactly (nothing deferred in them)

    def root(self) -> Node:
        """The node of the document root (a :class:`Ref` to the definition ``root``)."""
        scope = self.doc.root_scope()
        return self._define(self.doc.root, scope, "root")

    def node(self, schema: Any, scope: Scope) -> Node:
        """The node of ``schema`` found at ``scope`` (already entered: its own ``$id`` applied)."""
        self.defs.tick()
        if schema is True:
            return ANY
        if schema is False:
            return NEVER
        if not isinstance(schema, Mapping):
            raise InvalidSchemaError("a schema must be an object or a boolean", scope.pointer)
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

    # ------------------------------------------------------------------ the keywords' context
    @property
    def uses_unevaluated(self) -> bool:
        return self.doc.uses_unevaluated  # remote documents are read (and indexed) on first use

    @property
    def last_spent(self) -> int:
        return self.algebra.last_spent

    def descend(self) -> AbstractContextManager[None]:
        return self.defs.descend()

    def sub(self, schema: Any, scope: Scope, exact: bool = False) -> tuple[Node, bool]:
        before = self.report.loosenings
        self._exact += exact
        try:
            node = self.node(schema, self.doc.enter(scope, schema))
        finally:
            self._exact -= exact
        return node, self.report.loosenings == before

    def target(self, value: str, scope: Scope, keyword: str) -> Any:
        return self.doc.lookup(scope, value, keyword)[0]

    def intersect(self, a: Node, b: Node) -> Node:
        return self.algebra.intersect(a, b)

    def difference(self, a: Node, b: Node, budget: int) -> Node:
        return self.algebra.difference(a, b, budget)

    def open_key_exclusion(self, a: Node, b: Node) -> tuple[str, Node] | None:
        return self.algebra.open_key_exclusion(a, b)

    def unevaluated(self, keyword: str, current: Node, rest: Node, pointer: str) -> Node:
        if keyword == "unevaluatedItems":
            return self._unevaluated_items(current, rest, pointer)
        return self._unevaluated_properties(current, rest, pointer)

    def note(self, severity: Severity, pointer: str, keyword: str, reason: str) -> None:
        self.report.add(severity, pointer, keyword, reason)

    def rank(self, names: Iterable[str]) -> None:
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
            if self._defining >= MAX_NESTED_DEFINITIONS and not self._exact:
                # a long chain of references: finished later from a shallow stack, not by recursion
                self.defs.defer(name, lambda: self._content(name, contents, scope))
                self.inexact.add(name)  # not known yet: whoever uses it cannot count on it being exact
                self.report.loosenings += 1
                return Ref(name)
            self.defs.compute(name, lambda: self._content(name, contents, scope))
        elif self.defs.in_progress(name):
            self.defs.recursive.add(name)
        elif name in self.inexact:
            self.report.loosenings += 1  # whoever uses this definition is not exact either
        return Ref(name)

    def _content(self, name: str, contents: Any, scope: Scope) -> Node:
        before = self.report.loosenings
        self._defining += 1
        try:
            node = self.node(contents, scope)
        finally:
            self._defining -= 1
        if self.report.loosenings != before:
            self.inexact.add(name)
        return node

    def _unevaluated_properties(self, current: Node, rest: Node, pointer: str) -> Node:
        """``current`` where keys no keyword evaluated must also match ``rest``."""
        objects = [
            alt
            for alt in self._expand(current, pointer, "unevaluatedProperties")
            if isinstance(alt, ObjectNode)
        ]
        overlap = not self._check_disjoint(objects, pointer, "unevaluatedProperties")
        # overlapping alternatives: a value matching several gets the union of their annotations
        shared = frozenset(name for alt in objects for name in alt.evaluated) if overlap else frozenset()
        shared_classes = (
            [cls.keys for alt in objects for cls in alt.extras if cls.evaluated] if overlap else []
        )
        out: list[Node] = []
        for alt in self._expand(current, pointer, "unevaluatedProperties"):
            if isinstance(alt, ObjectNode):
                extras = []
                with self.defs.descend():
                    for cls in alt.extras:
                        if cls.evaluated:
                            extras.append(cls)
                        elif shared_classes:
                            extras.append(KeyClass(cls.keys, cls.value, True))
                        elif shared:
                            inside = intersect_strings(cls.keys, StringNode(literals=shared))
                            if isinstance(inside, StringNode):
                                extras.append(KeyClass(inside, cls.value, True))
                            outside = intersect_strings(cls.keys, StringNode(excluded=shared))
                            if isinstance(outside, StringNode):
                                extras.append(
                                    KeyClass(outside, self.algebra.intersect(cls.value, rest), True)
                                )
                        else:
                            extras.append(KeyClass(cls.keys, self.algebra.intersect(cls.value, rest), True))
                    props = tuple(
                        (
                            name,
                            value
                            if name in alt.evaluated
                            or name in shared
                            or any(string_matches(keys, name) for keys in shared_classes)
                            else self.algebra.intersect(value, rest),
                        )
                        for name, value in alt.properties
                    )
                evaluated = frozenset(name for name, _ in alt.properties)
                alt = make_object(replace(alt, properties=props, extras=tuple(extras), evaluated=evaluated))
            out.append(alt)
        return union(out)

    def _unevaluated_items(self, current: Node, rest: Node, pointer: str) -> Node:
        """``current`` where items no keyword evaluated must also match ``rest``."""
        arrays = [
            alt for alt in self._expand(current, pointer, "unevaluatedItems") if isinstance(alt, ArrayNode)
        ]
        overlap = not self._check_disjoint(arrays, pointer, "unevaluatedItems")
        out: list[Node] = []
        any_items = overlap and any(alt.items_evaluated for alt in arrays)
        widest = max((alt.evaluated_prefix for alt in arrays), default=0) if overlap else 0
        shared = [c.node for alt in arrays for c in alt.contains] if overlap else []
        for alt in self._expand(current, pointer, "unevaluatedItems"):
            if isinstance(alt, ArrayNode) and not alt.items_evaluated and not any_items:
                # overlapping alternatives: a value matching several gets the union of their annotations
                alt = replace(alt, evaluated_prefix=max(alt.evaluated_prefix, widest))
                # an item is fine when evaluated by a 'contains' (it matches) or when it matches ``rest``
                allowed = union([rest, *(c.node for c in alt.contains), *shared])
                with self.defs.descend():
                    items = self.algebra.intersect(alt.items, allowed)
                    prefix = tuple(
                        item if index < alt.evaluated_prefix else self.algebra.intersect(item, allowed)
                        for index, item in enumerate(alt.prefix)
                    )
                alt = make_array(
                    replace(
                        alt, prefix=prefix, items=items, items_evaluated=True, evaluated_prefix=len(prefix)
                    )
                )
            out.append(alt)
        return union(out)

    def _expand(self, node: Node, pointer: str, keyword: str) -> list[Node]:
        out: list[Node] = []
        if isinstance(node, AnyValue):
            node = union(everything_but(set()))
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

    def _check_disjoint(self, nodes: Sequence[Node], pointer: str, keyword: str) -> bool:
        """True when the alternatives are pairwise disjoint; else reported (annotations are merged)."""
        for i in range(len(nodes)):
            for j in range(i + 1, len(nodes)):
                if not is_never(self.algebra.intersect(nodes[i], nodes[j])):
                    self.report.loosened(
                        pointer,
                        keyword,
                        "overlapping alternatives: their annotations are merged for every value",
                    )
                    return False
        return True


def _hint(pointer: str, ref: str) -> str:
    """A readable rule name for the target of a reference."""
    tokens = [t for t in pointer.split("#")[-1].split("/") if t]
    skip = {"definitions", "$defs", "properties", "items", "allOf", "anyOf", "oneOf"}
    useful = [t.replace("~1", "-").replace("~0", "-") for t in tokens if t not in skip]
    if useful:
        return "-".join(useful[-2:])
    name = ref.rstrip("#/").rsplit("/", 1)[-1]
    return name or "root"
