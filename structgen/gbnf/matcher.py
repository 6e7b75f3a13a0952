"""Match text against a grammar with llama.cpp's own algorithm, on Unicode code points.

The engine is a port of ``llama_grammar_advance_stack`` / ``llama_grammar_accept``: a set of
pushdown stacks (every live alternative at once), advanced one code point at a time. Sets of stacks
are interned as states and transitions cached, so repeated structure (a JSON document's strings and
numbers) runs at the speed of a dictionary lookup per character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ArgumentError, GrammarError
from . import ast
from .checker import validate
from .formatter import format_class, format_literal
from .lower import (
    ALT,
    CHAR,
    CHAR_ALT,
    CHAR_ANY,
    CHAR_NOT,
    CHAR_RNG_UPPER,
    END,
    RULE_REF,
    TOKEN,
    TOKEN_NOT,
    Lowered,
    char_ranges,
    lower,
)
from .parser import parse_grammar
from .source import Source

Pos = tuple[int, int]
Stack = tuple[Pos, ...]
MAX_STACK_DEPTH = 20_000
_GENERATED = re.compile(r"^(.*)_\d+$")


@dataclass(frozen=True)
class MatchResult:
    """The verdict on one text: ``matched`` (the whole text), ``is_prefix`` (it can still be extended to a match).

    On failure, ``position`` is the code-point offset of the first character that no alternative accepts
    (``len(text)`` when the text is a viable but incomplete prefix), ``line``/``column`` its 1-based place in
    the text and ``expected`` what the grammar allowed there.
    """

    matched: bool
    is_prefix: bool
    position: int
    line: int
    column: int
    expected: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.matched

    def describe(self) -> str:
        if self.matched:
            return "match"
        where = f"{self.line}:{self.column}"
        wanted = ", ".join(self.expected) or "nothing (the grammar is complete here)"
        if self.is_prefix:
            return f"incomplete: input ends at {where}; expected {wanted}"
        return f"no match at {where} (offset {self.position}); expected {wanted}"


def _base_name(lowered: Lowered, sym: int, grammar: ast.Grammar) -> str:
    name = lowered.names.get(sym, f"#{sym}")
    defined = set(grammar.rule_names())
    while name not in defined:
        m = _GENERATED.match(name)
        if not m:
            break
        name = m.group(1)
    return name


class Matcher:
    """Decides whether texts match a grammar, and where they fail, as llama.cpp's grammar engine does."""

    def __init__(self, grammar: ast.Grammar | str | bytes, filename: str | None = None) -> None:
        if isinstance(grammar, (str, bytes)):
            grammar = parse_grammar(grammar, filename)
        elif not isinstance(grammar, ast.Grammar):
            raise ArgumentError(
                f"a grammar is GBNF text (str or bytes) or a parsed Grammar, not {grammar!r:.60}"
            )
        validate(grammar)
        self.grammar = grammar
        self.source = Source.of(grammar.source, grammar.filename)
        self.lowered = lower(grammar, self.source)
        self.rules = self.lowered.rules
        self._state_ids: dict[frozenset[Stack], int] = {}
        self._states: list[frozenset[Stack]] = []
        self._next: list[dict[int, int]] = []
        self._accepting: list[bool] = []
        self.initial = self._intern(self._initial_stacks())

    # -- the engine -------------------------------------------------------------------------------

    def _is_end(self, pos: Pos) -> bool:
        return self.rules[pos[0]][pos[1]][0] in (END, ALT)

    def _initial_stacks(self) -> frozenset[Stack]:
        root = self.lowered.root
        assert root is not None
        out: set[Stack] = set()
        for start in self.lowered.alternatives(root):
            pos = (root, start)
            self._advance((pos,) if not self._is_end(pos) else (), out)
        return frozenset(out)

    def _advance(self, stack: Stack, out: set[Stack]) -> None:
        todo = [stack]
        seen: set[Stack] = set()
        rules = self.rules
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            if not cur:
                out.add(cur)
                continue
            if len(cur) > MAX_STACK_DEPTH:
                raise GrammarError(
                    "the grammar expands without consuming input (left recursion through a "
                    "rule that can be empty); llama.cpp would not terminate on it"
                )
            rid, idx = cur[-1]
            kind, value = rules[rid][idx]
            if kind == RULE_REF:
                base = cur[:-1]
                after = (rid, idx + 1)
                if not self._is_end(after):
                    base = base + (after,)
                sub = rules[value]
                for start in self.lowered.alternatives(value):
                    if sub[start][0] in (END, ALT):
                        todo.append(base)
                    else:
                        todo.append(base + ((value, start),))
            elif kind in (CHAR, CHAR_NOT, CHAR_ANY, TOKEN, TOKEN_NOT):
                out.add(cur)
            else:  # pragma: no cover - a lowering bug
                raise AssertionError(f"stack left on element type {kind}")

    def _match_char(self, pos: Pos, cp: int) -> tuple[bool, int]:
        rule = self.rules[pos[0]]
        i = pos[1]
        kind = rule[i][0]
        if kind in (TOKEN, TOKEN_NOT):
            return False, i
        positive = kind in (CHAR, CHAR_ANY)
        found = False
        while True:
            k, v = rule[i]
            if rule[i + 1][0] == CHAR_RNG_UPPER:
                found = found or (v <= cp <= rule[i + 1][1])
                i += 2
            elif k == CHAR_ANY:
                found = True
                i += 1
            else:
                found = found or v == cp
                i += 1
            if rule[i][0] != CHAR_ALT:
                break
        return found == positive, i

    def _intern(self, stacks: frozenset[Stack]) -> int:
        sid = self._state_ids.get(stacks)
        if sid is None:
            sid = len(self._states)
            self._state_ids[stacks] = sid
            self._states.append(stacks)
            self._next.append({})
            self._accepting.append(() in stacks)
        return sid

    def _step(self, sid: int, cp: int) -> int:
        out: set[Stack] = set()
        for stack in self._states[sid]:
            if not stack:
                continue
            ok, after = self._match_char(stack[-1], cp)
            if not ok:
                continue
            rid = stack[-1][0]
            new = stack[:-1]
            if not self._is_end((rid, after)):
                new = new + ((rid, after),)
            self._advance(new, out)
        nxt = self._intern(frozenset(out))
        self._next[sid][cp] = nxt
        return nxt

    # -- public API -------------------------------------------------------------------------------

    def match(self, text: str) -> MatchResult:
        """Match ``text`` in full; on failure say where and what was expected."""
        if not isinstance(text, str):
            raise ArgumentError(f"the text to match must be a str, not {type(text).__name__}")
        sid = self.initial
        nexts = self._next
        dead = -1
        for i, ch in enumerate(text):
            cp = ord(ch)
            nxt = nexts[sid].get(cp)
            if nxt is None:
                nxt = self._step(sid, cp)
            if not self._states[nxt]:
                dead = i
                break
            sid = nxt
        if dead < 0:
            ok = self._accepting[sid]
            line, col = _line_col(text, len(text))
            return MatchResult(ok, True, len(text), line, col, () if ok else self.expected(sid))
        line, col = _line_col(text, dead)
        return MatchResult(False, False, dead, line, col, self.expected(sid))

    def fullmatch(self, text: str) -> bool:
        """True when the whole of ``text`` matches."""
        return self.match(text).matched

    def is_prefix(self, text: str) -> bool:
        """True when ``text`` can be extended to a match (a viable prefix; a full match counts)."""
        return self.match(text).is_prefix

    def expected(self, sid: int | None = None) -> tuple[str, ...]:
        """Readable descriptions of what the grammar accepts next in a state (the initial one by default)."""
        stacks = self._states[self.initial if sid is None else sid]
        found: dict[str, None] = {}
        for stack in sorted(stacks):
            if not stack:
                found.setdefault("end of input", None)
                continue
            found.setdefault(self._describe(stack[-1]), None)
        return tuple(found)

    def _describe(self, pos: Pos) -> str:
        rule = self.rules[pos[0]]
        i = pos[1]
        kind, value = rule[i]
        where = _base_name(self.lowered, pos[0], self.grammar)
        if kind in (TOKEN, TOKEN_NOT):
            text = self.lowered.token_texts.get(value, f"<[{value}]>")
            return ("!" if kind == TOKEN_NOT else "") + text + f" (in {where})"
        if kind == CHAR_ANY:
            return f"any character (in {where})"
        ranges = char_ranges(rule, i)[0]
        if kind == CHAR and len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
            body = format_literal((ranges[0][0],))
        else:
            body = format_class(tuple(ranges), kind == CHAR_NOT)
        return f"{body} (in {where})"


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    start = before.rfind("\n") + 1
    return line, offset - start + 1


def matches(grammar: ast.Grammar | str, text: str) -> bool:
    """True when ``text`` matches ``grammar`` (GBNF text or a parsed Grammar) in full."""
    return Matcher(grammar).fullmatch(text)
