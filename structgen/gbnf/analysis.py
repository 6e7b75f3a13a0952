"""Facts about a lowered grammar's rules: which can be empty, which match only whitespace, left recursion.

All work on llama.cpp's rule arrays (:mod:`structgen.gbnf.lower`) in time linear in their size, without
recursion, so they are safe on any grammar the parser accepts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .lower import ALT, CHAR, CHAR_ALT, CHAR_RNG_UPPER, END, RULE_REF, Element, Lowered

# A range longer than this cannot consist of whitespace only (Unicode has no such run).
_MAX_WHITESPACE_RUN = 32


def generated_base(name: str) -> str:
    """The user rule a generated symbol (``name_12``) belongs to; user names never contain ``_``."""
    return name.partition("_")[0]


def split_alternatives(rule: list[Element]) -> list[list[Element]]:
    """The alternatives of a lowered rule, without their ``ALT``/``END`` separators."""
    alts: list[list[Element]] = []
    current: list[Element] = []
    for element in rule:
        if element[0] in (ALT, END):
            alts.append(current)
            current = []
        else:
            current.append(element)
    return alts


def directly_empty(lowered: Lowered) -> list[bool]:
    """Rules with an empty alternative: llama.cpp's (non-transitive) ``rules_may_be_empty``."""
    return [any(not alt for alt in split_alternatives(rule)) for rule in lowered.rules]


def nullable(lowered: Lowered) -> list[bool]:
    """Rules that can match the empty string, transitively (undefined rules cannot)."""
    alternatives = [
        (sym, [ref for _, ref in alt])
        for sym, rule in enumerate(lowered.rules)
        for alt in split_alternatives(rule)
        if all(kind == RULE_REF for kind, _ in alt)
    ]
    return least_fixpoint(len(lowered.rules), alternatives)


def least_fixpoint(n: int, alternatives: Iterable[tuple[int, Sequence[int]]]) -> list[bool]:
    """Which of ``n`` rules hold, when a rule holds as soon as one of its alternatives ``(rule,
    references)`` has every referenced rule holding (references to undefined rules never hold)."""
    result = [False] * n
    owner: list[int] = []
    waiting: list[int] = []  # per alternative: references not yet known to hold
    users: list[list[int]] = [[] for _ in range(n)]
    ready: deque[int] = deque()
    for sym, refs in alternatives:
        pending = set(refs)
        if any(ref >= n for ref in pending):
            continue
        index = len(owner)
        owner.append(sym)
        waiting.append(len(pending))
        for ref in pending:
            users[ref].append(index)
        if not pending:
            ready.append(sym)
    while ready:
        sym = ready.popleft()
        if result[sym]:
            continue
        result[sym] = True
        for index in users[sym]:
            waiting[index] -= 1
            if waiting[index] == 0:
                ready.append(owner[index])
    return result


def is_whitespace(cp: int) -> bool:
    """True for a code point Python's ``str.isspace`` counts as whitespace."""
    return cp <= 0x10FFFF and chr(cp).isspace()


def whitespace_only(lowered: Lowered) -> list[bool]:
    """Rules whose every string consists of whitespace only (the greatest such set; undefined rules are not)."""
    n = len(lowered.rules)
    bad = [not rule for rule in lowered.rules]
    referrers: list[set[int]] = [set() for _ in range(n)]
    for sym, rule in enumerate(lowered.rules):
        for i, (kind, value) in enumerate(rule):
            if kind == RULE_REF:
                if value < n:
                    referrers[value].add(sym)
            elif kind in (CHAR, CHAR_ALT):
                hi = rule[i + 1][1] if rule[i + 1][0] == CHAR_RNG_UPPER else value
                if not whitespace_range(value, hi):
                    bad[sym] = True
            elif kind not in (ALT, END, CHAR_RNG_UPPER):
                bad[sym] = True  # negated class, '.', token
    spoiled = reachable((sym for sym in range(n) if bad[sym]), referrers)
    return [sym not in spoiled for sym in range(n)]


def reachable(start: Iterable[int], edges: Sequence[Iterable[int]]) -> set[int]:
    """Every node reachable from ``start`` along ``edges`` (``edges[node]``: where it leads), ``start`` included."""
    seen = set(start)
    todo = list(seen)
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def whitespace_range(lo: int, hi: int) -> bool:
    """Whether every code point in ``lo..hi`` is whitespace (an empty range is)."""
    if hi < lo:
        return True  # an empty range adds nothing
    if hi - lo > _MAX_WHITESPACE_RUN:
        return False
    return all(is_whitespace(cp) for cp in range(lo, hi + 1))


@dataclass(frozen=True)
class LeftCycle:
    """Rules that reach themselves without consuming input; ``path`` is one such cycle (first == last).

    ``growing`` is True when some step leaves work behind on the stack (the reference is not the last
    element of its alternative): llama.cpp's stack expansion then never ends.
    """

    path: tuple[int, ...]
    members: frozenset[int]
    growing: bool


def left_cycles(lowered: Lowered, may_be_empty: list[bool]) -> list[LeftCycle]:
    """Left-recursive cycles, one per strongly connected group of rules.

    A reference lets the scan go on to the next element when ``may_be_empty`` holds for its rule. With
    :func:`directly_empty`, as in llama.cpp's check, these are exactly the cycles llama.cpp refuses; with
    :func:`nullable` (every rule that can match the empty string) they are all the left recursion there is.
    """
    empty = may_be_empty
    n = len(lowered.rules)
    edges: list[dict[int, bool]] = [{} for _ in range(n)]  # target -> some reference to it leaves work behind
    for sym, rule in enumerate(lowered.rules):
        for alt in split_alternatives(rule):
            for i, (kind, value) in enumerate(alt):
                if kind != RULE_REF:
                    break
                if value < n:
                    edges[sym][value] = edges[sym].get(value, False) or i + 1 < len(alt)
                if value >= n or not empty[value]:
                    break
    cycles = []
    for component in strongly_connected(edges):
        members = frozenset(component)
        start = min(component)
        if len(component) == 1 and start not in edges[start]:
            continue
        growing = any(
            leaves and target in members for sym in component for target, leaves in edges[sym].items()
        )
        cycles.append(LeftCycle(_cycle_path(edges, members, start), members, growing))
    cycles.sort(key=lambda c: c.path[0])
    return cycles


def strongly_connected(edges: Sequence[Iterable[int]]) -> list[list[int]]:
    """The strongly connected components of the graph ``edges`` (targets of each vertex 0..n-1; Tarjan's
    algorithm, iteratively), each component after every component it reaches."""
    n = len(edges)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work: list[tuple[int, list[int], int]] = [(root, list(edges[root]), 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, targets, i = work[-1]
            if i < len(targets):
                work[-1] = (node, targets, i + 1)
                target = targets[i]
                if index[target] < 0:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack[target] = True
                    work.append((target, list(edges[target]), 0))
                elif on_stack[target]:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _cycle_path(edges: list[dict[int, bool]], members: frozenset[int], start: int) -> tuple[int, ...]:
    """A shortest cycle through ``start`` inside ``members`` (breadth-first)."""
    parent: dict[int, int] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in edges[node]:
            if target not in members:
                continue
            if target == start:
                path = [start, node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return tuple(reversed(path)) if node != start else (start, start)
            if target not in parent:
                parent[target] = node
                queue.append(target)
    return (start, start)  # pragma: no cover - members form a cycle through start
