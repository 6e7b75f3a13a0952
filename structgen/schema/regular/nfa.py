"""Syntax tree -> Thompson NFA -> minimal DFA, with ECMA-262's zero-width assertions.

Assertions are edges taken only in the right context: ``^`` before the first character, ``$`` at the
end of input, ``\\b``/``\\B`` depending on whether the characters on either side are word characters.
The subset construction therefore tracks "at start" and "previous character was a word character"
(the latter only when the pattern uses ``\\b``/``\\B``), and decides ``$`` when computing acceptance.
"""

from __future__ import annotations

from .charset import ANY, WORD, CharSet
from .deadline import check_time
from .dfa import MAX_STATES, Dfa, Edge, RegularTooLarge, States, merge_edges, minimize
from .rx import Alt, Assert, AssertKind, Chars, Node, Repeat, Seq, uses_word_boundary

MAX_NFA_STATES = 20 * MAX_STATES
NOT_WORD = ~WORD


class _Nfa:
    def __init__(self) -> None:
        self.eps: list[list[int]] = []
        self.chars: list[list[tuple[CharSet, int]]] = []
        self.asserts: list[list[tuple[AssertKind, int]]] = []

    def state(self) -> int:
        if len(self.eps) >= MAX_NFA_STATES:
            raise RegularTooLarge(f"regular expression needs more than {MAX_NFA_STATES} NFA states")
        self.eps.append([])
        self.chars.append([])
        self.asserts.append([])
        return len(self.eps) - 1

    def build(self, node: Node) -> tuple[int, int]:
        """Add a fragment for ``node``; return its (entry, exit) states."""
        if isinstance(node, Chars):
            s, e = self.state(), self.state()
            if node.chars:
                self.chars[s].append((node.chars, e))
            return s, e
        if isinstance(node, Assert):
            s, e = self.state(), self.state()
            self.asserts[s].append((node.kind, e))
            return s, e
        if isinstance(node, Seq):
            s = e = self.state()
            for part in node.parts:
                ps, pe = self.build(part)
                self.eps[e].append(ps)
                e = pe
            return s, e
        if isinstance(node, Alt):
            s, e = self.state(), self.state()
            for option in node.options:
                os_, oe = self.build(option)
                self.eps[s].append(os_)
                self.eps[oe].append(e)
            return s, e
        return self._repeat(node)

    def _repeat(self, node: Repeat) -> tuple[int, int]:
        s = e = self.state()
        for _ in range(node.low):
            ps, pe = self.build(node.node)
            self.eps[e].append(ps)
            e = pe
        if node.high is None:
            loop = self.state()
            ps, pe = self.build(node.node)
            self.eps[e].append(loop)
            self.eps[loop].append(ps)
            self.eps[pe].append(loop)
            return s, loop
        exits = [e]
        for _ in range(node.high - node.low):
            ps, pe = self.build(node.node)
            self.eps[e].append(ps)
            e = pe
            exits.append(e)
        end = self.state()
        for x in exits:
            self.eps[x].append(end)
        return s, end


Key = tuple[frozenset[int], bool, bool]


class _Determinizer:
    def __init__(self, nfa: _Nfa, final: int, word_sensitive: bool) -> None:
        self.nfa = nfa
        self.final = final
        self.word_sensitive = word_sensitive
        self._closures: dict[tuple[frozenset[int], bool, bool, str], frozenset[int]] = {}
        self.has_asserts = any(nfa.asserts)
        self._single: list[frozenset[int] | None] = [None] * len(nfa.eps)

    def closure(self, states: frozenset[int], at_start: bool, prev_word: bool, nxt: str) -> frozenset[int]:
        """States reachable without consuming input, given the context (``nxt``: w, n, end or ``-``
        for "not yet known", which follows only assertions that do not look ahead)."""
        if not self.has_asserts:
            at_start, prev_word, nxt = False, False, "-"
        key = (states, at_start, prev_word, nxt)
        cached = self._closures.get(key)
        if cached is not None:
            return cached
        seen: set[int] = set()
        for q in states:
            seen |= self._eps_closure(q)
        if self.has_asserts and (at_start or nxt != "-"):
            stack = list(seen)
            while stack:
                q = stack.pop()
                for kind, t in self.nfa.asserts[q]:
                    if kind == "^":
                        ok = at_start
                    elif nxt == "-":
                        ok = False
                    elif kind == "$":
                        ok = nxt == "end"
                    else:
                        boundary = prev_word != (nxt == "w")
                        ok = boundary if kind == "b" else not boundary
                    if ok and t not in seen:
                        new = self._eps_closure(t) - seen
                        seen |= new
                        stack.extend(new)
        result = frozenset(seen)
        self._closures[key] = result
        return result

    def _eps_closure(self, q: int) -> frozenset[int]:
        """States reachable from ``q`` through plain epsilon edges (no assertion)."""
        cached = self._single[q]
        if cached is None:
            seen = {q}
            stack = [q]
            while stack:
                for t in self.nfa.eps[stack.pop()]:
                    if t not in seen:
                        seen.add(t)
                        stack.append(t)
            cached = self._single[q] = frozenset(seen)
        return cached

    def run(self, start: int) -> Dfa:
        first: Key = (self.closure(frozenset([start]), True, False, "-"), True, False)
        states = States(first, "regular expression")
        edges: list[list[Edge]] = []
        finals: set[int] = set()
        contexts = [("w", WORD), ("n", NOT_WORD)] if self.word_sensitive else [("n", ANY)]
        for k, (nfa_states, at_start, prev_word) in enumerate(states.keys):
            if k & 15 == 0:
                check_time()
            if self.final in self.closure(nfa_states, at_start, prev_word, "end"):
                finals.add(k)
            out: list[Edge] = []
            for nxt, allowed in contexts:
                here = self.closure(nfa_states, at_start, prev_word, nxt)
                for lo, hi, targets in self._moves(here, allowed):
                    key: Key = (self.closure(targets, False, False, "-"), False, nxt == "w")
                    out.append((lo, hi, states(key)))
            edges.append(list(merge_edges(out)))
        return minimize(edges, finals)

    def _moves(self, states: frozenset[int], allowed: CharSet) -> list[tuple[int, int, frozenset[int]]]:
        """The code-point segments leaving ``states`` (within ``allowed``) and the NFA states they reach."""
        groups: dict[CharSet, list[int]] = {}
        for q in states:
            for chars, t in self.nfa.chars[q]:
                groups.setdefault(chars, []).append(t)
        classes = [
            (chars if allowed is ANY else chars & allowed, frozenset(ts)) for chars, ts in groups.items()
        ]
        if len(classes) == 1:
            chars, targets = classes[0]
            return [(lo, hi, targets) for lo, hi in chars.ranges]
        events: list[tuple[int, int, int]] = []
        for i, (chars, _) in enumerate(classes):
            for lo, hi in chars.ranges:
                events.append((lo, 1, i))
                events.append((hi + 1, -1, i))
        events.sort()
        active: set[int] = set()
        unions: dict[frozenset[int], frozenset[int]] = {}
        out: list[tuple[int, int, frozenset[int]]] = []
        i = 0
        while i < len(events):
            pos = events[i][0]
            while i < len(events) and events[i][0] == pos:
                _, delta, g = events[i]
                if delta > 0:
                    active.add(g)
                else:
                    active.discard(g)
                i += 1
            if active and i < len(events):
                key = frozenset(active)
                reached = unions.get(key)
                if reached is None:
                    reached = unions[key] = frozenset().union(*(classes[g][1] for g in key))
                out.append((pos, events[i][0] - 1, reached))
        return out


def nfa_size(node: Node) -> int:
    """How many NFA states :class:`_Nfa` builds for ``node`` (computed without building them)."""
    if isinstance(node, (Chars, Assert)):
        return 2
    if isinstance(node, Seq):
        return 1 + sum(nfa_size(p) for p in node.parts)
    if isinstance(node, Alt):
        return 2 + sum(nfa_size(o) for o in node.options)
    inner = nfa_size(node.node)
    copies = node.low + (1 if node.high is None else node.high - node.low)
    return 2 + copies * inner


def compile_node(node: Node) -> Dfa:
    """The minimal DFA of the strings that ``node`` matches in full (assertions evaluated)."""
    if nfa_size(node) > MAX_NFA_STATES:
        raise RegularTooLarge(f"regular expression needs more than {MAX_NFA_STATES} NFA states")
    nfa = _Nfa()
    start, final = nfa.build(node)
    return _Determinizer(nfa, final, uses_word_boundary(node)).run(start)


def concatenate(*automata: Dfa) -> Dfa:
    """The minimal DFA of the concatenation of the given DFAs' languages."""
    nfa = _Nfa()
    entry = exit_ = nfa.state()
    for d in automata:
        base = len(nfa.eps)
        for _ in range(d.size):
            nfa.state()
        for q in range(d.size):
            for lo, hi, t in d.edges[q]:
                nfa.chars[base + q].append((CharSet([(lo, hi)]), base + t))
        nfa.eps[exit_].append(base)
        exit_ = nfa.state()
        for q in d.finals:
            nfa.eps[base + q].append(exit_)
    return _Determinizer(nfa, exit_, False).run(entry)
