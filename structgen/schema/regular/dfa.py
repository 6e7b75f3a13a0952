"""Deterministic automata over code-point intervals: minimization, boolean products, length bounds.

Every construction counts the states it creates and raises :class:`RegularTooLarge` past
:data:`MAX_STATES`, so no input makes an operation hang or exhaust memory.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Generic, Literal, TypeVar

from ..hashing import cached_hash
from ..report import Inexpressible
from .charset import MAX_CP
from .deadline import check_time

MAX_STATES = 6000
"""Most states any intermediate or final automaton may have."""

Edge = tuple[int, int, int]
"""A transition on every code point in ``lo..hi`` (inclusive) to a target state."""


class RegularTooLarge(Inexpressible):
    """An automaton would exceed :data:`MAX_STATES` states (or a counted construct is too big)."""


@cached_hash  # automata are memo keys
@dataclass(frozen=True)
class Dfa:
    """A partial DFA: state 0 is initial; each state's edges are sorted, disjoint and merged;
    a missing transition rejects. Automata returned by :func:`minimize` are minimal, trimmed and
    numbered canonically, so two of them are equal exactly when their languages are."""

    edges: tuple[tuple[Edge, ...], ...]
    finals: frozenset[int]

    @property
    def size(self) -> int:
        return len(self.edges)

    def step(self, state: int, cp: int) -> int | None:
        edges = self.edges[state]
        i = bisect_right(edges, cp, key=itemgetter(0)) - 1
        return edges[i][2] if i >= 0 and cp <= edges[i][1] else None

    def accepts(self, text: str) -> bool:
        state = 0
        for ch in text:
            nxt = self.step(state, ord(ch))
            if nxt is None:
                return False
            state = nxt
        return state in self.finals


EMPTY_DFA = Dfa(((),), frozenset())


def check_budget(count: int, what: str = "automaton") -> None:
    """Refuse past :data:`MAX_STATES` states or the compile's deadline (``count`` states so far)."""
    if count & 63 == 0:
        check_time()
    if count > MAX_STATES:
        raise RegularTooLarge(f"{what} needs more than {MAX_STATES} states")


K = TypeVar("K")


class States(Generic[K]):
    """The states of an automaton under construction, numbered as they are found (the first is 0);
    iterate over ``keys`` while adding to it. Refuses past :data:`MAX_STATES` states."""

    def __init__(self, first: K, what: str = "automaton") -> None:
        self.keys = [first]
        self._index = {first: 0}
        self._what = what

    def __call__(self, key: K) -> int:
        """The number of the state ``key``, new or not."""
        number = self._index.get(key)
        if number is None:
            number = self._index[key] = len(self.keys)
            self.keys.append(key)
            check_budget(number + 1, self._what)
        return number


def merge_edges(edges: Iterable[Edge]) -> tuple[Edge, ...]:
    """Sort edges and join adjacent intervals that lead to the same state."""
    return join_sorted(sorted(edges))


def join_sorted(edges: Iterable[Edge]) -> tuple[Edge, ...]:
    """Edges already in code-point order, adjacent intervals that lead to the same state joined."""
    out: list[Edge] = []
    for lo, hi, t in edges:
        if out and out[-1][2] == t and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi, t)
        else:
            out.append((lo, hi, t))
    return tuple(out)


def _trim(edges: list[list[Edge]], finals: set[int]) -> tuple[list[list[Edge]], set[int]] | None:
    """Drop unreachable and dead states and sort the edges; None when no string is accepted. State 0
    stays initial."""
    n = len(edges)
    reach = [False] * n
    reach[0] = True
    stack = [0]
    preds: list[list[int]] = [[] for _ in range(n)]
    while stack:
        q = stack.pop()
        for _, _, t in edges[q]:
            preds[t].append(q)
            if not reach[t]:
                reach[t] = True
                stack.append(t)
    check_time()
    live = [dist >= 0 for dist in _distances(preds, [q for q in finals if reach[q]])]
    if not live[0]:
        return None
    keep = [q for q in range(n) if live[q]]
    index = {q: i for i, q in enumerate(keep)}
    new_edges = [sorted([(lo, hi, index[t]) for lo, hi, t in edges[q] if live[t]]) for q in keep]
    return new_edges, {index[q] for q in finals if live[q]}


MOORE_ROUNDS = 8
"""Most signature rounds tried before Hopcroft's refinement takes over (a round costs little, but
chains need one round per state)."""


def minimize(edges_in: Iterable[Iterable[Edge]], finals_in: Iterable[int]) -> Dfa:
    """The minimal, canonically numbered DFA of a partial DFA given as edge lists (state 0 initial).

    Characters are first split into the classes that no edge tells apart. A few rounds of Moore's
    refinement (each state's signature: its block and its blocks per class) settle most automata;
    when they do not, Hopcroft's partition refinement (adapted to incomplete automata: every block is
    a splitter) finishes from the partition reached.
    """
    trimmed = _trim([list(e) for e in edges_in], set(finals_in))
    if trimmed is None:
        return EMPTY_DFA
    edges, finals = trimmed
    check_time()
    order = _topological(edges)
    if order is not None:
        return _canonical(edges, finals, _acyclic_blocks(edges, finals, order))
    rows = _class_rows(edges)
    block_of = [0 if q in finals else 1 for q in range(len(edges))]
    if not _moore(rows, block_of):
        _hopcroft(rows, block_of)
    return _canonical(edges, finals, block_of)


def _acyclic_blocks(edges: list[list[Edge]], finals: set[int], order: list[int]) -> list[int]:
    """The equivalence classes of an acyclic automaton in one pass from its last states back
    (Revuz): a state is equivalent to another when both are final or not and lead alike to classes
    already known."""
    block_of = [0] * len(edges)
    ids: dict[tuple[bool, tuple[Edge, ...]], int] = {}
    for q in reversed(order):
        mapped = join_sorted((lo, hi, block_of[t]) for lo, hi, t in edges[q])  # sorted by _trim
        block_of[q] = ids.setdefault((q in finals, mapped), len(ids))
    check_time()
    return block_of


Rows = tuple[list[tuple[int, ...]], list[list[int]]]


def _class_rows(edges: list[list[Edge]]) -> Rows:
    """Per state, the character classes it has a transition on and the target for each of them."""
    bounds: set[int] = set()
    for row in edges:
        for lo, hi, _ in row:
            bounds.add(lo)
            bounds.add(hi + 1)
    class_of = {start: index for index, start in enumerate(sorted(bounds))}
    labels: list[tuple[int, ...]] = []
    targets: list[list[int]] = []
    for row in edges:
        cs: list[int] = []
        ts: list[int] = []
        for lo, hi, t in row:
            first, last = class_of[lo], class_of[hi + 1]
            if last == first + 1:
                cs.append(first)
                ts.append(t)
            else:
                cs.extend(range(first, last))
                ts.extend([t] * (last - first))
        labels.append(tuple(cs))
        targets.append(ts)
    check_time()
    return labels, targets


def _moore(rows: Rows, block_of: list[int]) -> bool:
    """Refine the partition ``block_of`` in place by signature rounds; whether it became stable
    within :data:`MOORE_ROUNDS` rounds."""
    labels, targets = rows
    count = len(set(block_of))
    for _ in range(MOORE_ROUNDS):
        check_time()
        get = block_of.__getitem__
        ids: dict[tuple[int, tuple[int, ...], tuple[int, ...]], int] = {}
        new = [
            ids.setdefault((b, label, tuple(map(get, ts))), len(ids))
            for b, label, ts in zip(block_of, labels, targets, strict=True)
        ]
        block_of[:] = new
        if len(ids) == count:
            return True
        count = len(ids)
    return False


def _hopcroft(rows: Rows, block_of: list[int]) -> None:
    """Refine the partition ``block_of`` in place to the coarsest stable one (Hopcroft; every block
    starts as a splitter)."""
    labels, targets = rows
    n = len(labels)
    inverse: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for q in range(n):
        for c, t in zip(labels[q], targets[q], strict=True):
            inverse[t].append((c, q))
    blocks: list[set[int]] = [set() for _ in range(max(block_of) + 1)]
    for q in range(n):
        blocks[block_of[q]].add(q)
    work = set(range(len(blocks)))
    while work:
        check_time()
        by_class: dict[int, list[int]] = {}
        for t in blocks[work.pop()]:
            for c, q in inverse[t]:
                by_class.setdefault(c, []).append(q)
        seen_sets: set[frozenset[int]] = set()
        for sources in by_class.values():
            xs = frozenset(sources)
            if xs not in seen_sets:
                seen_sets.add(xs)
                _split(xs, blocks, block_of, work)


def _split(xs: frozenset[int], blocks: list[set[int]], block_of: list[int], work: set[int]) -> None:
    """Split every block by whether its states are in ``xs``; queue the smaller halves."""
    touched: dict[int, list[int]] = {}
    for q in xs:
        touched.setdefault(block_of[q], []).append(q)
    for b, qs in touched.items():
        if len(qs) == len(blocks[b]):
            continue
        part = set(qs)
        blocks[b] -= part
        nb = len(blocks)
        blocks.append(part)
        for q in part:
            block_of[q] = nb
        if b in work or len(part) <= len(blocks[b]):
            work.add(nb)
        else:
            work.add(b)


def _canonical(edges: list[list[Edge]], finals: set[int], block_of: list[int]) -> Dfa:
    """The quotient automaton, numbered breadth-first from the initial block, edges in code-point order."""
    rep: dict[int, int] = {}
    for q, b in enumerate(block_of):
        rep.setdefault(b, q)
    order = {block_of[0]: 0}
    queue = deque([block_of[0]])
    out_edges: list[tuple[Edge, ...]] = []
    out_finals: set[int] = set()

    def number_of(b: int) -> int:  # blocks are numbered as they are first reached
        number = order.get(b)
        if number is None:
            number = order[b] = len(order)
            queue.append(b)
        return number

    while queue:
        block = queue.popleft()
        q = rep[block]
        if q in finals:
            out_finals.add(order[block])
        out_edges.append(join_sorted((lo, hi, number_of(block_of[t])) for lo, hi, t in edges[q]))
    check_budget(len(out_edges))
    return Dfa(tuple(out_edges), frozenset(out_finals))


_END = MAX_CP + 2
_SENTINEL: tuple[Edge, ...] = ((_END, _END, -1),)


def _segments(a: tuple[Edge, ...], b: tuple[Edge, ...]) -> list[tuple[int, int, int, int]]:
    """Split the code points leaving by either edge list into pieces that both lists treat alike:
    (lo, hi, target in a or -1, target in b or -1), in order; code points of neither are left out."""
    out: list[tuple[int, int, int, int]] = []
    a += _SENTINEL
    b += _SENTINEL
    i = j = 0
    alo, ahi, ta = a[0]
    blo, bhi, tb = b[0]
    while alo < _END or blo < _END:
        if ahi < blo:
            out.append((alo, ahi, ta, -1))
            i += 1
            alo, ahi, ta = a[i]
        elif bhi < alo:
            out.append((blo, bhi, -1, tb))
            j += 1
            blo, bhi, tb = b[j]
        elif alo != blo:
            first = min(alo, blo)
            if first == alo:
                out.append((alo, blo - 1, ta, -1))
            else:
                out.append((blo, alo - 1, -1, tb))
            alo = blo = max(alo, blo)
        else:
            hi = min(ahi, bhi)
            out.append((alo, hi, ta, tb))
            alo = blo = hi + 1
            if ahi == hi:
                i += 1
                alo, ahi, ta = a[i]
            if bhi == hi:
                j += 1
                blo, bhi, tb = b[j]
    return out


Op = Literal["and", "or", "sub"]


def product(a: Dfa, b: Dfa, op: Op) -> Dfa:
    """The DFA of ``a & b``, ``a | b`` or ``a - b``."""
    states = States((0, 0))
    edges: list[list[Edge]] = []
    finals: set[int] = set()
    for k, (qa, qb) in enumerate(states.keys):
        fa = qa >= 0 and qa in a.finals
        fb = qb >= 0 and qb in b.finals
        if (fa and fb) if op == "and" else (fa or fb) if op == "or" else (fa and not fb):
            finals.add(k)
        pieces = _segments(a.edges[qa] if qa >= 0 else (), b.edges[qb] if qb >= 0 else ())
        if op == "or":
            edges.append([(lo, hi, states((ta, tb))) for lo, hi, ta, tb in pieces])
        elif op == "and":
            edges.append([(lo, hi, states((ta, tb))) for lo, hi, ta, tb in pieces if ta >= 0 and tb >= 0])
        else:
            edges.append([(lo, hi, states((ta, tb))) for lo, hi, ta, tb in pieces if ta >= 0])
    return minimize(edges, finals)


def complement(d: Dfa) -> Dfa:
    """The DFA of every string over all code points that ``d`` rejects."""
    sink = d.size
    edges: list[list[Edge]] = []
    for q in range(d.size):
        out: list[Edge] = []
        nxt = 0
        for lo, hi, t in d.edges[q]:
            if lo > nxt:
                out.append((nxt, lo - 1, sink))
            out.append((lo, hi, t))
            nxt = hi + 1
        if nxt <= MAX_CP:
            out.append((nxt, MAX_CP, sink))
        edges.append(out)
    edges.append([(0, MAX_CP, sink)])
    return minimize(edges, set(range(d.size + 1)) - set(d.finals))


def with_length(d: Dfa, low: int, high: int | None) -> Dfa:
    """The strings of ``d`` with ``low`` to ``high`` code points (``high`` None: no upper bound)."""
    cap = low if high is None else high
    slack = _to_final(d) if high is not None else [0] * d.size  # shortest way on to a final state
    states = States((0, 0), "length-bounded language")
    edges: list[list[Edge]] = []
    finals: set[int] = set()
    for k, (q, n) in enumerate(states.keys):
        if q in d.finals and n >= low and (high is None or n <= high):
            finals.add(k)
        if high is not None and n >= high:
            edges.append([])
            continue
        n2 = min(n + 1, cap) if high is None else n + 1
        # a state that cannot reach a final one within the bound is left out
        edges.append([(lo, hi, states((t, n2))) for lo, hi, t in d.edges[q] if n2 + slack[t] <= cap])
    return minimize(edges, finals)


def _to_final(d: Dfa) -> list[int]:
    """Per state of a trimmed DFA, the length of the shortest string leading from it to a final state."""
    preds: list[list[int]] = [[] for _ in range(d.size)]
    for q, row in enumerate(d.edges):
        for _, _, t in row:
            preds[t].append(q)
    return _distances(preds, d.finals)


def _distances(preds: list[list[int]], seeds: Iterable[int]) -> list[int]:
    """Per state, the fewest steps back along ``preds`` to it from a seed; -1 where there is none."""
    dist = [-1] * len(preds)
    queue = deque(seeds)
    for q in queue:
        dist[q] = 0
    while queue:
        q = queue.popleft()
        for p in preds[q]:
            if dist[p] < 0:
                dist[p] = dist[q] + 1
                queue.append(p)
    return dist


def from_literals(values: Iterable[str]) -> Dfa:
    """The DFA accepting exactly ``values`` (a trie, then minimized)."""
    edges: list[dict[int, int]] = [{}]
    finals: set[int] = set()
    for value in values:
        q = 0
        for ch in value:
            cp = ord(ch)
            t = edges[q].get(cp)
            if t is None:
                t = edges[q][cp] = len(edges)
                edges.append({})
                if len(edges) > 8 * MAX_STATES:
                    raise RegularTooLarge(f"literal set needs more than {8 * MAX_STATES} trie nodes")
            q = t
        finals.add(q)
    return minimize(([(cp, cp, t) for cp, t in e.items()] for e in edges), finals)


def _topological(edges: Sequence[Sequence[Edge]]) -> list[int] | None:
    """States in topological order, or None when the automaton has a cycle."""
    indeg = [0] * len(edges)
    for row in edges:
        for _, _, t in row:
            indeg[t] += 1
    order = [q for q in range(len(edges)) if indeg[q] == 0]
    for q in order:  # grows while it is read
        for _, _, t in edges[q]:
            indeg[t] -= 1
            if indeg[t] == 0:
                order.append(t)
    return order if len(order) == len(edges) else None


def is_finite(d: Dfa) -> bool:
    """Whether a trimmed DFA accepts finitely many strings."""
    return _topological(d.edges) is not None


def count_strings(d: Dfa, cap: int) -> int | None:
    """How many strings a trimmed DFA accepts, or None when more than ``cap`` (or infinitely many)."""
    order = _topological(d.edges)
    if order is None:
        return None
    counts = [0] * d.size
    for q in reversed(order):
        c = 1 if q in d.finals else 0
        for lo, hi, t in d.edges[q]:
            c += (hi - lo + 1) * counts[t]
            if c > cap:
                return None
        counts[q] = c
    return counts[0]


def enumerate_strings(d: Dfa) -> list[str]:
    """Every string of a finite trimmed DFA, in code-point order (count it first)."""
    out: list[str] = []
    stack: list[tuple[int, str]] = [(0, "")]
    while stack:
        q, prefix = stack.pop()
        if q in d.finals:
            out.append(prefix)
        for lo, hi, t in reversed(d.edges[q]):
            for cp in range(hi, lo - 1, -1):
                stack.append((t, prefix + chr(cp)))
    return out


def length_bounds(d: Dfa) -> tuple[int, int | None] | None:
    """Shortest and longest accepted length of a trimmed DFA (longest None: unbounded); None if empty."""
    if not d.finals:
        return None
    dist = {0: 0}
    queue = deque([0])
    shortest = -1
    while queue:
        q = queue.popleft()
        if q in d.finals:
            shortest = dist[q]
            break
        for _, _, t in d.edges[q]:
            if t not in dist:
                dist[t] = dist[q] + 1
                queue.append(t)
    order = _topological(d.edges)
    if order is None:
        return shortest, None
    longest = [-1] * d.size
    for q in reversed(order):
        best = 0 if q in d.finals else -1
        for _, _, t in d.edges[q]:
            if longest[t] >= 0:
                best = max(best, longest[t] + 1)
        longest[q] = best
    return shortest, longest[0]
