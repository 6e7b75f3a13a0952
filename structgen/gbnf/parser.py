"""Parse GBNF text into the typed tree of :mod:`structgen.gbnf.ast`.

The syntax lives in ``gbnf.lark``; this module loads it once, filters newlines the way llama.cpp
does (a post-lexer), builds nodes while parsing (no recursion, so deep nesting cannot overflow the
stack) and turns every lark error into a located :class:`~structgen.errors.GrammarError`.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Transformer
from lark.lexer import Token as LarkToken

from ..errors import GrammarError
from . import ast
from .escapes import read_char
from .source import Source, decode, read_grammar_file

MAX_NESTING = 128
MAX_QUANTIFIERS = 64
UINT64_MAX = 2**64 - 1


def _count(digits: str) -> int:
    """A decimal count; anything past 64 bits is clamped (Python refuses to convert very long digit runs)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 20 else UINT64_MAX + 1


_TOKEN_NAMES = {
    "_NL": "newline",
    "_DEF": "'::='",
    "_BAR": "'|'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "COMMA": "','",
    "DOT": "'.'",
    "STAR": "'*'",
    "PLUS": "'+'",
    "QMARK": "'?'",
    "NAME": "a rule name",
    "INT": "an integer",
    "STRING": "a string literal",
    "CLASS": "a character class",
    "TOKEN": "a token reference",
    "$END": "end of input",
}


class _NewlineFilter:
    """Drop newlines where llama.cpp skips them: inside parentheses, after '::=' and '|', and repeats."""

    always_accept = ("_NL",)

    def __init__(self, source: Source) -> None:
        self.source = source

    def process(self, stream: Iterator[LarkToken]) -> Iterator[LarkToken]:
        depth = 0
        previous: str | None = "_NL"
        for tok in stream:
            kind = tok.type
            if kind == "LPAR":
                depth += 1
                if depth > MAX_NESTING:
                    raise self.source.error(
                        f"parentheses nested deeper than {MAX_NESTING}", tok.start_pos or 0
                    )
            elif kind == "RPAR":
                depth -= 1
            elif kind == "_NL" and (depth > 0 or previous in ("_NL", "_DEF", "_BAR")):
                continue
            previous = kind
            yield tok


def _span(source: Source, start: int, end: int) -> ast.Span:
    loc = source.location(start)
    return ast.Span(start, end, loc.line, loc.column)


class _Builder(Transformer[Any, Any]):
    """Builds ast nodes at each LALR reduction."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def _tok_span(self, tok: LarkToken) -> ast.Span:
        return _span(self.source, tok.start_pos or 0, tok.end_pos or 0)

    def _decode(self, raw: str, offset: int) -> Iterator[tuple[int, int]]:
        i = 0

        def err(msg: str, at: int) -> GrammarError:
            return self.source.error(msg, offset + at)

        while i < len(raw):
            start = i
            cp, i = read_char(raw, i, err)
            yield cp, start

    def literal(self, children: list[LarkToken]) -> ast.Literal:
        tok = children[0]
        body = tok.value[1:-1]
        chars = tuple(cp for cp, _ in self._decode(body, (tok.start_pos or 0) + 1))
        return ast.Literal(chars, span=self._tok_span(tok))

    def char_class(self, children: list[LarkToken]) -> ast.CharClass:
        tok = children[0]
        raw = tok.value[1:-1]
        base = (tok.start_pos or 0) + 1
        negated = raw.startswith("^")
        if negated:
            raw, base = raw[1:], base + 1
        ranges: list[tuple[int, int]] = []
        err = lambda msg, at: self.source.error(msg, base + at)
        i = 0
        while i < len(raw):
            lo, i = read_char(raw, i, err)
            hi = lo
            if i < len(raw) and raw[i] == "-" and i + 1 < len(raw):
                hi, i = read_char(raw, i + 1, err)
            ranges.append((lo, hi))
        return ast.CharClass(tuple(ranges), negated, span=self._tok_span(tok))

    def ref(self, children: list[LarkToken]) -> ast.RuleRef:
        return ast.RuleRef(str(children[0]), span=self._tok_span(children[0]))

    def any_char(self, children: list[LarkToken]) -> ast.AnyChar:
        return ast.AnyChar(span=self._tok_span(children[0]))

    def token(self, children: list[LarkToken]) -> ast.Token:
        tok = children[0]
        raw = tok.value
        negated = raw.startswith("!")
        inner = raw[2:-1] if negated else raw[1:-1]
        span = self._tok_span(tok)
        if inner.startswith("["):
            # llama.cpp reads '<[' as a token id: ASCII digits, then ']>' (no spaces, no other text).
            digits_at = (tok.start_pos or 0) + raw.index("[") + 1
            digits = re.match(r"[0-9]*", inner[1:])
            assert digits is not None
            if not digits.group():
                raise self.source.error("expecting integer token id in '<[...]>'", digits_at)
            if inner[1 + digits.end() :] != "]":
                raise self.source.error("expecting ']>' after the token id", digits_at + digits.end())
            value = _count(digits.group())
            if value > 0xFFFFFFFF:
                raise self.source.error("token id is too big", tok.start_pos or 0)
            return ast.Token(value, None, negated, span=span)
        return ast.Token(None, "<" + inner + ">", negated, span=span)

    def group(self, children: list[Any]) -> ast.Group:
        lpar, body, rpar = children
        return ast.Group(body, span=_span(self.source, lpar.start_pos or 0, rpar.end_pos or 0))

    def _bound(self, tok: LarkToken) -> int:
        value = _count(tok.value)
        if value > UINT64_MAX:
            raise self.source.error("repetition count does not fit in 64 bits", tok.start_pos or 0)
        return value

    def quantifier(self, children: list[LarkToken]) -> tuple[int, int | None, str, LarkToken, LarkToken]:
        tok = children[0]
        bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[tok.value]
        return bounds[0], bounds[1], tok.value, tok, tok

    def exact(self, children: list[LarkToken]) -> tuple[int, int | None, str, LarkToken, LarkToken]:
        n = self._bound(children[1])
        return n, n, f"{{{n}}}", children[0], children[-1]

    def range(self, children: list[LarkToken]) -> tuple[int, int | None, str, LarkToken, LarkToken]:
        lo = self._bound(children[1])
        hi = self._bound(children[3]) if len(children) == 5 else None
        op = f"{{{lo},{'' if hi is None else hi}}}"
        return lo, hi, op, children[0], children[-1]

    def item(self, children: list[Any]) -> ast.Expr:
        node: ast.Expr = children[0]
        if len(children) - 1 > MAX_QUANTIFIERS:
            raise self.source.error(
                f"more than {MAX_QUANTIFIERS} quantifiers on one item", children[-1][3].start_pos
            )
        for lo, hi, op, first, last in children[1:]:
            span = _span(self.source, node.span.start, last.end_pos or 0)
            node = ast.Repeat(node, lo, hi, op, span=span)
        return node

    def sequence(self, children: list[ast.Expr]) -> ast.Sequence:
        if not children:
            return ast.Sequence(())
        return ast.Sequence(
            tuple(children), span=_span(self.source, children[0].span.start, children[-1].span.end)
        )

    def alternates(self, children: list[ast.Sequence]) -> ast.Alternates:
        spans = [c.span for c in children if c.items]
        span = _span(self.source, spans[0].start, spans[-1].end) if spans else ast.NO_SPAN
        return ast.Alternates(tuple(children), span=span)

    def rule(self, children: list[Any]) -> ast.Rule:
        name, body = children
        end = body.span.end if body.span is not ast.NO_SPAN else name.end_pos
        return ast.Rule(
            str(name), body, span=_span(self.source, name.start_pos or 0, max(end, name.end_pos or 0))
        )

    def start(self, children: list[ast.Rule]) -> list[ast.Rule]:
        return children


@functools.lru_cache(maxsize=1)
def _grammar_text() -> str:
    return resources.files(__package__).joinpath("gbnf.lark").read_text(encoding="utf-8")


class _Parser:
    """One lark LALR parser, built once; its post-lexer and builder read the source being parsed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.postlex = _NewlineFilter(Source.of(""))
        self.builder = _Builder(Source.of(""))
        self.lark = Lark(
            _grammar_text(),
            parser="lalr",
            lexer="contextual",
            postlex=self.postlex,
            transformer=self.builder,
            maybe_placeholders=False,
        )

    def parse(self, source: Source) -> list[ast.Rule]:
        with self.lock:
            self.postlex.source = source
            self.builder.source = source
            result = self.lark.parse(source.text)
            return result  # type: ignore[return-value]  # the builder returns rules, not a Tree


@functools.lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def _describe(kind: str, value: str) -> str:
    if kind in ("NAME", "STRING", "CLASS", "TOKEN", "INT"):
        return f"{_TOKEN_NAMES[kind]} {value!r}"
    return _TOKEN_NAMES.get(kind, repr(value))


def _expected(names: set[str] | frozenset[str]) -> str:
    shown = sorted({_TOKEN_NAMES.get(n, n) for n in names if not n.startswith("__")})
    if not shown:
        return ""
    return "; expected " + ", ".join(shown)


def _comments(source: Source) -> tuple[ast.Comment, ...]:
    # Comments cannot occur inside literals or classes, so find them by lexing those away first.
    found = []
    pattern = re.compile(
        r'"(?:[^"\\]|\\[\s\S])*"?|\[(?:[^\]\\]|\\[\s\S])*\]?|!?<(?:\[[0-9]*\]|[^>]*)>|#[^\r\n]*'
    )
    for m in pattern.finditer(source.text):
        if m.group().startswith("#"):
            loc = source.location(m.start())
            own = source.line_text(loc.line)[: loc.column - 1].strip() == ""
            found.append(
                ast.Comment(m.group()[1:], own, span=ast.Span(m.start(), m.end(), loc.line, loc.column))
            )
    return tuple(found)


def parse_grammar(text: str | bytes, filename: str | None = None) -> ast.Grammar:
    """Parse GBNF ``text`` (str, or bytes decoded as UTF-8) into a :class:`~structgen.gbnf.ast.Grammar`.

    Raises :class:`~structgen.errors.GrammarError` with file, line and column on any syntax error.
    Semantic checks (undefined rules, missing root, left recursion, limits) are the checker's job.
    """
    source = decode(text, filename)
    try:
        rules = _parser().parse(source)
    except GrammarError:
        raise
    except lark.exceptions.UnexpectedCharacters as exc:
        pos: int = exc.pos_in_stream if exc.pos_in_stream is not None else len(source.text)
        ch = source.text[pos] if pos < len(source.text) else ""
        what = (
            f"character {ch!r}" if ch.isprintable() and ch else f"character U+{ord(ch):04X}" if ch else "end"
        )
        if ch == '"':
            what = "unterminated string literal"
        elif ch == "[":
            what = "unterminated character class"
        elif ch in "<!":
            what = "malformed token reference"
        raise source.error(f"unexpected {what}{_expected(exc.allowed or set())}", pos) from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        offset = len(source.text) if tok.type == "$END" else (tok.start_pos or 0)
        raise source.error(
            f"unexpected {_describe(tok.type, str(tok))}{_expected(exc.expected)}", offset
        ) from None
    except lark.exceptions.UnexpectedEOF as exc:
        raise source.error(
            f"unexpected end of input{_expected(set(exc.expected))}", len(source.text)
        ) from None
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, GrammarError):
            raise exc.orig_exc from None
        raise
    return ast.Grammar(tuple(rules or ()), _comments(source), source.text, filename)


def parse_file(path: str | Path) -> ast.Grammar:
    """Read and parse a grammar file; errors carry the file name."""
    return parse_grammar(*read_grammar_file(path))
