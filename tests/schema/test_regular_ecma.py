"""ECMA-262 pattern semantics of Regular.pattern (JSON Schema's ``pattern`` keyword)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.errors import InvalidSchemaError, UnsupportedSchemaError
from structgen.schema.regular import Regular


@pytest.mark.parametrize(
    ("pattern", "accepted", "rejected"),
    [
        # unanchored search unless anchored
        ("abc", ["abc", "xxabcxx"], ["ab", "acb"]),
        ("^abc", ["abc", "abcx"], ["xabc"]),
        ("abc$", ["abc", "xabc"], ["abcx", "abc\n"]),
        ("^abc$", ["abc"], ["abc\n", "xabc", "abcx"]),
        ("^a|b$", ["ax", "xb", "b"], ["xa", "bx"]),
        ("^$", [""], ["a", "\n"]),
        # ASCII-only \d and \w; Unicode \s
        (r"^\d+$", ["0129"], ["\u0663", "\uff11", ""]),
        (r"^\w+$", ["a_Z9"], ["é", "\u00df", "-"]),
        (r"^\s$", [" ", "\t", "\u00a0", "\u2003", "\ufeff", "\u2028", "\v"], ["a", "\u200b"]),
        (r"^\S$", ["a"], [" ", "\u3000"]),
        (r"^\D\W$", ["a-", "é!"], ["1-", "ab"]),
        # . excludes only line terminators
        ("^.$", ["a", "é", "😀", "\t"], ["\n", "\r", "\u2028", "\u2029", ""]),
        # classes
        ("^[^]$", ["\n", "a"], ["", "ab"]),
        ("^[]$", [], ["", "a"]),
        (r"^[\d-z]$", ["1", "-", "z"], ["y"]),
        (r"^[a-c-]$", ["b", "-"], ["d"]),
        (r"^[\b]$", ["\b"], ["b"]),
        (r"^[^a-z]$", ["A", "\n"], ["q"]),
        (r"^[\w.]+$", ["a.b"], ["a b"]),
        # escapes
        (r"^\u00e9\x41\cJ\0$", ["éA\n\0"], []),
        (r"^\u{1F600}$", ["😀"], ["\U0001f601"]),
        (r"^\uD83D\uDE00$", ["😀"], []),
        (r"^\/\-\.\*$", ["/-.*"], []),
        (r"^\p{Lu}\P{L}$", ["Ä1"], ["ä1", "ÄÄ"]),
        (r"^\p{gc=Nd}+$", ["1\u0663"], ["a"]),
        # quantifiers
        ("^a{2,3}$", ["aa", "aaa"], ["a", "aaaa"]),
        ("^a{2}$", ["aa"], ["aaa"]),
        ("^a{2,}$", ["aa", "aaaaa"], ["a"]),
        ("^a{,2}$", ["a{,2}"], ["a"]),
        ("^a+?b*?c??$", ["ab", "aac"], ["b"]),
        ("^x{$", ["x{"], []),
        ("^(?:ab|c)+$", ["abcab"], ["abca"]),
        ("^(?<year>[0-9]{4})$", ["2024"], ["24"]),
        # word boundaries
        (r"\bfoo\b", ["foo", "a foo.", "foo-bar"], ["afoo", "foob", "_foo"]),
        (r"^a\B", ["ab", "a1"], ["a", "a-"]),
    ],
)
def test_pattern_semantics(pattern: str, accepted: list[str], rejected: list[str]) -> None:
    lang = Regular.pattern(pattern)
    for s in accepted:
        assert lang.matches(s), (pattern, s)
    for s in rejected:
        assert not lang.matches(s), (pattern, s)


@pytest.mark.parametrize(
    "pattern",
    [
        "a(?=b)",
        "a(?!b)",
        "(?<=a)b",
        "(?<!a)b",
        r"(a)\1",
        r"(?<n>a)\k<n>",
        r"\Z",
        r"\A",
        "(?i)abc",
        "(?P<n>a)",
        "a*+",
        r"\p{Script=Greek}",
    ],
)
def test_unsupported_constructs_raise_with_pointer(pattern: str) -> None:
    with pytest.raises(UnsupportedSchemaError) as info:
        Regular.pattern(pattern, "/properties/x/pattern")
    assert info.value.keyword == "pattern"
    assert info.value.pointer == "/properties/x/pattern"


@pytest.mark.parametrize(
    "pattern", ["(", "a)", "[a", "*a", "a{3,1}", "[z-a]", "\\", r"\u12", r"\c1", r"\e", "^*"]
)
def test_syntax_errors_raise_invalid_schema(pattern: str) -> None:
    with pytest.raises(InvalidSchemaError) as info:
        Regular.pattern(pattern, "/p")
    assert info.value.keyword == "pattern"
    assert info.value.pointer == "/p"


_ATOMS = ["a", "b", "ab", "[ab]", "[^a]", ".", "(a|bc)", "(?:b|)", "x"]


@st.composite
def _simple_patterns(draw: st.DrawFn) -> str:
    """Patterns whose meaning is the same in ECMA-262 and Python on inputs without line breaks."""
    parts = draw(
        st.lists(
            st.tuples(st.sampled_from(_ATOMS), st.sampled_from(["", "*", "+", "?", "{1,2}", "{2}"])),
            min_size=1,
            max_size=4,
        )
    )
    body = "".join(a + q for a, q in parts)
    if draw(st.booleans()):
        body = body + "|" + draw(st.sampled_from(_ATOMS))
    return draw(st.sampled_from(["", "^"])) + body + draw(st.sampled_from(["", "$"]))


@settings(max_examples=150, deadline=None)
@given(_simple_patterns(), st.lists(st.text(alphabet="abcx", max_size=6), min_size=1, max_size=8))
def test_agrees_with_python_search_where_dialects_coincide(pattern: str, texts: list[str]) -> None:
    lang = Regular.pattern(pattern)
    compiled = re.compile(pattern)
    for text in texts:
        assert lang.matches(text) == (compiled.search(text) is not None), (pattern, text)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0x10FFFF), st.sampled_from(["Lu", "L", "Nd", "P", "Cn", "Zs", "Mn"]))
def test_unicode_property_escapes_follow_unicodedata(cp: int, category: str) -> None:
    lang = Regular.pattern(rf"^\p{{{category}}}$")
    assert lang.matches(chr(cp)) == unicodedata.category(chr(cp)).startswith(category)
