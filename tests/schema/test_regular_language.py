"""Regular: boolean algebra, lengths, literals, enumeration and size guards."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.schema.regular import Regular, RegularTooLarge

_PATTERNS = ["^a+$", "b", "^[ab]{1,3}$", "^(ab)*$", "a.c", "^x?y*$", "^$", "[^a]"]
_TEXT = st.text(alphabet="abcxy\n", max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_PATTERNS), st.sampled_from(_PATTERNS), st.lists(_TEXT, min_size=1, max_size=10))
def test_boolean_operations_agree_with_membership(p: str, q: str, texts: list[str]) -> None:
    a, b = Regular.pattern(p), Regular.pattern(q)
    both, either, minus, neither = a & b, a | b, a - b, ~a
    for s in texts:
        assert both.matches(s) == (a.matches(s) and b.matches(s))
        assert either.matches(s) == (a.matches(s) or b.matches(s))
        assert minus.matches(s) == (a.matches(s) and not b.matches(s))
        assert neither.matches(s) == (not a.matches(s))


def test_equal_languages_compare_equal() -> None:
    assert Regular.pattern("^(a|b)*$") == Regular.pattern("^[ab]*$")
    assert ~~Regular.pattern("^a+b?$") == Regular.pattern("^a+b?$")
    assert Regular.pattern("^[ab]*$") != Regular.pattern("^[ab]+$")
    assert hash(Regular.pattern("^a|b$")) == hash(Regular.pattern("b$|^a"))


def test_emptiness_finiteness_and_strings() -> None:
    assert (Regular.pattern("^a+$") & Regular.pattern("^b+$")).is_empty()
    assert not Regular.pattern("^$").is_empty()
    assert Regular.nothing().is_empty() and Regular.nothing().strings(3) == []
    finite = Regular.pattern("^[ab][0-1]?$")
    assert finite.is_finite()
    assert finite.strings(10) == ["a", "a0", "a1", "b", "b0", "b1"]
    assert finite.strings(5) is None
    assert not Regular.pattern("^a*$").is_finite()
    assert Regular.pattern("^a*$").strings(100) is None
    assert Regular.pattern("^[a-z]$").strings(26) == [chr(c) for c in range(97, 123)]


def test_literals_and_key_exclusion() -> None:
    keys = Regular.literals(["name", "id", "", "naïve"])
    assert keys.strings(10) == ["", "id", "name", "naïve"]
    other = Regular.any_string() - keys
    for s in ["nam", "names", "x", "ID"]:
        assert other.matches(s)
    for s in ["name", "id", "", "naïve"]:
        assert not other.matches(s)
    assert Regular.literals([]) == Regular.nothing()


def test_with_length_counts_code_points() -> None:
    lang = Regular.pattern("^[a-z😀]*$").with_length(2, 3)
    assert lang.matches("😀😀") and lang.matches("abc")
    assert not lang.matches("a") and not lang.matches("abcd")
    assert Regular.any_string().with_length(0, 0) == Regular.literals([""])
    at_least = Regular.pattern("^a*$").with_length(3, None)
    assert not at_least.matches("aa") and at_least.matches("a" * 50)
    assert Regular.any_string().with_length(5, 2).is_empty()
    assert Regular.pattern("^a+$").length_bounds() == (1, None)
    assert Regular.pattern("^ab?c{2}$").length_bounds() == (3, 4)


def test_concatenation() -> None:
    lang = Regular.pattern("^a+$") + Regular.literals(["-", ""]) + Regular.pattern("^[0-9]$")
    assert lang.matches("aa-1") and lang.matches("a7")
    assert not lang.matches("-1") and not lang.matches("a-")


def test_big_constructions_raise_instead_of_hanging() -> None:
    with pytest.raises(RegularTooLarge):
        Regular.any_string().with_length(0, 100_000)
    with pytest.raises(RegularTooLarge):
        Regular.pattern("^[a-z]+@[a-z]+$").with_length(0, 100_000)
    with pytest.raises(RegularTooLarge):
        Regular.pattern("a.{30}$")  # the subset construction would need 2**30 states
    with pytest.raises(RegularTooLarge):
        Regular.pattern("^((a{1,1000}){1,1000}){1,1000}$")
    assert Regular.pattern("^[a-z]{1,1000}$").matches("q" * 1000)
    rnd = random.Random(0)
    keys = ["".join(rnd.choice("abcdefghij") for _ in range(12)) for _ in range(3000)]
    with pytest.raises(RegularTooLarge):
        Regular.literals(keys)


def test_regular_is_immutable() -> None:
    lang = Regular.any_string()
    with pytest.raises(AttributeError):
        lang._dfa = None  # type: ignore[assignment]


@settings(max_examples=40, deadline=None)
@given(st.sets(st.text(alphabet="abc", max_size=6), min_size=1, max_size=25))
def test_finite_languages_minimize_like_infinite_ones(words: set[str]) -> None:
    """Finite languages take the one-pass (acyclic) minimization: from an unminimized trie it gives
    the automaton that partition refinement gives."""
    from structgen.schema.regular import dfa

    trie: list[dict[str, int]] = [{}]
    finals = set()
    for word in words:
        q = 0
        for ch in word:
            if ch not in trie[q]:
                trie[q][ch] = len(trie)
                trie.append({})
            q = trie[q][ch]
        finals.add(q)
    edges = [[(ord(ch), ord(ch), t) for ch, t in sorted(row.items())] for row in trie]
    one_pass = dfa.minimize(edges, finals)
    real = dfa._topological
    try:
        dfa._topological = lambda edges: None  # type: ignore[assignment]
        refined = dfa.minimize(edges, finals)
    finally:
        dfa._topological = real
    assert one_pass == refined == Regular.literals(sorted(words)).automaton
    assert one_pass.size <= len(trie)
