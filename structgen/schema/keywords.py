"""One small function per JSON Schema keyword, folding it into the node being built.

Like python-jsonschema's ``_keywords.py``: :data:`KEYWORDS` maps each keyword to its function and
:data:`DRAFT_KEYWORDS` says which keywords each draft knows.  Type-specific keywords update the
per-type node of a :class:`Fold`; applicators (``allOf``, ``$ref``, ``not``...) add steps that combine
whole nodes, run in order by :meth:`Fold.finish`.  A keyword sees the rest of the compiler only through
a :class:`Context`, as python-jsonschema's keywords see only their validator's ``descend``/``evolve``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from structgen.errors import InvalidSchemaError

from .intersect import (
    NEGATION_BUDGET,
    fraction_lcm,
    intersect_strings,
    is_never,
    tagged_apart,
    tighter_bound,
)
from .model import (
    ANY,
    ANY_STRING,
    NEVER,
    AnyValue,
    ArrayNode,
    Contains,
    KeyClass,
    Never,
    Node,
    NumberNode,
    ObjectNode,
    Pattern,
    Ref,
    StringNode,
    alternatives,
    everything_but,
    full_type,
    make_array,
    make_number,
    make_object,
    make_string,
    to_fraction,
    union,
    value_node,
    values_node,
)
from .refs import Scope
from .report import Inexpressible, Severity
from .strings import check_pattern, format_known, format_notes, string_matches

Step = Callable[[Node], Node]
KeywordFunction = Callable[["Fold", Any], None]

STANDARD_FORMATS = frozenset(
    {
        "date",
        "time",
        "date-time",
        "duration",
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uuid",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
        "regex",
    }
)
MAX_PATTERN_SUBSETS = 4
ONE_OF_BUDGET = 4000
OPEN_KEY_STEPS = 2
"""What one exclusion of an open key spends of ``ONE_OF_BUDGET`` (it adds a property to the grammar)."""


class Context(Protocol):
    """What keyword functions may ask of the compiler: sub-schemas, references, the set algebra, the report."""

    @property
    def formats(self) -> bool:
        """Whether ``format`` is enforced (else an annotation)."""

    @property
    def uses_unevaluated(self) -> bool:
        """Whether the document uses ``unevaluatedProperties``/``unevaluatedItems`` anywhere."""

    @property
    def last_spent(self) -> int:
        """The steps the last top-level :meth:`difference` took."""

    def descend(self) -> AbstractContextManager[None]:
        """One level of structure (array items, property values) for what is computed inside."""

    def sub(self, schema: Any, scope: Scope, exact: bool = False) -> tuple[Node, bool]:
        """The node of the sub-schema at ``scope`` (not yet entered) and whether it is enforced exactly
        (``exact``: the caller needs it exact, as ``not`` does, so nothing in it is left for later)."""

    def ref(self, value: str, scope: Scope, keyword: str) -> Node:
        """The node of the target of the reference ``value`` made at ``scope``."""

    def target(self, value: str, scope: Scope, keyword: str) -> Any:
        """The schema the reference ``value`` made at ``scope`` resolves to."""

    def intersect(self, a: Node, b: Node) -> Node:
        """The values matching both nodes."""

    def difference(self, a: Node, b: Node, budget: int) -> Node:
        """The values matching ``a`` but not ``b``; raises :class:`Inexpressible`."""

    def open_key_exclusion(self, a: Node, b: Node) -> tuple[str, Node] | None:
        """``(key, values)`` when ``a - b`` only limits one key ``a`` leaves open to ``values``."""

    def unevaluated(self, keyword: str, current: Node, rest: Node, pointer: str) -> Node:
        """``current`` where what no keyword evaluated (properties or items) must also match ``rest``."""

    def rank(self, names: Iterable[str]) -> None:
        """Remember the order in which property names first appear (it orders merged objects)."""

    def note(self, severity: Severity, pointer: str, keyword: str, reason: str) -> None:
        """Report a keyword the grammar does not enforce exactly."""


@dataclass
class Fold:
    """The node of one schema object under construction."""

    ctx: Context
    schema: Mapping[str, Any]
    scope: Scope
    types: set[str] | None = None
    string: StringNode = ANY_STRING
    number: NumberNode = field(default_factory=NumberNode)
    array: ArrayNode = field(default_factory=ArrayNode)
    properties: dict[str, Node] = field(default_factory=dict)
    required: dict[str, None] = field(default_factory=dict)
    patterns: list[tuple[Pattern, Node]] = field(default_factory=list)
    additional: Node | None = None
    property_names: Node = ANY
    min_properties: int = 0
    max_properties: int | None = None
    nullable: bool = False
    touched: set[str] = field(default_factory=set)
    steps: list[tuple[int, str, Step]] = field(default_factory=list)
    late_steps: list[tuple[str, Step]] = field(default_factory=list)
    priority: int = 0

    def add_step(self, keyword: str, step: Step) -> None:
        """Combine the node with another one (applicators), after the type keywords.

        A step raising :class:`Inexpressible` leaves the node as it was and loosens ``keyword``.
        """
        self.steps.append((self.priority, keyword, step))

    def add_constraint(self, keyword: str, node: Node) -> None:
        """Intersect the node with ``node``, after the type keywords."""
        self.add_step(keyword, lambda current: self.ctx.intersect(current, node))

    @property
    def draft(self) -> int:
        return self.scope.draft

    def at(self, *tokens: str | int) -> str:
        return self.scope.child(*tokens).pointer

    def child(self, schema: Any, *tokens: str | int) -> Node:
        """The node of a sub-schema that describes a part of the value (an item, a property)."""
        with self.ctx.descend():
            return self.sub(schema, *tokens)

    def sub(self, schema: Any, *tokens: str | int) -> Node:
        """The node of a sub-schema that applies to the value itself (``allOf``, ``not``...)."""
        return self.ctx.sub(schema, self.scope.child(*tokens))[0]

    def exact_sub(self, schema: Any, *tokens: str | int) -> tuple[Node, bool]:
        """Like :meth:`sub`, also telling whether the node is enforced exactly."""
        return self.ctx.sub(schema, self.scope.child(*tokens), exact=True)

    def add_late_step(self, keyword: str, step: Step, *, first: bool = False) -> None:
        """Like :meth:`add_step`, after every other step (``first``: before the other late ones)."""
        self.late_steps.insert(0 if first else len(self.late_steps), (keyword, step))

    def loosened(self, keyword: str, reason: str, *tokens: str | int) -> None:
        self.ctx.note("loosened", self.at(keyword, *tokens), keyword, reason)

    def ignored(self, keyword: str, reason: str) -> None:
        self.ctx.note("ignored", self.at(keyword), keyword, reason)

    def restricted(self, keyword: str, reason: str) -> None:
        self.ctx.note("restricted", self.at(keyword), keyword, reason)

    # ------------------------------------------------------------------ building
    def own_node(self) -> Node:
        names = self.types
        if names is None:
            if not self.touched:
                return ANY
            names = {"null", "boolean", "number", "string", "array", "object"}
        nodes: list[Node] = []
        for name in ("null", "boolean", "number", "integer", "string", "array", "object"):
            if name not in names:
                continue
            if name == "integer" and "number" in names:
                continue
            if name in ("number", "integer"):
                integer = self.number.integer or name == "integer"
                number = replace(
                    self.number,
                    integer=integer,
                    pointer=self.scope.pointer,
                    integer_zero_fraction=self.draft > 4,
                )
                nodes.append(make_number(number))
            elif name == "string":
                nodes.append(make_string(replace(self.string, pointer=self.scope.pointer)))
            elif name == "array":
                nodes.append(self._array())
            elif name == "object":
                nodes.append(self._object())
            else:
                nodes.append(full_type(name))
        if self.nullable:
            nodes.append(full_type("null"))
        return union(nodes)

    def finish(self) -> Node:
        node = self.own_node()
        ordered = [(keyword, step) for _, keyword, step in sorted(self.steps, key=lambda entry: entry[0])]
        for keyword, step in ordered + self.late_steps:
            if isinstance(node, Never):
                break
            try:
                node = step(node)
            except Inexpressible as error:
                self.loosened(keyword, str(error))
        return node

    def _array(self) -> Node:
        if "array" not in self.touched:
            return ArrayNode()
        array = self.array
        return make_array(replace(array, pointer=self.scope.pointer, evaluated_prefix=len(array.prefix)))

    def _object(self) -> Node:
        if "object" not in self.touched:
            return ObjectNode()
        names = self._key_language()
        extras = self._extras(names)
        props: list[tuple[str, Node]] = []
        with self.ctx.descend():
            for name, value in self.properties.items():
                for pattern, pattern_value in self.patterns:
                    if _pattern_matches(pattern, name):
                        value = self.ctx.intersect(value, pattern_value)
                if names is not None and not string_matches(names, name):
                    value = NEVER
                props.append((name, value))
        node = ObjectNode(
            properties=tuple(props),
            required=frozenset(self.required),
            extras=tuple(extras),
            min_properties=self.min_properties,
            max_properties=self.max_properties,
            pointer=self.scope.pointer,
            evaluated=frozenset(self.properties),
        )
        return make_object(node, list(self.required))

    def _key_language(self) -> StringNode | None:
        """The string language of ``propertyNames`` (None when unconstrained)."""
        node = self.property_names
        if isinstance(node, AnyValue):
            return None
        strings = [alt for alt in alternatives(node) if isinstance(alt, StringNode)]
        if any(isinstance(alt, Ref) for alt in alternatives(node)):
            self.loosened("propertyNames", "a reference in propertyNames is not expanded")
            return None
        if not strings:
            return StringNode(literals=frozenset())
        return string_union(strings)

    def _extras(self, names: StringNode | None) -> list[KeyClass]:
        additional = ANY if self.additional is None else self.additional
        evaluated = self.additional is not None
        declared = frozenset(self.properties)
        base_keys = ANY_STRING if names is None else names
        if declared:
            base = intersect_strings(base_keys, StringNode(excluded=declared))
            base_keys = base if isinstance(base, StringNode) else StringNode(literals=frozenset())
        classes: list[KeyClass] = []
        patterns = self.patterns
        if not patterns:
            return [KeyClass(base_keys, additional, evaluated)]
        languages = [StringNode(patterns=(pattern,)) for pattern, _ in patterns]
        with self.ctx.descend():
            if len(patterns) <= MAX_PATTERN_SUBSETS:
                for mask in range(1, 1 << len(patterns)):
                    keys: StringNode | Never = base_keys
                    value: Node = ANY
                    outside: list[StringNode] = []
                    for index, (_, pattern_value) in enumerate(patterns):
                        if mask >> index & 1:
                            keys = (
                                intersect_strings(keys, languages[index])
                                if isinstance(keys, StringNode)
                                else keys
                            )
                            value = self.ctx.intersect(value, pattern_value)
                        else:
                            outside.append(languages[index])
                    if isinstance(keys, Never) or isinstance(value, Never):
                        continue
                    if outside:
                        keys = intersect_strings(keys, StringNode(negated=tuple(outside)))
                    if isinstance(keys, Never) or (mask & (mask - 1) and is_never(keys)):
                        continue
                    classes.append(KeyClass(keys, value, True))
            else:
                self.loosened(
                    "patternProperties", "a key matching several patterns is checked against one only"
                )
                earlier: list[StringNode] = []
                for index, (_, pattern_value) in enumerate(patterns):
                    keys = intersect_strings(base_keys, languages[index])
                    if earlier and isinstance(keys, StringNode):
                        keys = intersect_strings(keys, StringNode(negated=tuple(earlier)))
                    earlier.append(languages[index])
                    if isinstance(keys, StringNode) and not isinstance(pattern_value, Never):
                        classes.append(KeyClass(keys, pattern_value, True))
        rest = intersect_strings(base_keys, StringNode(negated=tuple(languages)))
        if isinstance(rest, StringNode):
            classes.append(KeyClass(rest, additional, evaluated))
        return classes


def _pattern_matches(pattern: Pattern, text: str) -> bool:
    return string_matches(StringNode(patterns=(pattern,)), text)


def string_union(nodes: list[StringNode]) -> StringNode:
    """One string node accepting what any of ``nodes`` accepts."""
    if len(nodes) == 1:
        return nodes[0]
    if all(node.literals is not None for node in nodes):
        values: set[str] = set()
        for node in nodes:
            values |= node.literals or frozenset()
        return StringNode(literals=frozenset(values))
    if any(node.is_unconstrained() for node in nodes):
        return ANY_STRING
    return StringNode(negated=(StringNode(negated=tuple(nodes)),))


def _non_negative(value: Any, pointer: str, keyword: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidSchemaError(f"{keyword} must be a non-negative integer", pointer, keyword)
    return value


def _only(kind: str, nodes: list[Node]) -> Node:
    """``nodes`` for values of type ``kind``; values of other types pass."""
    return union(nodes + everything_but({kind}))


# ---------------------------------------------------------------------- type, enum, const
def type_(fold: Fold, value: Any) -> None:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidSchemaError("type must be a string or a list of strings", fold.at("type"), "type")
    known = {"null", "boolean", "number", "integer", "string", "array", "object"}
    for name in names:
        if name not in known:
            if name == "any" and fold.draft <= 4:
                return
            raise InvalidSchemaError(f"unknown type {name!r}", fold.at("type"), "type")
    fold.types = set(names)


def enum(fold: Fold, value: Any) -> None:
    if not isinstance(value, list):
        raise InvalidSchemaError("enum must be an array", fold.at("enum"), "enum")
    node = values_node(value, fold.at("enum"))
    fold.add_constraint("enum", node)


def const(fold: Fold, value: Any) -> None:
    fold.add_constraint("const", value_node(value, fold.at("const")))


def nullable(fold: Fold, value: Any) -> None:
    if value is True:
        fold.nullable = True


# ---------------------------------------------------------------------- strings
def _size(keyword: str, kind: str, name: str) -> KeywordFunction:
    """The function of ``keyword``: a bound on the size ``name`` of the fold's ``kind`` (``string``, ``array``)."""
    lower = name.startswith("min")

    def function(fold: Fold, value: Any) -> None:
        fold.touched.add(kind)
        n = _non_negative(value, fold.at(keyword), keyword)
        node = getattr(fold, kind)
        current = getattr(node, name)
        if current is not None:
            n = max(current, n) if lower else min(current, n)
        setattr(fold, kind, replace(node, **{name: n}))

    return function


min_length = _size("minLength", "string", "min_length")
max_length = _size("maxLength", "string", "max_length")


def pattern(fold: Fold, value: Any) -> None:
    if not isinstance(value, str):
        raise InvalidSchemaError("pattern must be a string", fold.at("pattern"), "pattern")
    problem = check_pattern(value, fold.at("pattern"))
    if problem is not None:
        fold.loosened("pattern", problem)
        return
    fold.touched.add("string")
    fold.string = replace(fold.string, patterns=fold.string.patterns + (Pattern(value, fold.at("pattern")),))


def format_(fold: Fold, value: Any) -> None:
    if not isinstance(value, str):
        return
    if not fold.ctx.formats:
        fold.ignored("format", "formats are annotations (formats=False)")
        return
    if format_known(value):
        fold.touched.add("string")
        fold.string = replace(fold.string, formats=fold.string.formats + (value,))
        for note in format_notes(value):
            if "not enforced" in note:
                fold.loosened("format", f"{value}: {note}")
            else:
                fold.restricted("format", f"{value}: {note}")
    elif value in STANDARD_FORMATS:
        fold.loosened("format", f"format {value!r} is not checked by the grammar")
    else:
        fold.ignored("format", f"unknown format {value!r} is not checked")


# ---------------------------------------------------------------------- numbers
def _bound(fold: Fold, keyword: str, value: Any, lower: bool, exclusive: bool) -> None:
    fold.touched.add("number")
    bound = to_fraction(value, fold.at(keyword), keyword)
    current = fold.number
    probe = (
        NumberNode(minimum=bound, exclusive_minimum=exclusive)
        if lower
        else NumberNode(maximum=bound, exclusive_maximum=exclusive)
    )
    if lower:
        lo, lo_excl = tighter_bound(current, probe, lower=True)
        fold.number = replace(current, minimum=lo, exclusive_minimum=lo_excl)
    else:
        hi, hi_excl = tighter_bound(current, probe, lower=False)
        fold.number = replace(current, maximum=hi, exclusive_maximum=hi_excl)


def minimum(fold: Fold, value: Any) -> None:
    exclusive = fold.draft <= 4 and fold.schema.get("exclusiveMinimum") is True
    _bound(fold, "minimum", value, True, exclusive)


def maximum(fold: Fold, value: Any) -> None:
    exclusive = fold.draft <= 4 and fold.schema.get("exclusiveMaximum") is True
    _bound(fold, "maximum", value, False, exclusive)


def exclusive_minimum(fold: Fold, value: Any) -> None:
    if fold.draft <= 4 or isinstance(value, bool):
        return
    _bound(fold, "exclusiveMinimum", value, True, True)


def exclusive_maximum(fold: Fold, value: Any) -> None:
    if fold.draft <= 4 or isinstance(value, bool):
        return
    _bound(fold, "exclusiveMaximum", value, False, True)


def multiple_of(fold: Fold, value: Any) -> None:
    step = to_fraction(value, fold.at("multipleOf"), "multipleOf")
    if step <= 0:
        raise InvalidSchemaError("multipleOf must be positive", fold.at("multipleOf"), "multipleOf")
    fold.touched.add("number")
    current = fold.number.multiple_of
    if current is not None:
        step = fraction_lcm(current, step)
    fold.number = replace(fold.number, multiple_of=step)


# ---------------------------------------------------------------------- arrays
def items(fold: Fold, value: Any) -> None:
    fold.touched.add("array")
    if isinstance(value, list):
        if fold.draft >= 2020:
            raise InvalidSchemaError("items must be a schema in draft 2020-12", fold.at("items"), "items")
        fold.array = replace(
            fold.array, prefix=tuple(fold.child(item, "items", index) for index, item in enumerate(value))
        )
        if "additionalItems" in fold.schema:
            additional = fold.child(fold.schema["additionalItems"], "additionalItems")
            fold.array = replace(fold.array, items=additional, items_evaluated=True)
        return
    fold.array = replace(fold.array, items=fold.child(value, "items"), items_evaluated=True)


def prefix_items(fold: Fold, value: Any) -> None:
    if not isinstance(value, list):
        raise InvalidSchemaError("prefixItems must be an array", fold.at("prefixItems"), "prefixItems")
    fold.touched.add("array")
    prefix = tuple(fold.child(item, "prefixItems", index) for index, item in enumerate(value))
    fold.array = replace(fold.array, prefix=prefix)


min_items = _size("minItems", "array", "min_items")
max_items = _size("maxItems", "array", "max_items")


def unique_items(fold: Fold, value: Any) -> None:
    if value is True:
        fold.touched.add("array")
        fold.array = replace(fold.array, unique=True)


def contains(fold: Fold, value: Any) -> None:
    fold.touched.add("array")
    node = fold.child(value, "contains")
    low, high = 1, None
    if fold.draft >= 2019:
        if "minContains" in fold.schema:
            low = _non_negative(fold.schema["minContains"], fold.at("minContains"), "minContains")
        if "maxContains" in fold.schema:
            high = _non_negative(fold.schema["maxContains"], fold.at("maxContains"), "maxContains")
    fold.array = replace(fold.array, contains=fold.array.contains + (Contains(node, low, high),))


# ---------------------------------------------------------------------- objects
def properties(fold: Fold, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidSchemaError("properties must be an object", fold.at("properties"), "properties")
    fold.touched.add("object")
    fold.ctx.rank(str(name) for name in value)
    for name, schema in value.items():
        fold.properties[str(name)] = fold.child(schema, "properties", str(name))


def required(fold: Fold, value: Any) -> None:
    if isinstance(value, bool):  # draft 3's spelling, in schemas not checked against their metaschema
        return
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise InvalidSchemaError("required must be an array of strings", fold.at("required"), "required")
    fold.touched.add("object")
    fold.ctx.rank(value)
    fold.required.update(dict.fromkeys(value))


def additional_properties(fold: Fold, value: Any) -> None:
    fold.touched.add("object")
    fold.additional = fold.child(value, "additionalProperties")


def pattern_properties(fold: Fold, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise InvalidSchemaError(
            "patternProperties must be an object", fold.at("patternProperties"), "patternProperties"
        )
    fold.touched.add("object")
    for source, schema in value.items():
        pointer = fold.at("patternProperties", source)
        node = fold.child(schema, "patternProperties", source)
        problem = check_pattern(source, pointer)
        if problem is not None:
            fold.loosened("patternProperties", f"{problem}; keys it would match are not checked", source)
            fold.patterns.append((Pattern("", pointer), ANY))
            continue
        fold.patterns.append((Pattern(source, pointer), node))


def property_names(fold: Fold, value: Any) -> None:
    fold.touched.add("object")
    fold.property_names = fold.child(value, "propertyNames")


def min_properties(fold: Fold, value: Any) -> None:
    fold.touched.add("object")
    fold.min_properties = _non_negative(value, fold.at("minProperties"), "minProperties")


def max_properties(fold: Fold, value: Any) -> None:
    fold.touched.add("object")
    fold.max_properties = _non_negative(value, fold.at("maxProperties"), "maxProperties")


def _dependent_required(name: str, needed: list[str]) -> Node:
    absent = make_object(ObjectNode(properties=((name, NEVER),)))
    present = make_object(ObjectNode(required=frozenset([name, *needed])))
    return _only("object", [absent, present])


def _dependent_schema(fold: Fold, name: str, schema: Any, *tokens: str) -> Node:
    absent = make_object(ObjectNode(properties=((name, NEVER),)))
    present = fold.ctx.intersect(
        make_object(ObjectNode(required=frozenset([name]))), fold.sub(schema, *tokens)
    )
    return union([_only("object", [absent]), present])


def _dependencies(fold: Fold, keyword: str, value: Any) -> None:
    """``dependentRequired``, ``dependentSchemas`` and ``dependencies`` (each may hold either kind)."""
    if not isinstance(value, Mapping):
        raise InvalidSchemaError(f"{keyword} must be an object", fold.at(keyword), keyword)
    fold.ctx.rank(str(name) for name in value)
    for name, dependency in value.items():
        if isinstance(dependency, list) and keyword != "dependentSchemas":
            if dependency:
                fold.add_constraint(keyword, _dependent_required(str(name), [str(x) for x in dependency]))
        elif keyword != "dependentRequired":
            fold.add_constraint(keyword, _dependent_schema(fold, str(name), dependency, keyword, str(name)))


def dependent_required(fold: Fold, value: Any) -> None:
    _dependencies(fold, "dependentRequired", value)


def dependent_schemas(fold: Fold, value: Any) -> None:
    _dependencies(fold, "dependentSchemas", value)


def dependencies(fold: Fold, value: Any) -> None:
    _dependencies(fold, "dependencies", value)


# ---------------------------------------------------------------------- applicators
def _reference(keyword: str, anchor: str | None) -> KeywordFunction:
    """The function of ``keyword`` (``$ref``, ``$dynamicRef``, ``$recursiveRef`` with its ``anchor``)."""

    def function(fold: Fold, value: Any) -> None:
        if not isinstance(value, str):
            raise InvalidSchemaError(f"{keyword} must be a string", fold.at(keyword), keyword)
        if anchor is not None:  # resolved statically: the target could change with the dynamic scope
            contents = fold.ctx.target(value, fold.scope, keyword)
            if isinstance(contents, Mapping) and anchor in contents:
                fold.loosened(
                    keyword, "resolved statically, to its initial target (the dynamic scope is not followed)"
                )
        fold.add_constraint(keyword, fold.ctx.ref(value, fold.scope, keyword))

    return function


ref = _reference("$ref", None)
dynamic_ref = _reference("$dynamicRef", "$dynamicAnchor")
recursive_ref = _reference("$recursiveRef", "$recursiveAnchor")


def _schema_list(fold: Fold, keyword: str, value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InvalidSchemaError(f"{keyword} must be a non-empty array", fold.at(keyword), keyword)
    return value


def all_of(fold: Fold, value: Any) -> None:
    for index, schema in enumerate(_schema_list(fold, "allOf", value)):
        fold.add_constraint("allOf", fold.sub(schema, "allOf", index))


def _apart(fold: Fold, nodes: list[Node]) -> list[Node]:
    """``nodes`` with "any value" spelled out per type when unevaluated* keywords follow.

    Alternatives carry different annotations, so "any value" must not swallow the others.
    """
    if not fold.ctx.uses_unevaluated:
        return nodes
    return [union(everything_but(set())) if isinstance(node, AnyValue) else node for node in nodes]


def any_of(fold: Fold, value: Any) -> None:
    nodes = [
        fold.sub(schema, "anyOf", index) for index, schema in enumerate(_schema_list(fold, "anyOf", value))
    ]
    fold.add_step(
        "anyOf", lambda current: union(_apart(fold, [fold.ctx.intersect(current, n) for n in nodes]))
    )


def one_of(fold: Fold, value: Any) -> None:
    schemas = _schema_list(fold, "oneOf", value)
    pairs = [fold.exact_sub(schema, "oneOf", index) for index, schema in enumerate(schemas)]
    nodes = [node for node, _ in pairs]
    exact = [flag for _, flag in pairs]

    def step(current: Node) -> Node:
        ctx = fold.ctx
        options = [ctx.intersect(current, node) for node in nodes]
        live = [(i, node) for i, node in enumerate(options) if not is_never(node)]
        exclusive: list[Node] = []
        budget = ONE_OF_BUDGET
        for i, node in live:
            result = node
            opened: dict[str, Node] = {}  # keys of alternatives excluded together, in one intersection
            for j, other in live:
                if i == j or isinstance(result, Never) or tagged_apart(result, other):
                    continue
                excluded = ctx.open_key_exclusion(result, other) if exact[j] and budget > 0 else None
                if excluded is not None and excluded[0] not in opened:
                    opened[excluded[0]] = excluded[1]
                    budget -= OPEN_KEY_STEPS
                    continue
                result = _limit_keys(ctx, result, opened)
                opened = {}
                try:
                    if isinstance(ctx.intersect(result, other), Never):
                        continue
                    if not exact[j]:
                        raise Inexpressible(
                            f"alternative {j} is not fully enforced, so it cannot be excluded"
                        )
                    if budget <= 0:
                        raise Inexpressible("the exclusions are too large")
                    result = ctx.difference(result, other, budget)
                    budget -= ctx.last_spent
                except Inexpressible as error:
                    budget -= ctx.last_spent
                    fold.loosened("oneOf", f"alternatives {i} and {j} may overlap: {error}")
            exclusive.append(_limit_keys(ctx, result, opened))
        return union(_apart(fold, exclusive))

    fold.add_step("oneOf", step)


def _limit_keys(ctx: Context, node: Node, opened: dict[str, Node]) -> Node:
    """``node`` where each key of ``opened``, if present, holds one of its values."""
    return ctx.intersect(node, ObjectNode(properties=tuple(opened.items()))) if opened else node


def not_(fold: Fold, value: Any) -> None:
    node, exact = fold.exact_sub(value, "not")

    def step(current: Node) -> Node:
        if not exact:
            fold.loosened("not", "its schema is not fully enforced, so it cannot be negated")
            return current
        return fold.ctx.difference(current, node, NEGATION_BUDGET)

    fold.add_late_step("not", step)


def if_(fold: Fold, value: Any) -> None:
    if "then" not in fold.schema and "else" not in fold.schema and not fold.ctx.uses_unevaluated:
        return
    condition, exact = fold.exact_sub(value, "if")
    then = fold.sub(fold.schema["then"], "then") if "then" in fold.schema else ANY
    otherwise = fold.sub(fold.schema["else"], "else") if "else" in fold.schema else ANY

    def step(current: Node) -> Node:
        ctx = fold.ctx
        yes = ctx.intersect(ctx.intersect(current, condition), then)
        no = ctx.intersect(current, otherwise)
        try:
            if not exact:
                raise Inexpressible("'if' is not fully enforced, so it cannot be negated")
            no = ctx.difference(no, condition, NEGATION_BUDGET)
        except Inexpressible as error:
            fold.loosened("if", f"'else' is also applied to values matching 'if': {error}")
            if isinstance(no, AnyValue):  # keep the alternatives apart: their annotations differ
                no = union(everything_but(set()))
        return union([yes, no])

    fold.add_late_step("if", step, first=True)


def _unevaluated(keyword: str) -> KeywordFunction:
    """The function of ``unevaluatedProperties`` or ``unevaluatedItems``."""

    def function(fold: Fold, value: Any) -> None:
        node = fold.child(value, keyword)
        pointer = fold.at(keyword)
        fold.add_late_step(keyword, lambda current: fold.ctx.unevaluated(keyword, current, node, pointer))

    return function


unevaluated_properties = _unevaluated("unevaluatedProperties")
unevaluated_items = _unevaluated("unevaluatedItems")


KEYWORDS: dict[str, KeywordFunction] = {
    "type": type_,
    "enum": enum,
    "const": const,
    "nullable": nullable,
    "minLength": min_length,
    "maxLength": max_length,
    "pattern": pattern,
    "format": format_,
    "minimum": minimum,
    "maximum": maximum,
    "exclusiveMinimum": exclusive_minimum,
    "exclusiveMaximum": exclusive_maximum,
    "multipleOf": multiple_of,
    "items": items,
    "prefixItems": prefix_items,
    "minItems": min_items,
    "maxItems": max_items,
    "uniqueItems": unique_items,
    "contains": contains,
    "properties": properties,
    "required": required,
    "additionalProperties": additional_properties,
    "patternProperties": pattern_properties,
    "propertyNames": property_names,
    "minProperties": min_properties,
    "maxProperties": max_properties,
    "dependentRequired": dependent_required,
    "dependentSchemas": dependent_schemas,
    "dependencies": dependencies,
    "$ref": ref,
    "$dynamicRef": dynamic_ref,
    "$recursiveRef": recursive_ref,
    "allOf": all_of,
    "anyOf": any_of,
    "oneOf": one_of,
    "not": not_,
    "if": if_,
    "unevaluatedProperties": unevaluated_properties,
    "unevaluatedItems": unevaluated_items,
}

_COMMON = {
    "type",
    "enum",
    "nullable",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
}
_DRAFT6 = _COMMON | {"dependencies", "const", "contains", "propertyNames"}
_DRAFT7 = _DRAFT6 | {"if"}
_DRAFT2019 = (_DRAFT7 - {"dependencies"}) | {
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
}
DRAFT_KEYWORDS: dict[int, frozenset[str]] = {
    4: frozenset(_COMMON | {"dependencies"}),
    6: frozenset(_DRAFT6),
    7: frozenset(_DRAFT7),
    2019: frozenset(_DRAFT2019 | {"$recursiveRef"}),
    2020: frozenset(_DRAFT2019 | {"prefixItems", "$dynamicRef"}),
}
SIBLING_KEYWORDS = frozenset({"additionalItems", "minContains", "maxContains", "then", "else"})

__all__ = ["DRAFT_KEYWORDS", "KEYWORDS", "SIBLING_KEYWORDS", "Context", "Fold"]
