"""``allOf`` over recursive references: every grouping of the same references is one definition."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from .compiling import accepts, compiled

# MaskBench's Handwritten/notnames9: patternProperties whose values intersect the object itself again,
# so the intersections of references nest without end unless each set of operands is built once.
NOT_NAMES: dict[str, Any] = {
    "type": "object",
    "allOf": [
        {"$ref": "#/definitions/npn1"},
        {"$ref": "#/definitions/npn2"},
        {"$ref": "#/definitions/npn3"},
        {"$ref": "#/definitions/pp"},
        {"propertyNames": {"pattern": "^(\\w\\w\\d)+$"}},
        {"maxProperties": 1},
    ],
    "definitions": {
        "npn1": {"not": {"propertyNames": {"not": {"pattern": "a5b"}}}},
        "npn2": {"not": {"propertyNames": {"not": {"pattern": "(^[^5]*$)|7"}}}},
        "npn3": {"not": {"propertyNames": {"not": {"pattern": "(^[^7]*$)|9"}}}},
        "pp": {"patternProperties": {"7": {"$ref": "#/definitions/al7"}, "9": {"$ref": "#/definitions/al9"}}},
        "al7": {
            "allOf": [
                {"$ref": "#/definitions/npn1"},
                {"$ref": "#/definitions/pp"},
                {"propertyNames": {"pattern": "^(\\w\\d)+$"}},
                {"maxProperties": 1},
            ]
        },
        "al9": {
            "allOf": [
                {"$ref": "#/definitions/npn2"},
                {"$ref": "#/definitions/pp"},
                {"propertyNames": {"pattern": "^(\\w\\d)+$"}},
                {"maxProperties": 1},
            ]
        },
    },
}

VALID = [
    {"aa7aa5bb9": {"a5b7": {"a5b5": {"7": {"a5b9": {"9": {"a5b7": {"7": {"a5b5": {}}}}}}}}}},
    {"aa7aa5bb9": {"a5b7": {"a5b5": {"7": {"a5b9": {"7": {"a5b5": {}}}}}}}},
    {"aa7aa5bb9": {"a5b7": {"a5b5": {}}}},
]
# invalid through what the grammar enforces (maxProperties, the propertyNames patterns); the
# negated propertyNames of npn1-3 are loosened, and reported so
INVALID = [
    {"aa7aa5bb9": {"a5b7": {"a5b5": {}}, "a7": {}}},
    {"aa7aa5bb9": {"a5b7x": {}}},
    {"a5b": {}},
    {"aa7": {}, "aa5": {}},
]


def test_only_the_negated_property_names_are_loosened() -> None:
    report = compiled(NOT_NAMES).report
    assert {(item.pointer, item.severity) for item in report} == {
        (f"/definitions/npn{i}/not", "loosened") for i in (1, 2, 3)
    }


@pytest.mark.parametrize("instance", VALID)
def test_the_grammar_accepts_the_valid_instances(instance: Any) -> None:
    assert jsonschema.Draft7Validator(NOT_NAMES).is_valid(instance)
    assert accepts(NOT_NAMES, instance)


@pytest.mark.parametrize("instance", INVALID)
def test_the_grammar_rejects_what_the_enforced_keywords_forbid(instance: Any) -> None:
    assert not jsonschema.Draft7Validator(NOT_NAMES).is_valid(instance)
    assert not accepts(NOT_NAMES, instance)


GROUPINGS = [
    {"allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/b"}, {"$ref": "#/$defs/c"}]},
    {"allOf": [{"allOf": [{"$ref": "#/$defs/c"}, {"$ref": "#/$defs/a"}]}, {"$ref": "#/$defs/b"}]},
    {
        "allOf": [
            {"$ref": "#/$defs/b"},
            {"allOf": [{"$ref": "#/$defs/a"}, {"$ref": "#/$defs/c"}, {"$ref": "#/$defs/a"}]},
        ]
    },
]
DEFS = {
    "a": {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/a"}, "n": {"type": "integer", "minimum": 0}},
    },
    "b": {
        "type": "object",
        "properties": {"b": {"$ref": "#/$defs/b"}, "n": {"type": "integer", "maximum": 9}},
    },
    "c": {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/c"}, "b": {"$ref": "#/$defs/c"}},
        "maxProperties": 2,
    },
}
TREES = [  # one key per object: the default rejects keys out of schema order, and the groupings differ in it
    {"n": 5},
    {"a": {"a": {"n": 3}}},
    {"a": {"a": {"n": 10}}},
    {"b": {"b": {"n": -1}}},
    {"a": {"b": {"n": 1}}},
    {"b": {"a": {}}},
]


@pytest.mark.parametrize("grouping", range(len(GROUPINGS)))
def test_any_grouping_of_recursive_references_gives_the_same_language(grouping: int) -> None:
    schema = {"$defs": DEFS, **GROUPINGS[grouping]}
    validator = jsonschema.Draft202012Validator(schema)
    for tree in TREES:
        assert accepts(schema, tree) == validator.is_valid(tree), tree
    rules = {compiled({"$defs": DEFS, **other}).grammar.count("\n") for other in GROUPINGS}
    assert len(rules) == 1
