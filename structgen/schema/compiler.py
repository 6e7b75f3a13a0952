"""The compiler's entry points: :func:`compile` and :func:`to_gbnf`."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from structgen.errors import InvalidSchemaError, SchemaError, UnsupportedSchemaError

from . import openapi
from .bounds import bound_sizes
from .defs import CycleError, WorkBudgetExceeded, cycle_error
from .emit import Emitter, Options, Whitespace
from .lint import name_present_keywords, report_misspellings
from .model import AnyOf, ArrayNode, Contains, KeyClass, Node, ObjectNode, Ref
from .normalize import Normalizer
from .refs import Document, RemoteResolver, draft_of
from .regular.deadline import TimeLimitExceeded, check_time, enter_compile, leave_compile
from .report import Report, ReportItem
from .types import is_type_like, schema_for_type


class CompileTimeLimit(UnsupportedSchemaError):
    """The schema needs more than the compile's ``time_limit``."""


@dataclass(frozen=True)
class CompiledSchema:
    """A compiled schema: the GBNF ``grammar``, the ``report`` of keywords it does not fully enforce,
    and the JSON ``schema`` to validate generated values against afterwards (OpenAPI's ``nullable``
    spelled out in ``type``)."""

    grammar: str
    """The GBNF grammar, ready to send as ``grammar``."""
    report: tuple[ReportItem, ...]
    """The keywords the grammar does not fully enforce, each with its JSON pointer."""
    schema: Any
    """The schema to validate generated values against (``nullable`` spelled out in ``type``)."""
    draft: int
    """The JSON Schema draft it was read as (4, 6, 7, 2019 or 2020)."""
    satisfiable: bool = True
    """False when no value can satisfy the schema (the grammar then matches nothing)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The options it was compiled with."""

    @property
    def exact(self) -> bool:
        """True when the grammar alone enforces the whole schema."""
        return not any(item.severity == "loosened" for item in self.report)

    def validator(self) -> Any:
        """A python-jsonschema validator for :attr:`schema` (formats checked)."""
        from jsonschema.validators import validator_for  # type: ignore[import-untyped]

        cls = validator_for(self.schema, default=_default_validator(self.draft))
        return cls(self.schema, format_checker=cls.FORMAT_CHECKER)


def compile(
    schema_or_type: Any,
    *,
    whitespace: Whitespace = "flexible",
    additional_properties: bool = True,
    any_order: bool = False,
    strict: bool = False,
    resolver: RemoteResolver | None = None,
    draft: int | None = None,
    formats: bool = True,
    check_schema: bool = True,
    max_digits: int | None = None,
    time_limit: float | None = 1.0,
    max_string_length: int | None = None,
    max_items: int | None = None,
) -> CompiledSchema:
    """Compile a JSON Schema (dict, boolean or JSON text) or a Python type to a GBNF grammar.

    ``whitespace``: ``"compact"`` (none), ``"flexible"`` (bounded; accepts ``json.dumps`` output, plain
    or indented) or ``"pretty"`` (a newline after each opening bracket and comma).
    ``additional_properties=False`` closes objects that declare properties but do not say
    ``additionalProperties`` (the spec's default is open).  ``any_order`` lets small objects list
    their properties in any order (else schema order).  ``strict`` refuses (UnsupportedSchemaError)
    instead of reporting a keyword the grammar cannot enforce.  ``resolver`` maps absolute URIs of
    remote ``$ref`` targets to schemas (nothing is fetched otherwise).  ``draft`` (4, 6, 7, 2019,
    2020) applies when the schema has no ``$schema``; 2020-12 by default.  ``max_digits`` bounds the
    digits of integer and fraction parts (exponents to 3 digits): a restriction for generation, so that
    a model's numbers end; values needing longer spellings are then refused by the grammar.
    ``max_string_length`` and ``max_items`` bound strings and arrays the schema leaves unbounded, for
    generation too (reported as restrictions; the schema's own bounds win); a string with a pattern or
    format gets the longest bound up to that which keeps its grammar small, or none.
    ``formats=False`` treats ``format`` as an annotation (the 2019-09/2020-12 default) instead of
    enforcing it.  ``check_schema=False`` skips validation against the metaschema.  A schema needing
    more than ``time_limit`` seconds is refused (UnsupportedSchemaError); None: no limit. So is a schema
    nested deeper than the caller's recursion limit allows (``compile`` leaves ``sys.setrecursionlimit``
    alone, so that compiles in several threads cannot disturb one another).
    """
    bounds = {"max_digits": max_digits, "max_string_length": max_string_length, "max_items": max_items}
    for name, bound in bounds.items():
        if bound is not None and bound < 1:
            raise ValueError(f"{name} must be at least 1, got {bound}")
    if whitespace not in ("compact", "flexible", "pretty"):
        raise ValueError(f"whitespace must be 'compact', 'flexible' or 'pretty', not {whitespace!r}")
    started = time.monotonic()
    schema = _load(schema_or_type)
    default_draft = draft if draft is not None else 2020
    the_draft = draft_of(schema, default_draft)
    report = Report(strict=strict)
    bounds_report = Report()  # kept apart: its keywords name bounds the schema does not have
    options = Options(whitespace=whitespace, any_order=any_order, max_digits=max_digits)
    deadline = None if time_limit is None else started + time_limit
    token = enter_compile(deadline)
    try:
        if check_schema:
            _check_schema(schema, the_draft, report)
        report_misspellings(schema, report)
        document = Document(schema, the_draft, resolver)
        normalizer = Normalizer(document, report, formats=formats)
        try:
            root = normalizer.root()
            normalizer.defs.finish()
        except CycleError as error:
            raise cycle_error(error.name, normalizer.defs.pointers.get(error.name, "")) from None
        definitions = dict(normalizer.defs.nodes)
        if not additional_properties:
            root = _close_objects(root, definitions)
        if max_string_length is not None or max_items is not None:
            root = bound_sizes(
                root,
                definitions,
                bounds_report,
                normalizer.defs.pointers,
                max_string_length=max_string_length,
                max_items=max_items,
            )
        emitter = Emitter(definitions, normalizer.algebra, report, options, normalizer.defs.pointers)
        grammar = emitter.emit(root)
        satisfiable = emitter.satisfiable
    except RecursionError:
        raise UnsupportedSchemaError("the schema is nested too deeply to compile", "") from None
    except WorkBudgetExceeded:
        raise UnsupportedSchemaError(
            "the schema is too complex to compile (work budget exhausted)", ""
        ) from None
    except TimeLimitExceeded:
        raise CompileTimeLimit(
            f"the schema is too complex to compile within the time limit ({time_limit:g} s;"
            " compile(..., time_limit=None) lifts it)",
            "",
        ) from None
    finally:
        leave_compile(token)
    return CompiledSchema(
        grammar=grammar,
        report=name_present_keywords(report.items, schema) + tuple(bounds_report.items),
        schema=openapi.nullable_as_type(schema, the_draft),
        draft=the_draft,
        satisfiable=satisfiable,
        options={
            "whitespace": whitespace,
            "additional_properties": additional_properties,
            "any_order": any_order,
            "formats": formats,
            **({"max_string_length": max_string_length} if max_string_length is not None else {}),
            **({"max_items": max_items} if max_items is not None else {}),
        },
    )


def to_gbnf(schema_or_type: Any, **options: Any) -> str:
    """The GBNF grammar of a schema or Python type (see :func:`compile` for the options)."""
    return compile(schema_or_type, **options).grammar


def _load(schema_or_type: Any) -> Any:
    if isinstance(schema_or_type, (str, bytes)):
        try:
            schema_or_type = json.loads(schema_or_type)
        except json.JSONDecodeError as error:
            raise InvalidSchemaError(
                f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}", ""
            ) from None
        except RecursionError:
            raise InvalidSchemaError("the JSON is nested too deeply to read", "") from None
        if not isinstance(schema_or_type, (bool, Mapping)):
            raise InvalidSchemaError(
                f"a schema must be an object or a boolean, not {json.dumps(schema_or_type)[:40]}", ""
            )
    if isinstance(schema_or_type, (bool, Mapping)):
        return schema_or_type
    if is_type_like(schema_or_type):
        return schema_for_type(schema_or_type)
    raise InvalidSchemaError(
        f"a schema must be an object or a boolean, not {type(schema_or_type).__name__}", ""
    )


def _default_validator(draft: int) -> Any:
    import jsonschema  # type: ignore[import-untyped]

    return {
        4: jsonschema.Draft4Validator,
        6: jsonschema.Draft6Validator,
        7: jsonschema.Draft7Validator,
        2019: jsonschema.Draft201909Validator,
    }.get(draft, jsonschema.Draft202012Validator)


def _check_schema(schema: Any, draft: int, report: Report) -> None:
    """InvalidSchemaError (with the pointer of the worst problem) when ``schema`` breaks its metaschema.

    Repeated values in ``enum``/``required``/``type`` change no meaning: they are reported, not refused.
    jsonschema-rs answers first; python-jsonschema finds and explains the problems of a
    schema it refuses, and checks schemas too deep for it. Schemas found valid are not checked again.
    """
    from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
    from jsonschema.validators import validator_for

    try:
        cls = validator_for(schema, default=_default_validator(draft))
        key = _checked_key(schema, cls)
        if key is not None and key in _CHECKED:
            return
        fast = _fast_validator(cls)
        if fast is not None and not _deeper_than(schema, MAX_FAST_DEPTH) and fast.is_valid(schema):
            _remember(key)
            return
        errors = list(_timed_validator(cls).iter_errors(schema))
    except SchemaError:
        raise
    except (RecursionError, TimeLimitExceeded):
        raise
    except Exception as problem:  # noqa: BLE001 - non-JSON values inside the schema, and similar
        raise InvalidSchemaError(f"not a valid schema: {problem}", "") from None
    if not errors:
        _remember(key)
    serious = []
    for error in errors:
        if error.validator == "uniqueItems":
            report.ignored(
                _pointer(error.absolute_path),
                str(error.path[-1]) if error.path else "",
                "repeated values in the schema are ignored",
            )
        else:
            serious.append(error)
    worst = best_match(serious)
    if worst is None:
        return
    raise InvalidSchemaError(
        f"invalid schema: {worst.message}", _pointer(worst.absolute_path), str(worst.validator)
    )


MAX_FAST_DEPTH = 2000
"""Deeper schemas (in JSON levels) skip jsonschema-rs, which recurses on the C stack."""
MAX_CHECKED = 4096
_CHECKED: dict[bytes, None] = {}


def _checked_key(schema: Any, cls: Any) -> bytes | None:
    """A digest of ``schema`` and its metaschema; None for values JSON cannot hold."""
    try:
        text = json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return None
    return hashlib.blake2b(f"{cls.__name__} {text}".encode(), digest_size=16).digest()


def _remember(key: bytes | None) -> None:
    if key is None:
        return
    if len(_CHECKED) >= MAX_CHECKED:
        del _CHECKED[next(iter(_CHECKED))]
    _CHECKED[key] = None


def _deeper_than(value: Any, limit: int) -> bool:
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(limit):
        deeper: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            deeper.extend(child for child in children if isinstance(child, (dict, list)))
        if not deeper:
            return False
        level = deeper
    return True


@functools.cache
def _fast_validator(cls: Any) -> Any:
    """A jsonschema-rs validator for the metaschema of ``cls`` (None when it has none)."""
    import jsonschema_rs

    rust = getattr(jsonschema_rs, cls.__name__, None)
    return None if rust is None else rust(cls.META_SCHEMA)


@functools.cache
def _timed_validator(cls: Any) -> Any:
    """A python-jsonschema validator for the metaschema of ``cls`` that keeps the compile's deadline.

    Its keywords check the time. The metaschemas lose their ``$schema``, so that every subschema is
    checked by this class (``$schema`` would choose the stock one).
    """
    import jsonschema_specifications  # type: ignore[import-untyped]
    from jsonschema.validators import extend
    from referencing import Registry
    from referencing.jsonschema import specification_with

    def timed(keyword: Any) -> Any:
        def check(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
            check_time()
            return keyword(validator, value, instance, schema)

        return check

    def bare(schema: Any) -> Any:
        return {key: value for key, value in schema.items() if key != "$schema"}

    specification = specification_with(cls.META_SCHEMA["$schema"])
    registry: Any = Registry().with_resources(
        (uri, specification.create_resource(bare(jsonschema_specifications.REGISTRY[uri].contents)))
        for uri in jsonschema_specifications.REGISTRY
        if jsonschema_specifications.REGISTRY[uri].contents.get("$schema") == cls.META_SCHEMA["$schema"]
    )
    timed_cls = extend(cls, {name: timed(keyword) for name, keyword in cls.VALIDATORS.items()})
    root = specification.create_resource(bare(cls.META_SCHEMA))
    return timed_cls(root.contents, _resolver=registry.resolver_with_root(root))


def _pointer(path: Any) -> str:
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _close_objects(root: Node, definitions: dict[str, Node]) -> Node:
    """Forbid undeclared keys in objects that declare properties and leave other keys implicit."""
    memo: dict[Node, Node] = {}

    def close(node: Node) -> Node:
        if isinstance(node, Ref):
            return node
        cached = memo.get(node)
        if cached is not None:
            return cached
        result: Node = node
        if isinstance(node, AnyOf):
            result = AnyOf(tuple(close(alt) for alt in node.alternatives))
        elif isinstance(node, ArrayNode):
            result = replace(
                node,
                prefix=tuple(close(item) for item in node.prefix),
                items=close(node.items),
                contains=tuple(Contains(close(c.node), c.minimum, c.maximum) for c in node.contains),
            )
        elif isinstance(node, ObjectNode):
            extras = node.extras
            if node.properties:
                extras = tuple(cls for cls in extras if cls.evaluated)
            result = replace(
                node,
                properties=tuple((name, close(value)) for name, value in node.properties),
                extras=tuple(KeyClass(cls.keys, close(cls.value), cls.evaluated) for cls in extras),
            )
        memo[node] = result
        return result

    for name in list(definitions):
        definitions[name] = close(definitions[name])
    return close(root)
