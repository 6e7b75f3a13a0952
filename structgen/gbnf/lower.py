"""Lower a parsed grammar to llama.cpp's rule arrays, exactly as ``llama_grammar_parser`` builds them.

The result is the engine's own representation: a list of rules, each a flat list of elements
(``(type, value)``), alternatives separated by ``ALT`` and ended by ``END``; groups and repetitions
become generated rules named ``<rule>_<id>``, in the same order and with the same ids llama.cpp gives
them. The matcher and sampler run on this form, and the checker reads llama.cpp's refusals off it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import ast
from .diagnostics import Diagnostic, Severity, at
from .source import Source

END, ALT, RULE_REF, CHAR, CHAR_NOT, CHAR_RNG_UPPER, CHAR_ALT, CHAR_ANY, TOKEN, TOKEN_NOT = range(10)
MAX_REPETITION_THRESHOLD = 2000
UNBOUNDED = -1

Element = tuple[int, int]


@dataclass
class Lowered:
    """llama.cpp's form of a grammar: ``rules[symbol_id]`` (empty list = referenced but undefined)."""

    rules: list[list[Element]]
    symbol_ids: dict[str, int]
    names: dict[int, str] = field(default_factory=dict)
    token_texts: dict[int, str] = field(default_factory=dict)
    first_ref: dict[int, ast.Span] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    defined_size: int = 0
    """How many rules llama.cpp's vector holds (the highest defined id + 1); ``rules`` is padded past it."""

    @property
    def root(self) -> int | None:
        return self.symbol_ids.get("root")

    def alternatives(self, rule_id: int) -> list[int]:
        """Start indices of each alternative of a rule."""
        rule = self.rules[rule_id]
        starts = [0]
        for i, (kind, _) in enumerate(rule):
            if kind == ALT:
                starts.append(i + 1)
        return starts


class _Lowerer:
    def __init__(self, grammar: ast.Grammar, source: Source) -> None:
        self.grammar = grammar
        self.source = source
        self.symbol_ids: dict[str, int] = {}
        self.rules: list[list[Element]] = []
        self.first_ref: dict[int, ast.Span] = {}
        self.problems: list[Diagnostic] = []
        self.token_texts: dict[int, str] = {}

    def symbol(self, name: str) -> int:
        return self.symbol_ids.setdefault(name, len(self.symbol_ids))

    def generate(self, base: str) -> int:
        next_id = len(self.symbol_ids)
        self.symbol_ids[f"{base}_{next_id}"] = next_id
        return next_id

    def add_rule(self, rule_id: int, rule: list[Element]) -> None:
        while len(self.rules) <= rule_id:
            self.rules.append([])
        self.rules[rule_id] = rule

    def error(self, span: ast.Span, code: str, message: str) -> None:
        self.problems.append(at(self.source, span, Severity.ERROR, code, message))

    def run(self) -> Lowered:
        for rule in self.grammar.rules:
            rule_id = self.symbol(rule.name)
            self.alternates(rule.body, rule.name, rule_id)
        lowered = Lowered(
            self.rules,
            self.symbol_ids,
            {v: k for k, v in self.symbol_ids.items()},
            self.token_texts,
            self.first_ref,
            self.problems,
            len(self.rules),
        )
        while len(lowered.rules) < len(self.symbol_ids):
            lowered.rules.append([])
        return lowered

    def alternates(self, alts: ast.Alternates, rule_name: str, rule_id: int) -> None:
        rule: list[Element] = []
        for i, seq in enumerate(alts.options):
            if i:
                rule.append((ALT, 0))
            self.sequence(seq, rule_name, rule)
        rule.append((END, 0))
        self.add_rule(rule_id, rule)

    def sequence(self, seq: ast.Sequence, rule_name: str, rule: list[Element]) -> None:
        for item in seq.items:
            quantifiers: list[ast.Repeat] = []
            while isinstance(item, ast.Repeat):
                quantifiers.append(item)
                item = item.item
            last_sym_start = len(rule)
            n_prev_rules = self.atom(item, rule_name, rule)
            for q in reversed(quantifiers):
                n_prev_rules = self.repeat(q, rule_name, rule, last_sym_start, n_prev_rules)

    def atom(self, item: ast.Expr, rule_name: str, rule: list[Element]) -> int:
        """Emit one atom; return llama.cpp's ``n_prev_rules`` for it."""
        if isinstance(item, ast.Literal):
            rule.extend((CHAR, cp) for cp in item.chars)
        elif isinstance(item, ast.CharClass):
            start = CHAR_NOT if item.negated else CHAR
            for i, (lo, hi) in enumerate(item.ranges):
                rule.append((start if i == 0 else CHAR_ALT, lo))
                if hi != lo:
                    rule.append((CHAR_RNG_UPPER, hi))
        elif isinstance(item, ast.Token):
            kind = TOKEN_NOT if item.negated else TOKEN
            if item.token_id is not None:
                rule.append((kind, item.token_id))
            else:
                # Text tokens need a vocabulary; keep a placeholder id that never equals a real token.
                placeholder = -1 - len(self.token_texts)
                self.token_texts[placeholder] = item.text or ""
                rule.append((kind, placeholder))
        elif isinstance(item, ast.RuleRef):
            ref_id = self.symbol(item.name)
            self.first_ref.setdefault(ref_id, item.span)
            rule.append((RULE_REF, ref_id))
        elif isinstance(item, ast.Group):
            n_before = len(self.symbol_ids)
            sub_id = self.generate(rule_name)
            self.alternates(item.body, rule_name, sub_id)
            rule.append((RULE_REF, sub_id))
            return max(1, len(self.symbol_ids) - n_before)
        elif isinstance(item, ast.AnyChar):
            rule.append((CHAR_ANY, 0))
        return 1

    def repeat(
        self, q: ast.Repeat, rule_name: str, rule: list[Element], last_sym_start: int, n_prev_rules: int
    ) -> int:
        min_times = q.min
        max_times = UNBOUNDED if q.max is None else q.max
        if q.op.startswith("{"):
            if min_times > MAX_REPETITION_THRESHOLD:
                self.error(
                    q.span,
                    "repetition-limit",
                    f"{q.op}: llama.cpp refuses more than {MAX_REPETITION_THRESHOLD} repetitions",
                )
                return n_prev_rules
            if max_times != UNBOUNDED and max_times < min_times:
                self.error(
                    q.span,
                    "repetition-bounds",
                    f"{q.op}: the maximum is below the minimum (llama.cpp does not refuse it but "
                    "loops until it runs out of memory)",
                )
                return n_prev_rules
            if max_times != UNBOUNDED and max_times > MAX_REPETITION_THRESHOLD:
                max_times = UNBOUNDED
        if last_sym_start == len(rule):
            # An item that lowered to nothing ([] or [^]): llama.cpp has no preceding item to repeat.
            self.error(
                q.span, "empty-repeat", f"expecting preceding item to {q.op} (the item lowers to nothing)"
            )
            return n_prev_rules
        no_max = max_times == UNBOUNDED
        total = 1
        if not no_max and max_times > 0:
            total = max_times
        elif min_times > 0:
            total = min_times
        if n_prev_rules * total > MAX_REPETITION_THRESHOLD:
            self.error(
                q.span,
                "repetition-limit",
                f"{q.op} on an item that already expands to {n_prev_rules} rules makes "
                f"{n_prev_rules * total} > {MAX_REPETITION_THRESHOLD}: llama.cpp refuses it",
            )
            return n_prev_rules
        prev = rule[last_sym_start:]
        if min_times == 0:
            del rule[last_sym_start:]
        else:
            for _ in range(1, min_times):
                rule.extend(prev)
        last_rec = 0
        n_opt = 1 if no_max else max_times - min_times
        for i in range(n_opt):
            rec_id = self.generate(rule_name)
            rec = list(prev)
            if i > 0 or no_max:
                rec.append((RULE_REF, rec_id if no_max else last_rec))
            rec.append((ALT, 0))
            rec.append((END, 0))
            self.add_rule(rec_id, rec)
            last_rec = rec_id
        if n_opt > 0:
            rule.append((RULE_REF, last_rec))
        return n_prev_rules * total


def char_ranges(rule: Sequence[tuple[int, int]], i: int) -> tuple[list[tuple[int, int]], bool, int]:
    """The ranges of the character element at ``rule[i]`` and the ``CHAR_ALT`` ones after it, whether
    one of them is ``CHAR_ANY``, and the index of the element after them."""
    ranges: list[tuple[int, int]] = []
    any_char = False
    while True:
        kind, value = rule[i]
        upper = rule[i + 1][1] if rule[i + 1][0] == CHAR_RNG_UPPER else None
        any_char = any_char or kind == CHAR_ANY
        if kind != CHAR_ANY:
            ranges.append((value, value if upper is None else upper))
        i += 1 if upper is None else 2
        if rule[i][0] != CHAR_ALT:
            return ranges, any_char, i


def lower(grammar: ast.Grammar, source: Source | None = None) -> Lowered:
    """Lower ``grammar`` to llama.cpp's rules; refusals llama.cpp makes while parsing go to ``problems``."""
    src = source or Source.of(grammar.source, grammar.filename)
    return _Lowerer(grammar, src).run()


def undefined_symbols(lowered: Lowered) -> list[int]:
    """Symbols llama.cpp finds undefined, in id order: holes in its rule vector, references to rules it
    lacks, and ``root`` when its id lies past the vector (llama.cpp then reads out of bounds).

    A symbol whose every reference was repeated ``{0}`` times has no reference left and is not here.
    """
    size = lowered.defined_size
    rules = lowered.rules
    bad = {i for i in range(size) if not rules[i]}
    for rule in rules[:size]:
        bad.update(value for kind, value in rule if kind == RULE_REF and (value >= size or not rules[value]))
    root = lowered.root
    if root is not None and root >= size:
        bad.add(root)
    return sorted(bad)


def left_recursive_symbols(lowered: Lowered) -> list[int]:
    """Symbols where llama.cpp's ``llama_grammar_detect_left_recursion`` reports left recursion."""
    n = len(lowered.rules)
    visited = [False] * n
    in_progress = [False] * n
    may_be_empty = [False] * n
    found: list[int] = []
    for i in range(n):
        if visited[i]:
            continue
        if _detect(lowered.rules, i, visited, in_progress, may_be_empty):
            found.append(i)
            # llama.cpp stops at the first; keep going from a clean slate for a complete report.
            in_progress = [False] * n
    return found


def _detect(
    rules: list[list[Element]],
    start: int,
    visited: list[bool],
    in_progress: list[bool],
    may_be_empty: list[bool],
) -> bool:
    """Iterative port of llama.cpp's recursive left-recursion check (same visiting order)."""

    # Frame: (rule index, next element index, recurse flag); a frame is entered as in the C++ code.
    def enter(idx: int) -> bool:
        if in_progress[idx]:
            return True
        in_progress[idx] = True
        rule = rules[idx]
        at_start = True
        for kind, _ in rule:
            if kind in (END, ALT):
                if at_start:
                    may_be_empty[idx] = True
                    break
                at_start = True
            else:
                at_start = False
        return False

    if enter(start):
        return True
    stack: list[list[int]] = [[start, 0, 1]]
    while stack:
        frame = stack[-1]
        idx, i, recurse = frame
        rule = rules[idx]
        if i >= len(rule):
            in_progress[idx] = False
            visited[idx] = True
            stack.pop()
            if stack:
                parent = stack[-1]
                child = idx
                if not may_be_empty[child]:
                    parent[2] = 0
                parent[1] += 1
            continue
        kind, value = rule[i]
        if kind == RULE_REF and recurse:
            if value >= len(rules):
                frame[1] += 1
                continue
            if enter(value):
                return True
            stack.append([value, 0, 1])
            continue
        frame[2] = 1 if kind in (END, ALT) else 0
        frame[1] += 1
    return False
