"""Random strings a grammar accepts: seeded, bounded in depth and length, checked by the matcher."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

from ..errors import GrammarError
from . import ast
from .lower import ALT, CHAR, CHAR_ANY, CHAR_NOT, END, RULE_REF, TOKEN, TOKEN_NOT, char_ranges
from .matcher import Matcher

# Characters tried for '.' and negated classes: mostly printable ASCII, some other scripts.
_POOL = [chr(c) for c in range(0x20, 0x7F)] + list("\n\té中ß€😀Ωж")


class Sampler:
    """Generates strings the grammar accepts (every one is checked with :class:`Matcher`)."""

    def __init__(
        self,
        grammar: ast.Grammar | str | Matcher,
        *,
        seed: int | None = None,
        max_depth: int = 40,
        max_length: int = 400,
    ) -> None:
        self.matcher = grammar if isinstance(grammar, Matcher) else Matcher(grammar)
        self.rules = self.matcher.rules
        self.random = random.Random(seed)
        self.max_depth = max_depth
        self.max_length = max_length
        self.alts = [self.matcher.lowered.alternatives(i) if r else [] for i, r in enumerate(self.rules)]
        self.cost = self._min_lengths()
        root = self.matcher.lowered.root
        assert root is not None
        if math.isinf(self.cost[root]):
            raise GrammarError("the grammar accepts no text without token references: nothing to sample")

    def _alt_cost(self, rule_id: int, start: int, costs: list[float]) -> float:
        total = 0.0
        rule = self.rules[rule_id]
        i = start
        while rule[i][0] not in (END, ALT):
            kind, value = rule[i]
            if kind == RULE_REF:
                total += costs[value]
            elif kind in (TOKEN, TOKEN_NOT):
                return math.inf
            elif kind in (CHAR, CHAR_NOT, CHAR_ANY):
                total += 1
            i += 1
        return total

    def _min_lengths(self) -> list[float]:
        costs = [math.inf] * len(self.rules)
        changed = True
        while changed:
            changed = False
            for rid, starts in enumerate(self.alts):
                best = min((self._alt_cost(rid, s, costs) for s in starts), default=math.inf)
                if best < costs[rid]:
                    costs[rid] = best
                    changed = True
        return costs

    def _pick_char(self, rule: list[tuple[int, int]], i: int) -> tuple[str, int]:
        kind = rule[i][0]
        ranges, any_char, j = char_ranges(rule, i)
        usable = [(lo, min(hi, 0x10FFFF)) for lo, hi in ranges if lo <= min(hi, 0x10FFFF)]
        if kind == CHAR and not any_char and usable:
            for _ in range(20):
                lo, hi = self.random.choice(usable)
                cp = self.random.randint(lo, hi)
                if not 0xD800 <= cp <= 0xDFFF:
                    return chr(cp), j

        def excluded(cp: int) -> bool:
            return kind == CHAR_NOT and any(lo <= cp <= hi for lo, hi in ranges)

        choices = [c for c in _POOL if not excluded(ord(c))]
        if choices:
            return self.random.choice(choices), j
        for _ in range(1000):
            cp = self.random.randint(0x20, 0xFFFF)
            if not 0xD800 <= cp <= 0xDFFF and not excluded(cp):
                return chr(cp), j
        raise GrammarError("could not find a character for a class that excludes almost everything")

    def _choose(self, rule_id: int, depth: int, length: int) -> int:
        starts = self.alts[rule_id]
        costs = [self._alt_cost(rule_id, s, self.cost) for s in starts]
        finite = [s for s, c in zip(starts, costs) if not math.isinf(c)]
        if depth >= self.max_depth or length >= self.max_length:
            best = min(costs)
            return self.random.choice([s for s, c in zip(starts, costs) if c == best])
        return self.random.choice(finite)

    def sample_one(self) -> str:
        """One random string in the language (raises GrammarError if none can be produced in bounds)."""
        for _ in range(50):
            text = self._generate()
            if self.matcher.fullmatch(text):
                return text
        raise GrammarError("the sampler could not produce a string the matcher accepts")

    def _generate(self) -> str:
        root = self.matcher.lowered.root
        assert root is not None
        out: list[str] = []
        # Work stack of (rule id, element index, depth); rule refs push the chosen alternative.
        work: list[tuple[int, int, int]] = [(root, self._choose(root, 0, 0), 0)]
        while work:
            rid, i, depth = work.pop()
            rule = self.rules[rid]
            kind, value = rule[i]
            if kind in (END, ALT):
                continue
            if kind == RULE_REF:
                work.append((rid, i + 1, depth))
                work.append((value, self._choose(value, depth + 1, len(out)), depth + 1))
            elif kind in (CHAR, CHAR_NOT, CHAR_ANY):
                ch, nxt = self._pick_char(rule, i)
                out.append(ch)
                work.append((rid, nxt, depth))
            else:
                raise GrammarError("cannot sample a token reference as text")
        return "".join(out)

    def __iter__(self) -> Iterator[str]:
        while True:
            yield self.sample_one()

    def sample(self, n: int) -> list[str]:
        """``n`` random strings in the language."""
        return [self.sample_one() for _ in range(n)]


def sample(
    grammar: ast.Grammar | str, n: int = 1, *, seed: int | None = None, max_length: int = 400
) -> list[str]:
    """``n`` random strings that ``grammar`` accepts."""
    return Sampler(grammar, seed=seed, max_length=max_length).sample(n)
