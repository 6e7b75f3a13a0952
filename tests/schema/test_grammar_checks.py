"""The compiler's grammars pass the ``gbnf`` checker: nothing llama.cpp would refuse (left recursion above
all), whatever the schema's shape and the options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from structgen.errors import StructgenError
from structgen.gbnf import check
from structgen.schema import compile

from .test_properties import SCHEMAS, SETTINGS

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "maskbench-dev"
OPTIONS: list[dict[str, Any]] = [
    {},
    {"additional_properties": False},
    {"any_order": True},
    {"whitespace": "compact"},
    {"whitespace": "pretty", "max_digits": 4},
]


def _optional(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


RECURSIVE = {
    "self through optional properties": {"$defs": {"a": _optional(x=_ref("a"))}, "$ref": "#/$defs/a"},
    "chain through optional properties": {
        "$defs": {"a": _optional(b=_ref("b")), "b": _optional(c=_ref("c")), "c": _optional(a=_ref("a"))},
        "$ref": "#/$defs/a",
    },
    "alias chain back to itself": {
        "$defs": {"a": _ref("b"), "b": {"anyOf": [_ref("a"), _optional(k=_ref("a"))]}},
        "$ref": "#/$defs/a",
    },
    "union with itself": {"anyOf": [{"$ref": "#"}, _optional(a={"$ref": "#"})]},
    "allOf of a reference to itself": {
        "$defs": {"a": {"allOf": [_ref("b")]}, "b": _optional(n=_ref("a"))},
        "allOf": [_ref("a"), _optional(z={"type": "integer"})],
    },
    "intersection of a recursive node with itself": {
        "$defs": {"node": _optional(next=_ref("node"), v={"type": "integer"})},
        "allOf": [_ref("node"), _ref("node")],
    },
    "mutual recursion through unions": {
        "$defs": {
            "a": {"anyOf": [_ref("b"), {"type": "null"}]},
            "b": {"allOf": [_ref("a"), _optional(y={})]},
        },
        "$ref": "#/$defs/a",
    },
    "oneOf of self-referring objects": {
        "oneOf": [_ref("x"), _ref("y")],
        "$defs": {"x": _optional(a={"$ref": "#"}), "y": _optional(b={"$ref": "#"})},
    },
    "extra keys of the same kind": {
        "$defs": {
            "t": {**_optional(c={"type": "array", "items": _ref("t")}), "additionalProperties": _ref("t")}
        },
        "$ref": "#/$defs/t",
    },
    "negated recursion": {
        "$defs": {"a": {"not": _ref("b")}, "b": _optional(q=_ref("a"))},
        "$ref": "#/$defs/a",
    },
    "counted properties": {
        "$defs": {"a": {**_optional(p=_ref("a")), "maxProperties": 3}},
        "$ref": "#/$defs/a",
        "unevaluatedProperties": False,
    },
    "arrays containing themselves": {
        "$defs": {"a": {"type": "array", "items": _ref("a"), "contains": _ref("a")}},
        "$ref": "#/$defs/a",
    },
}


def _problems(schema: Any, **options: Any) -> list[str]:
    """The checker's errors and left-recursion findings on the grammar of ``schema`` (none if refused)."""
    try:
        grammar = compile(schema, **options).grammar
    except StructgenError:
        return []
    return [f"{d.code}: {d.message}" for d in check(grammar) if d.is_error or "recursion" in d.code]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("name", list(RECURSIVE))
def test_recursive_shapes_give_grammars_llama_cpp_loads(name: str, options: dict[str, Any]) -> None:
    assert _problems(RECURSIVE[name], **options) == []


@SETTINGS
@given(SCHEMAS)
def test_generated_schemas_give_grammars_llama_cpp_loads(schema: dict[str, Any]) -> None:
    assert _problems(schema) == []
    assert _problems(schema, additional_properties=False, any_order=True) == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="MaskBench corpus not present beside the checkout")
def test_corpus_sample_gives_grammars_llama_cpp_loads() -> None:
    files = sorted(CORPUS.glob("*/*.json"))[::60]
    for path in files:
        schema = json.loads(path.read_text(encoding="utf-8"))["schema"]
        assert _problems(schema) == [], path.name
