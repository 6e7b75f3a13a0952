"""emit_json_string_content / emit_dfa_gbnf: the GBNF accepts every JSON spelling of exactly the language."""

from __future__ import annotations

import json
import random
import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.gbnf import Matcher
from structgen.schema.regular import Regular, emit_dfa_gbnf, emit_json_string_content, format_language

from ..llama_oracle import LlamaOracle, unavailable_reason

PATTERNS = [
    "^[a-z]+$",
    r"^\d{3}-\d{4}$",
    "é|😀",
    r'^[^"\\]*$',
    "^.{2,5}$",
    r"^[\u0000-\u001f/]+$",
    r"^[\u{10000}-\u{10FFFF}]$",
    r"^[\u{1F600}-\u{1F64F}a]*$",
    r'^a"b\\c$',
    r"^[\x00-\x7f]{0,3}$",
    r"^[\uD7FF-\uE000]x$",
    r"^(?:\S+\s+){0,3}\S+$",
    "ab?c$",
    "",
]
FORMATS = ["date", "email", "uuid", "ipv6"]
_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "/": "\\/",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}
_NAME = re.compile(r"^[a-zA-Z0-9-]+$")
_SHARED = re.compile(r"^k[a-z]-[0-9a-f]{10}$")


def _language(key: str) -> Regular:
    if key.startswith("format:"):
        lang = format_language(key[7:])
        assert lang is not None
        return lang
    return Regular.pattern(key)


@cache
def _matcher(key: str) -> Matcher:
    expr, rules = emit_json_string_content(_language(key), "str")
    assert all(_NAME.match(name) and (name.startswith("str") or _SHARED.match(name)) for name in rules)
    text = f'root ::= "\\"" {expr} "\\""\n' + "".join(f"{name} ::= {body}\n" for name, body in rules.items())
    return Matcher(text)


def _encode(s: str, rnd: random.Random) -> str:
    """A valid JSON string literal for ``s``, each character spelled in a randomly chosen valid way."""
    out = ['"']
    for ch in s:
        cp = ord(ch)
        ways = []
        if cp >= 0x20 and ch not in '"\\':
            ways.append(ch)
        if ch in _SHORT:
            ways.append(_SHORT[ch])
        if cp <= 0xFFFF:
            ways.append(f"\\u{cp:04x}")
            ways.append(f"\\u{cp:04X}")
        else:
            v = cp - 0x10000
            hi, lo = 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)
            ways.append(f"\\u{hi:04x}\\u{lo:04X}")
        out.append(rnd.choice(ways))
    out.append('"')
    return "".join(out)


def _sample(lang: Regular, rnd: random.Random, max_len: int = 12) -> str | None:
    """A random string of ``lang`` (no surrogate code points), or None when the walk failed."""
    d = lang.automaton
    q, out = 0, list[str]()
    for _ in range(max_len * 3):
        edges = [(lo, hi, t) for lo, hi, t in d.edges[q] if not (0xD800 <= lo and hi <= 0xDFFF)]
        if q in d.finals and (not edges or rnd.random() < 0.25 or len(out) >= max_len):
            return "".join(out)
        if not edges:
            return None
        lo, hi, t = rnd.choice(edges)
        cp = rnd.choice([lo, hi, rnd.randint(lo, hi)])
        if 0xD800 <= cp <= 0xDFFF:
            cp = lo if lo < 0xD800 else hi
        out.append(chr(cp))
        q = t
    return None


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PATTERNS + [f"format:{f}" for f in FORMATS]), st.randoms(use_true_random=False))
def test_every_spelling_of_every_member_is_accepted(key: str, rnd: random.Random) -> None:
    lang, matcher = _language(key), _matcher(key)
    for _ in range(5):
        s = _sample(lang, rnd)
        if s is None:
            continue
        assert lang.matches(s)
        assert matcher.fullmatch(json.dumps(s, ensure_ascii=False)), (key, s)
        assert matcher.fullmatch(json.dumps(s)), (key, s)
        assert matcher.fullmatch(_encode(s, rnd)), (key, s)


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from(PATTERNS + [f"format:{f}" for f in FORMATS]),
    st.lists(st.text(alphabet='a-z0é😀"\\/\n\x01 @.:', max_size=8), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
)
def test_exactly_the_members_are_accepted(key: str, texts: list[str], rnd: random.Random) -> None:
    lang, matcher = _language(key), _matcher(key)
    for s in texts:
        assert matcher.fullmatch(_encode(s, rnd)) == lang.matches(s), (key, s)


def test_lone_surrogate_escapes_and_invalid_escapes_are_rejected() -> None:
    matcher = _matcher("^.*$")
    assert matcher.fullmatch('"\\ud83d\\ude00"')
    assert not matcher.fullmatch('"\\ud83d"')
    assert not matcher.fullmatch('"\\ude00"')
    assert not matcher.fullmatch('"\\ud83d\\u0041"')
    assert not matcher.fullmatch('"\\x41"')
    assert not matcher.fullmatch('"\\U0041"')
    assert not matcher.fullmatch('"\x01"')


def test_empty_language_matches_nothing() -> None:
    expr, rules = emit_json_string_content(Regular.nothing(), "e")
    assert rules == {}
    matcher = Matcher(f'root ::= "\\"" {expr} "\\""')
    assert not matcher.fullmatch('""')
    assert not matcher.fullmatch('"a"')


def test_rules_are_deterministic_one_per_state() -> None:
    lang = Regular.pattern("^(ab|ac)d?$")
    first = emit_json_string_content(lang, "p")
    assert first == emit_json_string_content(lang, "p")
    expr, rules = first
    assert expr == "p-0"
    state_rules = [name for name in rules if re.fullmatch(r"p-\d+", name)]
    assert len(state_rules) == lang.state_count - 1  # the accepting end state needs no rule
    for body in rules.values():
        firsts = [alt.split(" ")[0] for alt in body.split(" | ")]
        assert len(firsts) == len(set(firsts))


def test_raw_dfa_emission() -> None:
    expr, rules = emit_dfa_gbnf(Regular.pattern(r"^[+-]?\d+(\.\d+)?$"), "num")
    matcher = Matcher(f"root ::= {expr}\n" + "".join(f"{k} ::= {v}\n" for k, v in rules.items()))
    for text, ok in [("1", True), ("-12.5", True), ("+0.0", True), ("1.", False), (".5", False), ("", False)]:
        assert matcher.fullmatch(text) == ok, text


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_llama_cpp_accepts_the_grammars_and_agrees(tmp_path_factory: pytest.TempPathFactory) -> None:
    oracle = LlamaOracle(tmp_path_factory.mktemp("oracle"))
    rnd = random.Random(7)
    for key in ["^[a-z]+$", "é|😀", r'^a"b\\c$', "format:date", r"^(?:\S+\s+){0,3}\S+$"]:
        lang = _language(key)
        expr, rules = emit_json_string_content(lang, "s")
        grammar = f'root ::= "\\"" {expr} "\\""\n' + "".join(f"{k} ::= {v}\n" for k, v in rules.items())
        members = [s for s in (_sample(lang, rnd) for _ in range(6)) if s is not None]
        cases = [(_encode(s, rnd), True) for s in members] + [(json.dumps(s), True) for s in members]
        cases += [('"zz9"', lang.matches("zz9")), ('"\\u00"', False)]
        verdicts = oracle.run(grammar, [text for text, _ in cases])
        assert verdicts is not None, key
        for (text, expected), verdict in zip(cases, verdicts):
            assert (verdict.kind == "match") == expected, (key, text)
