"""The sampler: seeded, bounded, and never produces a string the matcher rejects."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.errors import GrammarError
from structgen.gbnf import Matcher, Sampler, sample

from .test_matcher import JSON_GRAMMAR

GRAMMARS = [
    JSON_GRAMMAR,
    'root ::= "a" root "b" | ""',
    'root ::= [^a-z]{3,5} "." [\\u00e0-\\u00ff]+',
    'root ::= item ("," item)*\nitem ::= [0-9]+ | "(" root ")"',
    "root ::= . . [^\\x00-\\x7f]",
]


@pytest.mark.parametrize("grammar", GRAMMARS)
def test_samples_match(grammar: str) -> None:
    matcher = Matcher(grammar)
    for text in Sampler(matcher, seed=3, max_length=200).sample(40):
        assert matcher.fullmatch(text)


def test_seeded_and_reproducible() -> None:
    assert sample(JSON_GRAMMAR, 5, seed=7) == sample(JSON_GRAMMAR, 5, seed=7)
    assert sample(JSON_GRAMMAR, 20, seed=7) != sample(JSON_GRAMMAR, 20, seed=8)


def test_bounded_length_on_recursive_grammar() -> None:
    for text in sample('root ::= "(" root ")" | "x"', 30, seed=1, max_length=50):
        assert len(text) <= 2 * 50 + 1


def test_grammar_needing_tokens_cannot_be_sampled() -> None:
    with pytest.raises(GrammarError):
        Sampler("root ::= <[42]>")


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_matching_json(seed: int) -> None:
    matcher = Matcher(JSON_GRAMMAR)
    for text in Sampler(matcher, seed=seed).sample(3):
        assert matcher.fullmatch(text)
