"""Check a grammar as llama.cpp would load it: errors for what it refuses, warnings for what it handles badly.

Errors (llama.cpp refuses the grammar, or hangs on it): syntax, repetition limits, a ``{m,n}`` with m > n,
an empty grammar, undefined rules, no ``root`` rule, left recursion. Warnings (llama.cpp accepts it, but
the result is probably not what was meant, or is slow): rules defined twice, unused or unreachable
rules, ``{m,n}`` with n > 2000, ``x? x? x?`` chains, nested unbounded repetition, repetition of
something that can match the empty string, unbounded whitespace, empty and reversed character classes,
impossible code points, text token references, and left recursion llama.cpp's check misses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import GrammarError, Location
from . import ast
from .analysis import (
    directly_empty,
    generated_base,
    is_whitespace,
    least_fixpoint,
    left_cycles,
    nullable,
    split_alternatives,
    whitespace_only,
    whitespace_range,
)
from .diagnostics import Diagnostic, Severity, at
from .formatter import format_expr
from .lower import (
    CHAR,
    CHAR_ALT,
    CHAR_NOT,
    CHAR_RNG_UPPER,
    END,
    MAX_REPETITION_THRESHOLD,
    RULE_REF,
    Lowered,
    left_recursive_symbols,
    lower,
    undefined_symbols,
)
from .parser import parse_grammar
from .source import Source, read_grammar_file

# Three or more consecutive optional copies of one item make a chain worth a warning.
OPTIONAL_CHAIN = 3
# Longest text of an expression quoted in a message.
_QUOTE_WIDTH = 40

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def _quote(expr: ast.Expr) -> str:
    text = format_expr(expr)
    return text if len(text) <= _QUOTE_WIDTH else text[: _QUOTE_WIDTH - 3] + "..."


def _walk(alts: ast.Alternates) -> Iterator[tuple[ast.Sequence, ast.Expr]]:
    """Every expression under ``alts`` with the sequence it stands in (one stack frame per group level)."""
    for seq in alts.options:
        for item in seq.items:
            node: ast.Expr = item
            while True:
                yield seq, node
                if isinstance(node, ast.Repeat):
                    node = node.item
                    continue
                if isinstance(node, ast.Group):
                    yield from _walk(node.body)
                break


def _max_depth(grammar: ast.Grammar) -> int:
    """How deeply groups nest (iteratively, so hand-built trees cannot overflow the stack)."""
    deepest = 0
    todo: list[tuple[ast.Alternates, int]] = [(rule.body, 0) for rule in grammar.rules]
    while todo:
        alts, depth = todo.pop()
        deepest = max(deepest, depth)
        for seq in alts.options:
            for item in seq.items:
                while isinstance(item, ast.Repeat):
                    item = item.item
                if isinstance(item, ast.Group):
                    todo.append((item.body, depth + 1))
    return deepest


@dataclass
class _Context:
    rules: dict[str, ast.Rule]  # the definition llama.cpp uses for each name (the last one)
    lowered: Lowered
    nullable: list[bool]
    directly_empty: list[bool]
    whitespace: list[bool]

    def sym(self, name: str) -> int | None:
        return self.lowered.symbol_ids.get(name)

    def rule_is(self, name: str, table: list[bool]) -> bool:
        """``table``'s entry for the rule ``name`` (False for an undefined rule)."""
        sym = self.sym(name)
        return sym is not None and table[sym]


class _Checker:
    def __init__(self, grammar: ast.Grammar) -> None:
        self.grammar = grammar
        self.source = Source.of(grammar.source, grammar.filename)
        self.found: list[Diagnostic] = []
        self.refused: set[int] = set()

    def add(self, span: ast.Span | None, severity: Severity, code: str, message: str) -> None:
        self.found.append(at(self.source, span, severity, code, message))

    def run(self) -> list[Diagnostic]:
        grammar = self.grammar
        if not grammar.rules:
            self.add(
                None, ERROR, "empty-grammar", "the grammar has no rules (llama.cpp refuses an empty grammar)"
            )
            return self.found
        lowered = lower(grammar, self.source)
        self.found.extend(lowered.problems)
        self.refused = {d.location.offset for d in lowered.problems}
        ctx = _Context(
            {rule.name: rule for rule in grammar.rules},
            lowered,
            nullable(lowered),
            directly_empty(lowered),
            whitespace_only(lowered),
        )
        self.check_symbols(ctx)
        self.check_productive(ctx)
        self.check_left_recursion(ctx)
        self.check_rules(ctx.rules)
        for rule in grammar.rules:
            self.check_body(ctx, rule)
        return self.found

    # -- whole-grammar checks -------------------------------------------------------------------

    def check_symbols(self, ctx: _Context) -> None:
        lowered = ctx.lowered
        undefined = undefined_symbols(lowered)
        for sym in undefined:
            name = lowered.names[sym]
            if sym == lowered.root and sym >= lowered.defined_size and not _referenced(lowered, sym):
                # llama.cpp finds the name, then starts from a rule past the end of its vector: a crash
                self.add(None, ERROR, "undefined-root", "'root' is referenced but never defined")
            else:
                self.add(lowered.first_ref.get(sym), ERROR, "undefined-rule", f"undefined rule '{name}'")
        for sym, rule in enumerate(lowered.rules):
            if not rule and sym not in undefined:
                name = lowered.names[sym]
                self.add(
                    lowered.first_ref.get(sym),
                    WARNING,
                    "dropped-reference",
                    f"rule '{name}' is never defined; llama.cpp accepts it only because every use of it "
                    "is repeated {0} times",
                )
        if "root" not in lowered.symbol_ids:
            self.add(None, ERROR, "missing-root", "no 'root' rule: llama-server starts from 'root'")

    def check_productive(self, ctx: _Context) -> None:
        """Warn about rules that match no text at all (every alternative needs a rule that never ends, or a
        class that admits no character); when ``root`` is one of them, the grammar's language is empty."""
        lowered = ctx.lowered
        undefined = set(undefined_symbols(lowered))
        if undefined or any(d.is_error for d in self.found):
            return  # the errors say it already
        alive = productive(lowered)
        reported: set[str] = set()
        root = lowered.symbol_ids.get("root")
        if root is not None and root not in undefined and not alive[root]:
            rule = ctx.rules.get("root")
            self.add(
                rule.span if rule else None,
                WARNING,
                "empty-language",
                "no text matches this grammar: 'root' can never be completed (each of its alternatives "
                "needs a rule that never ends or a class that admits no character)",
            )
            reported.add("root")
        for sym, ok in enumerate(alive):
            name = generated_base(lowered.names[sym])
            if ok or sym in undefined or not lowered.rules[sym] or name in reported or name not in ctx.rules:
                continue
            if any(
                alive[other] for other in range(len(alive)) if generated_base(lowered.names[other]) == name
            ):
                continue  # a helper of a rule that matches something (an unused alternative only)
            reported.add(name)
            self.add(
                ctx.rules[name].span,
                WARNING,
                "unproductive-rule",
                f"rule '{name}' matches no text: every alternative needs a rule that never ends "
                "or a class that admits no character",
            )

    def describe_cycle(
        self, ctx: _Context, path: tuple[int, ...], transitive: bool
    ) -> tuple[str, ast.Span | None]:
        """The cycle as user rule names (``a -> b -> a``) and where to point: the first step's reference."""
        names: list[str] = []
        for sym in path:
            name = generated_base(ctx.lowered.names[sym])
            if not names or names[-1] != name:
                names.append(name)
        if len(names) == 1:
            names.append(names[0])
        rule = ctx.rules.get(names[0])
        if rule is None:
            return " -> ".join(names), None
        target = names[1]
        for _, node in _walk(rule.body):
            if isinstance(node, ast.RuleRef) and node.name == target:
                return " -> ".join(names), node.span
        empty = _nullable if transitive else _directly_empty
        for _, node in _walk(rule.body):
            if isinstance(node, ast.Repeat) and node.max is None and empty(ctx, node.item):
                text = (
                    f"{names[0]} -> {names[0]}, through {_quote(node)}, a repetition of something that "
                    "can match the empty string"
                )
                return text, node.span
        return " -> ".join(names), rule.span

    def check_left_recursion(self, ctx: _Context) -> None:
        refused = left_cycles(ctx.lowered, ctx.directly_empty)
        if not refused and left_recursive_symbols(ctx.lowered):  # pragma: no cover - the two ports disagree
            self.add(None, ERROR, "left-recursion", "left recursion (llama.cpp refuses the grammar)")
        covered: set[int] = set()
        for cycle in refused:
            covered |= cycle.members
            text, span = self.describe_cycle(ctx, cycle.path, transitive=False)
            self.add(
                span,
                ERROR,
                "left-recursion",
                f"left recursion: {text} (llama.cpp refuses a rule that can start with itself)",
            )
        for cycle in left_cycles(ctx.lowered, ctx.nullable):
            if not cycle.growing or cycle.members & covered:
                continue
            text, span = self.describe_cycle(ctx, cycle.path, transitive=True)
            self.add(
                span,
                ERROR,
                "hidden-left-recursion",
                f"left recursion through rules that can match the empty string: {text}; llama.cpp's "
                "check misses it, accepts the grammar and then never finishes expanding the rule",
            )

    def check_rules(self, last: dict[str, ast.Rule]) -> None:
        for rule in self.grammar.rules:
            final = last[rule.name]
            if final is not rule:
                self.add(
                    rule.span,
                    WARNING,
                    "duplicate-rule",
                    f"rule '{rule.name}' is defined again at line {final.span.line}; llama.cpp keeps only "
                    "the last definition and ignores this one",
                )
        if "root" not in last:
            return
        refs: dict[str, set[str]] = {}
        for name, rule in last.items():
            refs[name] = {n.name for _, n in _walk(rule.body) if isinstance(n, ast.RuleRef)}
        used = {target for name, targets in refs.items() for target in targets if target != name}
        reachable = {"root"}
        todo = ["root"]
        while todo:
            for target in refs.get(todo.pop(), ()):
                if target not in reachable:
                    reachable.add(target)
                    todo.append(target)
        for name, rule in last.items():
            if name in reachable:
                continue
            if name in used:
                self.add(
                    rule.span, WARNING, "unreachable-rule", f"rule '{name}' is not reachable from 'root'"
                )
            else:
                self.add(rule.span, WARNING, "unused-rule", f"rule '{name}' is never used")

    # -- checks inside rule bodies ---------------------------------------------------------------

    def check_body(self, ctx: _Context, rule: ast.Rule) -> None:
        for _, node in _walk(rule.body):
            if isinstance(node, ast.Repeat):
                self.check_repeat(ctx, node)
            elif isinstance(node, ast.CharClass):
                self.check_class(node)
            elif isinstance(node, ast.Literal):
                bad = next((cp for cp in node.chars if not _valid_scalar(cp)), None)
                if bad is not None:
                    self.add(
                        node.span,
                        WARNING,
                        "impossible-char",
                        f"U+{bad:04X} is not a Unicode character: no text can match {_quote(node)}",
                    )
            elif isinstance(node, ast.Token) and node.text is not None:
                self.add(
                    node.span,
                    WARNING,
                    "text-token",
                    f"token reference {node.text} can only be checked against a model's vocabulary: "
                    "llama.cpp refuses the grammar unless the text is exactly one token",
                )
        for seq in self.sequences(rule.body):
            self.check_optional_chain(seq)

    def sequences(self, alts: ast.Alternates) -> Iterator[ast.Sequence]:
        seen: set[int] = set()
        for seq, _ in _walk(alts):
            if id(seq) not in seen:
                seen.add(id(seq))
                yield seq

    def check_class(self, node: ast.CharClass) -> None:
        if not node.ranges:
            what = "not any character (use '.')" if node.negated else "not 'no character'"
            self.add(
                node.span,
                WARNING,
                "empty-class",
                f"empty character class {_quote(node)}: llama.cpp lowers it to nothing, so it matches the "
                f"empty string, {what}",
            )
            return
        for lo, hi in node.ranges:
            if lo > hi:
                self.add(
                    node.span,
                    WARNING,
                    "reversed-range",
                    f"range U+{lo:04X}-U+{hi:04X} in {_quote(node)} is empty: its start is after its end",
                )
            elif lo > 0x10FFFF or (lo == hi and not _valid_scalar(lo)):
                self.add(
                    node.span,
                    WARNING,
                    "impossible-char",
                    f"U+{lo:04X} in {_quote(node)} is not a Unicode character: no text contains it",
                )

    def check_repeat(self, ctx: _Context, node: ast.Repeat) -> None:
        if node.span.start in self.refused and node.span is not ast.NO_SPAN:
            return  # the lowering refused this repetition (or one chained to it): that error is enough
        limit = MAX_REPETITION_THRESHOLD
        top = node.max  # the maximum llama.cpp uses (None: unbounded)
        if node.op.startswith("{"):
            if node.min > limit or (node.max is not None and node.max < node.min):
                return  # the lowering reported it
            if node.max is not None and node.max > limit:
                top = None
                self.add(
                    node.span,
                    WARNING,
                    "repetition-unbounded",
                    f"{node.op}: llama.cpp treats a maximum over {limit} as no maximum ({{{node.min},}})",
                )
        if _lowers_to_nothing(node.item):
            return  # the lowering refused it
        if top is None:
            inner = _unbounded_inside(ctx, node.item)
            if inner is not None:
                self.add(
                    node.span,
                    WARNING,
                    "nested-repetition",
                    f"{_quote(node)} repeats {_quote(inner)} without bound: the nested unbounded repetition "
                    "is ambiguous and makes llama.cpp track many equivalent parses; repeat once",
                )
                return
        if (top is None or top > 1) and _nullable(ctx, node.item):
            self.add(
                node.span,
                WARNING,
                "nullable-repetition",
                f"{_quote(node)} repeats {_quote(node.item)}, which can match the empty string: a string "
                "then matches in many ways, which llama.cpp tracks at once; make the item non-empty",
            )
            return
        if top is None and _whitespace_only(ctx, node.item):
            self.add(
                node.span,
                WARNING,
                "unbounded-whitespace",
                f"{_quote(node)} allows unlimited whitespace, which models tend to emit without end; "
                f"bound it, e.g. {format_expr(node.item)}{{0,20}}",
            )

    def check_optional_chain(self, seq: ast.Sequence) -> None:
        items = seq.items
        i = 0
        while i < len(items):
            first = items[i]
            j = i + 1
            if isinstance(first, ast.Repeat) and _is_optional(first):
                while j < len(items) and _same_optional(items[j], first.item):
                    j += 1
                if j - i >= OPTIONAL_CHAIN:
                    self.add(
                        first.span,
                        WARNING,
                        "optional-chain",
                        f"{j - i} optional copies of {_quote(first.item)} in a row are ambiguous (a shorter "
                        f"string matches several ways); write {format_expr(first.item)}{{0,{j - i}}}",
                    )
            i = j


def _lowers_to_nothing(expr: ast.Expr) -> bool:
    return (isinstance(expr, ast.Literal) and not expr.chars) or (
        isinstance(expr, ast.CharClass) and not expr.ranges
    )


def _valid_scalar(cp: int) -> bool:
    return cp <= 0x10FFFF and not 0xD800 <= cp <= 0xDFFF


def _is_optional(node: ast.Expr) -> bool:
    return isinstance(node, ast.Repeat) and node.min == 0 and node.max == 1


def _same_optional(node: ast.Expr, item: ast.Expr) -> bool:
    return isinstance(node, ast.Repeat) and _is_optional(node) and node.item == item


def _single_item(alts: ast.Alternates) -> ast.Expr | None:
    if len(alts.options) == 1 and len(alts.options[0].items) == 1:
        return alts.options[0].items[0]
    return None


def _unbounded_inside(ctx: _Context, expr: ast.Expr) -> ast.Repeat | None:
    """The unbounded repetition ``expr`` amounts to, through single-item groups and rules, if any."""
    seen: set[str] = set()
    node: ast.Expr | None = expr
    while node is not None:
        if isinstance(node, ast.Repeat):
            return node if node.max is None else None
        if isinstance(node, ast.Group):
            node = _single_item(node.body)
        elif isinstance(node, ast.RuleRef) and node.name not in seen:
            seen.add(node.name)
            rule = ctx.rules.get(node.name)
            node = _single_item(rule.body) if rule else None
        else:
            return None
    return None


def _nullable(ctx: _Context, expr: ast.Expr) -> bool:
    """Whether ``expr`` can match the empty string (as lowered: empty literals and classes emit nothing)."""
    while isinstance(expr, ast.Repeat):
        if expr.min == 0:
            return True
        expr = expr.item
    if isinstance(expr, ast.Literal):
        return not expr.chars
    if isinstance(expr, ast.CharClass):
        return not expr.ranges
    if isinstance(expr, ast.RuleRef):
        return ctx.rule_is(expr.name, ctx.nullable)
    if isinstance(expr, ast.Group):
        return any(all(_nullable(ctx, item) for item in seq.items) for seq in expr.body.options)
    return False


def _directly_empty(ctx: _Context, expr: ast.Expr) -> bool:
    """Whether ``expr`` lowers to a reference to a rule with an empty alternative (llama.cpp's may-be-empty)."""
    if isinstance(expr, ast.Repeat):
        return expr.min == 0
    if isinstance(expr, ast.Group):
        return any(all(_lowers_to_nothing(item) for item in seq.items) for seq in expr.body.options)
    if isinstance(expr, ast.RuleRef):
        return ctx.rule_is(expr.name, ctx.directly_empty)
    return False


def _whitespace_only(ctx: _Context, expr: ast.Expr) -> bool:
    """Whether every string ``expr`` matches is whitespace."""
    while isinstance(expr, ast.Repeat):
        expr = expr.item
    if isinstance(expr, ast.Literal):
        return all(is_whitespace(cp) for cp in expr.chars)
    if isinstance(expr, ast.CharClass):
        return not expr.negated and all(whitespace_range(lo, hi) for lo, hi in expr.ranges)
    if isinstance(expr, ast.RuleRef):
        return ctx.rule_is(expr.name, ctx.whitespace)
    if isinstance(expr, ast.Group):
        return all(_whitespace_only(ctx, item) for seq in expr.body.options for item in seq.items)
    return False


def _from_error(exc: GrammarError, filename: str | None) -> Diagnostic:
    loc = exc.location or Location(1, 1, 0, filename)
    return Diagnostic(ERROR, "syntax", exc.message, loc, exc.source_line or "")


def check(grammar: ast.Grammar | str | bytes, filename: str | None = None) -> list[Diagnostic]:
    """All errors and warnings for a grammar (GBNF text or bytes, or a parsed Grammar), in source order.

    A syntax error gives a single diagnostic; this function raises nothing for any input text.
    """
    if not isinstance(grammar, ast.Grammar):
        try:
            grammar = parse_grammar(grammar, filename)
        except GrammarError as exc:
            return [_from_error(exc, filename)]
    elif _max_depth(grammar) > 256:
        return [
            Diagnostic(ERROR, "syntax", "groups nested deeper than 256", Location(1, 1, 0, grammar.filename))
        ]
    found = _Checker(grammar).run()
    refused_empty = {d.location.offset for d in found if d.code == "empty-repeat"}
    unique = [
        d
        for d in dict.fromkeys(found)
        if not (d.code == "empty-class" and d.location.offset in refused_empty)
    ]
    unique.sort(key=lambda d: (d.location.offset, d.severity is not ERROR))
    return unique


def check_file(path: str | Path) -> list[Diagnostic]:
    """Check a grammar file; an unreadable file raises GrammarError (without a location)."""
    return check(*read_grammar_file(path))


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Only the errors."""
    return [d for d in diagnostics if d.is_error]


def validate(grammar: ast.Grammar | str | bytes, filename: str | None = None) -> ast.Grammar:
    """The parsed grammar, if llama.cpp would accept it; else raise the first error as GrammarError."""
    if not isinstance(grammar, ast.Grammar):
        grammar = parse_grammar(grammar, filename)
    for diagnostic in check(grammar):
        if diagnostic.is_error:
            raise diagnostic.to_error()
    return grammar


def _referenced(lowered: Lowered, sym: int) -> bool:
    """True when a rule of llama.cpp's vector still refers to ``sym`` (after ``{0}`` dropped some)."""
    return any(kind == RULE_REF and value == sym for rule in lowered.rules for kind, value in rule)


def _terminal_matches(kind: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether one lowered terminal (a character set, negated or not, or a token) admits anything."""
    if kind != CHAR_NOT:
        return True
    covered = 0
    for lo, hi in sorted(ranges):
        if lo > covered:
            return True
        covered = max(covered, hi + 1)
    return covered <= 0x10FFFF


def productive(lowered: Lowered) -> list[bool]:
    """Rules that match at least one (possibly empty) text: the least fixpoint over the alternatives."""
    n = len(lowered.rules)
    alts: list[tuple[int, list[int], bool]] = []
    for sym, rule in enumerate(lowered.rules):
        for alt in split_alternatives(rule):
            refs: list[int] = []
            ok = True
            kind, ranges = -1, list[tuple[int, int]]()
            for element, value in [*alt, (END, 0)]:
                if element in (CHAR_ALT, CHAR_RNG_UPPER):
                    if element == CHAR_RNG_UPPER and ranges:
                        ranges[-1] = (ranges[-1][0], value)
                    else:
                        ranges.append((value, value))
                    continue
                if kind != -1 and not _terminal_matches(kind, ranges):
                    ok = False
                kind, ranges = -1, []
                if element == RULE_REF:
                    refs.append(value)
                elif element != END:
                    kind, ranges = element, [(value, value)] if element in (CHAR, CHAR_NOT) else []
            alts.append((sym, refs, ok))
    return least_fixpoint(n, [(sym, refs) for sym, refs, ok in alts if ok])
