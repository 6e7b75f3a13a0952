"""DFAs as GBNF: one right-linear rule per state, alternatives keyed by disjoint character classes.

Raw characters are deterministic (no two alternatives start with the same character), so llama.cpp
keeps a single parse stack. :func:`emit_json_string_content` encodes characters as JSON does: raw, as
the short escapes, or as ``\\uXXXX`` (either hex case, surrogate pairs above U+FFFF). Escapes are the
exception to determinism: after a backslash, each successor state has its own escape rule (built once
per process from the characters it covers, and shared by every state and grammar), so the successors
part within the escape's few characters (a few characters of two or more stacks).
"""

from __future__ import annotations

from functools import cache
from hashlib import blake2b

from structgen.gbnf.formatter import format_class, format_literal, is_literal

from .charset import MAX_CP, SURROGATES, CharSet
from .deadline import check_time
from .dfa import Dfa
from .language import Regular

_SHORT_ESCAPES = {'"': 0x22, "\\": 0x5C, "/": 0x2F, "b": 0x08, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09}
_RAW = ~(CharSet([(0, 0x1F), (0x22, 0x22), (0x5C, 0x5C)]) | SURROGATES)
_NOTHING = format_class(((0, MAX_CP),), True)
_HEX_ANY = "[0-9a-fA-F]"


def _class(chars: CharSet, negated: bool) -> str:
    """A character class (never a raw space, so generated items can be split on spaces); a range of two
    is written as its two characters."""
    ranges: list[tuple[int, int]] = []
    for lo, hi in chars.ranges:
        ranges.extend(((lo, lo), (hi, hi)) if hi == lo + 1 else ((lo, hi),))
    return format_class(tuple(ranges), negated, raw_space=False)


@cache
def char_class(chars: CharSet) -> str:
    """The shortest GBNF for one character of ``chars``; surrogate code points never occur in UTF-8
    input, so they may be added or left out freely."""
    if chars.size() == 1:
        return format_literal((chars.ranges[0][0],), raw_space=False)
    candidates = [_class(chars - SURROGATES, False), _class(chars | SURROGATES, False)]
    negative = ~(chars | SURROGATES)
    candidates.append(_class(negative, True) if negative else _class(CharSet([(0, MAX_CP)]), False))
    return min(candidates, key=len)


def _seq(*parts: str) -> str:
    """Space-separated GBNF items, dropping empty ones and joining adjacent string literals."""
    tokens: list[str] = []
    for part in parts:
        for item in part.split(" "):  # items never contain a raw space (see _class)
            if not item or item == '""':
                continue
            if tokens and is_literal(tokens[-1]) and is_literal(item):
                tokens[-1] = tokens[-1][:-1] + item[1:]
            else:
                tokens.append(item)
    return " ".join(tokens) or '""'


class _Emitter:
    def __init__(self, automaton: Dfa, prefix: str) -> None:
        self.d = automaton
        self.prefix = prefix
        self.rules: dict[str, str] = {}
        self._by_body: dict[str, str] = {}
        self._counter = 0
        self.end_states = {
            q for q in range(automaton.size) if not automaton.edges[q] and q in automaton.finals
        }
        self.hex_memo: dict[tuple[int, tuple[tuple[int, int, str], ...]], str] = {}
        self.escape_memo: dict[tuple[tuple[int, int, str], ...], str] = {}

    def state_ref(self, q: int) -> str:
        return "" if q in self.end_states else f"{self.prefix}-{q}"

    def shared_rule(self, body: str, kind: str) -> str:
        """A rule with ``body``, reusing an identical one."""
        name = self._by_body.get(body)
        if name is None:
            self._counter += 1
            name = f"{self.prefix}-{kind}{self._counter}"
            self._by_body[body] = name
            self.rules[name] = body
        return name

    def emit(self, body_of: dict[int, list[str]]) -> tuple[str, dict[str, str]]:
        if not self.d.finals:
            return _NOTHING, {}
        for q in range(self.d.size):
            if q in self.end_states:
                continue
            alternatives = body_of[q]
            if q in self.d.finals:
                alternatives = [*alternatives, '""']
            self.rules[f"{self.prefix}-{q}"] = " | ".join(alternatives)
        ordered = {
            f"{self.prefix}-{q}": self.rules[f"{self.prefix}-{q}"]
            for q in range(self.d.size)
            if q not in self.end_states
        }
        ordered.update((k, v) for k, v in self.rules.items() if k not in ordered)
        return _seq(self.state_ref(0)), ordered


def _grouped(edges: tuple[tuple[int, int, int], ...], within: CharSet) -> dict[int, CharSet]:
    """Each target's characters (restricted to ``within``), in order of first appearance."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for lo, hi, t in edges:
        groups.setdefault(t, []).append((lo, hi))
    out: dict[int, CharSet] = {}
    for t, ranges in groups.items():
        chars = CharSet(ranges) & within
        if chars:
            out[t] = chars
    return out


def emit_dfa_gbnf(automaton: Dfa | Regular, rule_prefix: str) -> tuple[str, dict[str, str]]:
    """GBNF matching exactly the strings of ``automaton``, character for character (no escaping).

    Returns (expression, rules); rule names are ``rule_prefix`` followed by ``-`` and a suffix.
    An empty language yields a character class that matches nothing.
    """
    d = automaton.automaton if isinstance(automaton, Regular) else automaton
    em = _Emitter(d, rule_prefix)
    everything = ~CharSet()
    bodies = {
        q: [_seq(char_class(chars), em.state_ref(t)) for t, chars in _grouped(d.edges[q], everything).items()]
        for q in range(d.size)
    }
    return em.emit(bodies)


def emit_json_string_content(lang: Regular, rule_prefix: str) -> tuple[str, dict[str, str]]:
    """GBNF for the characters between the quotes of a JSON string whose decoded value is in ``lang``.

    Accepts every JSON spelling of each value: raw characters (except ``"``, ``\\`` and controls),
    the short escapes, ``\\uXXXX`` in either case, and surrogate pairs for characters above U+FFFF
    (lone surrogates are never produced). Returns (expression, rules), rule names starting with
    ``rule_prefix``, but for the shared escape rules (``k`` + kind + ``-`` + a digest of the body).
    """
    d = lang.automaton
    em = _Emitter(d, rule_prefix)
    bodies: dict[int, list[str]] = {}
    for q in range(d.size):
        if q & 31 == 0:
            check_time()
        alternatives = [
            _seq(char_class(chars), em.state_ref(t)) for t, chars in _grouped(d.edges[q], _RAW).items()
        ]
        escaped = [(lo, hi, t) for lo, hi, t in d.edges[q] if not (lo >= 0xD800 and hi <= 0xDFFF)]
        targets = sorted({t for _, _, t in escaped})
        # One rule per successor for "an escape of one of these characters", shared by every state and
        # grammar; the successors' escapes part within the escape's few characters.
        escapes = [
            _seq(_escape_rule(SHARED, [(lo, hi, "") for lo, hi, u in escaped if u == t]), em.state_ref(t))
            for t in targets
        ]
        if escapes:
            alternatives.append(
                _seq('"\\\\"', escapes[0] if len(escapes) == 1 else f"({' | '.join(escapes)})")
            )
        bodies[q] = alternatives
    expression, rules = em.emit(bodies)
    used: set[str] = set()
    for body in rules.values():
        for name in names_in(body):
            used |= shared_closure(name)
    return expression, {**rules, **shared_rules(tuple(sorted(used)))}


Items = list[tuple[int, int, str]]
"""Sorted disjoint code-point intervals, each with the GBNF that follows its characters."""


def _escape_rule(em: _Emitter | _Shared, items: Items) -> str:
    """A rule for what may follow a backslash to spell a character of ``items``, then its continuation."""
    key = tuple(items)
    cached = em.escape_memo.get(key)
    if cached is None:
        cached = em.escape_memo[key] = _escape_rule_uncached(em, items)
    return cached


def _escape_rule_uncached(em: _Emitter | _Shared, items: Items) -> str:
    by_cont: dict[str, list[int]] = {}
    for letter, cp in _SHORT_ESCAPES.items():
        for lo, hi, cont in items:
            if lo <= cp <= hi:
                by_cont.setdefault(cont, []).append(ord(letter))
    alternatives = [
        _seq(char_class(CharSet((c, c) for c in letters)), cont) for cont, letters in by_cont.items()
    ]
    mapping: Items = []
    for lo, hi, cont in items:
        for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), min(hi, 0xFFFF))):
            if a <= b:
                mapping.append((a, b, cont))
    mapping.extend(_high_surrogates(em, items))
    mapping.sort()
    if mapping:
        alternatives.append(_seq('"u"', _hex_node(em, mapping, 0, 4)))
    return em.shared_rule(" | ".join(alternatives) or _NOTHING, "e")


def _high_surrogates(em: _Emitter | _Shared, items: Items) -> Items:
    """(first, last high surrogate, continuation) for the characters of ``items`` above U+FFFF."""
    per_high: list[tuple[int, int, tuple[tuple[int, int, str], ...]]] = []
    for lo, hi, ref in items:
        lo = max(lo, 0x10000)
        if lo > hi:
            continue
        v_lo, v_hi = lo - 0x10000, hi - 0x10000
        h_lo, h_hi = v_lo >> 10, v_hi >> 10
        pieces: list[tuple[int, int, tuple[tuple[int, int, str], ...]]] = []
        if h_lo == h_hi:
            pieces.append((h_lo, h_lo, ((0xDC00 + (v_lo & 0x3FF), 0xDC00 + (v_hi & 0x3FF), ref),)))
        else:
            first_full = h_lo if v_lo & 0x3FF == 0 else h_lo + 1
            last_full = h_hi if v_hi & 0x3FF == 0x3FF else h_hi - 1
            if first_full > h_lo:
                pieces.append((h_lo, h_lo, ((0xDC00 + (v_lo & 0x3FF), 0xDFFF, ref),)))
            if first_full <= last_full:
                pieces.append((first_full, last_full, ((0xDC00, 0xDFFF, ref),)))
            if last_full < h_hi:
                pieces.append((h_hi, h_hi, ((0xDC00, 0xDC00 + (v_hi & 0x3FF), ref),)))
        for piece in pieces:
            if per_high and per_high[-1][1] == piece[0] == piece[1] == per_high[-1][0]:
                h, _, lmap = per_high.pop()
                per_high.append((h, h, lmap + piece[2]))
            else:
                per_high.append(piece)
    merged: list[tuple[int, int, tuple[tuple[int, int, str], ...]]] = []
    for piece in per_high:
        if merged and merged[-1][2] == piece[2] and merged[-1][1] + 1 == piece[0]:
            merged[-1] = (merged[-1][0], piece[1], piece[2])
        else:
            merged.append(piece)
    out: Items = []
    for h_lo, h_hi, lmap in merged:
        low = _hex_node(em, list(lmap), 0, 4)
        out.append((0xD800 + h_lo, 0xD800 + h_hi, _seq('"\\\\u"', low)))
    return out


@cache
def _hex_digits_class(digits: tuple[int, ...]) -> str:
    chars = CharSet((0x30 + d, 0x30 + d) if d < 10 else (0x57 + d, 0x57 + d) for d in digits)
    chars = chars | CharSet((0x37 + d, 0x37 + d) for d in digits if d >= 10)
    return "[0-9a-fA-F]" if len(digits) == 16 else char_class(chars)


def _hex_node(em: _Emitter | _Shared, items: Items, base: int, level: int) -> str:
    """GBNF for ``level`` hex digits spelling a value in ``base .. base + 16**level - 1`` that one of
    ``items`` (sorted, disjoint (lo, hi, continuation) triples) covers, then that continuation."""
    key = (level, tuple((a - base, b - base, c) for a, b, c in items))
    cached = em.hex_memo.get(key)
    if cached is None:
        cached = em.hex_memo[key] = _hex_node_uncached(em, items, base, level)
    return cached


def _hex_node_uncached(em: _Emitter | _Shared, items: Items, base: int, level: int) -> str:
    span = 16**level
    if len(items) == 1 and items[0][0] <= base and items[0][1] >= base + span - 1:
        return _seq(*([_HEX_ANY] * level), items[0][2])
    sub = span // 16
    groups: dict[str, list[int]] = {}
    for digit in range(16):
        lo, hi = base + digit * sub, base + digit * sub + sub - 1
        child = [(max(a, lo), min(b, hi), c) for a, b, c in items if a <= hi and b >= lo]
        if child:
            groups.setdefault(_hex_node(em, child, lo, level - 1), []).append(digit)
    alternatives = [_seq(_hex_digits_class(tuple(digits)), expr) for expr, digits in groups.items()]
    if len(alternatives) == 1 and len(alternatives[0]) < 60:
        return alternatives[0]
    return em.shared_rule(" | ".join(alternatives), "u")


class _Shared:
    """Rules built once per process and shared by every grammar: named ``k<kind>-<digest of the body>``,
    so a name always means one body. Holds the memos of :func:`_escape_rule` and :func:`_hex_node` for
    escapes that end there (empty continuations)."""

    def __init__(self) -> None:
        self.hex_memo: dict[tuple[int, tuple[tuple[int, int, str], ...]], str] = {}
        self.escape_memo: dict[tuple[tuple[int, int, str], ...], str] = {}

    def shared_rule(self, body: str, kind: str) -> str:
        return named(f"k{kind}-" + blake2b(body.encode(), digest_size=5).hexdigest(), body)


SHARED = _Shared()
_SHARED_RULES: dict[str, str] = {}


def named(name: str, body: str) -> str:
    """Register a shared rule (the first body given for a name stays)."""
    _SHARED_RULES.setdefault(name, body)
    return name


def names_in(text: str) -> set[str]:
    """The shared rules that ``text`` names."""
    tokens = text.replace("(", " ").replace(")", " ").split()
    return {name for name in {token.rstrip("?*+") for token in tokens} if name in _SHARED_RULES}


@cache
def shared_closure(name: str) -> frozenset[str]:
    """``name`` and the shared rules it needs."""
    found = {name}
    for used in names_in(_SHARED_RULES[name]):
        if used not in found:
            found |= shared_closure(used)
    return frozenset(found)


def shared_rules(names: tuple[str, ...]) -> dict[str, str]:
    """The bodies of shared rules."""
    return {name: _SHARED_RULES[name] for name in names}
