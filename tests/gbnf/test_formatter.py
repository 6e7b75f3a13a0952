"""The formatter: one canonical layout, idempotent, comments kept, the language unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.errors import GrammarError
from structgen.gbnf import ast
from structgen.gbnf.formatter import WIDTH, format_class, format_grammar, format_literal
from structgen.gbnf.lower import lower
from structgen.gbnf.parser import parse_grammar

from .strategies import commented, grammar_texts, grammars

LIBRARY = Path(__file__).resolve().parents[2] / "grammars"
LLAMA_STYLE = r"""
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

# Optional space
ws ::= | " " | "\n" [ \t]{0,20}
"""


def _comment_texts(grammar: ast.Grammar) -> list[str]:
    return [c.text.rstrip() for c in grammar.comments]


def _same_language(before: ast.Grammar, after: ast.Grammar) -> None:
    a, b = lower(before), lower(after)
    assert a.rules == b.rules
    assert a.symbol_ids == b.symbol_ids
    assert [d.code for d in a.problems] == [d.code for d in b.problems]


def test_short_rules_stay_on_one_line_and_align_within_a_block() -> None:
    text = 'root ::= item+\nitem   ::=   "a"|"b"  |  [c-e]\n\n\n\nlonger-name ::= ( "x" )*\n'
    assert format_grammar(text) == ('root ::= item+\nitem ::= "a" | "b" | [c-e]\n\nlonger-name ::= ("x")*\n')


def test_long_rules_put_each_alternative_on_its_own_line_ending_in_a_bar() -> None:
    words = " | ".join(f'"{w * 12}"' for w in "abcdefgh")
    out = format_grammar(f"root ::= {words}\n")
    lines = out.splitlines()
    assert lines[0] == "root ::="
    assert lines[1:] == [f'  "{w * 12}"' + (" |" if w != "h" else "") for w in "abcdefgh"]
    assert parse_grammar(out).rules == parse_grammar(f"root ::= {words}").rules


def test_alternatives_continue_after_a_trailing_bar_never_a_leading_one() -> None:
    text = "root ::= " + " |\n  ".join(f'"{i:02d}{"x" * 20}"' for i in range(8))
    out = format_grammar(text)
    assert all(not line.lstrip().startswith("|") for line in out.splitlines())
    assert parse_grammar(out).rules == parse_grammar(text).rules


def test_comments_are_kept_above_and_at_the_end_of_lines() -> None:
    text = '# header\n\n# about root\nroot ::= "a" | # first\n  "b" # last\n# trailing\n'
    out = format_grammar(text)
    assert out == '# header\n\n# about root\nroot ::=\n  "a" |  # first\n  "b"  # last\n# trailing\n'
    assert format_grammar(out) == out


def test_comments_inside_groups_move_above_their_alternative() -> None:
    out = format_grammar(LLAMA_STYLE)
    assert "  # escapes\n" in out
    assert _comment_texts(parse_grammar(out)) == _comment_texts(parse_grammar(LLAMA_STYLE))
    assert parse_grammar(out).rules == parse_grammar(LLAMA_STYLE).rules
    assert format_grammar(out) == out


@pytest.mark.parametrize(
    ("chars", "expected"),
    [
        ((0x61, 0x22, 0x5C), r'"a\"\\"'),
        ((0x0A, 0x09, 0x0D), r'"\n\t\r"'),
        ((0x00, 0x1F, 0x7F, 0xA0), r'"\x00\x1F\x7F\xA0"'),
        ((0x2028, 0xD800), r'"\u2028\uD800"'),
        ((0x110000, 0xFFFFFFFF), r'"\U00110000\UFFFFFFFF"'),
        ((0xE9, 0x4E2D, 0x1F600, 0x5B, 0x5D, 0x2D), '"é中😀[]-"'),
    ],
)
def test_literal_escapes_are_canonical(chars: tuple[int, ...], expected: str) -> None:
    assert format_literal(chars) == expected
    assert parse_grammar(f"root ::= {expected}").rules[0].body.options[0].items[0] == ast.Literal(chars)


@pytest.mark.parametrize(
    ("ranges", "negated", "expected"),
    [
        (((0x61, 0x7A), (0x30, 0x39)), False, "[a-z0-9]"),
        (((0x2D, 0x2D), (0x2B, 0x2B)), False, "[-+]"),
        (((0x61, 0x61), (0x2D, 0x2D)), False, "[a-]"),
        (((0x2D, 0x2D), (0x2D, 0x2D)), False, r"[\--]"),
        (((0x61, 0x61), (0x2D, 0x2D), (0x62, 0x62)), False, r"[a\-b]"),
        (((0x5E, 0x5E), (0x61, 0x61)), False, r"[\x5Ea]"),
        (((0x5E, 0x5E),), True, "[^^]"),
        (((0x5D, 0x5D), (0x5C, 0x5C), (0x22, 0x22)), False, r'[\]\\"]'),
        (((0x00, 0x1F),), True, r"[^\x00-\x1F]"),
        (((0x7A, 0x61),), False, "[z-a]"),
        ((), False, "[]"),
        ((), True, "[^]"),
    ],
)
def test_class_escapes_are_canonical(
    ranges: tuple[tuple[int, int], ...], negated: bool, expected: str
) -> None:
    assert format_class(ranges, negated) == expected
    node = parse_grammar(f"root ::= {expected}").rules[0].body.options[0].items[0]
    assert node == ast.CharClass(ranges, negated)


def test_tokens_quantifiers_and_empty_alternatives_print_back() -> None:
    text = 'root ::= <[12]> !<[3]> <hi> !<a b> "a"{2}{3,}{4,5}*+? | ( | "x" | ) |'
    out = format_grammar(text)
    assert out == 'root ::= <[12]> !<[3]> <hi> !<a b> "a"{2}{3,}{4,5}*+? | (| "x" |) |\n'
    assert parse_grammar(out).rules == parse_grammar(text).rules


def test_an_empty_last_alternative_before_another_rule_is_written_as_an_empty_literal() -> None:
    grammar = ast.Grammar(
        (
            ast.Rule("root", ast.Alternates((ast.Sequence((ast.RuleRef("a"),)), ast.Sequence(())))),
            ast.Rule("a", ast.Alternates((ast.Sequence(()),))),
        )
    )
    out = format_grammar(grammar)
    assert out == 'root ::= a | ""\na    ::=\n'
    _same_language(grammar, parse_grammar(out))


def test_crlf_and_blank_runs_are_normalised() -> None:
    assert (
        format_grammar('\r\n\r\nroot ::= "a"\r\n\r\n\r\n\r\nb ::= "b"\r\n\r\n')
        == 'root ::= "a"\n\nb ::= "b"\n'
    )


def test_empty_and_comment_only_grammars() -> None:
    assert format_grammar("") == ""
    assert format_grammar("\n\n") == ""
    assert format_grammar("#a\n\n\n#b") == "#a\n\n#b\n"


def test_syntax_errors_raise_grammar_error() -> None:
    with pytest.raises(GrammarError) as info:
        format_grammar('root ::= "a\n', "x.gbnf")
    assert info.value.location is not None
    assert info.value.location.file == "x.gbnf"


def test_lines_stay_within_the_width_when_alternatives_allow() -> None:
    out = format_grammar("root ::= " + " | ".join(f'"{i:03d}"' for i in range(60)))
    assert all(len(line) <= WIDTH for line in out.splitlines())


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.gbnf")), ids=lambda p: p.stem)
def test_library_grammars_keep_rules_and_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    out = format_grammar(text)
    assert parse_grammar(out).rules == parse_grammar(text).rules
    assert _comment_texts(parse_grammar(out)) == _comment_texts(parse_grammar(text))
    assert format_grammar(out) == out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammars())
def test_printed_trees_parse_back_to_the_same_language(grammar: ast.Grammar) -> None:
    text = format_grammar(grammar)
    parsed = parse_grammar(text)
    _same_language(grammar, parsed)
    assert format_grammar(parsed) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), grammar_texts())
def test_formatting_is_idempotent_and_keeps_comments(data: st.DataObject, text: str) -> None:
    source = data.draw(commented(text))
    original = parse_grammar(source)
    once = format_grammar(original)
    again = parse_grammar(once)
    assert again.rules == original.rules
    assert _comment_texts(again) == _comment_texts(original)
    assert format_grammar(once) == once


def test_spaces_can_be_escaped_so_that_no_raw_space_remains() -> None:
    literal = format_literal((0x61, 0x20), raw_space=False)
    klass = format_class(((0x20, 0x20), (0x61, 0x7A)), False, raw_space=False)
    assert (literal, klass) == (r'"a\x20"', r"[\x20a-z]")
    assert parse_grammar(f"root ::= {literal}").rules[0].body.options[0].items[0] == ast.Literal((0x61, 0x20))
    node = parse_grammar(f"root ::= {klass}").rules[0].body.options[0].items[0]
    assert node == ast.CharClass(((0x20, 0x20), (0x61, 0x7A)), False)
