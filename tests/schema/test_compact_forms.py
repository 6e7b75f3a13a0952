"""The compact forms that keep compiles fast: extra keys as a trie of the declared ones, large integer
enums as one rule, and a metaschema check that is remembered and keeps the time limit."""

from __future__ import annotations

import json
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.errors import InvalidSchemaError, UnsupportedSchemaError
from structgen.gbnf import Matcher
from structgen.schema import compile
from structgen.schema import compiler as compiler_module
from structgen.schema.compiler import CompileTimeLimit

from .test_regular_gbnf import _encode

KEY_CHARS = st.sampled_from(list('abAB_-/ 0é😀"\\\n\x01'))


def _key_matcher(schema: dict[str, Any]) -> Matcher:
    return Matcher(compile(schema).grammar)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(KEY_CHARS, max_size=4), min_size=1, max_size=5, unique=True),
    st.lists(st.text(KEY_CHARS, max_size=5), min_size=1, max_size=8),
    st.one_of(st.none(), st.integers(0, 5)),
    st.randoms(use_true_random=False),
)
def test_strings_other_than_some_are_exactly_accepted(
    excluded: list[str], texts: list[str], max_length: int | None, rnd: random.Random
) -> None:
    schema: dict[str, Any] = {"type": "string", "not": {"enum": excluded}}
    if max_length is not None:
        schema["maxLength"] = max_length
    compiled = compile(schema)
    matcher = Matcher(compiled.grammar)
    restricted = any(item.severity == "restricted" for item in compiled.report)
    for text in texts + excluded:
        member = text not in excluded and (max_length is None or len(text) <= max_length)
        assert matcher.fullmatch(json.dumps(text, ensure_ascii=False)) == member, text
        assert matcher.fullmatch(json.dumps(text)) == member, text
        if not restricted or not member:  # restricted: escaped ASCII may be refused, never wrongly accepted
            assert matcher.fullmatch(_encode(text, rnd)) == member, text


def test_extra_keys_of_plain_declared_keys_must_be_written_as_encoders_write_them() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "integer"}}}
    compiled = compile(schema)
    matcher = Matcher(compiled.grammar)
    assert matcher.fullmatch('{"name": 1}')
    assert matcher.fullmatch('{"nam": "x", "names": [], "other\\n\\u00e9": null}')
    assert not matcher.fullmatch('{"name": "x"}')
    assert not matcher.fullmatch('{"n\\u0061me": "x"}')  # the declared key in disguise
    assert not matcher.fullmatch('{"n\\u0061mes": "x"}')  # valid JSON, but not how encoders write it
    items = [item for item in compiled.report if item.keyword == "additionalProperties"]
    assert [(item.pointer, item.severity) for item in items] == [("/additionalProperties", "restricted")]
    assert compiled.exact


def test_extra_keys_of_other_declared_keys_accept_every_spelling() -> None:
    compiled = compile({"type": "object", "properties": {"né": {"type": "integer"}}})
    matcher = Matcher(compiled.grammar)
    assert matcher.fullmatch('{"né": 1, "\\u006e\\u00e9e": "x"}')
    assert not matcher.fullmatch('{"\\u006e\\u00E9": "x"}')
    assert not [item for item in compiled.report if item.keyword == "additionalProperties"]


def test_key_sets_share_their_rules_within_and_across_grammars() -> None:
    inner = {"type": "object", "properties": {"alpha": {}, "beta": {}}}
    schema = {"type": "object", "properties": {"x": inner, "y": {**inner, "title": "same keys"}}}
    grammar = compile(schema).grammar
    assert grammar.count('("a" ("l" ("p"') == 1
    assert compile(schema).grammar == grammar


def test_a_large_integer_enum_is_one_small_rule() -> None:
    compiled = compile({"enum": [*range(3000), "x"]}, time_limit=None)
    assert len(compiled.grammar) < 2000
    matcher = Matcher(compiled.grammar)
    for text, ok in [
        ("0", True),
        ("-0", True),
        ("2999", True),
        ("17.00", True),
        ('"x"', True),
        ("3000", False),
        ("-1", False),
        ("1.5", False),
        ("01", False),
        ('"y"', False),
    ]:
        assert matcher.fullmatch(text) == ok, text
    assert [(item.keyword, item.severity) for item in compiled.report] == [("enum", "restricted")]


def test_scattered_integer_enums_keep_their_values() -> None:
    values = random.Random(5).sample(range(-(10**6), 10**6), 200)
    matcher = Matcher(compile({"enum": values}, time_limit=None).grammar)
    for value in values[:50]:
        assert matcher.fullmatch(str(value))
    for value in range(-(10**6), 10**6, 9973):
        assert matcher.fullmatch(str(value)) == (value in values)


def test_metaschema_verdicts_are_remembered_only_for_valid_schemas() -> None:
    good = {"type": "object", "properties": {"a": {"minimum": 1}}}
    bad = {"type": "object", "properties": {"a": {"minimum": "one"}}}
    for _ in range(2):
        assert compile(good).grammar
        with pytest.raises(InvalidSchemaError) as error:
            compile(bad)
        assert error.value.pointer == "/properties/a/minimum"


def test_the_python_metaschema_check_finds_the_same_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler_module, "_fast_validator", lambda cls: None)
    monkeypatch.setattr(compiler_module, "_CHECKED", {})
    with pytest.raises(InvalidSchemaError) as error:
        compile({"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"type": 3}]})
    assert error.value.pointer == "/items/0/type"
    assert compile({"$schema": "http://json-schema.org/draft-04/schema#", "enum": [1, 1]}).report


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def test_a_very_deep_schema_is_refused_with_a_typed_error() -> None:
    with pytest.raises(UnsupportedSchemaError, match="nested too deeply"):
        compile(_nested(5000), time_limit=0.5)


def test_compiles_in_threads_leave_the_recursion_limit_alone() -> None:
    limit = sys.getrecursionlimit()
    schemas = [_nested(5000), _nested(60), _nested(3), _nested(60)]

    def outcome(schema: dict[str, Any]) -> str:
        try:
            return compile(schema, time_limit=None).grammar
        except UnsupportedSchemaError as error:
            return error.message

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(outcome, schemas * 3))
    assert sys.getrecursionlimit() == limit
    assert all("nested too deeply" in result for result in results[::4])
    alone = [outcome(schema) for schema in schemas[1:]]
    assert [r for i, r in enumerate(results) if i % 4] == alone * 3


def test_a_schema_needing_more_than_the_time_limit_is_refused_by_it() -> None:
    properties = {f"p{i}": {"type": "string", "pattern": f"^[a-z]{{{i}}}-[0-9]+x{i}$"} for i in range(40)}
    with pytest.raises(CompileTimeLimit, match="time limit"):
        compile({"type": "object", "properties": properties}, time_limit=1e-6)


def test_garbage_is_collected_less_often_only_while_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import threading

    from structgen.schema.regular import deadline, language

    before = gc.get_threshold()
    during: list[int] = []
    real = language._compile

    def compile_node(node: Any) -> Any:
        during.append(gc.get_threshold()[0])
        return real(node)

    monkeypatch.setattr(language, "_compile", compile_node)
    patterns = {"pattern": "^(ab)+x-gc-test$", "minLength": 2}
    compile(patterns)
    assert during and min(during) >= deadline.COMPILE_THRESHOLD
    assert gc.get_threshold() == before
    with pytest.raises(InvalidSchemaError):
        compile({"type": "strin"})
    assert gc.get_threshold() == before
    threads = [threading.Thread(target=compile, args=({"pattern": f"^{c}+$"},)) for c in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.get_threshold() == before
    gc.set_threshold(0)  # a caller's own choice is kept
    try:
        compile(patterns)
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_a_long_chain_of_references_compiles_within_the_default_recursion_limit() -> None:
    defs = {
        f"d{i}": {"type": "object", "properties": {"n": {"$ref": f"#/$defs/d{i + 1}"}}} for i in range(600)
    }
    defs["d600"] = {"type": "integer"}
    schema = {"$ref": "#/$defs/d0", "$defs": defs}
    limit = sys.getrecursionlimit()
    compiled = compile(schema, time_limit=None)
    assert sys.getrecursionlimit() == limit
    matcher = Matcher(compiled.grammar)
    deep: Any = 7
    for _ in range(600):
        deep = {"n": deep}
    assert matcher.fullmatch(json.dumps(deep))
    assert matcher.fullmatch(json.dumps({"n": {"n": {}}}))
    assert not matcher.fullmatch(json.dumps({"n": {"n": "x"}}))


def test_not_over_a_long_chain_of_references_stays_exact() -> None:
    defs: dict[str, Any] = {
        f"d{i}": {
            "type": "object",
            "properties": {"x": {"$ref": f"#/$defs/d{i + 1}"}, "n": {"type": "integer"}},
        }
        for i in range(40)
    }
    defs["d40"] = {"type": "integer"}
    compiled = compile({"$defs": defs, "not": {"$ref": "#/$defs/d0"}}, time_limit=None, strict=True)
    matcher = Matcher(compiled.grammar)
    assert not matcher.fullmatch(json.dumps({"n": 1, "x": {"n": 2}}))
    assert matcher.fullmatch(json.dumps({"n": "one"}))
    assert matcher.fullmatch("3")
