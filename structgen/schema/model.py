"""Normalized schema nodes: one frozen dataclass per JSON type, plus unions, references, top and bottom.

A compiled schema is a :class:`Node`; its instances are exactly the JSON values the node describes.
Every node is immutable and hashable so that equal sub-schemas share one grammar rule.
Constraints on strings stay symbolic (:class:`StringNode`) and become a regular language only when emitted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

from structgen.errors import InvalidSchemaError

from .hashing import cached_hash
from .strings import string_matches


class _Unit:
    """A node without fields: its instances are all equal."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(())  # as a frozen dataclass without fields: the same in every process

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Never(_Unit):
    """No value at all (the schema ``false``, or an unsatisfiable combination)."""


class AnyValue(_Unit):
    """Every JSON value (the schema ``true`` or ``{}``)."""


class NullNode(_Unit):
    """The value ``null``."""


@cached_hash
@dataclass(frozen=True)
class BooleanNode:
    """``true`` and/or ``false``."""

    values: frozenset[bool] = frozenset({True, False})


@cached_hash
@dataclass(frozen=True)
class NumberNode:
    """A number in an interval, optionally an integer (or a non-integer) and a multiple of
    ``multiple_of`` (and of none of ``not_multiple_of``).

    ``integer_zero_fraction`` accepts integral values written with a zero fraction (``1.0``), as
    JSON Schema draft 6 and later count them as integers.
    """

    integer: bool = False
    minimum: Fraction | None = None
    maximum: Fraction | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    multiple_of: Fraction | None = None
    integer_zero_fraction: bool = True
    pointer: str = field(default="", compare=False)
    non_integer: bool = False
    not_multiple_of: frozenset[Fraction] = frozenset()


@cached_hash
@dataclass(frozen=True)
class Pattern:
    """An ECMA-262 ``pattern`` and where it came from."""

    source: str
    pointer: str


@cached_hash
@dataclass(frozen=True)
class StringNode:
    """A string constrained symbolically; all fields must hold at once.

    ``literals`` (when not None) is the complete set of allowed strings; ``negated`` holds string
    languages the value must NOT belong to.  Lengths count code points.
    """

    min_length: int = 0
    max_length: int | None = None
    patterns: tuple[Pattern, ...] = ()
    formats: tuple[str, ...] = ()
    literals: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    negated: tuple[StringNode, ...] = ()
    pointer: str = field(default="", compare=False)

    def is_unconstrained(self) -> bool:
        return self == ANY_STRING


ANY_STRING = StringNode()


@cached_hash
@dataclass(frozen=True)
class Contains:
    """At least ``minimum`` and at most ``maximum`` array items match ``node``."""

    node: Node
    minimum: int = 1
    maximum: int | None = None


@cached_hash
@dataclass(frozen=True)
class ArrayNode:
    """An array: ``prefix[i]`` for item i, ``items`` for the rest, length and ``contains`` bounds.

    ``items_evaluated`` says whether the items after the prefix are evaluated, ``evaluated_prefix``
    how many leading items ``prefixItems`` evaluated (for ``unevaluatedItems``).  A ``contains``
    with minimum 0 and no maximum asserts nothing but still evaluates the items it matches.
    """

    prefix: tuple[Node, ...] = ()
    items: Node = field(default_factory=AnyValue)
    min_items: int = 0
    max_items: int | None = None
    contains: tuple[Contains, ...] = ()
    unique: bool = False
    items_evaluated: bool = False
    pointer: str = field(default="", compare=False)
    evaluated_prefix: int = 0


@cached_hash
@dataclass(frozen=True)
class KeyClass:
    """Undeclared keys in the language ``keys`` take values matching ``value``.

    ``evaluated`` records whether ``patternProperties``/``additionalProperties`` evaluated these
    keys (for ``unevaluatedProperties``).
    """

    keys: StringNode
    value: Node
    evaluated: bool = False


@cached_hash
@dataclass(frozen=True)
class ObjectNode:
    """An object with declared properties (in order), required keys, and classes of other keys.

    A key not declared and in no class of ``extras`` is forbidden; the ``extras`` languages are
    pairwise disjoint.  ``implicit`` names the properties declared only because they are required
    (they follow the explicit ones in the emitted order).  ``evaluated`` names the declared
    properties some keyword evaluated (for ``unevaluatedProperties``).
    """

    properties: tuple[tuple[str, Node], ...] = ()
    required: frozenset[str] = frozenset()
    extras: tuple[KeyClass, ...] = (KeyClass(ANY_STRING, AnyValue()),)
    min_properties: int = 0
    max_properties: int | None = None
    pointer: str = field(default="", compare=False)
    implicit: frozenset[str] = frozenset()
    evaluated: frozenset[str] = frozenset()

    def declared(self) -> Mapping[str, Node]:
        """The declared properties by name (built once per node)."""
        known: Mapping[str, Node] | None = self.__dict__.get("_declared")
        if known is None:
            known = dict(self.properties)  # a plain dict: nodes may be pickled
            object.__setattr__(self, "_declared", known)
        return known


@cached_hash
@dataclass(frozen=True)
class AnyOf:
    """A value matching at least one alternative."""

    alternatives: tuple[Node, ...]


@cached_hash
@dataclass(frozen=True)
class Ref:
    """A named definition (used for recursion and shared sub-schemas)."""

    name: str


Node = Union[  # noqa: UP007 - a runtime alias that must work on Python 3.10
    Never, AnyValue, NullNode, BooleanNode, NumberNode, StringNode, ArrayNode, ObjectNode, AnyOf, Ref
]
TypedNode = Union[NullNode, BooleanNode, NumberNode, StringNode, ArrayNode, ObjectNode]  # noqa: UP007

NEVER = Never()
ANY = AnyValue()

TYPE_NAMES = ("null", "boolean", "number", "string", "array", "object")


def kind_of(node: TypedNode) -> str:
    """The JSON type name of a typed node (integers are ``number``)."""
    if isinstance(node, NullNode):
        return "null"
    if isinstance(node, BooleanNode):
        return "boolean"
    if isinstance(node, NumberNode):
        return "number"
    if isinstance(node, StringNode):
        return "string"
    if isinstance(node, ArrayNode):
        return "array"
    return "object"


def full_type(name: str) -> TypedNode:
    """The unconstrained node of a JSON Schema type name (``integer`` included)."""
    if name == "null":
        return NullNode()
    if name == "boolean":
        return BooleanNode()
    if name == "number":
        return NumberNode()
    if name == "integer":
        return NumberNode(integer=True)
    if name == "string":
        return ANY_STRING
    if name == "array":
        return ArrayNode()
    if name == "object":
        return ObjectNode()
    raise ValueError(name)


def union(nodes: list[Node] | tuple[Node, ...]) -> Node:
    """The union of ``nodes``: flattened, without ``Never`` and duplicates, in first-seen order."""
    out: list[Node] = []
    seen: set[Node] = set()
    stack = list(nodes)
    stack.reverse()
    while stack:
        node = stack.pop()
        if isinstance(node, AnyOf):
            stack.extend(reversed(node.alternatives))
            continue
        if isinstance(node, Never) or node in seen:
            continue
        if isinstance(node, AnyValue):
            return ANY
        seen.add(node)
        out.append(node)
    if not out:
        return NEVER
    if len(out) == 1:
        return out[0]
    return AnyOf(tuple(out))


def alternatives(node: Node) -> tuple[Node, ...]:
    """The alternatives of a union, or the node itself."""
    if isinstance(node, AnyOf):
        return node.alternatives
    if isinstance(node, Never):
        return ()
    return (node,)


def everything_but(kinds: set[str]) -> list[Node]:
    """The unconstrained nodes of every JSON type not in ``kinds``."""
    return [full_type(name) for name in TYPE_NAMES if name not in kinds]


# ---------------------------------------------------------------------- canonical forms
def make_number(node: NumberNode) -> Node:
    """``node`` in canonical form (integer bounds tightened, multiples of integers as integers), or Never."""
    step = node.multiple_of
    integer = node.integer or (step is not None and step.denominator == 1)
    if step == 1:
        step = None
    lo, lo_excl = _snap(node.minimum, node.exclusive_minimum, integer, step, up=True)
    hi, hi_excl = _snap(node.maximum, node.exclusive_maximum, integer, step, up=False)
    if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_excl or hi_excl))):
        return NEVER
    if node.non_integer and (integer or (lo is not None and lo == hi and lo.denominator == 1)):
        return NEVER
    for other in node.not_multiple_of:
        if (step is not None and (step / other).denominator == 1) or (integer and other == 1):
            return NEVER
    return NumberNode(
        integer,
        lo,
        hi,
        lo_excl,
        hi_excl,
        step,
        node.integer_zero_fraction,
        node.pointer,
        node.non_integer,
        node.not_multiple_of,
    )


def _snap(
    bound: Fraction | None, exclusive: bool, integer: bool, step: Fraction | None, *, up: bool
) -> tuple[Fraction | None, bool]:
    """A bound moved inward to the nearest integer and multiple of ``step`` (then inclusive)."""
    if bound is None:
        return None, exclusive
    direction, round_ = (1, math.ceil) if up else (-1, math.floor)
    if integer:
        if bound.denominator == 1:
            bound = bound + direction if exclusive else bound
        else:
            bound = Fraction(round_(bound))
        exclusive = False
    if step is not None:
        k = round_(bound / step)
        if exclusive and k * step == bound:
            k += direction
        bound, exclusive = k * step, False
    return bound, exclusive


def make_string(node: StringNode) -> StringNode | Never:
    """``node`` with literal sets filtered by the other constraints, or Never when empty."""
    if node.max_length is not None and node.min_length > node.max_length:
        return NEVER
    if node.literals is not None:
        kept = frozenset(text for text in node.literals if string_matches(node, text))
        if not kept:
            return NEVER
        return StringNode(literals=kept, pointer=node.pointer)
    return node


def make_array(node: ArrayNode) -> Node:
    """``node`` with impossible items turned into length limits, or Never when empty."""
    max_items = node.max_items
    for index, item in enumerate(node.prefix):
        if isinstance(item, Never):
            max_items = index if max_items is None else min(max_items, index)
            break
    if isinstance(node.items, Never):
        limit = len(node.prefix)
        max_items = limit if max_items is None else min(max_items, limit)
    if max_items is not None and node.min_items > max_items:
        return NEVER
    for contains in node.contains:
        if contains.maximum is not None and contains.minimum > contains.maximum:
            return NEVER
        if max_items is not None and contains.minimum > max_items:
            return NEVER
        if isinstance(contains.node, Never) and contains.minimum > 0:
            return NEVER
    prefix = node.prefix
    if max_items is not None and len(prefix) > max_items:
        prefix = prefix[:max_items]
    while (
        prefix
        and prefix[-1] == node.items
        and len(prefix) >= node.min_items
        and (node.items_evaluated or len(prefix) > node.evaluated_prefix)
    ):
        prefix = prefix[:-1]
    unique = node.unique and (max_items is None or max_items > 1)
    min_items = node.min_items
    for contains in node.contains:
        min_items = max(min_items, contains.minimum)
    if max_items is not None and min_items > max_items:
        return NEVER
    return ArrayNode(
        prefix,
        node.items,
        min_items,
        max_items,
        node.contains,
        unique,
        node.items_evaluated,
        node.pointer,
        node.evaluated_prefix,
    )


def make_object(node: ObjectNode, order: list[str] | None = None) -> Node:
    """``node`` with required-but-impossible keys detected (Never) and required keys declared."""
    declared = dict(node.properties)
    props = list(node.properties)
    implicit = set(node.implicit)
    evaluated = set(node.evaluated)
    missing = node.required - declared.keys()
    for name in [n for n in (order or []) if n in missing] + sorted(missing - set(order or [])):
        if name in declared:
            continue
        implicit.add(name)
        value: Node = NEVER
        for cls in node.extras:
            if string_matches(cls.keys, name):
                value = cls.value
                if cls.evaluated:
                    evaluated.add(name)
                break
        props.append((name, value))
        declared[name] = value
    for name in node.required:
        if isinstance(declared[name], Never):
            return NEVER
    if node.max_properties is not None and (
        node.min_properties > node.max_properties or len(node.required) > node.max_properties
    ):
        return NEVER
    possible = sum(1 for _, value in props if not isinstance(value, Never))
    if not node.extras and node.min_properties > possible:
        return NEVER
    extras = tuple(
        cls for cls in node.extras if not isinstance(cls.value, Never) and not _empty_keys(cls.keys)
    )
    return ObjectNode(
        tuple(props),
        node.required,
        extras,
        node.min_properties,
        node.max_properties,
        node.pointer,
        frozenset(implicit),
        frozenset(evaluated),
    )


def _empty_keys(keys: StringNode) -> bool:
    if keys.literals is not None:
        return not keys.literals
    return False


def to_fraction(value: Any, pointer: str, keyword: str) -> Fraction:
    """An exact rational for a JSON number (floats through their shortest decimal form)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSchemaError(f"{keyword} must be a number", pointer, keyword)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise InvalidSchemaError(f"{keyword} must be finite", pointer, keyword)
        return Fraction(repr(value))
    return Fraction(value)


def value_node(value: Any, pointer: str = "") -> Node:
    """The node matching exactly the JSON value ``value`` (numbers by numeric equality)."""
    if value is None:
        return NullNode()
    if isinstance(value, bool):
        return BooleanNode(frozenset({value}))
    if isinstance(value, (int, float)):
        number = to_fraction(value, pointer, "const")
        return NumberNode(minimum=number, maximum=number, pointer=pointer)
    if isinstance(value, str):
        return StringNode(literals=frozenset({value}), pointer=pointer)
    if isinstance(value, list):
        return ArrayNode(
            prefix=tuple(value_node(item, pointer) for item in value),
            items=NEVER,
            min_items=len(value),
            max_items=len(value),
            pointer=pointer,
        )
    if isinstance(value, Mapping):
        return ObjectNode(
            properties=tuple((str(key), value_node(item, pointer)) for key, item in value.items()),
            required=frozenset(str(key) for key in value),
            extras=(),
            pointer=pointer,
        )
    raise InvalidSchemaError(f"not a JSON value: {value!r}", pointer)


def values_node(values: list[Any], pointer: str) -> Node:
    """The node matching exactly the JSON values ``values`` (``enum``)."""
    strings = frozenset(value for value in values if isinstance(value, str))
    nodes: list[Node] = [StringNode(literals=strings)] if strings else []
    nodes.extend(value_node(value, pointer) for value in values if not isinstance(value, str))
    return union(nodes)
