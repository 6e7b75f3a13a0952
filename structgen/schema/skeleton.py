"""The skeleton of an output type: the text its grammar forces and the values a model must choose.

Fast-forward generation writes the forced text itself and asks the model only for the free values.
:func:`skeleton` splits a JSON Schema into that structure: objects whose keys are all required (and
no others allowed) become their keys as forced text in schema order, arrays of such objects a loop
whose only free choice is "one more item or the end", and every other value a :class:`Hole` with a
grammar of its own. Forced text uses fixed whitespace, as ``json.dumps`` lays it out (indented by
default: what chat models write when a grammar leaves them the choice).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from structgen.gbnf import ast
from structgen.gbnf.formatter import format_alternates
from structgen.gbnf.parser import parse_grammar

from .compiler import compile as compile_schema
from .emit import Whitespace
from .gbnftext import literal

__all__ = [
    "Choice",
    "Hole",
    "Items",
    "Literal",
    "Part",
    "Seq",
    "Skeleton",
    "Step",
    "any_layout",
    "literal",
    "skeleton",
]

# Keywords that say nothing about an object's or array's instances; any other one makes the value a Hole.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
    }
)
_OBJECT_KEYS = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
}
_ARRAY_KEYS = _ANNOTATIONS | {"type", "items", "minItems", "maxItems"}


@dataclass(frozen=True)
class Literal:
    """Text the grammar forces."""

    text: str
    """The forced text."""


@dataclass(frozen=True)
class Hole:
    """A value the model writes, under the grammar of its own sub-schema."""

    schema: Any = field(compare=False)
    """The value's JSON Schema (with the document's ``$defs``)."""
    key: str
    """The sub-schema's JSON text: equal holes share one grammar."""
    plain: bool = False
    """The value's text never holds ``,``, ``]``, ``}`` or a newline (a number, boolean, null or such an enum)."""
    string: bool = False
    """The value is a string (its text holds ``"`` only escaped)."""
    expected_chars: int = 4
    """About how many characters the value takes: a string its ``maxLength`` (else 100), a
    :attr:`plain` value 4, anything else 50."""


@dataclass(frozen=True)
class Items:
    """The items of an array whose items start with forced text, and its closing bracket.

    Whether one more item comes is the one free choice: the first character of ``separator`` (or of
    ``lead`` + the item) against the first of ``close``, which must differ.
    """

    item: Part
    """Every item's skeleton (it starts with a :class:`Literal`)."""
    min_items: int
    """Items the array needs at least."""
    max_items: int | None
    """Items the array allows at most (None: no limit)."""
    lead: str = ""
    """Text before the first item."""
    separator: str = ", "
    """Text between items."""
    close: str = "]"
    """Text after the last item (an empty array is ``[]``)."""


@dataclass(frozen=True)
class Seq:
    """Parts one after the other."""

    parts: tuple[Part, ...]
    """The parts, adjacent literals merged."""


Part = Literal | Hole | Items | Seq


@dataclass(frozen=True)
class Choice:
    """A step where the model picks one of a few texts (one more array item, or the end)."""

    options: tuple[str, ...]
    """The texts to pick from; each differs from the others in its first character."""


Step = Literal | Hole | Choice
"""What a walk over a skeleton yields: forced text, a value to ask for, or a choice to ask for."""


@dataclass(frozen=True)
class Skeleton:
    """A type's forced text and free values; :meth:`walk` yields them in order."""

    root: Part
    """The top part."""
    whitespace: Whitespace
    """Whitespace allowed inside the holes' own grammars."""
    forced_chars: int
    """Characters forced in the smallest value (arrays at their minimum length)."""
    free_chars: int = 0
    """About how many characters the model writes in the smallest value (see :attr:`Hole.expected_chars`)."""
    max_string_length: int | None = None
    """Bound on strings in the holes' grammars (the output's own option)."""
    max_items: int | None = None
    """Bound on arrays in the holes' grammars (the output's own option)."""

    @property
    def forced_share(self) -> float:
        """The share of the smallest value's characters that is forced (about)."""
        return self.forced_chars / max(self.forced_chars + self.free_chars, 1)

    def walk(self) -> Generator[Step, int | None, None]:
        """The steps in order; after a :class:`Choice`, ``send`` the index of the option taken."""
        return _walk(self.root)

    def grammar(self, hole: Hole) -> str:
        """The GBNF grammar of a hole's value (compiled once per process)."""
        return _grammar(hole, self.whitespace, self.max_string_length, self.max_items)

    def rules(self, hole: Hole, prefix: str) -> tuple[str, list[str]]:
        """The hole's grammar with every rule name prefixed: (its root's new name, the rule lines)."""
        root, lines = _template(self.grammar(hole))
        return root.replace(_MARK, prefix), [line.replace(_MARK, prefix) for line in lines]


def skeleton(
    schema: Any,
    *,
    indent: int | None = 2,
    separators: tuple[str, str] | None = None,
    whitespace: Whitespace = "flexible",
    max_string_length: int | None = None,
    max_items: int | None = None,
) -> Skeleton | None:
    """The skeleton of ``schema`` (a JSON Schema), or None when it forces nothing but a hole.

    Forced text is laid out as ``json.dumps(value, indent=indent, separators=separators)`` would
    (``indent=None``: on one line, ``", "`` and ``": "`` unless ``separators`` says otherwise, e.g.
    ``(",", ":")`` for compact JSON); ``whitespace``, ``max_string_length`` and ``max_items`` are the
    holes' own grammars' options (see :func:`structgen.schema.compiler.compile`).

    ``$ref`` to the document's ``$defs``/``definitions`` is followed; any other reference keeps its
    value a hole.
    """
    if not isinstance(schema, Mapping):
        return None
    defs = {k: schema[k] for k in ("$defs", "definitions") if isinstance(schema.get(k), Mapping)}
    if separators is None:
        separators = (", " if indent is None else ",", ": ")
    root = _Builder(schema, defs, indent, separators).part(schema, 0, 0)
    if isinstance(root, Hole):
        return None
    steps = list(_walk(root))
    forced = sum(len(s.text) for s in steps if isinstance(s, Literal))
    free = sum(s.expected_chars for s in steps if isinstance(s, Hole))
    return Skeleton(root, whitespace, forced, free, max_string_length, max_items)


class _Builder:
    def __init__(
        self,
        document: Mapping[str, Any],
        defs: dict[str, Any],
        indent: int | None,
        separators: tuple[str, str],
    ) -> None:
        self.document = document
        self.defs = defs
        self.indent = indent
        self.item_separator, self.key_separator = separators

    def newline(self, level: int) -> str:
        return "" if self.indent is None else "\n" + " " * (self.indent * level)

    def resolve(self, schema: Any, depth: int) -> Any:
        while isinstance(schema, Mapping) and set(schema) - _ANNOTATIONS == {"$ref"} and depth < 50:
            ref = schema["$ref"]
            target: Any = None
            for name, table in self.defs.items():
                prefix = f"#/{name}/"
                if isinstance(ref, str) and ref.startswith(prefix):
                    target = table.get(ref[len(prefix) :].replace("~1", "/").replace("~0", "~"))
            if target is None:
                return schema
            schema, depth = target, depth + 1
        return schema

    def hole(self, schema: Any) -> Hole:
        if not isinstance(schema, Mapping):
            return Hole(schema, json.dumps(schema))
        full = {**schema, **self.defs}
        if "$schema" in self.document:
            full["$schema"] = self.document["$schema"]
        string = schema.get("type") == "string" and not {"enum", "const"} & set(schema)
        plain = _plain(schema)
        size = schema.get("maxLength", 100) if string else 4 if plain else 50
        key = json.dumps(full, sort_keys=True, default=str)
        return Hole(full, key, plain, string, size if isinstance(size, int) else 100)

    def part(self, schema: Any, depth: int, level: int) -> Part:
        schema = self.resolve(schema, depth)
        if depth > 40 or not isinstance(schema, Mapping):
            return self.hole(schema)
        if "const" in schema and set(schema) - _ANNOTATIONS == {"const"}:
            return Literal(json.dumps(schema["const"], ensure_ascii=False))
        if schema.get("type") == "object" and set(schema) <= _OBJECT_KEYS and self._closed(schema):
            return self.object(schema, depth, level)
        if schema.get("type") == "array" and set(schema) <= _ARRAY_KEYS:
            item = self.part(schema.get("items", True), depth + 1, level + 1)
            first = item.parts[0] if isinstance(item, Seq) else item
            if isinstance(first, Literal) and first.text:
                lo, hi = schema.get("minItems", 0), schema.get("maxItems")
                if isinstance(lo, int) and (hi is None or (isinstance(hi, int) and hi >= max(lo, 1))):
                    inner = self.newline(level + 1)
                    separator = self.item_separator + inner
                    items = Items(item, lo, hi, inner, separator, self.newline(level) + "]")
                    return _seq([Literal("["), items])
        return self.hole(schema)

    @staticmethod
    def _closed(schema: Mapping[str, Any]) -> bool:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return False
        extra = schema.get("additionalProperties", schema.get("unevaluatedProperties", False))
        required = schema.get("required", [])
        return extra is False and isinstance(required, list) and set(required) == set(properties)

    def object(self, schema: Mapping[str, Any], depth: int, level: int) -> Part:
        inner = self.newline(level + 1)
        separator = self.item_separator + inner
        parts: list[Part] = [Literal("{" + inner)]
        for i, (name, value) in enumerate(schema["properties"].items()):
            key = json.dumps(name, ensure_ascii=False) + self.key_separator
            parts.append(Literal((separator if i else "") + key))
            parts.append(self.part(value, depth + 1, level + 1))
        parts.append(Literal(self.newline(level) + "}"))
        return _seq(parts)


_DELIMITERS = frozenset(",]}\n")


def _plain(schema: Mapping[str, Any]) -> bool:
    keys = set(schema) - _ANNOTATIONS
    if "enum" in schema and keys <= {"enum", "type"} and isinstance(schema["enum"], list):
        return not any(_DELIMITERS & set(json.dumps(v, ensure_ascii=False)) for v in schema["enum"])
    kind = schema.get("type")
    numeric = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    return kind in ("integer", "number", "boolean", "null") and keys <= {"type"} | numeric


def _seq(parts: list[Part]) -> Part:
    flat: list[Part] = []
    for part in parts:
        for p in part.parts if isinstance(part, Seq) else (part,):
            if isinstance(p, Literal) and flat and isinstance(flat[-1], Literal):
                flat[-1] = Literal(flat[-1].text + p.text)
            else:
                flat.append(p)
    return flat[0] if len(flat) == 1 else Seq(tuple(flat))


def _walk(part: Part) -> Generator[Step, int | None, None]:
    if isinstance(part, (Literal, Hole)):
        yield part
    elif isinstance(part, Seq):
        for p in part.parts:
            yield from _walk(p)
    else:
        yield from _items(part)


def _items(items: Items) -> Generator[Step, int | None, None]:
    count = 0
    while True:
        close = items.close if count else "]"
        if items.max_items is not None and count >= items.max_items:
            yield Literal(close)
            return
        lead = items.separator if count else items.lead
        steps = _walk(items.item)
        first = next(steps)
        assert isinstance(first, Literal)
        head = lead + first.text
        if count >= items.min_items:
            # the model says whether one more item comes: the first character of the close or of the item
            if (yield Choice((close[0], head[0]))) == 0:
                if close[1:]:
                    yield Literal(close[1:])
                return
            head = head[1:]
        if head:
            yield Literal(head)
        yield from _forward(steps)
        count += 1


def any_layout(skeletons: Sequence[Skeleton]) -> Generator[Step, int | None, None]:
    """The steps of one of several layouts of the same type, the model picking: a :class:`Choice` on the
    first character where their forced texts differ (the first layout when they differ too late)."""
    walks = [s.walk() for s in skeletons]
    firsts = [next(w) for w in walks]
    texts = [f.text if isinstance(f, Literal) else "" for f in firsts]
    common = os.path.commonprefix(texts)
    options = tuple(t[len(common) : len(common) + 1] for t in texts)
    index = 0
    if len(skeletons) > 1 and all(options) and len(set(options)) == len(options):
        if common:
            yield Literal(common)
        index = (yield Choice(options)) or 0
        rest = texts[index][len(common) + 1 :]
        if rest:
            yield Literal(rest)
    else:
        yield firsts[0]
    yield from _forward(walks[index])


def _forward(steps: Generator[Step, int | None, None]) -> Generator[Step, int | None, None]:
    answer: int | None = None
    while True:
        try:
            step = steps.send(answer)
        except StopIteration:
            return
        answer = yield step


def _rename_expr(expr: Any, names: Mapping[str, str]) -> Any:
    if isinstance(expr, ast.RuleRef):
        return dataclasses.replace(expr, name=names.get(expr.name, expr.name))
    if isinstance(expr, ast.Group):
        return dataclasses.replace(expr, body=_rename_expr(expr.body, names))
    if isinstance(expr, ast.Repeat):
        return dataclasses.replace(expr, item=_rename_expr(expr.item, names))
    if isinstance(expr, ast.Sequence):
        return dataclasses.replace(expr, items=tuple(_rename_expr(i, names) for i in expr.items))
    if isinstance(expr, ast.Alternates):
        return dataclasses.replace(expr, options=tuple(_rename_expr(o, names) for o in expr.options))
    return expr


_MARK = "\x00"
"""Stands for the rule-name prefix in a cached template: a literal prints it escaped, never raw."""


@functools.lru_cache(maxsize=1024)
def _grammar(hole: Hole, whitespace: Whitespace, max_string_length: int | None, max_items: int | None) -> str:
    compiled = compile_schema(
        hole.schema,
        whitespace=whitespace,
        additional_properties=False,
        max_digits=15,
        time_limit=None,
        max_string_length=max_string_length,
        max_items=max_items,
    )
    return compiled.grammar


@functools.lru_cache(maxsize=1024)
def _template(grammar: str) -> tuple[str, tuple[str, ...]]:
    """``grammar``'s root name and rule lines, every rule name prefixed with :data:`_MARK`."""
    tree = parse_grammar(grammar)
    names = {name: _MARK + name for name in tree.rule_names()}
    lines = [f"{names[r.name]} ::= {format_alternates(_rename_expr(r.body, names))}" for r in tree.rules]
    return names["root"], tuple(lines)
