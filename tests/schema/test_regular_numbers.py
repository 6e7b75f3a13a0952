"""Numeric range and multipleOf grammars agree with numeric comparison on JSON number literals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.gbnf import Matcher
from structgen.schema.regular import (
    RegularTooLarge,
    integer_range_gbnf,
    number_gbnf,
    number_language,
)

_INT_PART = st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,3}", fullmatch=True))
_FRACTION = st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,4}", fullmatch=True))
_EXPONENT = st.one_of(st.just(""), st.from_regex(r"[eE][+-]?[0-9]{1,2}", fullmatch=True))
LITERALS = st.builds(
    lambda s, i, f, e: s + i + f + e, st.sampled_from(["", "-"]), _INT_PART, _FRACTION, _EXPONENT
)
BOUNDS = st.one_of(
    st.none(),
    st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False),
    st.integers(-100, 100).map(Decimal),
    st.sampled_from([Decimal(0), Decimal("0.5"), Decimal("-0.5")]),
)
MALFORMED = [
    "",
    "-",
    "01",
    "-01",
    "1.",
    ".5",
    "+1",
    "1e",
    "1e+",
    "--1",
    "1.2.3",
    "0x1",
    "1 ",
    "NaN",
    "Infinity",
]


def _matcher(expr: str, rules: dict[str, str]) -> Matcher:
    return Matcher(f"root ::= {expr}\n" + "".join(f"{name} ::= {body}\n" for name, body in rules.items()))


def _within(
    v: Decimal | int,
    lo: Decimal | int | None,
    hi: Decimal | int | None,
    lo_ex: bool = False,
    hi_ex: bool = False,
) -> bool:
    if lo is not None and (v < lo or (lo_ex and v == lo)):
        return False
    return hi is None or not (v > hi or (hi_ex and v == hi))


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(st.none(), st.integers(-300, 300)),
    st.one_of(st.none(), st.integers(-300, 300)),
    st.lists(st.integers(-1000, 1000), min_size=1, max_size=25),
)
def test_integer_range_agrees_with_comparison(lo: int | None, hi: int | None, values: list[int]) -> None:
    matcher = _matcher(*integer_range_gbnf(lo, hi, "int"))
    for v in values:
        assert matcher.fullmatch(str(v)) == _within(v, lo, hi), (lo, hi, v)
    for text in [*MALFORMED, "1.0", "1e2", "00"]:
        assert not matcher.fullmatch(text), text


@settings(max_examples=25, deadline=None)
@given(
    st.integers(-(10**30), 10**30),
    st.integers(-(10**30), 10**30),
    st.lists(st.integers(-(10**31), 10**31), max_size=20),
)
def test_integer_range_with_huge_bounds(lo: int, hi: int, values: list[int]) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    expr, rules = integer_range_gbnf(lo, hi, "big")
    assert len(rules) < 400
    matcher = _matcher(expr, rules)
    for v in [*values, lo, hi, lo - 1, hi + 1]:
        assert matcher.fullmatch(str(v)) == (lo <= v <= hi), (lo, hi, v)


@settings(max_examples=80, deadline=None)
@given(BOUNDS, BOUNDS, st.booleans(), st.booleans(), st.lists(LITERALS, min_size=1, max_size=20))
def test_number_range_is_sound_and_complete_without_exponents(
    lo: Decimal | None, hi: Decimal | None, lo_ex: bool, hi_ex: bool, literals: list[str]
) -> None:
    expr, rules, note = number_gbnf("num", lo, hi, lo_ex, hi_ex)
    matcher = _matcher(expr, rules)
    edges = [str(b) for b in (lo, hi) if b is not None]
    for text in [*literals, *edges, *(e + "0" if "." in e else e + ".0" for e in edges)]:
        value = Decimal(text)
        inside = _within(value, lo, hi, lo_ex, hi_ex)
        accepted = matcher.fullmatch(text)
        assert inside or not accepted, (lo, hi, lo_ex, hi_ex, text)
        if inside and ("e" not in text.lower() or note is None):
            assert accepted, (lo, hi, lo_ex, hi_ex, text, note)
    for text in MALFORMED:
        assert not matcher.fullmatch(text), text


def test_exclusive_minimum_zero_is_exact_at_the_boundary() -> None:
    expr, rules, note = number_gbnf("pos", Decimal(0), None, True, False)
    matcher = _matcher(expr, rules)
    for text in ["0", "0.0", "0e5", "-0", "-0.0", "0.000", "-1", "-0.0001"]:
        assert not matcher.fullmatch(text), text
    for text in ["0.0001", "1e-300", "5", "1E+3", "0.10e2"]:
        assert matcher.fullmatch(text), text
    assert note is None


def test_bounds_restrict_exponents_soundly_and_say_so() -> None:
    expr, rules, note = number_gbnf("b", Decimal("1.5"), Decimal(10), False, False)
    matcher = _matcher(expr, rules)
    assert note is not None and "exponent" in note
    assert matcher.fullmatch("1.5e0") and matcher.fullmatch("10E-00")
    assert not matcher.fullmatch("1e1") and not matcher.fullmatch("0.15e1")
    only_upper = _matcher(*number_gbnf("u", None, Decimal(1), False, False)[:2])
    assert only_upper.fullmatch("1e-5") and only_upper.fullmatch("-3e7") and not only_upper.fullmatch("2e-1")


def test_fraction_and_huge_bounds() -> None:
    third = _matcher(*number_gbnf("t", Fraction(1, 3), None, False, False)[:2])
    assert third.fullmatch("0.34") and not third.fullmatch("0.333")
    expr, rules, note = number_gbnf("d", None, Decimal("1.7976931348623157e308"), False, False)
    assert note is not None and len(rules) < 200
    assert _matcher(expr, rules).fullmatch("123456789012345678901234567890.5")


def test_empty_ranges_match_nothing() -> None:
    cases: list[tuple[Decimal, Decimal, bool, bool]] = [
        (Decimal(1), Decimal(0), False, False),
        (Decimal(1), Decimal(1), True, False),
        (Decimal("0.5"), Decimal("0.5"), False, True),
    ]
    for lo, hi, lo_ex, hi_ex in cases:
        matcher = _matcher(*number_gbnf("e", lo, hi, lo_ex, hi_ex)[:2])
        assert not any(matcher.fullmatch(t) for t in ["0", "0.5", "1", "-1"])
    assert not _matcher(*integer_range_gbnf(3, 3 - 1, "i")).fullmatch("3")
    assert not _matcher(*number_gbnf("i", Decimal("0.2"), Decimal("0.8"), integer=True)[:2]).fullmatch("0")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 60),
    st.one_of(st.none(), st.integers(-500, 0)),
    st.one_of(st.none(), st.integers(0, 500)),
    st.lists(st.integers(-700, 700), min_size=1, max_size=25),
)
def test_integer_multiple_of_agrees_with_modulo(
    step: int, lo: int | None, hi: int | None, values: list[int]
) -> None:
    expr, rules, _ = number_gbnf("m", lo=lo, hi=hi, integer=True, multiple_of=step)
    matcher = _matcher(expr, rules)
    for v in values:
        assert matcher.fullmatch(str(v)) == (v % step == 0 and _within(v, lo, hi)), (step, lo, hi, v)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["0.01", "0.25", "1.5", "0.1", "2", "7", "0.001"]),
    st.lists(LITERALS, min_size=1, max_size=25),
)
def test_decimal_multiple_of_agrees_with_remainder(step: str, literals: list[str]) -> None:
    expr, rules, note = number_gbnf("d", multiple_of=Decimal(step))
    matcher = _matcher(expr, rules)
    for text in literals:
        multiple = Fraction(Decimal(text)) % Fraction(Decimal(step)) == 0
        accepted = matcher.fullmatch(text)
        assert multiple or not accepted, (step, text)
        if "e" not in text.lower():
            assert accepted == multiple, (step, text)
    assert note is not None


def test_multiple_of_with_non_decimal_step_and_limits() -> None:
    thirds = _matcher(*number_gbnf("t", multiple_of=Fraction(1, 3))[:2])
    assert thirds.fullmatch("3") and thirds.fullmatch("-1") and not thirds.fullmatch("0.5")
    with pytest.raises(RegularTooLarge):
        number_gbnf("big", integer=True, multiple_of=10_000_019)
    with pytest.raises(ValueError):
        number_gbnf("zero", multiple_of=0)


def test_integers_may_accept_a_zero_fraction() -> None:
    expr, rules, _ = number_gbnf("z", 0, 10, integer=True, zero_fraction=True)
    matcher = _matcher(expr, rules)
    assert matcher.fullmatch("3.0") and matcher.fullmatch("10.00") and matcher.fullmatch("7")
    assert not matcher.fullmatch("3.5") and not matcher.fullmatch("11.0")


def test_infinite_bounds_mean_no_bound_or_nothing() -> None:
    lang, _ = number_language(Decimal("-Infinity"), Decimal("Infinity"))
    assert lang.matches("1e400") and lang.matches("-3.5")
    assert number_language(Decimal("Infinity"), None)[0].is_empty()
    with pytest.raises(ValueError):
        number_language(Decimal("NaN"), None)
