"""Example schemas for the support matrix: for each keyword, cases with instances the grammar must accept
(``valid``) and instances the schema rejects (``invalid``), as exact JSON texts.

The first case of a keyword is its headline example; later cases probe the limits. The build compiles
every case, checks each instance against the grammar and against python-jsonschema, and classifies the
keyword from the compile reports: a keyword of the compiler's table without cases here is a build warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

D4 = "http://json-schema.org/draft-04/schema#"
D7 = "http://json-schema.org/draft-07/schema#"
D2019 = "https://json-schema.org/draft/2019-09/schema"


@dataclass(frozen=True)
class Case:
    """A schema, JSON texts it accepts and JSON texts it rejects, and what the case shows."""

    title: str
    schema: Any
    valid: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    known_issue: str | None = None  # shown on the page; the build warns once it no longer occurs
    plain_json_schema: bool = True  # False: python-jsonschema does not judge this keyword (OpenAPI)


@dataclass(frozen=True)
class Keyword:
    """The cases of one keyword; ``reported_as`` are the report keywords that count for it."""

    cases: tuple[Case, ...]
    reported_as: tuple[str, ...] = ()
    drafts: str | None = None  # for keywords outside DRAFT_KEYWORDS (siblings)
    see: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def kw(*cases: Case, reported_as: tuple[str, ...] = (), drafts: str | None = None, see: str | None = None) -> Keyword:
    return Keyword(tuple(cases), reported_as, drafts, see)


def case(
    title: str,
    schema: Any,
    valid: list[str] | tuple[str, ...] = (),
    invalid: list[str] | tuple[str, ...] = (),
    *,
    known_issue: str | None = None,
    plain_json_schema: bool = True,
) -> Case:
    return Case(title, schema, tuple(valid), tuple(invalid), known_issue, plain_json_schema)


TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/node",
}

CASES: dict[str, Keyword] = {
    "type": kw(
        case("a type list", {"type": ["integer", "null"]}, ["3", "null", "-0"], ["3.5", '"3"']),
        case("integers written with a zero fraction are integers", {"type": "integer"}, ["1.0", "7"], ["1.5"]),
    ),
    "enum": kw(
        case("values of any type", {"enum": ["red", "green", 3, None]}, ['"red"', "3", "null"], ['"blue"', "4"]),
        case("objects and arrays", {"enum": [{"a": 1}, [1, 2]]}, ['{"a": 1}', "[1, 2]"], ['{"a": 2}', "[2, 1]"]),
    ),
    "const": kw(
        case("any JSON value", {"const": {"a": [1, 2]}}, ['{"a": [1, 2]}'], ['{"a": [2, 1]}', '{"a": [1]}']),
        case("numbers compare by value", {"const": 1}, ["1", "1.0"], ["2"]),
    ),
    "nullable": kw(
        case("OpenAPI's nullable", {"type": "string", "nullable": True}, ['"x"', "null"], ["1"]),
        case("adds null to type only: enum still applies", {"type": "string", "enum": ["a"], "nullable": True},
             ['"a"'], ["null", '"b"']),
    ),
    "minLength": kw(
        case("counted in code points", {"type": "string", "minLength": 2}, ['"ab"', '"😀😀"', '"\\u00e9\\u00e9"'],
             ['"a"', '"😀"', '""']),
        case("a large bound", {"type": "string", "minLength": 3000}, [], ['"short"']),
    ),
    "maxLength": kw(
        case("counted in code points", {"type": "string", "maxLength": 3}, ['""', '"abc"', '"😀😀😀"', '"a\\nb"'],
             ['"abcd"']),
        case("a large bound", {"type": "string", "maxLength": 100000}, ['"short"'], []),
        case("together with a pattern", {"type": "string", "pattern": "^[a-z]+$", "maxLength": 4},
             ['"abcd"'], ['"abcde"', '"AB"']),
    ),
    "pattern": kw(
        case("anchored", {"type": "string", "pattern": "^[A-Z]{2}-\\d{4}$"}, ['"AB-1234"'], ['"ab-1234"', '"AB-123"']),
        case("unanchored: a match anywhere", {"type": "string", "pattern": "\\d"}, ['"a1b"', '"7"'], ['"abc"']),
        case("lookaround", {"type": "string", "pattern": "^(?!admin$)[a-z]+$"}, ['"alice"'], ['"admin"']),
        case("a backreference", {"type": "string", "pattern": "^(a+)b\\1$"}, ['"aabaa"'], ['"aaba"']),
    ),
    "format": kw(
        case("a known format", {"type": "string", "format": "date"}, ['"2024-02-29"'], ['"2023-02-29"', '"2024-2-1"']),
        case("a standard format without a grammar", {"type": "string", "format": "regex"}, ['"^a+$"'], []),
        case("an unknown format", {"type": "string", "format": "zip-code"}, ['"anything"'], []),
    ),
    "minimum": kw(
        case("a decimal bound on a number", {"type": "number", "minimum": 1.5}, ["1.5", "2", "15e-1", "1e3"],
             ["1.4", "-2", "1.49"]),
        case("an integer bound", {"type": "integer", "minimum": -3}, ["-3", "10"], ["-4"]),
    ),
    "maximum": kw(
        case("a negative decimal bound", {"type": "number", "maximum": -0.25}, ["-0.25", "-1", "-2.5e2"],
             ["0", "-0.2"]),
    ),
    "exclusiveMinimum": kw(
        case("a number (draft 6 and later)", {"type": "integer", "exclusiveMinimum": 0}, ["1"], ["0", "-1"]),
        case("a boolean beside minimum (draft 4)", {"$schema": D4, "type": "number", "minimum": 0, "exclusiveMinimum": True},
             ["0.001"], ["0"]),
    ),
    "exclusiveMaximum": kw(
        case("a number", {"type": "number", "exclusiveMaximum": 1}, ["0.999", "-5"], ["1", "1.0", "2"]),
    ),
    "multipleOf": kw(
        case("a decimal step", {"type": "number", "multipleOf": 0.25}, ["0.75", "2", "-1.5"], ["0.3"]),
        case("an integer step with bounds", {"type": "integer", "multipleOf": 3, "minimum": 0, "maximum": 20},
             ["0", "9", "18"], ["10", "21", "-3"]),
    ),
    "items": kw(
        case("every item", {"type": "array", "items": {"type": "integer"}}, ["[]", "[1, 2]"], ['[1, "a"]']),
        case("a list of schemas (draft 2019-09 and earlier)",
             {"$schema": D7, "type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
             ['["a", 1]', '["a", 1, true]', "[]"], ['[1, "a"]']),
    ),
    "prefixItems": kw(
        case("a tuple", {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False},
             ['["a", 1]', '["a"]'], ['[1, "a"]', '["a", 1, 2]']),
    ),
    "additionalItems": kw(
        case("after an items list", {"$schema": D2019, "type": "array", "items": [{"type": "string"}],
                                      "additionalItems": {"type": "integer"}},
             ['["a", 1, 2]', '["a"]'], ['["a", "b"]']),
        drafts="4, 6, 7, 2019-09",
    ),
    "minItems": kw(
        case("a small bound", {"type": "array", "minItems": 2}, ["[1, 2]", "[1, 2, 3]"], ["[1]"]),
        case("a large bound", {"type": "array", "items": {"type": "integer"}, "minItems": 5000}, [], ["[1, 2]"]),
    ),
    "maxItems": kw(
        case("a small bound", {"type": "array", "maxItems": 2}, ["[]", "[1, 2]"], ["[1, 2, 3]"]),
        case("a large bound", {"type": "array", "items": {"type": "integer"}, "maxItems": 100000}, ["[1, 2]"], []),
    ),
    "uniqueItems": kw(
        case("items from a small finite set", {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True},
             ['["a", "b"]', "[]"], ['["a", "a"]']),
        case("a prefix of small sets", {"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "boolean"}],
                                         "items": False, "uniqueItems": True},
             ["[true, false]", "[false]"], ["[true, true]"]),
        case("items from an infinite set", {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
             ['["x", "y"]'], ['["x", "x"]']),
    ),
    "contains": kw(
        case("at least one match", {"type": "array", "contains": {"const": 0}}, ["[1, 0]", "[0]"], ["[1, 2]", "[]"]),
        case("two contains (through allOf)", {"type": "array", "allOf": [{"contains": {"const": 0}}, {"contains": {"const": 1}}]},
             ["[0, 1]", "[1, 0]"], ["[0, 0]"]),
    ),
    "minContains": kw(
        case("with contains", {"type": "array", "contains": {"type": "integer"}, "minContains": 2},
             ['[1, "a", 2]'], ['[1, "a"]']),
        reported_as=("contains", "minContains"),
        drafts="2019-09, 2020-12",
    ),
    "maxContains": kw(
        case("with contains", {"type": "array", "contains": {"type": "integer"}, "maxContains": 2},
             ['[1, "a", 2]'], ["[1, 2, 3]"]),
        reported_as=("contains", "maxContains"),
        drafts="2019-09, 2020-12",
    ),
    "properties": kw(
        case("declared properties", {"type": "object", "properties": {"name": {"type": "string"}}},
             ['{"name": "x"}', "{}", '{"other": 1}'], ['{"name": 1}']),
        case("in schema order", {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}},
             ['{"a": 1, "b": 2}', '{"b": 2}', '{"b": 2, "a": 1}'], ['{"a": "x"}']),
    ),
    "required": kw(
        case("required keys", {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
             ['{"a": 1}'], ["{}", '{"b": 1}']),
    ),
    "additionalProperties": kw(
        case("a schema for undeclared keys",
             {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}},
             ['{"a": "x", "b": 1}'], ['{"b": "x"}']),
        case("false", {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
             ['{"a": 1}', "{}"], ['{"b": 1}']),
    ),
    "patternProperties": kw(
        case("keys by pattern", {"type": "object", "patternProperties": {"^x-": {"type": "string"}},
                                 "additionalProperties": False},
             ['{"x-a": "1"}', "{}"], ['{"x-a": 1}', '{"y": "1"}']),
        case("more patterns than the compiler combines",
             {"type": "object", "patternProperties": {"a": {"minLength": 1}, "b": {"minLength": 2}, "c": {"minLength": 3},
                                                      "d": {"minLength": 4}, "e": {"minLength": 5}}},
             ['{"abcde": "12345"}'], ['{"abcde": "1234"}']),
    ),
    "propertyNames": kw(
        case("a pattern for every key", {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
             ['{"ab": 1}', "{}"], ['{"AB": 1}']),
        case("a length bound", {"type": "object", "propertyNames": {"maxLength": 2}}, ['{"ab": 1}'], ['{"abc": 1}']),
    ),
    "minProperties": kw(
        case("one key", {"type": "object", "minProperties": 1}, ['{"a": 1}'], ["{}"]),
        case("one key beyond the required ones", {"type": "object", "properties": {"id": {"type": "integer"}},
                                                  "required": ["id"], "minProperties": 2},
             ['{"id": 1, "x": 2}'], ['{"id": 1}']),
        case("two keys of additional properties", {"type": "object", "minProperties": 2},
             ['{"a": 1, "b": 2}'], ["{}", '{"a": 1}']),
    ),
    "maxProperties": kw(
        case("a small bound", {"type": "object", "maxProperties": 1}, ["{}", '{"a": 1}'], ['{"a": 1, "b": 2}']),
        case("a large bound", {"type": "object", "maxProperties": 100000}, ['{"a": 1}'], []),
    ),
    "dependentRequired": kw(
        case("keys that need other keys", {"type": "object", "dependentRequired": {"card": ["cvv"]}},
             ['{"card": "1", "cvv": "2"}', '{"cvv": "2"}', "{}"], ['{"card": "1"}']),
    ),
    "dependentSchemas": kw(
        case("a schema that applies when a key is present",
             {"type": "object", "dependentSchemas": {"card": {"properties": {"cvv": {"type": "string"}}, "required": ["cvv"]}}},
             ['{"cvv": "2", "card": 1}', '{"cvv": 5}'], ['{"card": 1}', '{"cvv": 2, "card": 1}']),
    ),
    "dependencies": kw(
        case("both forms (draft 7 and earlier)",
             {"$schema": D7, "type": "object",
              "dependencies": {"card": ["cvv"], "bill": {"required": ["address"]}}},
             ['{"card": 1, "cvv": 2}', '{"bill": 1, "address": "x"}', "{}"], ['{"card": 1}', '{"bill": 1}']),
    ),
    "$ref": kw(
        case("into $defs", {"$defs": {"pos": {"type": "integer", "minimum": 1}}, "type": "array",
                            "items": {"$ref": "#/$defs/pos"}},
             ["[1, 2]", "[]"], ["[0]"]),
        case("recursive", TREE, ['{"children": [{"children": []}]}', "{}"], ['{"children": [1]}', '{"x": 1}']),
    ),
    "$dynamicRef": kw(
        case("a recursive tree", {"$id": "https://example.com/tree", "$dynamicAnchor": "node", "type": "object",
                                  "properties": {"children": {"type": "array", "items": {"$dynamicRef": "#node"}}}},
             ['{"children": [{"children": []}]}'], ['{"children": [1]}']),
    ),
    "$recursiveRef": kw(
        case("a linked list (draft 2019-09)", {"$schema": D2019, "$recursiveAnchor": True, "type": "object",
                                               "properties": {"next": {"$recursiveRef": "#"}}},
             ['{"next": {"next": {}}}'], ['{"next": 1}']),
    ),
    "allOf": kw(
        case("merged", {"allOf": [{"type": "integer"}, {"minimum": 0}, {"maximum": 10}]}, ["5", "0"], ["11", "-1", "2.5"]),
        case("objects merged", {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                                          {"properties": {"b": {"type": "integer"}}, "required": ["b"]}]},
             ['{"a": "x", "b": 1}'], ['{"a": "x"}', '{"a": "x", "b": "y"}']),
    ),
    "anyOf": kw(
        case("alternatives", {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]},
             ['"ab"', "3"], ['"abc"', "1.5"]),
    ),
    "oneOf": kw(
        case("exactly one: overlaps removed", {"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]},
             ["2", "3", "4"], ["6", "1"]),
        case("overlapping objects", {"oneOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]},
             ['{"a": 1}', '{"b": 1}'], ['{"a": 1, "b": 2}', "{}"]),
    ),
    "not": kw(
        case("excluded values", {"type": "string", "not": {"enum": ["admin", "root"]}}, ['"alice"', '"rooted"'], ['"root"']),
        case("excluded types", {"not": {"type": ["string", "null"]}}, ["1", "[]"], ['"a"', "null"]),
        case("the negation of uniqueItems", {"type": "array", "not": {"uniqueItems": True}}, ["[1, 1]"], ["[1, 2]"]),
    ),
    "if": kw(
        case("then and else", {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"],
                               "if": {"properties": {"kind": {"const": "a"}}},
                               "then": {"required": ["x"]}, "else": {"required": ["y"]}},
             ['{"kind": "a", "x": 1}', '{"kind": "b", "y": 1}'], ['{"kind": "a", "y": 1}', '{"kind": "b", "x": 1}']),
        case("a numeric condition", {"type": "integer", "if": {"minimum": 10}, "then": {"multipleOf": 10}},
             ["20", "7"], ["15"]),
    ),
    "then": kw(case("with if", {"type": "integer", "if": {"maximum": 0}, "then": {"const": 0}}, ["0", "5"], ["-1"]),
               reported_as=("if", "then"), drafts="7, 2019-09, 2020-12", see="if"),
    "else": kw(case("with if", {"type": "integer", "if": {"maximum": 0}, "else": {"maximum": 9}}, ["-5", "9"], ["10"]),
               reported_as=("if", "else"), drafts="7, 2019-09, 2020-12", see="if"),
    "unevaluatedProperties": kw(
        case("through allOf", {"allOf": [{"properties": {"a": {"type": "integer"}}}], "unevaluatedProperties": False},
             ['{"a": 1}', "{}"], ['{"a": 1, "b": 2}']),
        case("through overlapping anyOf", {"type": "object", "anyOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}],
                                           "unevaluatedProperties": False},
             ['{"a": 1}', '{"a": 1, "b": 2}'], ['{"c": 1}']),
    ),
    "unevaluatedItems": kw(
        case("after prefixItems", {"prefixItems": [{"type": "integer"}], "unevaluatedItems": False}, ["[1]", "[]"],
             ["[1, 2]"]),
        case("with contains", {"type": "array", "contains": {"type": "string"}, "unevaluatedItems": {"type": "integer"}},
             ['["a", 1]'], ['["a", true]']),
    ),
}

# Example strings per format: (accepted, rejected); formats not listed get no example row.
FORMAT_EXAMPLES: dict[str, tuple[str, str]] = {
    "date": ("2024-02-29", "2023-02-29"),
    "time": ("12:30:00Z", "24:00:00Z"),
    "date-time": ("2024-02-29T12:30:00.5+01:00", "2024-02-29 12:30"),
    "duration": ("P3DT4H", "P3H"),
    "email": ("ada@example.com", "ada.example.com"),
    "idn-email": ("jos\u00e9@example.com", "jos\u00e9"),
    "hostname": ("api.example.com", "-bad-.example"),
    "idn-hostname": ("b\u00fccher.example", "b\u00fccher..example"),
    "ipv4": ("192.168.0.1", "192.168.0.256"),
    "ipv6": ("2001:db8::1", "2001:db8:::1"),
    "uri": ("https://example.com/a?b=1#c", "/relative/path"),
    "uri-reference": ("../a/b?c", "http://exa mple.com"),
    "iri": ("https://b\u00fccher.example/\u00e9", "b\u00fccher"),
    "iri-reference": ("/\u00e9t\u00e9", "a b"),
    "uri-template": ("/users/{id}{?fields*}", "/users/{id"),
    "uuid": ("123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456"),
    "json-pointer": ("/a~1b/0", "a/b"),
    "relative-json-pointer": ("1/a", "/a"),
}
