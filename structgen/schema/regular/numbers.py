"""JSON number literals within bounds and multiples, as exact regular languages and GBNF.

Without an exponent, "value within bounds" and "multiple of a decimal step" are regular in the digits,
and are built here as comparison and remainder automata of size linear in the bounds' digits.
With an exponent they are not, so exponent forms are kept only where they cannot leave the range
(sign-only bounds: any exponent; a lower bound alone: exponents >= 0 on a mantissa already in range;
an upper bound alone: exponents <= 0; both: exponent zero) and a note says so. Integer literals
never take an exponent or (unless ``zero_fraction``) a fraction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Concatenate, Literal, NamedTuple, ParamSpec

from .charset import CharSet
from .dfa import MAX_STATES, Edge, RegularTooLarge, States, minimize
from .language import Regular
from .rx import Node, alt, cls, opt, rep, seq
from .to_gbnf import emit_dfa_gbnf

Bound = int | Decimal | Fraction
P = ParamSpec("P")
Outcome = Literal["<", "=", ">"]

MAX_BOUND_DIGITS = 40
"""Bound digits kept: an upper magnitude bound is lowered to 10**40 - 1 and bound fractions are
rounded inward to 40 places (sound, noted)."""

_D = cls(CharSet.span(0x30, 0x39))
_NZ = cls(CharSet.span(0x31, 0x39))
_INT: Node = alt("0", seq(_NZ, rep(_D)))
_FRAC: Node = seq(".", rep(_D, 1))
_E = cls("eE")


class NumberGrammar(NamedTuple):
    """A GBNF expression with its rules, and a note when some valid spellings are not accepted
    (exponent forms restricted, bounds rounded inward); ``note`` is None when the grammar accepts every
    JSON spelling of every allowed value (exponents excepted for integers)."""

    expression: str
    rules: dict[str, str]
    note: str | None


def _lang(node: Node) -> Regular:
    return Regular.from_node(node)


@lru_cache(maxsize=16)
def _exponent(kind: str) -> Regular:
    zeros = rep("0", 1)
    if kind == "any":
        return _lang(seq(_E, opt(cls("+-")), rep(_D, 1)))
    if kind == "nonneg":
        return _lang(alt(seq(_E, opt("+"), rep(_D, 1)), seq(_E, "-", zeros)))
    if kind == "nonpos":
        return _lang(alt(seq(_E, "-", rep(_D, 1)), seq(_E, opt("+"), zeros)))
    return _lang(seq(_E, opt(cls("+-")), zeros))


def _digits(c: Fraction) -> tuple[str, str]:
    """Integer digits and fraction digits (no trailing zeros) of a non-negative finite decimal."""
    whole = c.numerator // c.denominator
    rest = c - whole
    frac = ""
    while rest:
        rest *= 10
        digit = rest.numerator // rest.denominator
        frac += str(digit)
        rest -= digit
    return str(whole), frac


def _cmp(a: str, b: str) -> Outcome:
    return "<" if a < b else ">" if a > b else "="


Key = tuple[str, int, Outcome]


class _Comparison:
    """The steps of :func:`_compare`'s automaton for the bound ``c``; states are (phase, count, outcome
    so far): ``int`` after ``count`` integer digits (outcome of the digit-by-digit comparison with c's
    integer digits), ``zero`` after a lone 0, ``long`` after more integer digits than c has, ``dot``
    after the point, ``feq`` after ``count`` fraction digits equal to c's, ``frac`` once the fraction
    has decided."""

    def __init__(self, c: Fraction) -> None:
        self.s, self.f = _digits(c)

    def int_outcome(self, key: Key) -> Outcome:
        phase, i, lex = key
        if phase == "zero":
            return "=" if self.s == "0" else "<"
        if phase == "long":
            return ">"
        return "<" if i < len(self.s) else lex

    def fraction_digit(self, j: int, d: str) -> Key:
        if j < len(self.f):
            o = _cmp(d, self.f[j])
            return ("feq", j + 1, "=") if o == "=" else ("frac", 0, o)
        return ("feq", j, "=") if d == "0" else ("frac", 0, ">")

    def digit_step(self, key: Key, d: str) -> Key | None:
        phase, i, o = key
        if phase == "start":
            return ("zero", 0, "=") if d == "0" else ("int", 1, _cmp(d, self.s[0]))
        if phase == "int":
            if i == len(self.s):
                return ("long", 0, ">")
            return ("int", i + 1, _cmp(d, self.s[i]) if o == "=" else o)
        if phase in ("long", "frac"):
            return key
        if phase == "dot":
            return self.fraction_digit(0, d) if o == "=" else ("frac", 0, o)
        if phase == "feq":
            return self.fraction_digit(i, d)
        return None  # after a lone 0 no integer digit may follow

    def outcome(self, key: Key) -> Outcome | None:
        phase, j, o = key
        if phase in ("zero", "long", "int"):  # no fraction: equal integer parts fall short of c's fraction
            io = self.int_outcome(key)
            return "<" if io == "=" and self.f else io
        if phase == "frac":
            return o
        if phase == "feq":
            return "<" if j < len(self.f) else "="
        return None


@lru_cache(maxsize=256)
def _compare(c: Fraction, outcomes: frozenset[Outcome]) -> Regular:
    """Unsigned decimal literals (``0|[1-9][0-9]*`` then an optional fraction) whose value compares to
    ``c`` (a non-negative finite decimal) with one of ``outcomes``."""
    steps = _Comparison(c)
    states: States[Key] = States(("start", 0, "="), "numeric bound")
    edges: list[list[Edge]] = []
    finals: set[int] = set()
    for n, key in enumerate(states.keys):
        out: list[Edge] = []
        for d in "0123456789":
            nxt = steps.digit_step(key, d)
            if nxt is not None:
                out.append((ord(d), ord(d), states(nxt)))
        if key[0] in ("zero", "long", "int"):
            out.append((0x2E, 0x2E, states(("dot", 0, steps.int_outcome(key)))))
        if steps.outcome(key) in outcomes:
            finals.add(n)
        edges.append(out)
    return Regular(minimize(edges, finals))


@lru_cache(maxsize=256)
def _divisible(step: Fraction) -> Regular:
    """Unsigned digit strings with an optional fraction whose value is a multiple of ``step`` > 0."""
    rest = step.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    eff = step * rest  # among finite decimals, multiples of step are the multiples of eff
    places = 0
    while (eff * 10**places).denominator != 1:
        places += 1
    modulus = int(eff * 10**places)
    if modulus * (places + 2) > MAX_STATES:
        raise RegularTooLarge(
            f"multipleOf {step} needs a remainder automaton of {modulus * (places + 2)} states"
        )
    states: States[tuple[str, int, int]] = States(("s", 0, 0), "multipleOf")
    edges: list[list[Edge]] = []
    finals: set[int] = set()
    for n, (kind, pos, r) in enumerate(states.keys):
        out: list[Edge] = []
        for d in range(10):
            nxt: tuple[str, int, int] | None
            if kind in ("s", "i"):
                nxt = ("i", 0, (10 * r + d) % modulus)
            elif pos < places:  # "dot" (pos 0) or "f"
                nxt = ("f", pos + 1, (10 * r + d) % modulus)
            else:
                nxt = ("f", pos, r) if d == 0 else None
            if nxt is not None:
                out.append((0x30 + d, 0x30 + d, states(nxt)))
        if kind == "i":
            out.append((0x2E, 0x2E, states(("dot", 0, r))))
        if kind in ("i", "f") and r * 10 ** (places - pos) % modulus == 0:
            finals.add(n)
        edges.append(out)
    return Regular(minimize(edges, finals))


def _exact_decimal(value: Fraction, up: bool) -> tuple[Fraction, bool]:
    """``value`` as a finite decimal with at most MAX_BOUND_DIGITS fraction digits, rounded up
    (``up``) or down when needed; the flag says whether it was rounded."""
    scale = 10**MAX_BOUND_DIGITS
    scaled = value * scale
    if scaled.denominator == 1:
        return value, False
    rounded = math.ceil(scaled) if up else math.floor(scaled)
    return Fraction(rounded, scale), True


Constraint = tuple[Fraction, bool] | None


def _magnitude(
    lower: Constraint,
    upper: Constraint,
    integer: bool,
    zero_fraction: bool,
    step: Fraction | None,
    exponents: bool,
    notes: list[str],
) -> Regular:
    """Unsigned literals y with lower/upper constraints ((bound, exclusive) or None)."""
    if integer:
        syntax = _lang(seq(_INT, opt(seq(".", rep("0", 1))))) if zero_fraction else _lang(_INT)
    else:
        syntax = _lang(seq(_INT, opt(_FRAC)))
    if upper is not None and upper[0] >= 10**MAX_BOUND_DIGITS:
        upper = (Fraction(10**MAX_BOUND_DIGITS), True)
        notes.append(f"upper magnitude bounds above 1e{MAX_BOUND_DIGITS} are lowered to 1e{MAX_BOUND_DIGITS}")
    mantissa = syntax
    if lower is not None:
        mantissa = mantissa & _compare(lower[0], frozenset({">"} if lower[1] else {">", "="}))
    if upper is not None:
        mantissa = mantissa & _compare(upper[0], frozenset({"<"} if upper[1] else {"<", "="}))
    if step is not None:
        mantissa = mantissa & _divisible(step)
    if integer or not exponents:
        return mantissa
    if step is not None:
        notes.append("exponent notation is not accepted together with multipleOf")
        return mantissa
    zero = syntax & _compare(Fraction(0), frozenset({"="}))
    if lower is None or lower[0] == 0:
        if upper is None:
            return mantissa | (mantissa + _exponent("any"))
        if upper[0] == 0:  # y <= 0: only zero, which any exponent keeps
            return mantissa | (mantissa + _exponent("any"))
        kind = "nonpos"
    elif upper is None:
        kind = "nonneg"
    else:
        kind = "zero"
    notes.append("exponent notation is restricted to exponents that cannot leave the range")
    result = mantissa | (mantissa + _exponent(kind))
    if lower is None or (lower[0] == 0 and not lower[1]):
        result = result | (zero + _exponent("any"))
    return result


def _infinite(value: Bound | None, sign: int) -> bool:
    """Whether ``value`` is a Decimal infinity of the given sign (NaN is refused)."""
    if isinstance(value, Decimal):
        if value.is_nan():
            raise ValueError("a numeric bound cannot be NaN")
        return value.is_infinite() and (value > 0) == (sign > 0)
    return False


def _decimal_bounds(
    low: Fraction | None,
    high: Fraction | None,
    lo_exclusive: bool,
    hi_exclusive: bool,
    integer: bool,
    notes: list[str],
) -> tuple[Fraction | None, Fraction | None, bool, bool]:
    """The bounds as integers (inclusive) for ``integer``, else as decimals rounded inward (noted)."""
    if integer:
        if low is not None:
            low, lo_exclusive = Fraction(math.floor(low) + 1 if lo_exclusive else math.ceil(low)), False
        if high is not None:
            high, hi_exclusive = Fraction(math.ceil(high) - 1 if hi_exclusive else math.floor(high)), False
        return low, high, lo_exclusive, hi_exclusive
    rounded = False
    if low is not None:
        low, r = _exact_decimal(low, up=True)
        rounded |= r
    if high is not None:
        high, r = _exact_decimal(high, up=False)
        rounded |= r
    if rounded:
        notes.append(f"bounds are rounded inward to {MAX_BOUND_DIGITS} decimal places")
    return low, high, lo_exclusive, hi_exclusive


def number_language(
    lo: Bound | None = None,
    hi: Bound | None = None,
    lo_exclusive: bool = False,
    hi_exclusive: bool = False,
    *,
    integer: bool = False,
    zero_fraction: bool = False,
    multiple_of: Bound | None = None,
    exponents: bool = True,
) -> tuple[Regular, list[str]]:
    """The JSON number literals whose value v satisfies lo <(=) v <(=) hi (and is an integer /
    a multiple of ``multiple_of``), with notes on spellings left out. ``integer`` accepts integer
    literals, and ``1.0``-style ones too when ``zero_fraction``. Raises RegularTooLarge when a
    multipleOf automaton would be too large."""
    notes: list[str] = []
    if _infinite(lo, 1) or _infinite(hi, -1):
        return Regular.nothing(), notes
    low = None if lo is None or _infinite(lo, -1) else Fraction(lo)
    high = None if hi is None or _infinite(hi, 1) else Fraction(hi)
    if multiple_of is not None and (_infinite(multiple_of, 1) or Fraction(multiple_of) <= 0):
        raise ValueError("multiple_of must be positive and finite")
    step = None if multiple_of is None else Fraction(multiple_of)
    low, high, lo_exclusive, hi_exclusive = _decimal_bounds(
        low, high, lo_exclusive, hi_exclusive, integer, notes
    )
    if (
        low is not None
        and high is not None
        and (low > high or (low == high and (lo_exclusive or hi_exclusive)))
    ):
        return Regular.nothing(), notes

    # v = +y: y >= lo (when lo > 0, or y > 0 when lo == 0 exclusive), y <= hi
    positive: Regular | None = None
    if high is None or high > 0 or (high == 0 and not hi_exclusive):
        lower: Constraint = None
        if low is not None and (low > 0 or (low == 0 and lo_exclusive)):
            lower = (low, lo_exclusive)
        upper: Constraint = None if high is None else (high, hi_exclusive)
        positive = _magnitude(lower, upper, integer, zero_fraction, step, exponents, notes)
    # v = -y: y <= -lo, y >= -hi (when hi < 0, or y > 0 when hi == 0 exclusive)
    negative: Regular | None = None
    if low is None or low < 0 or (low == 0 and not lo_exclusive):
        lower = None
        if high is not None and (high < 0 or (high == 0 and hi_exclusive)):
            lower = (-high, hi_exclusive)
        upper = None if low is None else (-low, lo_exclusive)
        negative = _magnitude(lower, upper, integer, zero_fraction, step, exponents, notes)
    result = Regular.nothing()
    if positive is not None:
        result = result | positive
    if negative is not None:
        result = result | (Regular.literals(["-"]) + negative)
    return result, list(dict.fromkeys(notes))


def _as_gbnf(
    language: Callable[P, tuple[Regular, list[str]]],
) -> Callable[Concatenate[str, P], NumberGrammar]:
    def gbnf(rule_prefix: str, /, *args: P.args, **kwargs: P.kwargs) -> NumberGrammar:
        lang, notes = language(*args, **kwargs)
        expression, rules = emit_dfa_gbnf(lang, rule_prefix)
        return NumberGrammar(expression, rules, "; ".join(notes) or None)

    return gbnf


number_gbnf = _as_gbnf(number_language)
"""GBNF for :func:`number_language`: a rule prefix (rules are named ``prefix-...``), then its arguments."""


def integer_range_gbnf(lo: int | None, hi: int | None, rule_prefix: str) -> tuple[str, dict[str, str]]:
    """GBNF for JSON integer literals ``-?(0|[1-9][0-9]*)`` with lo <= v <= hi (either side may be None)."""
    expression, rules, _ = number_gbnf(rule_prefix, lo, hi, integer=True)
    return expression, rules
