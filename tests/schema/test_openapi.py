"""OpenAPI's ``nullable``: the schema kept for validation after generation admits ``null`` where the grammar does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.generation.output import Output
from structgen.schema.openapi import nullable_as_type

from .compiling import accepts, compiled

D7 = "http://json-schema.org/draft-07/schema#"

NULLABLE_NAME = {"type": "string", "nullable": True}
NESTED = {
    "$defs": {"name": NULLABLE_NAME},
    "type": "object",
    "properties": {
        "a": {"$ref": "#/$defs/name"},
        "b": {"type": "array", "items": {"type": "integer", "nullable": True}},
        "c": {"anyOf": [{"type": "object", "additionalProperties": {"type": "boolean", "nullable": True}}]},
    },
}
INTO_PROPERTIES = {
    "$schema": D7,
    "definitions": {
        "X": {"type": "object", "properties": {"y": {"type": ["string", "integer"], "nullable": True}}}
    },
    "$ref": "#/definitions/X/properties/y",
}
OPENAPI_COMPONENTS = {
    "components": {
        "schemas": {"Pet": {"type": "object", "properties": {"tag": NULLABLE_NAME}, "nullable": True}}
    },
    "$ref": "#/components/schemas/Pet",
}

# (schema, instances): the grammar and the validator after generation must agree on each instance
AGREEMENT: dict[str, tuple[Any, list[Any]]] = {
    "type": (NULLABLE_NAME, [None, "x", 1]),
    "type list": ({"type": ["integer", "boolean"], "nullable": True}, [None, 1, True, "x"]),
    "nested": (
        NESTED,
        [{"a": None, "b": [1, None], "c": {"k": None}}, {"a": 1}, {"b": ["x"]}, {"c": {"k": 1}}],
    ),
    "ref into properties": (INTO_PROPERTIES, [None, "x", 3, 1.5]),
    "ref outside the keywords": (OPENAPI_COMPONENTS, [None, {"tag": None}, {"tag": 1}]),
    "enum without null": ({"type": "string", "enum": ["a"], "nullable": True}, [None, "a", "b"]),
    "enum with null": ({"type": "string", "enum": ["a", None], "nullable": True}, [None, "a", "b"]),
    "const": ({"type": "string", "const": "a", "nullable": True}, [None, "a"]),
    "allOf still applies": ({"type": "string", "allOf": [{"type": "string"}], "nullable": True}, [None, "x"]),
    "allOf admitting null": (
        {"type": "string", "allOf": [{"minLength": 2}], "nullable": True},
        [None, "xy", "x"],
    ),
    "no type": ({"minLength": 2, "nullable": True}, [None, "xy", "x", 1]),
    "nullable false": ({"type": "string", "nullable": False}, [None, "x"]),
    "nullable before type": ({"nullable": True, "type": "string"}, [None, "x", 1]),
}


@pytest.mark.parametrize("name", sorted(AGREEMENT))
def test_validation_after_generation_agrees_with_the_grammar(name: str) -> None:
    schema, instances = AGREEMENT[name]
    validator = compiled(schema).validator()
    for instance in instances:
        assert validator.is_valid(instance) == accepts(schema, instance), f"{name}: {instance!r}"


TYPES = st.sampled_from(["string", "integer", "boolean", "null", "object"])
EXTRAS = st.sampled_from(
    [
        {},
        {"enum": ["a", 1, None]},
        {"enum": ["a", 1]},
        {"const": None},
        {"minLength": 1},
        {"allOf": [{"type": "string"}]},
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(TYPES, st.lists(TYPES, min_size=1, max_size=3, unique=True)), st.booleans(), EXTRAS)
def test_grammar_and_validation_agree_on_null_behind_a_ref(types: Any, nullable: bool, extra: Any) -> None:
    inner = {"type": types, "nullable": nullable, **extra}
    schema = {
        "$defs": {"x": inner},
        "type": "object",
        "properties": {"v": {"$ref": "#/$defs/x"}},
        "required": ["v"],
    }
    validator = compiled(schema).validator()
    for value in (None, "a", 1):
        assert validator.is_valid({"v": value}) == accepts(schema, {"v": value}), value


def test_a_nullable_string_accepts_null_and_strings() -> None:
    validator = compiled(NULLABLE_NAME).validator()
    assert validator.is_valid(None)
    assert validator.is_valid("x")
    assert not validator.is_valid(1)


def test_null_is_added_to_type_in_place() -> None:
    result = nullable_as_type(NESTED)
    assert result["$defs"]["name"] == {"type": ["string", "null"], "nullable": True}
    assert result["properties"]["b"]["items"]["type"] == ["integer", "null"]
    assert result["properties"]["c"]["anyOf"][0]["additionalProperties"]["type"] == ["boolean", "null"]
    assert result["properties"]["a"] == {"$ref": "#/$defs/name"}


def test_ref_targets_outside_the_keywords_are_rewritten() -> None:
    result = nullable_as_type(OPENAPI_COMPONENTS)
    pet = result["components"]["schemas"]["Pet"]
    assert pet["type"] == ["object", "null"]
    assert pet["properties"]["tag"]["type"] == ["string", "null"]


def test_the_input_is_not_changed() -> None:
    for schema in (NESTED, INTO_PROPERTIES, OPENAPI_COMPONENTS):
        before = copy.deepcopy(schema)
        nullable_as_type(schema, 7 if schema is INTO_PROPERTIES else 2020)
        assert schema == before


def test_schemas_without_nullable_come_back_as_they_are() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert nullable_as_type(schema) is schema
    assert compiled(schema).schema == schema


def test_values_inside_enum_and_const_are_data() -> None:
    schema = {"const": {"type": "string", "nullable": True}, "enum": [{"type": "integer", "nullable": True}]}
    assert nullable_as_type(schema) is schema


def test_a_subschema_reached_twice_is_rewritten_at_both_places() -> None:
    shared = {"type": "number", "nullable": True}
    result = nullable_as_type({"properties": {"a": shared, "b": shared}})
    assert result["properties"]["a"]["type"] == result["properties"]["b"]["type"] == ["number", "null"]
    assert shared == {"type": "number", "nullable": True}


def test_generation_validates_a_generated_null() -> None:
    output: Output[Any] = Output(
        {"type": "object", "properties": {"tag": NULLABLE_NAME}, "required": ["tag"]}
    )
    assert output.parse(json.dumps({"tag": None})) == ({"tag": None}, [])
    value, errors = output.parse(json.dumps({"tag": 1}))
    assert value is None and errors
