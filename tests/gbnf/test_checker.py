"""The checker: errors exactly where llama.cpp refuses a grammar, warnings where it copes badly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from structgen.errors import GrammarError
from structgen.gbnf import ast
from structgen.gbnf.checker import check, check_file, errors, validate
from structgen.gbnf.diagnostics import Diagnostic, Severity
from structgen.gbnf.lower import left_recursive_symbols, lower
from structgen.gbnf.parser import MAX_NESTING, parse_grammar

from ..llama_oracle import LlamaOracle, unavailable_reason
from .strategies import grammar_texts, grammars, mutations

LIBRARY = Path(__file__).resolve().parents[2] / "grammars"
LLAMA_GRAMMARS = Path("/work/llama-src/llama.cpp/grammars")


def codes(text: str) -> list[str]:
    return [d.code for d in check(text, "g.gbnf")]


def only(text: str, code: str) -> Diagnostic:
    found = [d for d in check(text, "g.gbnf") if d.code == code]
    assert len(found) == 1, check(text, "g.gbnf")
    return found[0]


# -- errors: what llama.cpp refuses -------------------------------------------------------------------


def test_a_clean_grammar_has_no_diagnostics() -> None:
    assert check('root ::= "a" item*\nitem ::= [0-9] | "-"\n') == []


def test_syntax_error_becomes_one_located_diagnostic() -> None:
    [d] = check('root ::= "a"\nitem ::= [0-9\n', "g.gbnf")
    assert (d.code, d.is_error, d.location.line, d.location.column) == ("syntax", True, 2, 10)
    assert d.render().startswith("g.gbnf:2:10: error: ")
    assert d.render().endswith("item ::= [0-9\n         ^")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_a_grammar_without_rules_is_refused(text: str) -> None:
    assert codes(text) == ["empty-grammar"]


def test_undefined_rule_is_reported_at_its_first_reference() -> None:
    d = only('root ::= "x" item\nitem ::= other | other\n', "undefined-rule")
    assert "'other'" in d.message
    assert (d.location.line, d.location.column) == (2, 10)


def test_missing_root_is_an_error_but_a_referenced_undefined_root_is_undefined() -> None:
    assert codes('start ::= "a"') == ["missing-root"]
    assert "undefined-rule" in codes('start ::= root "a"')
    assert "missing-root" not in codes('start ::= root "a"')


@pytest.mark.parametrize(
    ("text", "errors", "warnings"),
    [
        # llama.cpp drops a reference repeated {0} times before it looks for undefined rules ...
        ("root ::= y{0}\n", [], ["dropped-reference"]),
        ('root ::= "a"\nx ::= y{0,0}\n', [], ["unused-rule", "dropped-reference"]),
        # ... but the symbol keeps its id: a hole in its rule vector is still an undefined rule
        ('root ::= y{0}\nx ::= "a"\n', ["undefined-rule"], ["unused-rule"]),
        # and a root known only from a dropped reference would make llama.cpp read past its rules
        ("oot ::= root{0}\n", ["undefined-root"], []),
    ],
)
def test_references_repeated_zero_times(text: str, errors: list[str], warnings: list[str]) -> None:
    found = check(text)
    assert [d.code for d in found if d.severity is Severity.ERROR] == errors
    assert [d.code for d in found if d.severity is Severity.WARNING] == warnings


@pytest.mark.parametrize(
    ("text", "cycle", "line"),
    [
        ('root ::= "a" | root "a"', "root -> root", 1),
        ('root ::= asdf\nasdf ::= "a" | asdf "a"', "asdf -> asdf", 2),
        ('root ::= asdf\nasdf ::= "a" | foo "b"\nfoo ::= "c" | asdf "d" | "e"', "asdf -> foo -> asdf", 2),
        (
            'root ::= asdf\nasdf ::= "a" | foo "b"\nfoo ::= "c" | empty asdf "d" | "e"\nempty ::= "blah" | ',
            "asdf -> foo -> asdf",
            2,
        ),
        ('root ::= ("x" | root "y")', "root -> root", 1),
    ],
)
def test_left_recursion_names_the_cycle(text: str, cycle: str, line: int) -> None:
    d = only(text, "left-recursion")
    assert cycle in d.message
    assert d.location.line == line
    assert left_recursive_symbols(lower(parse_grammar(text)))  # the port of llama.cpp's own check agrees


@pytest.mark.parametrize(("text", "column"), [('root ::= "b" "a"**', 14), ('root ::= "b" ("a" | "")+', 14)])
def test_left_recursion_through_a_repetition_of_something_empty_points_at_it(text: str, column: int) -> None:
    d = only(text, "left-recursion")
    assert text[column - 1 :] in d.message
    assert d.location.column == column


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('root ::= "a"{2001}', "repetition-limit"),
        ('root ::= "a"{2001,}', "repetition-limit"),
        ('root ::= ("a"{0,50}){0,50}', "repetition-limit"),
        ('root ::= "a"{3,1}', "repetition-bounds"),
        ("root ::= []*", "empty-repeat"),
        ('root ::= ""+', "empty-repeat"),
    ],
)
def test_repetition_refusals(text: str, code: str) -> None:
    assert codes(text) == [code]


def test_errors_come_in_source_order() -> None:
    found = check('root ::= b\nb ::= "a"{3,1} c\n', "g.gbnf")
    assert [(d.code, d.location.line) for d in found] == [("repetition-bounds", 2), ("undefined-rule", 2)]


def test_every_diagnostic_renders_file_line_column_severity_and_caret() -> None:
    text = 'root ::= ws+ "a"\nws ::= [ ]\nspare ::= "b"\n'
    rendered = [d.render() for d in check(text, "dir/g.gbnf")]
    assert rendered == [
        (
            "dir/g.gbnf:1:10: warning: ws+ allows unlimited whitespace, which models tend to emit without end; "
            'bound it, e.g. ws{0,20} [unbounded-whitespace]\nroot ::= ws+ "a"\n         ^'
        ),
        "dir/g.gbnf:3:1: warning: rule 'spare' is never used [unused-rule]\nspare ::= \"b\"\n^",
    ]
    coloured = check(text, "dir/g.gbnf")[0].render(color=True)
    assert "\x1b[1;33mwarning\x1b[0m" in coloured


# -- warnings: what llama.cpp accepts but handles badly ---------------------------------------------


def test_rule_defined_twice_warns_at_the_ignored_definition() -> None:
    d = only('root ::= a\na ::= "x"\na ::= "y"\n', "duplicate-rule")
    assert d.location.line == 2 and "line 3" in d.message and not d.is_error


def test_unused_and_unreachable_rules() -> None:
    found = {d.code: d for d in check('root ::= "x"\nu ::= "y"\nv ::= w "z"\nw ::= "w" v?\n')}
    assert found["unused-rule"].message == "rule 'u' is never used"
    assert {d.message for d in check('root ::= "x"\nv ::= w "z"\nw ::= "w" v?\n')} == {
        "rule 'v' is not reachable from 'root'",
        "rule 'w' is not reachable from 'root'",
    }


def test_a_maximum_over_2000_becomes_unbounded() -> None:
    d = only('root ::= "a"{1,5000}', "repetition-unbounded")
    assert "{1,}" in d.message


def test_chains_of_three_optional_copies_warn_once() -> None:
    d = only('root ::= "x"? "x"? "x"? "x"? "y"? "y"? "z"', "optional-chain")
    assert d.message.startswith('4 optional copies of "x"') and '"x"{0,4}' in d.message
    assert codes('root ::= "x"? "y"? "x"?') == []


@pytest.mark.parametrize(
    "text",
    [
        'root ::= ("a"*)*',
        'root ::= ("b"+)+',
        'root ::= c+\nc ::= "c"*',
        'root ::= ((("a"+)))*',
        'root ::= "a"+{2,}',
    ],
)
def test_nested_unbounded_repetition(text: str) -> None:
    assert "nested-repetition" in codes(text)


def test_bounded_nesting_is_fine() -> None:
    assert codes('root ::= ("a"{1,3})* ("b"+){2}') == []


@pytest.mark.parametrize(
    "text",
    [
        'root ::= ("a"?)* "b"',
        'root ::= ws* "b"\nws ::= [ ]?',
        'root ::= ("a" | "b"?)+ "b"',
        'root ::= e{0,5} "x"\ne ::= f\nf ::= "q" | ',
    ],
)
def test_repeating_something_that_can_be_empty(text: str) -> None:
    assert codes(text) == ["nullable-repetition"]


@pytest.mark.parametrize(
    "text",
    [
        'root ::= [ \\t\\n]* "x"',
        'root ::= "x" ws\nws ::= (" " | "\\n")+',
        'root ::= " "{1,}',
        'root ::= "\\u3000"*',
    ],
)
def test_unbounded_whitespace(text: str) -> None:
    assert codes(text) == ["unbounded-whitespace"]


def test_bounded_or_mixed_whitespace_is_fine() -> None:
    assert codes('root ::= [ \\t\\n]{0,20} [ a]* ws\nws ::= | " " | "\\n" [ \\t]{0,20}') == []


@pytest.mark.parametrize(
    ("text", "fragment"), [('root ::= [] "a"', "not 'no character'"), ('root ::= [^] "a"', "use '.'")]
)
def test_empty_character_classes(text: str, fragment: str) -> None:
    assert fragment in only(text, "empty-class").message


def test_empty_class_under_a_quantifier_reports_only_the_refusal() -> None:
    assert codes("root ::= []+") == ["empty-repeat"]


def test_reversed_ranges_and_impossible_code_points() -> None:
    assert codes('root ::= [z-a] "\\U00110000" [\\uD800] [\\u0000-\\U0010FFFF]') == [
        "reversed-range",
        "impossible-char",
        "impossible-char",
    ]


def test_text_tokens_need_a_vocabulary() -> None:
    assert codes("root ::= <think> <[12]> !<[3]>") == ["text-token"]


def test_left_recursion_through_a_transitively_empty_rule_is_an_error() -> None:
    # llama.cpp's may-be-empty check looks at direct empty alternatives only, so it accepts these
    # grammars and then never finishes expanding them: structgen refuses them.
    for text in ['root ::= ("x"?) root "y" | "z"', 'root ::= e root "y" | "z"\ne ::= f\nf ::= "q" | ']:
        d = only(text, "hidden-left-recursion")
        assert "root -> root" in d.message and d.is_error
        assert not left_recursive_symbols(lower(parse_grammar(text)))


def test_tail_position_cycles_through_empty_rules_do_not_warn() -> None:
    # The stack does not grow, so llama.cpp terminates; the nullable repetition is what to fix.
    assert codes('root ::= ("a"?)*') == ["nullable-repetition"]


# -- API ------------------------------------------------------------------------------------------------


def test_validate_returns_the_grammar_or_raises_the_first_error() -> None:
    grammar = validate('root ::= "a"*\nunused ::= "b"')
    assert isinstance(grammar, ast.Grammar) and grammar.rule_names() == ["root", "unused"]
    with pytest.raises(GrammarError) as info:
        validate('root ::= x\nb ::= "a"{3,1}', "v.gbnf")
    assert info.value.location is not None
    assert (info.value.location.file, info.value.location.line) == ("v.gbnf", 1)
    assert "undefined rule 'x'" in str(info.value)
    with pytest.raises(GrammarError):
        validate('root ::= "a')


def test_check_accepts_parsed_grammars_bytes_and_files(tmp_path: Path) -> None:
    text = 'root ::= "a" b\n'
    path = tmp_path / "g.gbnf"
    path.write_text(text)
    by_text = check(text, str(path))
    assert (
        check(text.encode(), str(path))
        == by_text
        == check(parse_grammar(text, str(path)))
        == check_file(path)
    )
    assert errors(by_text) == by_text
    with pytest.raises(GrammarError, match="cannot read"):
        check_file(tmp_path / "missing.gbnf")


def test_hand_built_trees_nested_too_deeply_are_refused_without_recursion() -> None:
    body: ast.Alternates = ast.Alternates((ast.Sequence((ast.Literal((97,)),)),))
    for _ in range(5000):
        body = ast.Alternates((ast.Sequence((ast.Group(body),)),))
    [d] = check(ast.Grammar((ast.Rule("root", body),)))
    assert d.is_error and "nested" in d.message


def test_deepest_nesting_the_parser_allows_is_checked() -> None:
    text = "root ::= " + "(" * MAX_NESTING + '"a"*' + ")?" * MAX_NESTING
    assert "nested-repetition" not in codes(text)
    assert codes("root ::= " + "(" * MAX_NESTING + '"a" | "b"' + ")" * MAX_NESTING) == []


@pytest.mark.parametrize("path", sorted(LIBRARY.glob("*.gbnf")), ids=lambda p: p.stem)
def test_library_grammars_pass_without_warnings(path: Path) -> None:
    assert check_file(path) == []


@pytest.mark.skipif(not LLAMA_GRAMMARS.is_dir(), reason="llama.cpp source tree not present")
def test_llama_cpp_sample_grammars_have_no_errors() -> None:
    for path in sorted(LLAMA_GRAMMARS.glob("*.gbnf")):
        assert errors(check_file(path)) == [], path


# -- robustness -----------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grammars())
def test_check_never_raises_on_any_tree(grammar: ast.Grammar) -> None:
    for d in check(grammar):
        assert d.location.line >= 1 and d.location.column >= 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), grammar_texts())
def test_check_never_raises_on_mutated_text(data: st.DataObject, text: str) -> None:
    mutated = data.draw(mutations(text))
    found = check(mutated, "m.gbnf")
    try:
        parse_grammar(mutated)
    except GrammarError:
        assert [d.code for d in found] == ["syntax"]


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=60), st.binary(max_size=60)))
def test_check_never_raises_on_random_input(data: str | bytes) -> None:
    for d in check(data):
        assert d.location.line >= 1


# -- agreement with llama.cpp -----------------------------------------------------------------------------

oracle_missing = unavailable_reason()


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> LlamaOracle:
    return LlamaOracle(tmp_path_factory.mktemp("checker-oracle"))


# Diagnostics that mean llama.cpp would not return (it runs out of memory) or would crash (it reads
# past its rules): never hand these to it.
HANGS = {"repetition-bounds", "hidden-left-recursion", "undefined-root"}


@pytest.mark.skipif(oracle_missing is not None, reason=str(oracle_missing))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.data(), grammar_texts(with_tokens=False, closed=True))
def test_errors_match_llama_cpp_refusals(oracle: LlamaOracle, data: st.DataObject, text: str) -> None:
    if data.draw(st.booleans()):
        text = data.draw(mutations(text))
    if "\x00" in text:
        return  # llama.cpp reads the grammar as a C string and stops at NUL; structgen refuses it
    found = check(text)
    if {d.code for d in found} & HANGS:
        return
    if "text-token" in {d.code for d in found}:
        return  # the oracle has no vocabulary; a server's tokenizer decides
    assert oracle.accepts(text) == (not errors(found)), [d.render() for d in found]
