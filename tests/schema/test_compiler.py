"""The compiler's API: options, errors with pointers, grammar quality (limits, determinism, sharing)."""

from __future__ import annotations

import json
import re

import pytest

from structgen.errors import InvalidSchemaError, SchemaError, UnsupportedSchemaError
from structgen.gbnf import Matcher
from structgen.schema import CompiledSchema, compile, to_gbnf

from .compiling import accepts, accepts_text

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name"],
}


def _repetitions(grammar: str) -> list[int]:
    return [int(n) for n in re.findall(r"\{(\d+)(?:,(\d*))?\}", grammar) for n in n if n]


def test_compile_returns_grammar_report_and_schema() -> None:
    compiled = compile(PERSON)
    assert isinstance(compiled, CompiledSchema)
    assert compiled.grammar.startswith("root ::= ")
    assert compiled.schema == PERSON
    assert compiled.exact and compiled.satisfiable
    assert to_gbnf(PERSON) == compiled.grammar


def test_output_is_deterministic() -> None:
    schema = {"anyOf": [PERSON, {"type": "array", "items": {"enum": ["z", "a", "m"]}}]}
    assert len({compile(schema).grammar for _ in range(3)}) == 1


def test_json_text_is_accepted_as_schema() -> None:
    assert compile(json.dumps(PERSON)).grammar == compile(PERSON).grammar


def test_whitespace_modes() -> None:
    value = {"name": "a", "age": 3}
    assert accepts(PERSON, value)
    assert accepts_text(PERSON, json.dumps(value, indent=2))
    assert accepts_text(PERSON, json.dumps(value, separators=(",", ":")))
    assert accepts_text(PERSON, json.dumps(value, separators=(",", ":")), whitespace="compact")
    assert not accepts_text(PERSON, json.dumps(value), whitespace="compact")
    assert accepts_text(PERSON, '{\n  "name": "a",\n  "age": 3\n}', whitespace="pretty")
    assert not accepts_text(PERSON, '{"name": "a"}' + " " * 200)


def test_flexible_whitespace_is_bounded() -> None:
    assert not accepts_text(PERSON, '{"name":' + " " * 100 + '"a"}')


def test_additional_properties_default_follows_the_spec() -> None:
    assert accepts(PERSON, {"name": "a", "other": [1]})
    assert not accepts(PERSON, {"name": "a", "other": [1]}, additional_properties=False)
    assert accepts({"type": "object"}, {"k": 1}, additional_properties=False)


def test_schema_order_by_default_any_order_on_request() -> None:
    value = {"age": 3, "name": "a"}
    assert not accepts(PERSON, value)
    assert accepts(PERSON, value, any_order=True)
    assert not accepts(PERSON, {"age": 3}, any_order=True)


def test_strict_refuses_what_it_would_report() -> None:
    schema = {"type": "array", "items": {"type": "object"}, "uniqueItems": True}
    report = compile(schema).report
    assert [item.keyword for item in report] == ["uniqueItems"]
    assert report[0].pointer == ""
    with pytest.raises(UnsupportedSchemaError) as error:
        compile(schema, strict=True)
    assert error.value.keyword == "uniqueItems"


def test_lookaround_pattern_is_reported_with_its_pointer() -> None:
    schema = {"properties": {"p": {"type": "string", "pattern": "^(?=a)a+$"}}}
    report = compile(schema).report
    loosened = [(item.pointer, item.keyword) for item in report if item.severity == "loosened"]
    assert loosened == [("/properties/p/pattern", "pattern")]


def test_invalid_json_text() -> None:
    with pytest.raises(InvalidSchemaError) as error:
        compile('{"type": ')
    assert "line 1" in str(error.value)


@pytest.mark.parametrize(
    "schema,pointer",
    [
        ({"type": "strng"}, "/type"),
        ({"properties": {"a": {"minLength": -1}}}, "/properties/a/minLength"),
        ({"items": {"$ref": "#/$defs/missing"}}, "/items/$ref"),
        ({"$ref": "#"}, ""),
        ({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, ""),
        ({"pattern": "(unclosed"}, "/pattern"),
    ],
)
def test_bad_schemas_get_a_pointer(schema: object, pointer: str) -> None:
    with pytest.raises(SchemaError) as error:
        compile(schema)
    assert error.value.pointer.startswith(pointer)


def test_remote_ref_needs_a_resolver() -> None:
    schema = {"$ref": "https://example.com/thing.json"}
    with pytest.raises(InvalidSchemaError):
        compile(schema)
    seen = []

    def resolver(uri: str) -> object:
        seen.append(uri)
        return {"type": "integer"}

    assert accepts_compiled(compile(schema, resolver=resolver), "5")
    assert seen == ["https://example.com/thing.json"]


def accepts_compiled(compiled: CompiledSchema, text: str) -> bool:
    return Matcher(compiled.grammar).fullmatch(text)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "maxLength": 100000},
        {"type": "string", "minLength": 2500, "maxLength": 100000},
        {"type": "array", "minItems": 5000, "items": {"type": "integer"}},
        {"type": "array", "maxItems": 3000},
        {"type": "object", "maxProperties": 2500},
    ],
)
def test_large_bounds_respect_llama_cpp_limits(schema: object) -> None:
    compiled = compile(schema)
    assert compiled.report == ()
    assert max(_repetitions(compiled.grammar)) <= 2000
    assert len(compiled.grammar) < 5000
    Matcher(compiled.grammar)  # the checker accepts it (no left recursion, limits)


def test_large_bounds_are_exact() -> None:
    schema = {"type": "string", "minLength": 2001, "maxLength": 4500}
    assert accepts(schema, "a" * 2001)
    assert accepts(schema, "é" * 4500)
    assert not accepts(schema, "a" * 2000)
    assert not accepts(schema, "a" * 4501)
    items = {"type": "array", "minItems": 2002, "maxItems": 2003}
    assert accepts(items, [0] * 2002) and accepts(items, [0] * 2003)
    assert not accepts(items, [0] * 2001) and not accepts(items, [0] * 2004)


def test_rule_names_are_readable_and_shared() -> None:
    schema = {
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
        "type": "object",
        "properties": {"start": {"$ref": "#/$defs/Point"}, "end": {"$ref": "#/$defs/Point"}},
    }
    grammar = compile(schema).grammar
    names = [line.split(" ::= ")[0] for line in grammar.splitlines()]
    assert "Point" in names
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", name) for name in names)
    assert grammar.count("Point ::=") == 1


def test_recursive_schema_terminates_and_matches() -> None:
    schema = {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }
    assert accepts(schema, {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]})
    assert not accepts(schema, {"value": 1, "children": [{"children": []}]})


def test_recursive_allof_does_not_hang() -> None:
    schema = {
        "$defs": {
            "base": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}},
            "node": {"allOf": [{"$ref": "#/$defs/base"}, {"properties": {"v": {"type": "integer"}}}]},
        },
        "$ref": "#/$defs/node",
    }
    assert accepts(schema, {"next": {"next": {"v": 1}}, "v": 2})
    assert not accepts(schema, {"next": {"v": "x"}})


COSTLY = {
    "type": "string",
    "allOf": [{"pattern": "^[a-z]{3}[0-9]*$"}, {"not": {"pattern": "a.*b.*c"}}, {"pattern": "x"}],
}


def test_time_limit_refuses_cleanly_and_leaves_no_trace() -> None:
    with pytest.raises(UnsupportedSchemaError, match="time limit") as caught:
        compile(COSTLY, time_limit=0)
    assert caught.value.pointer == ""
    # nothing half-built is cached: the same schema then compiles, and the languages are right
    compiled = compile(COSTLY, time_limit=None)
    matcher = Matcher(compiled.grammar)
    assert matcher.fullmatch('"xab123"')
    assert not matcher.fullmatch('"abc"')
    assert not matcher.fullmatch('"xa1"')


def test_time_limit_default_is_one_second() -> None:
    import inspect

    assert inspect.signature(compile).parameters["time_limit"].default == 1.0


def test_unsatisfiable_schema_compiles_to_a_grammar_matching_nothing() -> None:
    compiled = compile({"type": "integer", "minimum": 5, "maximum": 1})
    assert not compiled.satisfiable
    assert not accepts_compiled(compiled, "3")


def test_string_escapes_follow_json() -> None:
    schema = {"type": "string", "maxLength": 2}
    assert accepts_text(schema, r'"\u00e9\n"')
    assert accepts_text(schema, r'"\ud83d\ude00"')  # one code point
    assert not accepts_text(schema, r'"\ud83d"')  # a lone surrogate
    assert not accepts_text(schema, '"\\x41"')
    assert not accepts_text(schema, '"a\tb"')  # raw control character


def test_an_enum_too_large_to_combine_with_its_types_is_reported_not_a_crash() -> None:
    compiled = compile({"type": ["number", "string"], "enum": list(range(300))}, time_limit=None)
    assert [(item.pointer, item.keyword, item.severity) for item in compiled.report] == [
        ("/enum", "enum", "loosened")
    ]
    assert Matcher(compiled.grammar).fullmatch("299")
