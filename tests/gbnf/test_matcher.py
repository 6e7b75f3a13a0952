"""The matcher: full matches, viable prefixes, failure positions and expectations, llama.cpp's semantics."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.errors import GrammarError
from structgen.gbnf import Matcher, matches

JSON_GRAMMAR = r"""
root   ::= value
value  ::= object | array | string | number | ("true" | "false" | "null")
object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
array  ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
number ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
ws     ::= [ \t\n]{0,20}
"""


@pytest.fixture(scope="module")
def json_matcher() -> Matcher:
    return Matcher(JSON_GRAMMAR)


@pytest.mark.parametrize(
    ("grammar", "text", "ok"),
    [
        ('root ::= "abc"', "abc", True),
        ('root ::= "abc"', "ab", False),
        ('root ::= "abc"', "abcd", False),
        ("root ::= [a-c]+", "abcabc", True),
        ("root ::= [^a-c]+", "xyz", True),
        ("root ::= [^a-c]+", "xaz", False),
        ("root ::= . . .", "a中😀", True),
        ('root ::= "a"{2,3}', "a", False),
        ('root ::= "a"{2,3}', "aaa", True),
        ('root ::= "a"{2,3}', "aaaa", False),
        ('root ::= "a"{2,}', "aaaaaaa", True),
        ('root ::= "a"{2}', "aa", True),
        ('root ::= ("ab" | "a") "c"', "abc", True),
        ('root ::= ("ab" | "a") "c"', "ac", True),
        ("root ::= ", "", True),
        ("root ::= []", "", True),
        ('root ::= x\nx ::= "\\u00e9\\U0001F600"', "é😀", True),
        ("root ::= [\\x00-\\x1f]", "\x01", True),
        ('root ::= "a" | ', "", True),
        ('root ::= "a"? "b"', "b", True),
        ('root ::= ["\\]]+', '"]"', True),
        ("root ::= [a-]+", "a-a", True),
    ],
)
def test_full_match(grammar: str, text: str, ok: bool) -> None:
    assert matches(grammar, text) is ok


def test_json_values(json_matcher: Matcher) -> None:
    for value in [0, -1.5e-3, 'a"b\\c\n\u00e9', [], {}, {"a": [1, {"b": None}]}, True, [1, "x", False]]:
        for indent in (None, 2):
            assert json_matcher.fullmatch(json.dumps(value, indent=indent)), value


def test_failure_position_and_expected(json_matcher: Matcher) -> None:
    result = json_matcher.match('{"a":\n  tru e}')
    assert not result.matched and not result.is_prefix
    assert (result.position, result.line, result.column) == (11, 2, 6)
    assert any('"e"' in e for e in result.expected)


def test_viable_prefix(json_matcher: Matcher) -> None:
    result = json_matcher.match('{"key": [1, 2')
    assert not result.matched
    assert result.is_prefix
    assert result.position == len('{"key": [1, 2')
    assert json_matcher.is_prefix('{"key": [1, 2')
    assert not json_matcher.is_prefix('{"key"]')


def test_refuses_what_llama_cpp_refuses() -> None:
    with pytest.raises(GrammarError, match="undefined rule 'nope'"):
        Matcher("root ::= nope")
    with pytest.raises(GrammarError, match="root"):
        Matcher('start ::= "a"')
    with pytest.raises(GrammarError, match="left recursion"):
        Matcher('root ::= root "a" | "b"')
    with pytest.raises(GrammarError, match="2000"):
        Matcher('root ::= "a"{2001}')


def test_last_definition_wins() -> None:
    assert matches('root ::= "a"\nroot ::= "b"', "b")
    assert not matches('root ::= "a"\nroot ::= "b"', "a")


def test_large_document(json_matcher: Matcher) -> None:
    doc = {f"key{i}": [i, f"text {i} é", {"nested": [True, None, i / 7]}] for i in range(2000)}
    text = json.dumps(doc)
    assert len(text) > 100_000
    assert json_matcher.fullmatch(text)
    assert not json_matcher.fullmatch(text[:-1])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(json_values, st.sampled_from([None, 1, 2]), st.booleans())
def test_every_json_value_matches(
    json_matcher: Matcher, value: object, indent: int | None, ascii_only: bool
) -> None:
    assert json_matcher.fullmatch(json.dumps(value, indent=indent, ensure_ascii=ascii_only))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_prefix_consistency(json_matcher: Matcher, text: str) -> None:
    # A text that is not a viable prefix stays dead whatever follows; a match is always a prefix.
    result = json_matcher.match(text)
    if result.matched:
        assert result.is_prefix
    if not result.is_prefix:
        assert not json_matcher.is_prefix(text + "}")
        assert result.position < len(text)
        assert json_matcher.is_prefix(text[: result.position])
