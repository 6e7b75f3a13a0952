"""The parser: every construct and escape, llama.cpp's newline rules, located errors, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.errors import GrammarError
from structgen.gbnf import ast
from structgen.gbnf.parser import MAX_NESTING, parse_file, parse_grammar

from .strategies import grammar_texts, mutations


def first_item(text: str) -> ast.Expr:
    return parse_grammar(text).rules[0].body.options[0].items[0]


def error_at(text: str | bytes) -> tuple[int, int, str]:
    with pytest.raises(GrammarError) as info:
        parse_grammar(text, "e.gbnf")
    loc = info.value.location
    assert loc is not None and loc.file == "e.gbnf"
    return loc.line, loc.column, info.value.message


# -- escapes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("escape", "cp"),
    [
        ("\\n", 0x0A),
        ("\\r", 0x0D),
        ("\\t", 0x09),
        ("\\\\", 0x5C),
        ('\\"', 0x22),
        ("\\[", 0x5B),
        ("\\]", 0x5D),
        ("\\-", 0x2D),
        ("\\x41", 0x41),
        ("\\xfF", 0xFF),
        ("\\u00e9", 0xE9),
        ("\\uFFFF", 0xFFFF),
        ("\\U0001F600", 0x1F600),
        ("\\UFFFFFFFF", 0xFFFFFFFF),
    ],
)
def test_every_escape_in_literals_and_classes(escape: str, cp: int) -> None:
    assert first_item(f'root ::= "{escape}"') == ast.Literal((cp,))
    assert first_item(f"root ::= [{escape}]") == ast.CharClass(((cp, cp),))


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ('root ::= "\\q"', 11, "unknown escape '\\q'"),
        ("root ::= [\\^]", 11, "unknown escape '\\^'"),
        ('root ::= "\\x4"', 11, "2 hex chars"),
        ('root ::= "ab\\u12G4"', 13, "4 hex chars"),
        ('root ::= "\\U0001F60"', 11, "8 hex chars"),
    ],
)
def test_bad_escapes_are_located(text: str, column: int, fragment: str) -> None:
    line, col, message = error_at(text)
    assert (line, col) == (1, column) and fragment in message


def test_raw_characters_newlines_and_utf8_in_literals() -> None:
    assert first_item('root ::= "é中😀\n#"') == ast.Literal((0xE9, 0x4E2D, 0x1F600, 0x0A, 0x23))


def test_classes_ranges_negation_and_dashes() -> None:
    assert first_item("root ::= [^a-z0-9_]") == ast.CharClass(((97, 122), (48, 57), (95, 95)), negated=True)
    assert first_item("root ::= [-a]") == ast.CharClass(((45, 45), (97, 97)))
    assert first_item("root ::= [a-]") == ast.CharClass(((97, 97), (45, 45)))
    assert first_item("root ::= [\\]-a]") == ast.CharClass(((93, 97),))
    assert first_item("root ::= [[]") == ast.CharClass(((91, 91),))
    assert first_item("root ::= []") == ast.CharClass(())
    assert first_item("root ::= [^]") == ast.CharClass((), negated=True)


# -- constructs ---------------------------------------------------------------------------------------


def test_quantifiers_in_every_form() -> None:
    item = first_item('root ::= "a"* ')
    assert isinstance(item, ast.Repeat) and (item.min, item.max, item.op) == (0, None, "*")
    cases = {
        "+": (1, None),
        "?": (0, 1),
        "{3}": (3, 3),
        "{2,}": (2, None),
        "{ 2 , 5 }": (2, 5),
        "{0,0}": (0, 0),
    }
    for op, bounds in cases.items():
        item = first_item(f'root ::= "a"{op}')
        assert isinstance(item, ast.Repeat) and (item.min, item.max) == bounds
    chained = first_item('root ::= "a"+?')
    assert isinstance(chained, ast.Repeat) and chained.op == "?"
    assert isinstance(chained.item, ast.Repeat) and chained.item.op == "+"


def test_groups_alternatives_dot_and_references() -> None:
    rule = parse_grammar('root ::= ( "a" | b-2 . ) | | 3x').rules[0]
    assert [len(s.items) for s in rule.body.options] == [1, 0, 1]
    group = rule.body.options[0].items[0]
    assert isinstance(group, ast.Group)
    assert group.body.options[1].items == (ast.RuleRef("b-2"), ast.AnyChar())
    assert rule.body.options[2].items == (ast.RuleRef("3x"),)


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("<[0]>", ast.Token(0, None)),
        ("!<[4294967295]>", ast.Token(0xFFFFFFFF, None, negated=True)),
        ("<think>", ast.Token(None, "<think>")),
        ("!<a b#c>", ast.Token(None, "<a b#c>", negated=True)),
    ],
)
def test_token_references(text: str, token: ast.Token) -> None:
    assert first_item(f"root ::= {text}") == token


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("root ::= <[]>", "integer token id"),
        ("root ::= <[1a]>", "']>'"),
        ("root ::= <[12>", "']>'"),
        ("root ::= <[ 1]>", "integer token id"),
        ("root ::= <[\uff11]>", "integer token id"),
        ("root ::= <[4294967296]>", "too big"),
        ("root ::= <[" + "9" * 5000 + "]>", "too big"),
        ("root ::= <abc", "token"),
        ('root ::= !"a"', "token"),
    ],
)
def test_malformed_tokens(text: str, fragment: str) -> None:
    assert fragment in error_at(text)[2]


def test_repetition_counts_beyond_64_bits_are_refused() -> None:
    assert "64 bits" in error_at('root ::= "a"{' + "9" * 30 + "}")[2]
    assert "64 bits" in error_at('root ::= "a"{1,' + "9" * 5000 + "}")[2]
    assert first_item('root ::= "a"{0,18446744073709551615}') == ast.Repeat(
        ast.Literal((97,)), 0, 2**64 - 1, "{0,18446744073709551615}"
    )


# -- newline rules ------------------------------------------------------------------------------------


def test_a_rule_continues_after_definition_bar_and_inside_parentheses() -> None:
    text = 'root ::=\n  "a" |\n\n  "b" (\n "c"\n | "d"\n)\nnext ::= "e"'
    g = parse_grammar(text)
    assert g.rule_names() == ["root", "next"]
    assert len(g.rules[0].body.options) == 2


def test_a_line_may_not_start_with_a_bar() -> None:
    assert error_at('root ::= "a"\n| "b"')[:2] == (2, 1)
    assert error_at('root ::= "a" # note\n  | "b"')[:2] == (2, 3)


def test_the_rule_name_and_definition_share_a_line() -> None:
    line, col, message = error_at('root\n::= "a"')
    assert (line, col) == (1, 5) and "newline" in message


def test_an_empty_rule_swallows_the_next_line() -> None:
    # As in llama.cpp, newlines after '::=' are skipped, so the next rule's name lands in the body.
    assert error_at('a ::=\nb ::= "x"')[:2] == (2, 3)
    assert parse_grammar('a ::= "x"\nb ::=').rules[1].body.options == (ast.Sequence(()),)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    g = parse_grammar(f'a ::= "x"{newline}{newline}b ::= ({newline}"y"){newline}')
    assert g.rule_names() == ["a", "b"]
    assert g.rules[1].span.line == 3


def test_comments_are_kept_with_their_placement() -> None:
    g = parse_grammar('# head\nroot ::= "#" | [#] # tail\n  # own\n')
    assert [(c.text, c.own_line, c.span.line, c.span.column) for c in g.comments] == [
        (" head", True, 1, 1),
        (" tail", False, 2, 20),
        (" own", True, 3, 3),
    ]
    assert len(g.rules[0].body.options) == 2


# -- spans and error locations --------------------------------------------------------------------------


def test_nodes_carry_their_spans() -> None:
    g = parse_grammar('x ::= "a"\nroot ::= "bc" [d]+ (e)')
    rule = g.rules[1]
    assert (rule.span.line, rule.span.column, rule.span.start) == (2, 1, 10)
    lit, rep, group = rule.body.options[0].items
    assert (lit.span.line, lit.span.column, lit.span.end - lit.span.start) == (2, 10, 4)
    assert (rep.span.column, rep.span.end - rep.span.start) == (15, 4)
    assert (group.span.column, group.span.end - group.span.start) == (20, 3)


def test_errors_carry_file_line_column_offset_and_the_line() -> None:
    with pytest.raises(GrammarError) as info:
        parse_grammar('root ::= "a"\nitem ::= [0-9\n', "g.gbnf")
    err = info.value
    assert err.location is not None
    assert (err.location.line, err.location.column, err.location.offset) == (2, 10, 22)
    assert err.source_line == "item ::= [0-9"
    assert str(err).splitlines() == [f"g.gbnf:2:10: error: {err.message}", "item ::= [0-9", " " * 9 + "^"]


def test_columns_count_code_points_not_bytes() -> None:
    assert error_at('root ::= "é中😀" ?? }')[:2] == (1, 19)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b'root ::= "a"\n\xc3(', (2, 1)),
        (b'root ::= "\xff"', (1, 11)),
        ('root ::= "a"\x00', (1, 13)),
        ('\ufeffroot ::= "a"', (1, 1)),
        ('root ::= "\ud800"', (1, 11)),
    ],
)
def test_bad_input_bytes_and_characters(data: str | bytes, where: tuple[int, int]) -> None:
    assert error_at(data)[:2] == where


def test_files_are_read_as_bytes_and_named(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "g.gbnf"
    path.write_bytes('root ::= "é"\r\n'.encode())
    assert parse_file(path).filename == str(path)
    with pytest.raises(GrammarError, match="cannot read"):
        parse_file(Path(str(tmp_path)) / "missing.gbnf")


# -- hostile input --------------------------------------------------------------------------------------


def test_nesting_up_to_the_limit_parses() -> None:
    g = parse_grammar("root ::= " + "(" * MAX_NESTING + '"a"' + ")" * MAX_NESTING)
    assert isinstance(g.rules[0].body.options[0].items[0], ast.Group)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 100_000])
def test_deeper_nesting_is_a_grammar_error_not_a_recursion_error(depth: int) -> None:
    line, col, message = error_at("root ::= " + "(" * depth + '"a"' + ")" * depth)
    assert (line, col) == (1, 10 + MAX_NESTING) and str(MAX_NESTING) in message


def test_too_many_quantifiers_on_one_item() -> None:
    parse_grammar('root ::= "a"' + "?" * 64)
    assert "quantifiers" in error_at('root ::= "a"' + "?" * 65)[2]


def test_truncated_files_fail_with_a_location() -> None:
    text = 'root ::= ("a" | [b-c] | "\\u00e9" <[12]>)* x\nx ::= "y"{1,3}\n'
    for end in range(len(text)):
        try:
            parse_grammar(text[:end])
        except GrammarError as err:
            assert err.location is not None and err.location.offset <= end


def test_a_large_file_parses() -> None:
    rules = [f'r{i} ::= "k{i}" | r{i + 1} [a-z]{{1,3}} ("x" | "y")* # rule {i}' for i in range(1500)]
    g = parse_grammar("root ::= r0\n" + "\n".join(rules) + '\nr1500 ::= "end"\n')
    assert len(g.rules) == 1502 and len(g.comments) == 1500
    assert g.rules[-1].span.line == 1502


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.text(alphabet='"[]()|*+?{},:=<>!#\\^-. \n\tax01', max_size=80),
        st.binary(max_size=80),
    )
)
def test_random_input_raises_nothing_but_grammar_error(data: str | bytes) -> None:
    try:
        parse_grammar(data)
    except GrammarError as err:
        assert err.location is not None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), grammar_texts())
def test_mutated_grammars_raise_nothing_but_grammar_error(data: st.DataObject, text: str) -> None:
    mutated = data.draw(mutations(text))
    try:
        parse_grammar(mutated)
    except GrammarError as err:
        assert err.location is not None
    try:
        parse_grammar(mutated.encode("utf-8", "surrogatepass")[: data.draw(st.integers(0, len(mutated) * 4))])
    except GrammarError as err:
        assert err.location is not None
