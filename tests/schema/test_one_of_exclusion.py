"""``oneOf`` over alternatives that overlap: each alternative excludes the others exactly."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.gbnf import Matcher
from structgen.schema import compile

from .compiling import accepts, compiled

WIDTH = 12


def overlapping(width: int) -> dict[str, Any]:
    """Objects told apart only by which ``kind_i`` they hold: an object may hold several."""
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"name": {"type": "string"}, f"kind_{i}": {"type": "integer"}},
                "required": [f"kind_{i}"],
            }
            for i in range(width)
        ]
    }


OBJECTS = [
    {"kind_3": 1},
    {"name": "a", "kind_3": 1},
    {"kind_3": 1, "kind_7": 2},
    {"kind_3": 1, "kind_7": "two"},
    {"kind_0": 1, "kind_11": None},
    {"kind_0": "one", "kind_11": "two"},
    {"kind_0": 1, "kind_5": 2, "kind_11": 3},
    {"name": "a"},
    {},
]


def test_the_exclusions_are_exact_not_loosened() -> None:
    report = compiled(overlapping(WIDTH)).report
    assert not [item for item in report if item.severity == "loosened"]


@pytest.mark.parametrize("instance", OBJECTS)
def test_an_object_matching_exactly_one_alternative_is_accepted_and_no_other(instance: Any) -> None:
    schema = overlapping(WIDTH)
    # keys in schema order (name, kind_0 ... kind_11), as the default grammar writes them
    assert accepts(schema, instance) == jsonschema.Draft202012Validator(schema).is_valid(instance)


def test_both_outcomes_occur() -> None:
    validator = jsonschema.Draft202012Validator(overlapping(WIDTH))
    outcomes = {validator.is_valid(instance) for instance in OBJECTS}
    assert outcomes == {True, False}


def test_forty_overlapping_alternatives_are_still_exact() -> None:
    schema = overlapping(40)
    assert not [item for item in compiled(schema).report if item.severity == "loosened"]
    assert accepts(schema, {"kind_17": 1, "kind_39": "x"})
    assert not accepts(schema, {"kind_17": 1, "kind_39": 2})


MIXED: dict[str, Any] = {
    "oneOf": [
        *overlapping(4)["oneOf"],
        {"type": "object", "required": ["kind_0", "kind_1"], "properties": {"kind_1": {"minimum": 5}}},
        {"type": "object", "required": ["tag"], "properties": {"tag": {"const": "t"}}},
        {"type": "object", "properties": {"kind_2": {"type": "string"}}, "maxProperties": 1},
    ]
}
MIXED_OBJECTS = [
    {"kind_0": 1},
    {"kind_0": 1, "kind_1": 2},
    {"kind_0": "a", "kind_1": 7},
    {"kind_0": 1, "kind_1": 7.5},
    {"kind_0": "a", "kind_1": 3},
    {"kind_2": "s"},
    {"kind_2": 3},
    {"kind_3": 3, "tag": "t"},
    {"tag": "t"},
    {"tag": "u"},
    {},
]


@pytest.mark.parametrize("instance", MIXED_OBJECTS)
def test_alternatives_of_several_forms_exclude_each_other(instance: Any) -> None:
    valid = jsonschema.Draft202012Validator(MIXED).is_valid(instance)
    assert accepts(MIXED, instance, any_order=True) == valid


# Github_easy/o78062 (MaskBench): a recursive oneOf whose exclusion nests negations of arrays of
# references many levels deep; the grammar is written from a shallow stack, not refused as too deep.
FRAMEWORK: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "definitions": {
        "named": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 500}},
            "required": ["name"],
        },
        "competency": {
            "allOf": [
                {"$ref": "#/definitions/named"},
                {
                    "oneOf": [
                        {
                            "properties": {
                                "competencies": {
                                    "type": "array",
                                    "items": {"$ref": "#/definitions/competency"},
                                }
                            },
                            "required": ["competencies"],
                        },
                        {
                            "properties": {
                                "abilities": {"type": "array", "items": {"$ref": "#/definitions/ability"}}
                            },
                            "required": ["abilities"],
                        },
                    ]
                },
            ]
        },
        "ability": {
            "allOf": [
                {"$ref": "#/definitions/named"},
                {"properties": {"level": {"type": "string", "minLength": 1}}, "required": ["level"]},
            ]
        },
    },
    "allOf": [
        {"$ref": "#/definitions/competency"},
        {"properties": {"description": {"type": "string"}}, "required": ["description"]},
    ],
}
FRAMEWORKS = [
    {
        "name": "x",
        "competencies": [{"name": "a", "abilities": [{"name": "b", "level": "c"}]}],
        "description": "d",
    },
    {"name": "x", "abilities": [{"name": "b", "level": "c"}], "description": "d"},
    {"name": "x", "competencies": [{"name": "a", "abilities": [{"name": "b"}]}], "description": "d"},
    {"name": "x", "abilities": [], "competencies": [], "description": "d"},
]


def test_a_deep_recursive_exclusion_compiles() -> None:
    assert compiled(FRAMEWORK).grammar


@pytest.mark.parametrize("instance", FRAMEWORKS)
def test_the_recursive_exclusion_accepts_what_the_schema_does(instance: Any) -> None:
    assert accepts(FRAMEWORK, instance) == jsonschema.Draft4Validator(FRAMEWORK).is_valid(instance)


KEYS = st.sampled_from(["a", "b", "c", "d"])
LEAVES = st.sampled_from(
    [{"type": "integer"}, {"type": "string"}, {"const": 1}, {"minimum": 3}, {"type": ["string", "null"]}]
)
ALTERNATIVES = st.fixed_dictionaries(
    {"type": st.just("object"), "required": st.lists(KEYS, min_size=1, max_size=2, unique=True)},
    optional={"properties": st.dictionaries(KEYS, LEAVES, max_size=2), "maxProperties": st.integers(1, 3)},
)
OBJECT_VALUES = st.dictionaries(KEYS, st.one_of(st.none(), st.integers(0, 5), st.sampled_from(["x", "y"])))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ALTERNATIVES, min_size=2, max_size=5), st.lists(OBJECT_VALUES, min_size=1, max_size=8))
def test_one_of_over_objects_agrees_with_jsonschema(alternatives: list[Any], values: list[Any]) -> None:
    schema = {"oneOf": alternatives}
    result = compile(schema, any_order=True, time_limit=None)
    loosened = any(item.severity == "loosened" for item in result.report)
    # a restriction of key order (too many keys for any order) may reject valid values; json.dumps
    # never writes the escaped spellings other restrictions exclude
    ordered = any(item.severity == "restricted" and "order" in item.reason for item in result.report)
    matcher = Matcher(result.grammar)
    validator = jsonschema.Draft202012Validator(schema)
    for value in values:
        if validator.is_valid(value):
            assert ordered or matcher.fullmatch(json.dumps(value)), value
        elif not loosened:
            assert not matcher.fullmatch(json.dumps(value)), value
