"""The one state-machine builder behind counted, unordered and distinct members and items.

A machine is given by its first steps and a step function: each state has alternatives, lists of
text and successor states (an empty list accepts). Only the states reachable from the first steps
are explored; states that derive nothing are dropped, states with one alternative are inlined, the
rest become rules named after the hint.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from ..gbnftext import group, seq
from ..report import Inexpressible
from .rules import Rules, either

State = tuple[object, ...] | frozenset[int]
Step = list[str | State]
"""One alternative: text and states in sequence."""


class TooManyStates(Inexpressible):
    """The machine has more states than its builder allows."""


class Counter:
    """A count from 0 up to ``high``, or (``high`` None) counted only up to ``low``."""

    def __init__(self, low: int, high: int | None):
        self.low, self.high = low, high

    def bump(self, count: int) -> int | None:
        """The next count (None when it would pass ``high``)."""
        if self.high is not None:
            return count + 1 if count + 1 <= self.high else None
        return min(count + 1, self.low)


def build(
    rules: Rules,
    hint: str,
    firsts: list[Step],
    step: Callable[[State], list[Step]],
    brackets: tuple[str, str],
    empty: str | None,
    limit: int | None = None,
) -> str | None:
    """``empty`` (when given) or the brackets around one of ``firsts`` and its successors; None when
    neither matches anything. Raises :class:`TooManyStates` beyond ``limit`` states."""
    local: dict[State, list[Step]] = {}
    todo = [x for alt in firsts for x in alt if not isinstance(x, str)]
    while todo:
        state = todo.pop()
        if state in local:
            continue
        if limit is not None and len(local) > limit:
            raise TooManyStates(f"more than {limit} states")
        alts = local[state] = step(state)
        todo.extend(x for alt in alts for x in alt if not isinstance(x, str) and x not in local)
    names = _local_grammar(rules, local, hint)
    starts = [
        seq(*(x if isinstance(x, str) else names[x] for x in alt))
        for alt in firsts
        if all(isinstance(x, str) or x in names for x in alt)
    ]
    parts = [empty] if empty is not None else []
    if starts:
        inner = starts[0] if len(starts) == 1 else group(" | ".join(starts))
        parts.append(seq(brackets[0], inner, brackets[1]))
    return either(parts) if parts else None


def _local_grammar(rules: Rules, local: dict[State, list[Step]], hint: str) -> dict[State, str]:
    """Expressions for the productive states of a state grammar."""
    productive = _productive_states(local)
    pruned = {
        state: [alt for alt in alts if all(isinstance(x, str) or x in productive for x in alt)]
        for state, alts in local.items()
        if state in productive
    }
    inline = {state: alts[0] for state, alts in pruned.items() if len(alts) == 1 and state not in alts[0]}
    names: dict[State, str] = {}
    pending: list[State] = []

    def name_of(state: State) -> str:
        if state not in names:
            names[state] = rules.fresh(f"{hint}-{_state_label(state)}")
            rules.rules[names[state]] = ""
            pending.append(state)
        return names[state]

    def render(alt: Step, depth: int = 0) -> str:
        out: list[str] = []
        for x in alt:
            if isinstance(x, str):
                out.append(x)
            elif x in inline and depth < 100:
                out.append(render(inline[x], depth + 1))
            else:
                out.append(name_of(x))
        return seq(*out)

    result: dict[State, str] = {}
    for state in sorted(pruned, key=_state_key):
        if state in inline:
            rendered = render(inline[state])
            result[state] = group(rendered) if rendered else ""
        else:
            result[state] = name_of(state)
    while pending:
        state = pending.pop()
        texts = [render(alt) for alt in pruned[state]]
        nonempty = [r for r in texts if r]
        body = " | ".join(nonempty)
        if len(nonempty) < len(texts):
            body = "| " + body if body else '""'
        rules.rules[names[state]] = body
    return result


def _productive_states(local: dict[State, list[Step]]) -> set[Hashable]:
    """The states of a state grammar that derive some text (a worklist: linear in its size)."""
    missing: list[int] = []  # per alternative: how many of its states are not known productive yet
    owner: list[State] = []
    users: dict[State, list[int]] = {}
    todo: list[State] = []
    productive: set[Hashable] = set()
    for state, alts in local.items():
        for alt in alts:
            index = len(missing)
            needed = [x for x in alt if not isinstance(x, str)]
            missing.append(len(needed))
            owner.append(state)
            for x in needed:
                users.setdefault(x, []).append(index)
            if not needed and state not in productive:
                productive.add(state)
                todo.append(state)
    while todo:
        for index in users.get(todo.pop(), ()):
            missing[index] -= 1
            if missing[index] == 0 and owner[index] not in productive:
                productive.add(owner[index])
                todo.append(owner[index])
    return productive


def _state_key(state: State) -> tuple[object, ...]:
    if isinstance(state, frozenset):
        return (len(state), sorted(state))
    return state


def _state_label(state: State) -> str:
    if isinstance(state, frozenset):
        return "u" + "-".join(str(i) for i in sorted(state)) if state else "u"
    return "".join(str(x) for x in state) if len(state) else "s"
