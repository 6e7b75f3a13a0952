"""Objects: declared members in schema order (or any order when small), extra keys, member counts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from ..gbnftext import RepeatTooLarge, group, json_literal, seq
from ..intersect import intersect_strings
from ..model import Never, ObjectNode, StringNode
from . import states
from .primitives import Primitives

MAX_OBJECT_STATES = 3000
MAX_ANY_ORDER = 6
MAX_ANY_ORDER_REQUIRED = 7


class _Member(NamedTuple):
    text: str  # key, colon and value
    required: bool


@dataclass(frozen=True)
class _Shape:
    """What an object's body is made of once its members are written."""

    members: list[_Member]
    extra: str | None
    """One extra member (a key no declared property has), or None when none is allowed."""
    low: int
    high: int | None
    hint: str

    @property
    def required(self) -> int:
        return sum(1 for m in self.members if m.required)


class Objects(Primitives):
    """Rules for object nodes."""

    def object(self, node: ObjectNode, hint: str) -> str | None:
        """Objects of ``node`` (None when there are none)."""
        members: list[_Member] = []
        for name, value in node.properties:
            required = name in node.required
            expr = self.expr(value, f"{hint}-{name}")
            if expr is None:
                if required:
                    return None
                continue
            members.append(_Member(seq(json_literal(name), self.tokens.colon, expr), required))
        shape = _Shape(members, self._extras(node, hint), node.min_properties, node.max_properties, hint)
        # required keys are distinct and present; any further member adds at least one more key, but
        # repeated keys of additional properties could make up the rest of a larger count
        if shape.extra is not None and shape.low > shape.required + 1:
            self.report.loosened(
                node.pointer,
                "minProperties",
                "repeated keys of additional properties could make up the count",
            )
        if shape.high is not None and shape.high < shape.required:
            return None
        if not members:
            return self._extras_only(shape, node.pointer)
        if self.options.any_order and len(members) > 1:
            body = self._any_order(shape)
            if body is not None:
                return body
        body = self._ordered(shape, node.pointer)
        if body is not None and len(members) > 1 and (shape.high is None or shape.high > 1):
            self._report_order(node.pointer)
        return body

    def _extras_only(self, shape: _Shape, pointer: str) -> str | None:
        t = self.tokens
        if shape.extra is None:
            return t.empty_obj if shape.low == 0 else None
        if shape.high == 0:
            return t.empty_obj
        rest_high = None if shape.high is None else shape.high - 1
        try:
            tail = self.repeat_next(shape.extra, max(shape.low - 1, 0), rest_high, shape.hint)
        except RepeatTooLarge:
            self.report.loosened(pointer, "maxProperties", "bound too large for a grammar")
            tail = self.repeat_next(shape.extra, 0, None, shape.hint)
        body = seq(t.open_obj, shape.extra, tail, t.close_obj)
        return f"{t.empty_obj} | {body}" if shape.low == 0 else body

    def _ordered(self, shape: _Shape, pointer: str) -> str | None:
        counting = shape.high is not None or shape.low > shape.required
        if not counting:
            return self._ordered_uncounted(shape)
        cap = shape.high if shape.high is not None else shape.low
        if (len(shape.members) + 1) * (cap + 1) <= MAX_OBJECT_STATES:
            return self._ordered_counted(shape, cap)
        self.report.loosened(
            pointer,
            "maxProperties" if shape.high is not None else "minProperties",
            "property count bounds too large to track with this many properties",
        )
        return self._ordered_uncounted(replace(shape, low=0, high=None))

    def _report_order(self, pointer: str) -> None:
        """Report that two or more declared properties can only come in schema order."""
        if self.options.any_order:
            self.report.restricted(
                pointer, "properties", "properties must appear in schema order: too many for any order"
            )
        else:
            self.report.restricted(
                pointer,
                "properties",
                "properties must appear in schema order (any_order=True allows any order for small objects)",
            )

    def _extras(self, node: ObjectNode, hint: str) -> str | None:
        """One member whose key no declared property has (None when there is none)."""
        declared = frozenset(name for name, _ in node.properties)
        members: list[str] = []
        for index, cls in enumerate(node.extras):
            if not self.productive(cls.value):
                continue
            keys = cls.keys
            if declared:
                narrowed = intersect_strings(keys, StringNode(excluded=declared))
                if isinstance(narrowed, Never):
                    continue
                keys = narrowed
            if not keys.pointer:
                keys = replace(keys, pointer=f"{node.pointer}/additionalProperties")
            suffix = "" if len(node.extras) == 1 else f"-{index}"
            key_expr = self.expr(keys, f"{hint}-key{suffix}")
            if key_expr is None:
                continue
            value_expr = self.expr(cls.value, f"{hint}-value{suffix}")
            if value_expr is not None:
                members.append(seq(key_expr, self.tokens.colon, value_expr))
        if not members:
            return None
        return self.define(hint + "-extra", " | ".join(members))

    def _ordered_uncounted(self, shape: _Shape) -> str:
        """Declared members in schema order, extra members anywhere between them, any number of them.

        ``T(i)``, what may follow once the members before ``i`` are settled, is ``(, m_i X*)? T(i+1)``
        (``, m_i X* T(i+1)`` when ``m_i`` is required) with ``X`` an extra member after a comma. The
        body starts with an extra member or one of the declared members up to the first required one.
        """
        t = self.tokens
        members, n = shape.members, len(shape.members)
        first_required = next((i for i, m in enumerate(members) if m.required), n)
        more = ""
        if shape.extra is not None:
            more = self.define(f"{shape.hint}-more", group(seq(t.comma, shape.extra)) + "*")
        starts = [(shape.extra, 0)] if shape.extra is not None else []
        starts += [(members[i].text, i + 1) for i in range(min(first_required + 1, n))]

        def piece(i: int) -> str:
            step = seq(t.comma, members[i].text, more)
            return step if members[i].required else f"({step})?"

        if len(starts) == 1:
            inner = seq(starts[0][0], more, *(piece(i) for i in range(starts[0][1], n)))
        else:
            # T(first_required + 1) is written flat: every further member once, in order
            flat = seq(*(piece(i) for i in range(first_required + 1, n)))
            tails = {
                min(first_required + 1, n): self.define(f"{shape.hint}-S{first_required + 1}", flat)
                if flat
                else ""
            }
            for i in range(min(first_required, n - 1), starts[0][1] - 1, -1):
                tails[i] = self.define(f"{shape.hint}-S{i}", seq(piece(i), tails[i + 1]))
            inner = group(" | ".join(seq(text, more, tails[nxt]) for text, nxt in starts))
        body = seq(t.open_obj, inner, t.close_obj)
        return f"{t.empty_obj} | {body}" if shape.required == 0 else body

    def _ordered_counted(self, shape: _Shape, cap: int) -> str | None:
        """Declared members in schema order, extra members between them, counted up to ``cap``.

        States: ``("R", i, c)`` after a member with ``c`` members so far and ``i`` the next declared
        index; ``("S", i, c)`` the same without extra members first.
        """
        t = self.tokens
        members, extra, n = shape.members, shape.extra, len(shape.members)
        counter = states.Counter(cap, shape.high)

        def step(state: states.State) -> list[states.Step]:
            kind, i, c = state
            assert isinstance(i, int) and isinstance(c, int)
            alts: list[states.Step] = []
            nxt = counter.bump(c)
            if kind == "R":
                if extra is not None and nxt is not None:
                    alts.append([t.comma, extra, ("R", i, nxt)])
                alts.append([("S", i, c)])
            elif i < n:
                if nxt is not None:
                    alts.append([t.comma, members[i].text, ("R", i + 1, nxt)])
                if not members[i].required:
                    alts.append([("S", i + 1, c)])
            elif c >= shape.low:
                alts.append([])
            return alts

        firsts: list[states.Step] = []
        c1 = counter.bump(0)
        if c1 is not None:
            if extra is not None:
                firsts.append([extra, ("R", 0, c1)])
            for i in range(n):
                firsts.append([members[i].text, ("R", i + 1, c1)])
                if members[i].required:
                    break
        empty = t.empty_obj if shape.required == 0 and shape.low == 0 else None
        return states.build(self, shape.hint, firsts, step, (t.open_obj, t.close_obj), empty)

    def _any_order(self, shape: _Shape) -> str | None:
        """Members in any order: states are the sets of tracked properties seen so far.

        Every declared property is tracked (so none repeats) when there are at most
        ``MAX_ANY_ORDER``; otherwise only required ones are, and optional ones may come anywhere.
        Returns None when the object is too large for either (the caller keeps schema order).
        """
        members, n = shape.members, len(shape.members)
        required = frozenset(i for i, m in enumerate(members) if m.required)
        if n <= MAX_ANY_ORDER:
            tracked = frozenset(range(n))
        elif len(required) <= MAX_ANY_ORDER_REQUIRED:
            tracked = required
        else:
            return None
        counting = shape.low > len(required) or shape.high is not None
        if counting and (shape.extra is not None or tracked != frozenset(range(n))):
            return None
        t = self.tokens
        free = [members[i].text for i in range(n) if i not in tracked]
        free += [shape.extra] if shape.extra is not None else []
        high = shape.high

        def moves(used: frozenset[int], sep: list[str]) -> list[states.Step]:
            alts: list[states.Step] = []
            if high is None or len(used) < high:
                alts.extend(
                    [*sep, members[i].text, used | {i}] for i in range(n) if i in tracked and i not in used
                )
            alts.extend([*sep, member, used] for member in free)
            return alts

        def step(state: states.State) -> list[states.Step]:
            assert isinstance(state, frozenset)
            alts = moves(state, [t.comma])
            return [*alts, []] if required <= state and len(state) >= shape.low else alts

        empty = t.empty_obj if not required and shape.low == 0 else None
        firsts = moves(frozenset(), [])
        body = states.build(self, shape.hint, firsts, step, (t.open_obj, t.close_obj), empty)
        return body
