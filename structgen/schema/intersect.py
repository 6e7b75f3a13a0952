"""Set algebra on nodes: intersection (``allOf``) and difference (``not``, ``oneOf``, ``if``/``else``).

Both distribute over unions and work type by type.  A difference that a grammar cannot express
(for instance "has duplicate items") returns None, and the caller reports the keyword.
References to definitions are expanded lazily and memoized, so recursive schemas terminate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any

from .defs import CycleError, Definitions
from .model import (
    ANY,
    NEVER,
    AnyOf,
    AnyValue,
    ArrayNode,
    BooleanNode,
    Contains,
    KeyClass,
    Never,
    Node,
    NullNode,
    NumberNode,
    ObjectNode,
    Ref,
    StringNode,
    TypedNode,
    alternatives,
    everything_but,
    kind_of,
    make_array,
    make_number,
    make_object,
    make_string,
    union,
)
from .report import Inexpressible
from .strings import is_empty as string_is_empty
from .strings import realize, string_matches

MAX_PRODUCT = 256
NEGATION_BUDGET = 1500


class Algebra:
    """Intersection and difference of nodes over a shared table of definitions."""

    def __init__(self, defs: Definitions):
        self.defs = defs
        self._negation_depth = 0
        self._negation_budget = 0
        self.last_spent = 0
        self.rank: dict[str, int] = {}
        self.on_loosened: Callable[[str, str], None] = lambda keyword, reason: None
        self._complements: dict[Node, Node | Inexpressible] = {}
        self._products: dict[tuple[Node, Node], Node] = {}
        self._conjuncts: dict[str, frozenset[Node]] = {}

    # ------------------------------------------------------------------ references
    def deref(self, ref: Ref) -> Node | None:
        """The content of ``ref``'s definition, or None while it is being computed (guarded)."""
        content = self.defs.content(ref.name)
        if content is None:
            if self.defs.unguarded(ref.name):
                raise CycleError(ref.name)
            return None
        return content

    def _memo(
        self,
        key: tuple[object, ...],
        hint: str,
        compute: Callable[[], Node],
        deferred: bool,
        operands: frozenset[Node] | None = None,
    ) -> Node:
        defs = self.defs
        name = defs.memo.get(key)
        if name is not None:
            done = defs.nodes.get(name)
            if done is not None and name not in defs.recursive:
                return done
            defs.recursive.add(name)
            return Ref(name)
        name = defs.new_name(hint)
        defs.memo[key] = name
        if operands is not None:
            self._conjuncts[name] = operands
        if deferred:
            defs.defer(name, compute)
            return Ref(name)
        node = defs.compute(name, compute)
        if name in defs.recursive:
            return Ref(name)
        return node

    # ------------------------------------------------------------------ intersection
    def intersect(self, a: Node, b: Node) -> Node:
        """The values matching both ``a`` and ``b``."""
        self.defs.tick()
        if self._negation_depth:
            self._negation_budget -= 1
            if self._negation_budget < 0:
                raise Inexpressible("the negation is too large")
        if isinstance(a, Never) or isinstance(b, Never):
            return NEVER
        if isinstance(a, AnyValue):
            return b
        if isinstance(b, AnyValue) or a == b:
            return a
        if isinstance(a, Ref) or isinstance(b, Ref):
            return self._intersect_ref(a, b)
        if isinstance(a, AnyOf) or isinstance(b, AnyOf):
            alts_a, alts_b = alternatives(a), alternatives(b)
            if len(alts_a) * len(alts_b) > MAX_PRODUCT:
                raise Inexpressible("intersection of large unions")
            out: list[Node] = []
            for x in alts_a:
                for y in alts_b:
                    out.append(self.intersect(x, y))
            return union(out)
        assert not isinstance(a, (Never, AnyValue, AnyOf, Ref))
        assert not isinstance(b, (Never, AnyValue, AnyOf, Ref))
        if kind_of(a) != kind_of(b):
            return NEVER
        if isinstance(a, (ArrayNode, ObjectNode)):
            key = (a, b)
            known = self._products.get(key)
            if known is None:
                known = self._intersect_typed(a, b)
                self._products[key] = known
            return known
        return self._intersect_typed(a, b)

    def _intersect_ref(self, a: Node, b: Node) -> Node:
        if isinstance(b, Ref) and not isinstance(a, Ref):
            a, b = b, a
        assert isinstance(a, Ref)
        parts_a, parts_b = self._operands(a), self._operands(b)
        if parts_b <= parts_a:
            return a
        if isinstance(b, Ref) and parts_a <= parts_b:
            return b
        operands = parts_a | parts_b
        key = ("and", operands)
        hint = a.name + ("-and-" + b.name if isinstance(b, Ref) else "-and")
        return self._through_refs(key, hint, "allOf", self.intersect, a, b, operands)

    def _operands(self, node: Node) -> frozenset[Node]:
        """The nodes whose intersection ``node`` is: intersections of references are named by the
        set of their operands, so every grouping and order of the same operands is one definition."""
        if isinstance(node, Ref):
            return self._conjuncts.get(node.name) or frozenset((node,))
        return frozenset((node,))

    def _through_refs(
        self,
        key: tuple[object, ...],
        hint: str,
        keyword: str,
        combine: Callable[[Node, Node], Node],
        a: Node,
        b: Node,
        operands: frozenset[Node] | None = None,
    ) -> Node:
        """``combine(a, b)`` as a memoized definition; deferred while ``a`` or ``b`` is being computed
        (then, when inexpressible, ``a``, reported as loosened)."""
        content_a = self.deref(a) if isinstance(a, Ref) else a
        content_b = self.deref(b) if isinstance(b, Ref) else b
        if content_a is not None and content_b is not None:
            return self._memo(key, hint, lambda: combine(content_a, content_b), False, operands)

        def later() -> Node:
            try:
                return combine(self._force(a), self._force(b))
            except Inexpressible as error:
                self.on_loosened(keyword, f"through a recursive $ref: {error}")
                return self._force(a)

        return self._memo(key, hint, later, True, operands)

    def _force(self, node: Node) -> Node:
        if isinstance(node, Ref):
            content = self.defs.content(node.name)
            if content is None:
                raise CycleError(node.name)
            return content
        return node

    def _intersect_typed(self, a: TypedNode, b: TypedNode) -> Node:
        if isinstance(a, NullNode):
            return a
        if isinstance(a, BooleanNode) and isinstance(b, BooleanNode):
            values = a.values & b.values
            return BooleanNode(values) if values else NEVER
        if isinstance(a, NumberNode) and isinstance(b, NumberNode):
            return intersect_numbers(a, b)
        if isinstance(a, StringNode) and isinstance(b, StringNode):
            return intersect_strings(a, b)
        if isinstance(a, ArrayNode) and isinstance(b, ArrayNode):
            return self._intersect_arrays(a, b)
        if isinstance(a, ObjectNode) and isinstance(b, ObjectNode):
            return self._intersect_objects(a, b)
        raise AssertionError((a, b))

    def _intersect_arrays(self, a: ArrayNode, b: ArrayNode) -> Node:
        size = max(len(a.prefix), len(b.prefix))
        with self.defs.descend():
            prefix = tuple(
                self.intersect(
                    a.prefix[i] if i < len(a.prefix) else a.items,
                    b.prefix[i] if i < len(b.prefix) else b.items,
                )
                for i in range(size)
            )
            items = self.intersect(a.items, b.items)
        maxima = [m for m in (a.max_items, b.max_items) if m is not None]
        node = ArrayNode(
            prefix=prefix,
            items=items,
            min_items=max(a.min_items, b.min_items),
            max_items=min(maxima) if maxima else None,
            contains=tuple(dict.fromkeys(a.contains + b.contains)),
            unique=a.unique or b.unique,
            items_evaluated=a.items_evaluated or b.items_evaluated,
            pointer=a.pointer or b.pointer,
            evaluated_prefix=max(a.evaluated_prefix, b.evaluated_prefix),
        )
        return make_array(node)

    def _lookup(self, node: ObjectNode, key: str) -> Node:
        value = node.declared().get(key)
        if value is not None:
            return value
        for cls in node.extras:
            if string_matches(cls.keys, key):
                return cls.value
        return NEVER

    def _intersect_objects(self, a: ObjectNode, b: ObjectNode) -> Node:
        explicit = [name for name, _ in a.properties if name not in a.implicit]
        explicit += [name for name, _ in b.properties if name not in b.implicit]
        implicit = [
            name for name, _ in a.properties + b.properties if name in a.implicit or name in b.implicit
        ]
        explicit = list(dict.fromkeys(explicit))
        if b.properties and a.properties:
            unknown = len(self.rank)
            explicit.sort(key=lambda name: self.rank.get(name, unknown))
        still_implicit = frozenset(implicit) - frozenset(explicit)
        names = list(
            dict.fromkeys(explicit + sorted(still_implicit, key=lambda n: self.rank.get(n, len(self.rank))))
        )
        props: list[tuple[str, Node]] = []
        with self.defs.descend():
            for name in names:
                props.append((name, self.intersect(self._lookup(a, name), self._lookup(b, name))))
            extras: list[KeyClass] = []
            for x in a.extras:
                for y in b.extras:
                    self.defs.check_time()
                    keys = intersect_strings(x.keys, y.keys)
                    if isinstance(keys, Never):
                        continue
                    value = self.intersect(x.value, y.value)
                    if isinstance(value, Never):
                        continue
                    extras.append(KeyClass(keys, value, x.evaluated or y.evaluated))
        maxima = [m for m in (a.max_properties, b.max_properties) if m is not None]
        node = ObjectNode(
            properties=tuple(props),
            required=a.required | b.required,
            extras=tuple(extras),
            min_properties=max(a.min_properties, b.min_properties),
            max_properties=min(maxima) if maxima else None,
            pointer=a.pointer or b.pointer,
            implicit=still_implicit,
            evaluated=frozenset(name for name in names if evaluates(a, name) or evaluates(b, name)),
        )
        return make_object(node)

    # ------------------------------------------------------------------ difference
    def difference(self, a: Node, b: Node, budget: int = NEGATION_BUDGET) -> Node:
        """The values matching ``a`` but not ``b``; raises :class:`Inexpressible`.

        One top-level difference may spend at most ``budget`` steps (negating deep structures
        multiplies alternatives); beyond that it is inexpressible.  ``last_spent`` tells how many
        steps the last top-level difference took.
        """
        top = self._negation_depth == 0
        if top:
            self._negation_budget = min(budget, NEGATION_BUDGET)
            start = self._negation_budget
        self._negation_depth += 1
        try:
            return self._difference(a, b)
        finally:
            self._negation_depth -= 1
            if top:
                self.last_spent = start - self._negation_budget

    def _difference(self, a: Node, b: Node) -> Node:
        self.defs.tick()
        self._negation_budget -= 1
        if self._negation_budget < 0:
            raise Inexpressible("the negation is too large")
        if isinstance(a, Never) or isinstance(b, Never):
            return a
        if isinstance(b, AnyValue) or a == b:
            return NEVER
        if isinstance(b, Ref) or isinstance(a, Ref):
            return self._difference_ref(a, b)
        if isinstance(b, AnyOf):
            result: Node = a
            for alt in b.alternatives:
                result = self.difference(result, alt)
            return result
        if isinstance(a, AnyValue):
            return self.difference(union(everything_but(set())), b)
        if isinstance(a, AnyOf):
            return union([self.difference(alt, b) for alt in a.alternatives])
        assert not isinstance(a, (Never, AnyValue, AnyOf, Ref))
        assert not isinstance(b, (Never, AnyValue, AnyOf, Ref))
        if kind_of(a) != kind_of(b):
            return a
        return self._difference_typed(a, b)

    def _difference_ref(self, a: Node, b: Node) -> Node:
        key = ("minus", a, b)
        hint = (
            (a.name if isinstance(a, Ref) else "value")
            + "-not"
            + ("-" + b.name if isinstance(b, Ref) else "")
        )
        return self._through_refs(key, hint, "not", self.difference, a, b)

    def _difference_typed(self, a: TypedNode, b: TypedNode) -> Node:
        if isinstance(a, NullNode):
            return NEVER
        if isinstance(a, BooleanNode) and isinstance(b, BooleanNode):
            values = a.values - b.values
            return BooleanNode(values) if values else NEVER
        if isinstance(a, NumberNode) and isinstance(b, NumberNode):
            return union([intersect_numbers(a, part) for part in number_complement(a, b)])
        if isinstance(a, StringNode) and isinstance(b, StringNode):
            return intersect_strings(a, string_complement(b))
        if isinstance(a, ArrayNode) and isinstance(b, ArrayNode):
            return union([self.intersect(a, part) for part in self._array_complement(b, a)])
        if isinstance(a, ObjectNode) and isinstance(b, ObjectNode):
            return union([self.intersect(a, part) for part in self._object_complement(b, a)])
        raise AssertionError((a, b))

    def complement(self, node: Node) -> Node:
        """Every JSON value not matching ``node`` (memoized, failures too)."""
        known = self._complements.get(node)
        if known is None:
            try:
                known = self.difference(ANY, node)
            except Inexpressible as error:
                if "too large" in str(error):
                    raise
                known = error
            if not isinstance(node, Ref):
                self._complements[node] = known
        if isinstance(known, Inexpressible):
            raise known
        return known

    def _array_complement(self, b: ArrayNode, a: ArrayNode) -> list[Node]:
        """Arrays breaking some constraint of ``b`` that ``a`` does not already imply."""
        parts = _sizes_outside(a, b, "items")
        with self.defs.descend():
            for index, item in enumerate(b.prefix):
                mine = a.prefix[index] if index < len(a.prefix) else a.items
                if isinstance(item, AnyValue) or item == mine:
                    continue
                negated = self.complement(item)
                if not isinstance(negated, Never):
                    parts.append(
                        make_array(ArrayNode(prefix=(ANY,) * index + (negated,), min_items=index + 1))
                    )
            if not isinstance(b.items, AnyValue) and b.items != a.items:
                if b.prefix:
                    raise Inexpressible("the negation of 'items' after a prefix")
                negated = self.complement(b.items)
                if not isinstance(negated, Never):
                    parts.append(ArrayNode(contains=(Contains(negated),)))
            for contains in b.contains:
                if contains in a.contains:
                    continue
                if contains.minimum > 0:
                    parts.append(ArrayNode(contains=(Contains(contains.node, 0, contains.minimum - 1),)))
                if contains.maximum is not None:
                    parts.append(ArrayNode(contains=(Contains(contains.node, contains.maximum + 1, None),)))
        if b.unique and not a.unique:
            raise Inexpressible("the negation of 'uniqueItems'")
        return parts

    def open_key_exclusion(self, a: Node, b: Node) -> tuple[str, Node] | None:
        """``(key, values)`` when ``a - b`` is ``a`` with ``key``, if present, holding one of ``values``:
        ``b`` requires one key about which ``a`` says nothing (any value, no size limit) and asks nothing
        else that ``a`` does not already ask. None when the difference has another form. Costs no
        intersection, so ``oneOf`` can exclude many such alternatives at once."""
        if not isinstance(a, ObjectNode) or not isinstance(b, ObjectNode) or a.max_properties is not None:
            return None
        declared = a.declared()
        missing = [name for name in b.required if name not in a.required]
        if len(missing) != 1 or missing[0] in declared:
            return None
        key = missing[0]
        if not isinstance(self._lookup(a, key), AnyValue):
            return None
        try:
            parts = self._object_complement(b, a)
        except Inexpressible:
            return None
        if len(parts) != 1:
            return None
        part = parts[0]
        if not isinstance(part, ObjectNode) or part != ObjectNode(properties=part.properties):
            return None
        (name, values), *others = part.properties
        return (name, values) if name == key and not others else None

    def _object_complement(self, b: ObjectNode, a: ObjectNode) -> list[Node]:
        """Objects breaking some constraint of ``b`` that ``a`` does not already imply."""
        parts = _sizes_outside(a, b, "properties")
        mine = a.declared()
        declared_b = b.declared()
        with self.defs.descend():
            for name, value in b.properties:
                missing = name in b.required and name not in a.required
                negated: Node = NEVER
                if not isinstance(value, AnyValue) and mine.get(name) != value:
                    negated = self.complement(value)
                if missing:  # absent, or present with another value: one part
                    parts.append(ObjectNode(properties=((name, negated),)))
                elif not isinstance(negated, Never):
                    parts.append(
                        make_object(ObjectNode(properties=((name, negated),), required=frozenset({name})))
                    )
            if extras_unconstrained(b):
                return parts
            if _loose_extras(a) != _loose_extras(b):
                if all(isinstance(cls.value, AnyValue) for cls in b.extras):
                    raise Inexpressible("the negation of 'propertyNames'/'additionalProperties: false'")
                raise Inexpressible("the negation of 'additionalProperties'/'patternProperties'")
            # the same key classes: only keys declared in ``a`` alone can break ``b``'s
            for name, value in a.properties:
                if name in declared_b or isinstance(value, Never):
                    continue
                allowed = self._lookup(b, name)
                if isinstance(allowed, AnyValue):
                    continue
                negated = self.complement(allowed)
                if not isinstance(negated, Never):
                    parts.append(
                        make_object(ObjectNode(properties=((name, negated),), required=frozenset({name})))
                    )
        return parts


def _sizes_outside(a: ArrayNode | ObjectNode, b: ArrayNode | ObjectNode, size: str) -> list[Node]:
    """Arrays or objects (the kind of ``a``) whose ``size`` (``items``, ``properties``) is outside ``b``'s
    bounds, where ``a``'s bounds do not already exclude it."""
    low_a, high_a = getattr(a, "min_" + size), getattr(a, "max_" + size)
    low_b, high_b = getattr(b, "min_" + size), getattr(b, "max_" + size)
    kind: Any = type(a)
    parts: list[Node] = []
    if low_b > low_a:
        parts.append(kind(**{"max_" + size: low_b - 1}))
    if high_b is not None and (high_a is None or high_a > high_b):
        parts.append(kind(**{"min_" + size: high_b + 1}))
    return parts


def _loose_extras(node: ObjectNode) -> tuple[tuple[StringNode, Node], ...]:
    """The key classes of ``node`` without the exclusion of its declared names and evaluation marks."""
    declared = frozenset(name for name, _ in node.properties)
    return tuple((replace(cls.keys, excluded=cls.keys.excluded - declared), cls.value) for cls in node.extras)


def evaluates(node: ObjectNode, name: str) -> bool:
    """True when some keyword of ``node`` evaluates property ``name``."""
    if name in node.evaluated:
        return True
    if name in node.declared():
        return False
    return any(cls.evaluated and string_matches(cls.keys, name) for cls in node.extras)


def extras_unconstrained(node: ObjectNode) -> bool:
    """True when ``node`` accepts any undeclared key with any value."""
    declared = frozenset(name for name, _ in node.properties)
    if not all(isinstance(cls.value, AnyValue) for cls in node.extras):
        return False
    for cls in node.extras:
        keys = cls.keys
        if keys.excluded <= declared and keys == StringNode(excluded=keys.excluded, pointer=keys.pointer):
            return True
    if not node.extras:
        return False
    try:
        covered = realize(node.extras[0].keys)
        for cls in node.extras[1:]:
            covered = covered | realize(cls.keys)
        missing = realize(StringNode(excluded=declared)) - covered
        return bool(missing.is_empty())
    except Inexpressible:
        return False


# ---------------------------------------------------------------------- numbers
def tighter_bound(a: NumberNode, b: NumberNode, *, lower: bool) -> tuple[Fraction | None, bool]:
    """The tighter of the lower (or upper) bounds of ``a`` and ``b`` and whether it is exclusive."""
    x = (a.minimum, a.exclusive_minimum) if lower else (a.maximum, a.exclusive_maximum)
    y = (b.minimum, b.exclusive_minimum) if lower else (b.maximum, b.exclusive_maximum)
    if x[0] is None:
        return y
    if y[0] is None:
        return x
    if x[0] != y[0]:
        return x if (x[0] > y[0]) == lower else y
    return x[0], x[1] or y[1]


def fraction_lcm(x: Fraction, y: Fraction) -> Fraction:
    """The least common multiple of two positive rationals."""
    numerator = math.lcm(x.numerator, y.numerator)
    denominator = math.gcd(x.denominator, y.denominator)
    return Fraction(numerator, denominator)


def intersect_numbers(a: NumberNode, b: NumberNode) -> Node:
    lo, lo_excl = tighter_bound(a, b, lower=True)
    hi, hi_excl = tighter_bound(a, b, lower=False)
    if a.multiple_of is None:
        step = b.multiple_of
    elif b.multiple_of is None:
        step = a.multiple_of
    else:
        step = fraction_lcm(a.multiple_of, b.multiple_of)
    node = NumberNode(
        integer=a.integer or b.integer,
        minimum=lo,
        maximum=hi,
        exclusive_minimum=lo_excl,
        exclusive_maximum=hi_excl,
        multiple_of=step,
        integer_zero_fraction=a.integer_zero_fraction and b.integer_zero_fraction,
        pointer=a.pointer or b.pointer,
        non_integer=a.non_integer or b.non_integer,
        not_multiple_of=a.not_multiple_of | b.not_multiple_of,
    )
    return make_number(node)


def number_complement(context: NumberNode, b: NumberNode) -> list[NumberNode]:
    """Numbers (given ``context``'s integer and multiple constraints) that ``b`` rejects."""
    parts: list[NumberNode] = []
    integral = context.integer or bool(context.multiple_of and context.multiple_of.denominator == 1)
    if b.integer and not integral:
        parts.append(NumberNode(non_integer=True))
    if b.non_integer and not context.non_integer:
        parts.append(NumberNode(integer=True, integer_zero_fraction=context.integer_zero_fraction))
    if b.multiple_of is not None:
        implied = context.multiple_of is not None and (context.multiple_of / b.multiple_of).denominator == 1
        if not implied:
            parts.append(NumberNode(not_multiple_of=frozenset({b.multiple_of})))
    for step in sorted(b.not_multiple_of):
        parts.append(NumberNode(multiple_of=step))
    if b.minimum is not None:
        parts.append(NumberNode(maximum=b.minimum, exclusive_maximum=not b.exclusive_minimum))
    if b.maximum is not None:
        parts.append(NumberNode(minimum=b.maximum, exclusive_minimum=not b.exclusive_maximum))
    return parts


def tagged_apart(a: Node, b: Node) -> bool:
    """True when objects ``a`` and ``b`` both require a key whose values they keep apart by ``const`` or
    ``enum`` (a tagged union's tag): then no value matches both, found without intersecting them."""
    if not isinstance(a, ObjectNode) or not isinstance(b, ObjectNode):
        return False
    shared = a.required & b.required
    if not shared:
        return False
    values_a, values_b = a.declared(), b.declared()
    for name in shared:
        x, y = values_a.get(name), values_b.get(name)
        if (
            isinstance(x, StringNode)
            and isinstance(y, StringNode)
            and x.literals is not None
            and y.literals is not None
            and not x.literals & y.literals
        ):
            return True
    return False


# ---------------------------------------------------------------------- strings
def intersect_strings(a: StringNode, b: StringNode) -> StringNode | Never:
    if a.is_unconstrained():
        return b
    if b.is_unconstrained() or a == b:
        return a
    if a.literals is None:
        literals = b.literals
    elif b.literals is None:
        literals = a.literals
    else:
        literals = a.literals & b.literals
    maxima = [m for m in (a.max_length, b.max_length) if m is not None]
    node = StringNode(
        min_length=max(a.min_length, b.min_length),
        max_length=min(maxima) if maxima else None,
        patterns=tuple(dict.fromkeys(a.patterns + b.patterns)),
        formats=tuple(dict.fromkeys(a.formats + b.formats)),
        literals=literals,
        excluded=a.excluded | b.excluded,
        negated=tuple(dict.fromkeys(a.negated + b.negated)),
        pointer=a.pointer or b.pointer,
    )
    return make_string(node)


def string_complement(b: StringNode) -> StringNode:
    """The strings ``b`` rejects."""
    if b.literals is not None and not (b.patterns or b.formats or b.negated or b.excluded):
        return StringNode(excluded=b.literals)
    only_min = StringNode(min_length=b.min_length)
    if b == only_min and b.min_length > 0:
        return StringNode(max_length=b.min_length - 1)
    if b.max_length is not None and b == StringNode(max_length=b.max_length):
        return StringNode(min_length=b.max_length + 1)
    if len(b.negated) == 1 and b == StringNode(negated=b.negated):
        return b.negated[0]
    return StringNode(negated=(b,))


def is_never(node: Node) -> bool:
    """True when ``node`` obviously matches nothing (including empty string languages)."""
    if isinstance(node, Never):
        return True
    if isinstance(node, StringNode):
        return string_is_empty(node)
    return False
