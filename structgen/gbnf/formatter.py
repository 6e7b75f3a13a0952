"""Print a grammar in one canonical layout that parses back to the same rules.

Layout: ``name ::= alt | alt`` on one line when it fits in :data:`WIDTH` columns, otherwise
``name ::=`` followed by one alternative per line, indented, each but the last ending in ``|``
(a GBNF line may not start with ``|``). Literals and classes use canonical escapes; comments are
kept: full-line comments above what they preceded, trailing ones at the end of their line. One
blank line is kept where the source had one or more between rules or comment blocks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast
from .parser import parse_grammar
from .source import Source

WIDTH = 100
INDENT = "  "

_SIMPLE = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\"}


def _char(cp: int, special: str, raw_space: bool = True) -> str:
    """One code point: raw when printable (and not in ``special``), else its escape."""
    if cp in _SIMPLE:
        return _SIMPLE[cp]
    if cp == 0x20 and not raw_space:
        return "\\x20"
    if cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF:
        ch = chr(cp)
        if ch in special:
            return "\\" + ch
        if ch.isprintable():
            return ch
    if cp <= 0xFF:
        return f"\\x{cp:02X}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04X}"
    return f"\\U{cp:08X}"


def format_literal(chars: tuple[int, ...], *, raw_space: bool = True) -> str:
    """A string literal for ``chars``; ``raw_space=False`` writes a space as ``\\x20`` (no raw space)."""
    return '"' + "".join(_char(cp, '"', raw_space) for cp in chars) + '"'


def format_text(text: str) -> str:
    """A string literal for ``text`` (as :func:`format_literal` writes it, quicker for printable text)."""
    if text.isprintable():
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return format_literal(tuple(ord(ch) for ch in text))


def is_literal(text: str) -> bool:
    """Whether ``text`` is exactly one string literal: quoted, with no unescaped quote inside."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return False
    i = 1
    while i < len(text) - 1:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return False
        i += 1
    return i == len(text) - 1


def format_class(ranges: tuple[tuple[int, int], ...], negated: bool, *, raw_space: bool = True) -> str:
    """A character class for ``ranges`` (kept in order: llama.cpp's rules depend on it).

    A lone ``-`` stays raw as the last item or as the first (``[-+]``, ``[a-]``); elsewhere it is ``\\-``.
    ``raw_space=False`` writes a space as ``\\x20``.
    """
    parts = []
    for i, (lo, hi) in enumerate(ranges):
        first = _char(lo, "]-", raw_space)
        if i == 0 and not negated and lo == 0x5E:
            first = "\\x5E"  # a leading '^' would negate the class; llama.cpp has no '\\^'
        if lo == hi == 0x2D and (i == len(ranges) - 1 or (i == 0 and ranges[1][0] != 0x2D)):
            first = "-"
        parts.append(first if lo == hi else f"{first}-{_char(hi, ']-', raw_space)}")
    return "[" + ("^" if negated else "") + "".join(parts) + "]"


def _atom(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Literal):
        return format_literal(expr.chars)
    if isinstance(expr, ast.CharClass):
        return format_class(expr.ranges, expr.negated)
    if isinstance(expr, ast.RuleRef):
        return expr.name
    if isinstance(expr, ast.AnyChar):
        return "."
    if isinstance(expr, ast.Token):
        inner = f"<[{expr.token_id}]>" if expr.token_id is not None else (expr.text or "<>")
        return ("!" if expr.negated else "") + inner
    raise TypeError(f"not an atom: {type(expr).__name__}")


def _render(node: ast.Expr | ast.Sequence | ast.Alternates) -> str:
    """Print a node on one line, iteratively (nesting depth costs no stack)."""
    out: list[str] = []
    todo: list[ast.Expr | ast.Sequence | ast.Alternates | str] = [node]
    while todo:
        top = todo.pop()
        if isinstance(top, str):
            out.append(top)
        elif isinstance(top, ast.Alternates):
            pieces: list[ast.Sequence | str] = []
            for i, seq in enumerate(top.options):
                if i:
                    # "a | b", "| b", "a |", "a | | b": a bar has a space on each side that has text.
                    left = i > 1 or bool(top.options[0].items)
                    pieces.append((" |" if left else "|") + (" " if seq.items else ""))
                pieces.append(seq)
            todo.extend(reversed(pieces))
        elif isinstance(top, ast.Sequence):
            items: list[ast.Expr | str] = []
            for i, item in enumerate(top.items):
                if i:
                    items.append(" ")
                items.append(item)
            todo.extend(reversed(items))
        else:
            ops: list[str] = []
            while isinstance(top, ast.Repeat):
                ops.append(top.op)
                top = top.item
            todo.append("".join(reversed(ops)))
            if isinstance(top, ast.Group):
                todo.extend((")", top.body, "("))
            else:
                todo.append(_atom(top))
    return "".join(out)


def format_expr(expr: ast.Expr) -> str:
    """One expression on one line (groups stay inline)."""
    return _render(expr)


def format_sequence(seq: ast.Sequence) -> str:
    return _render(seq)


def format_alternates(alts: ast.Alternates) -> str:
    """Alternatives joined by `` | `` on one line (empty ones stay empty: ``| "a"``)."""
    return _render(alts)


def _join(texts: list[str]) -> str:
    out = texts[0]
    for text in texts[1:]:
        out = (out + " |" if out else "|") + (" " + text if text else "")
    return out


@dataclass
class _RuleComments:
    leading: list[ast.Comment] = field(default_factory=list)  # full-line comments above the rule
    before_alt: dict[int, list[str]] = field(default_factory=dict)  # inside the rule, above an alternative
    after_alt: dict[int, list[str]] = field(default_factory=dict)  # at the end of an alternative's line


def _comment(c: ast.Comment) -> str:
    return ("#" + c.text).rstrip()


class _Layout:
    """Places comments relative to rules and alternatives, then prints."""

    def __init__(self, grammar: ast.Grammar) -> None:
        self.grammar = grammar
        self.text = grammar.source
        self.source = Source.of(grammar.source, grammar.filename)
        self.has_source = bool(grammar.source)
        self.anchors = [self._anchors(rule) for rule in grammar.rules]

    def line_of(self, offset: int) -> int:
        return self.source.location(offset).line

    def _skip_blank(self, i: int) -> int:
        text = self.text
        while i < len(text):
            if text[i] in " \t\r\n":
                i += 1
            elif text[i] == "#":
                while i < len(text) and text[i] not in "\r\n":
                    i += 1
            else:
                break
        return i

    def _anchors(self, rule: ast.Rule) -> list[tuple[int, int]]:
        """Source offsets [start, end) of each top-level alternative.

        An empty alternative sits on the '|' that ends it, or (the last one) just after the '|' before it,
        the places where the printed layout puts it too.
        """
        options = rule.body.options
        defined = self.text.find("::=", rule.span.start)
        after = defined + 3 if defined >= 0 else rule.span.end
        bars: list[int] = []
        for seq in options[:-1]:
            at = self._skip_blank(seq.span.end if seq.items else after)
            if at >= len(self.text) or self.text[at] != "|":
                return [(s.span.start, s.span.end) for s in options]  # spans not from this text
            bars.append(at)
            after = at + 1
        anchors = []
        for i, seq in enumerate(options):
            if seq.items:
                anchors.append((seq.span.start, seq.span.end))
            elif i < len(bars):
                anchors.append((bars[i], bars[i]))
            else:
                anchors.append((after, after))
        return anchors

    def rule_end(self, index: int) -> int:
        rule = self.grammar.rules[index]
        return max([rule.span.end] + [end for _, end in self.anchors[index]])

    def assign_comments(self) -> tuple[list[_RuleComments], list[ast.Comment]]:
        rules = self.grammar.rules
        per_rule = [_RuleComments() for _ in rules]
        if not self.has_source or not rules:
            if rules:
                per_rule[0].leading.extend(self.grammar.comments)
                return per_rule, []
            return per_rule, list(self.grammar.comments)
        trailer: list[ast.Comment] = []
        starts = [r.span.start for r in rules]
        for c in self.grammar.comments:
            k = _last_at_or_before(starts, c.span.start)
            if k < 0:
                per_rule[0].leading.append(c)
                continue
            end = self.rule_end(k)
            if c.span.start >= end and c.span.line > self.line_of(end):
                if k + 1 < len(rules):
                    per_rule[k + 1].leading.append(c)
                else:
                    trailer.append(c)
                continue
            self._place_inner(self.anchors[k], per_rule[k], c)
        return per_rule, trailer

    def _place_inner(self, anchors: list[tuple[int, int]], slot: _RuleComments, c: ast.Comment) -> None:
        k = _last_at_or_before([a[0] for a in anchors], c.span.start)
        text = _comment(c)
        if k < 0:
            slot.before_alt.setdefault(0, []).append(text)
            return
        end = anchors[k][1]
        if c.span.start < end:
            slot.before_alt.setdefault(k, []).append(text)
        elif c.span.line == self.line_of(end) or k + 1 == len(anchors):
            slot.after_alt.setdefault(k, []).append(text)
        else:
            slot.before_alt.setdefault(k + 1, []).append(text)

    def rule_lines(self, rule: ast.Rule, comments: _RuleComments, is_last: bool, width: int) -> list[str]:
        texts = [format_sequence(s) for s in rule.body.options]
        n = len(texts)
        if not is_last and not texts[-1]:
            # An empty last alternative needs the end of the file after it ('|' and '::=' continue
            # onto the next line); elsewhere write it as "", which lowers to the same nothing.
            texts[-1] = '""'
        head = f"{rule.name.ljust(width)} ::="
        trailing = comments.after_alt.get(n - 1, [])
        others = any(v for k, v in comments.after_alt.items() if k != n - 1)
        if not comments.before_alt and not others and len(trailing) <= 1:
            body = _join(texts)
            line = head + (" " + body if body else "")
            if len(line) <= WIDTH or n == 1:
                return [line + "".join("  " + t for t in trailing)]
        lines = [head]
        commented = False  # whether the last line printed ends in a comment
        for i, text in enumerate(texts):
            for t in comments.before_alt.get(i, []):
                lines.append(INDENT + t)
                commented = True
            after = comments.after_alt.get(i, [])
            body = " ".join(p for p in (text, "" if i == n - 1 else "|") if p)
            if body:
                lines.append(INDENT + body)
                commented = False
            if after and not commented and len(lines) > 1:
                # An empty last alternative's comment goes on the line of the '|' before it.
                lines[-1] += "  " + after[0]
                after = after[1:]
            lines.extend(INDENT + t for t in after)
            commented = commented or bool(after)
        return lines

    def render(self) -> str:
        per_rule, trailer = self.assign_comments()
        rules = self.grammar.rules
        # The layout as entries: (comment line, or rule index), first and last source line.
        entries: list[tuple[str | int, int | None, int | None]] = []
        for i, rule in enumerate(rules):
            for c in per_rule[i].leading:
                entries.append((_comment(c), *self._at(c.span.line, c.span.line)))
            entries.append((i, *self._at(rule.span.line, self.line_of(self.rule_end(i)))))
        for c in trailer:
            entries.append((_comment(c), *self._at(c.span.line, c.span.line)))
        # One blank line wherever the source had at least one.
        blank = [False] * len(entries)
        for k in range(1, len(entries)):
            first, last = entries[k][1], entries[k - 1][2]
            blank[k] = first is not None and last is not None and first - last > 1
        # Rules not separated by a blank line form a block that aligns its '::='.
        width: dict[int, int] = {}
        block: list[int] = []
        for k, (what, _, _) in enumerate([*entries, ("", None, None)]):
            if (k == len(entries) or blank[k]) and block:
                widest = max(len(rules[i].name) for i in block)
                width.update((i, widest) for i in block)
                block = []
            if isinstance(what, int):
                block.append(what)
        out: list[str] = []
        for k, (what, _, _) in enumerate(entries):
            if blank[k]:
                out.append("")
            if isinstance(what, int):
                out.extend(self.rule_lines(rules[what], per_rule[what], what == len(rules) - 1, width[what]))
            else:
                out.append(what)
        return "".join(line.rstrip() + "\n" for line in out)

    def _at(self, first: int, last: int) -> tuple[int | None, int | None]:
        return (first, last) if self.has_source else (None, None)


def _last_at_or_before(starts: list[int], offset: int) -> int:
    """Index of the last start <= offset (starts ascending), or -1."""
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def format_grammar(grammar: ast.Grammar | str | bytes, filename: str | None = None) -> str:
    """The canonical text of a grammar (GBNF text or a parsed Grammar); raises GrammarError on bad syntax.

    Formatting is idempotent and keeps the language: the result parses to the same rules.
    """
    if not isinstance(grammar, ast.Grammar):
        grammar = parse_grammar(grammar, filename)
    return _Layout(grammar).render()
