"""Hypothesis strategies for GBNF: random grammar trees, their text, and mutations of grammar text.

The trees use every construct of the language (literals and classes over any code point, ``.``, token
references, groups, every quantifier, empty alternatives) and may be invalid for llama.cpp (undefined
rules, no root, left recursion): they are for properties that hold for any grammar that parses.
"""

from __future__ import annotations

from hypothesis import strategies as st

from structgen.gbnf import ast
from structgen.gbnf.formatter import format_grammar

NAME_POOL = ["root", "a", "b", "value", "ws", "x-1", "2nd", "-"]

# Mostly printable ASCII, some escapes and other scripts, rarely anything at all.
code_points = st.one_of(
    st.integers(0x20, 0x7E),
    st.sampled_from([0x0, 0x9, 0xA, 0xD, 0x22, 0x2D, 0x5B, 0x5C, 0x5D, 0x5E, 0xA0, 0xE9, 0x4E2D, 0x1F600]),
    st.integers(0, 0x10FFFF),
    st.integers(0x110000, 0xFFFFFFFF),
)

literals = st.builds(ast.Literal, st.lists(code_points, max_size=6).map(tuple))
classes = st.builds(
    ast.CharClass,
    st.lists(st.tuples(code_points, code_points) | code_points.map(lambda c: (c, c)), max_size=4).map(tuple),
    st.booleans(),
)
token_texts = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=">"), max_size=6)
    .filter(lambda t: not t.startswith("["))
    .map(lambda t: f"<{t}>")
)
tokens = st.one_of(
    st.builds(ast.Token, st.integers(0, 2**32 - 1), st.none(), st.booleans()),
    st.builds(ast.Token, st.none(), token_texts, st.booleans()),
)


@st.composite
def quantifiers(draw: st.DrawFn) -> tuple[int, int | None, str]:
    """(min, max, op) as the parser builds them."""
    kind = draw(st.sampled_from(["*", "+", "?", "{m}", "{m,}", "{m,n}", "{m,n}"]))
    if kind == "*":
        return 0, None, "*"
    if kind == "+":
        return 1, None, "+"
    if kind == "?":
        return 0, 1, "?"
    m = draw(st.integers(0, 3))
    if kind == "{m}":
        return m, m, f"{{{m}}}"
    if kind == "{m,}":
        return m, None, f"{{{m},}}"
    n = draw(st.integers(m, m + 3) | st.sampled_from([2001, 2500]))
    return m, n, f"{{{m},{n}}}"


def _repeat(item: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    return st.builds(lambda e, q: ast.Repeat(e, q[0], q[1], q[2]), item, quantifiers())


def alternates_of(items: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Alternates]:
    sequences = st.lists(items, max_size=4).map(lambda xs: ast.Sequence(tuple(xs)))
    return st.lists(sequences, min_size=1, max_size=3).map(lambda ss: ast.Alternates(tuple(ss)))


def expressions(names: list[str], with_tokens: bool = True) -> st.SearchStrategy[ast.Expr]:
    atoms: st.SearchStrategy[ast.Expr] = st.one_of(
        literals,
        classes,
        st.just(ast.AnyChar()),
        st.sampled_from(names).map(ast.RuleRef),
        *([tokens] if with_tokens else []),
    )
    return st.recursive(
        atoms,
        lambda inner: st.one_of(alternates_of(inner).map(ast.Group), _repeat(inner)),
        max_leaves=10,
    )


EXPRESSIONS = expressions(NAME_POOL)
EXPRESSIONS_WITHOUT_TOKENS = expressions(NAME_POOL, with_tokens=False)


def grammars(with_tokens: bool = True) -> st.SearchStrategy[ast.Grammar]:
    """A random grammar tree (no source text, no comments); references may name undefined rules."""
    exprs = EXPRESSIONS if with_tokens else EXPRESSIONS_WITHOUT_TOKENS
    rules = st.builds(ast.Rule, st.sampled_from(NAME_POOL), alternates_of(exprs))
    return st.lists(rules, min_size=1, max_size=4).map(lambda rs: ast.Grammar(tuple(rs)))


def _close(grammar: ast.Grammar) -> ast.Grammar:
    """The grammar with its first rule named root and every reference pointing at a defined rule."""
    names = ["root"] + [r.name for r in grammar.rules[1:]]
    defined = sorted(set(names))

    def expr(e: ast.Expr) -> ast.Expr:
        if isinstance(e, ast.RuleRef) and e.name not in defined:
            return ast.RuleRef(defined[NAME_POOL.index(e.name) % len(defined)])
        if isinstance(e, ast.Repeat):
            return ast.Repeat(expr(e.item), e.min, e.max, e.op)
        if isinstance(e, ast.Group):
            return ast.Group(alts(e.body))
        return e

    def alts(a: ast.Alternates) -> ast.Alternates:
        return ast.Alternates(tuple(ast.Sequence(tuple(expr(i) for i in s.items)) for s in a.options))

    return ast.Grammar(tuple(ast.Rule(n, alts(r.body)) for n, r in zip(names, grammar.rules)))


def closed_grammars(with_tokens: bool = True) -> st.SearchStrategy[ast.Grammar]:
    """Random grammars with a root rule and no undefined references (llama.cpp accepts many of them)."""
    return grammars(with_tokens).map(_close)


def grammar_texts(with_tokens: bool = True, closed: bool = False) -> st.SearchStrategy[str]:
    """The canonical text of a random grammar."""
    return (closed_grammars if closed else grammars)(with_tokens).map(format_grammar)


@st.composite
def commented(draw: st.DrawFn, text: str) -> str:
    """``text`` with comments added at line ends and on lines of their own (both are always legal)."""
    lines = text.split("\n")
    out = []
    for line in lines:
        if draw(st.integers(0, 4)) == 0:
            out.append("# own " + draw(st.text("abc #|", max_size=5)))
        if line and draw(st.integers(0, 3)) == 0:
            line += draw(st.sampled_from(["", " ", "  "])) + "#" + draw(st.text("ab |:=", max_size=5))
        out.append(line)
        if draw(st.integers(0, 5)) == 0:
            out.append("")
    return "\n".join(out)


def mutations(text: str) -> st.SearchStrategy[str]:
    """``text`` with a few characters deleted, inserted or replaced (often no longer valid GBNF)."""
    alphabet = st.sampled_from(list('"[]()|*+?{},:=<>!#\\^-. \n\tazAZ09_\x00é😀'))

    @st.composite
    def mutate(draw: st.DrawFn) -> str:
        result = text
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(result)))
            action = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
            if action == "delete":
                result = result[:i] + result[i + 1 :]
            elif action == "insert":
                result = result[:i] + draw(alphabet) + result[i:]
            elif action == "replace":
                result = result[:i] + draw(alphabet) + result[i + 1 :]
            else:
                result = result[:i]
        return result

    return mutate()
