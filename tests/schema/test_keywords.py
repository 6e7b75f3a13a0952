"""Each keyword the compiler claims to enforce: valid instances match the grammar, invalid ones do not.

These bundled cases run without the shared corpus; ``test_suite.py`` adds the JSON-Schema-Test-Suite.
"""

from __future__ import annotations

from typing import Any

import pytest

from .compiling import accepts, compiled

# (schema, valid instances, invalid instances)
CASES: dict[str, tuple[Any, list[Any], list[Any]]] = {
    "type": ({"type": "integer"}, [1, -5, 0, 10**30, 1.0], [1.5, "1", None, True, [1]]),
    "type list": ({"type": ["string", "null"]}, ["a", None], [1, False, {}]),
    "type draft-04 integer": (
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"},
        [1, -3],
        [1.0, 1.5],
    ),
    "boolean schema true": (True, [1, "a", None, {"a": [1]}], []),
    "boolean schema false": (False, [], [1, "a", None]),
    "enum": (
        {"enum": ["a", 1, None, [1, 2], {"k": "v"}]},
        ["a", 1, None, [1, 2], {"k": "v"}],
        ["b", 2, [2, 1], {}],
    ),
    "const object": (
        {"const": {"a": 1, "b": [True]}},
        [{"a": 1, "b": [True]}],
        [{"a": 1}, {"a": 1, "b": [False]}],
    ),
    "const number": ({"const": 2}, [2, 2.0], [3, "2", True]),
    "minLength maxLength": (
        {"minLength": 2, "maxLength": 3},
        ["ab", "abc", "\U0001f600\U0001f600", 5],
        ["a", "abcd"],
    ),
    "maxLength counts code points": ({"maxLength": 1}, ["\U0001f600", "é"], ["ab"]),
    "pattern unanchored": ({"pattern": "b+c"}, ["abbcd", "bc", 7], ["ac", "cb"]),
    "pattern anchored": ({"pattern": "^[a-z]+$"}, ["abc"], ["ab1", "", "1abc"]),
    "format date": ({"format": "date"}, ["2024-02-29", 3], ["2023-02-29", "2024-1-1"]),
    "format uuid": (
        {"type": "string", "format": "uuid"},
        ["123e4567-e89b-12d3-a456-426614174000"],
        ["123e4567e89b12d3a456426614174000", 1],
    ),
    "minimum maximum": ({"minimum": 1.5, "maximum": 10}, [1.5, 2, 10, 9.99, "x"], [1.4, 10.01, -3]),
    "exclusive bounds": ({"exclusiveMinimum": 0, "exclusiveMaximum": 1}, [0.5, 0.001], [0, 1, 1.5]),
    "draft-04 exclusive": (
        {"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 0, "exclusiveMinimum": True},
        [0.1, 5],
        [0, -1],
    ),
    "integer range": (
        {"type": "integer", "minimum": -10, "maximum": 250},
        [-10, 0, 250, 99],
        [-11, 251, 1000],
    ),
    "multipleOf integer": ({"type": "integer", "multipleOf": 5}, [0, 5, -15, 100], [3, 7, -1]),
    "multipleOf decimal": ({"multipleOf": 0.01}, [0.01, 1.23, 10], [0.001, 1.234]),
    "properties required": (
        {
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
            "required": ["a"],
        },
        [{"a": 1}, {"a": 1, "b": "x"}, {"a": 1, "c": [1]}],
        [{}, {"a": "1"}, {"a": 1, "b": 2}, []],
    ),
    "additionalProperties false": (
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
        [{}, {"a": 1}],
        [{"b": 1}, {"a": 1, "b": 1}],
    ),
    "additionalProperties schema": (
        {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "boolean"}},
        [{"a": 1, "b": True}, {"c": False}],
        [{"b": 1}, {"a": 1, "b": "x"}],
    ),
    "patternProperties": (
        {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
        [{}, {"x-a": 1, "x-b": 2}],
        [{"x-a": "1"}, {"y": 1}],
    ),
    "overlapping patternProperties": (
        {"patternProperties": {"a": {"type": "integer"}, "b": {"minimum": 10}}},
        [{"a": 1, "b": 20, "ab": 12}, {"c": "x"}],
        [{"ab": 5}, {"ab": "x"}, {"a": "x"}],
    ),
    "propertyNames": (
        {"type": "object", "propertyNames": {"maxLength": 2}},
        [{}, {"ab": 1, "c": 2}],
        [{"abc": 1}],
    ),
    "min max properties": (
        {
            "type": "object",
            "properties": {"a": {}, "b": {}, "c": {}},
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 2,
        },
        [{"a": 1}, {"a": 1, "c": 2}],
        [{}, {"a": 1, "b": 2, "c": 3}],
    ),
    "maxProperties with additional properties": (
        {"type": "object", "maxProperties": 2},
        [{}, {"a": 1, "b": 2}],
        [{"a": 1, "b": 2, "c": 3}],
    ),
    "dependentRequired": (
        {"dependentRequired": {"a": ["b"]}},
        [{}, {"b": 1}, {"a": 1, "b": 2}],
        [{"a": 1}],
    ),
    "dependencies draft-07": (
        {"$schema": "http://json-schema.org/draft-07/schema#", "dependencies": {"a": {"required": ["c"]}}},
        [{"c": 1}, {"a": 1, "c": 2}],
        [{"a": 1}],
    ),
    "items": ({"type": "array", "items": {"type": "integer"}}, [[], [1, 2]], [[1, "a"], ["a"]]),
    "prefixItems": (
        {"prefixItems": [{"type": "integer"}, {"type": "string"}], "items": False},
        [[], [1], [1, "a"]],
        [[1, 2], [1, "a", 3], ["a"]],
    ),
    "items array draft-07": (
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "items": [{"type": "integer"}],
            "additionalItems": {"type": "string"},
        },
        [[1, "a", "b"], []],
        [[1, 2], ["a"]],
    ),
    "min max items": ({"minItems": 1, "maxItems": 2}, [[1], [1, 2]], [[], [1, 2, 3]]),
    "contains": ({"contains": {"type": "integer"}}, [[1], ["a", 2], {}], [[], ["a", "b"]]),
    "min max contains": (
        {"contains": {"const": 1}, "minContains": 2, "maxContains": 3},
        [[1, 1], [1, 2, 1, 1]],
        [[1], [1, 1, 1, 1], [2, 2]],
    ),
    "uniqueItems small domain": (
        {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True},
        [[], ["a", "b"], ["c", "a", "b"]],
        [["a", "a"], ["b", "c", "b"]],
    ),
    "minProperties one key on an open object": ({"type": "object", "minProperties": 1}, [{"a": 1}], [{}]),
    "minProperties one beyond the required": (
        {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "minProperties": 2},
        [{"id": 1, "x": 2}, {"id": 1, "x": 2, "y": 3}],
        [{"id": 1}],
    ),
    "uniqueItems with prefixItems and a closed tail": (
        {"prefixItems": [{"type": "boolean"}, {"type": "boolean"}], "items": False, "uniqueItems": True},
        [[], [False], [True, False], [False, True]],
        [[False, False], [True, True], [True, False, True]],
    ),
    "uniqueItems across prefix and tail, 1 equals 1.0": (
        {"prefixItems": [{"const": 1}], "items": {"enum": [1.0, 2, "2"]}, "uniqueItems": True, "minItems": 2},
        [[1, 2], [1, "2", 2]],
        [[1], [1, 1.0], [1, 2, 2], [1, "2", "2"]],
    ),
    "allOf": (
        {"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"a": {"type": "integer"}}}]},
        [{"a": 1}],
        [{}, {"a": "x"}, 1],
    ),
    "anyOf": ({"anyOf": [{"type": "string"}, {"type": "number", "minimum": 2}]}, ["a", 3], [1, None]),
    "oneOf exclusive": (
        {"oneOf": [{"type": "integer"}, {"minimum": 2}]},
        [1, 2.5],
        [3, 0.5],
    ),
    "oneOf on required keys": (
        {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
        [{"a": 1}, {"b": 1}],
        [{"a": 1, "b": 2}, {}],
    ),
    "not type": ({"not": {"type": "string"}}, [1, None, {}], ["a"]),
    "not enum": ({"type": "string", "not": {"enum": ["a", "b"]}}, ["c", "ab"], ["a", "b"]),
    "not integer": ({"not": {"type": "integer"}}, [1.5, "a"], [1, 0]),
    "if then else": (
        {
            "if": {"properties": {"kind": {"const": "n"}}, "required": ["kind"]},
            "then": {"properties": {"v": {"type": "number"}}},
            "else": {"properties": {"v": {"type": "string"}}},
        },
        [{"kind": "n", "v": 1}, {"kind": "s", "v": "x"}, {"v": "x"}],
        [{"kind": "n", "v": "x"}, {"kind": "s", "v": 1}],
    ),
    "ref to defs": (
        {
            "$defs": {"pos": {"type": "integer", "minimum": 0}},
            "type": "array",
            "items": {"$ref": "#/$defs/pos"},
        },
        [[0, 3]],
        [[-1]],
    ),
    "recursive ref": (
        {
            "type": "object",
            "properties": {"v": {"type": "integer"}, "child": {"$ref": "#"}},
            "additionalProperties": False,
        },
        [{}, {"v": 1, "child": {"child": {"v": 2}}}],
        [{"child": {"v": "x"}}, {"w": 1}],
    ),
    "anchor": (
        {"$defs": {"a": {"$anchor": "thing", "type": "boolean"}}, "$ref": "#thing"},
        [True],
        [1],
    ),
    "nullable": ({"type": "string", "nullable": True}, ["a", None], [1]),
    "unevaluatedProperties": (
        {"allOf": [{"properties": {"a": {}}}], "properties": {"b": {}}, "unevaluatedProperties": False},
        [{"a": 1, "b": 2}, {}],
        [{"c": 1}, {"a": 1, "c": 1}],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keyword_is_enforced(name: str) -> None:
    schema, valid, invalid = CASES[name]
    for instance in valid:
        assert accepts(schema, instance), f"{name}: rejected valid {instance!r}"
    for instance in invalid:
        assert not accepts(schema, instance), f"{name}: accepted invalid {instance!r}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_enforced_keywords_are_not_reported(name: str) -> None:
    schema = CASES[name][0]
    loosened = [item for item in compiled(schema).report if item.severity == "loosened"]
    assert loosened == []
