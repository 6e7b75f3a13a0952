"""GBNF for bounded numbers, multiples, non-integers and non-multiples, through the regular-language layer."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .model import NumberNode
from .regular import Regular, RegularTooLarge, emit_dfa_gbnf, number_gbnf, number_language
from .report import Inexpressible

# Spellings of numbers that are certainly not integers: a non-zero fraction digit (then only a
# negative exponent), or one leading digit and a negative exponent (a value below 1).
NON_INTEGER_PATTERN = (
    r"^-?(0|[1-9][0-9]*)\.[0-9]*[1-9][0-9]*([eE]-[0-9]+)?$"
    r"|^-?[1-9](\.[0-9]+)?[eE]-0*[1-9][0-9]*$"
)


@lru_cache(maxsize=1)
def _non_integer() -> Regular:
    return Regular.pattern(NON_INTEGER_PATTERN)


@lru_cache(maxsize=8)
def _short(max_digits: int) -> Regular:
    n = max_digits
    return Regular.pattern(rf"^-?(0|[1-9][0-9]{{0,{n - 1}}})(\.[0-9]{{1,{n}}})?([eE][-+]?[0-9]{{1,3}})?$")


def emit(
    node: NumberNode, rule_prefix: str, max_digits: int | None = None
) -> tuple[str | None, dict[str, str], str | None]:
    """(expression, rules, note) for the JSON numbers of ``node``; ``note`` names spellings left out.

    ``max_digits`` bounds integer and fraction digits (and exponents to 3 digits) so that a model's
    number ends; it is a restriction the caller asked for, not noted.  Raises
    :class:`~structgen.schema.report.Inexpressible` (naming the keyword) when the automaton is too large."""
    bounds = (node.minimum, node.maximum, node.exclusive_minimum, node.exclusive_maximum)
    kind: dict[str, Any] = {
        "integer": node.integer,
        "zero_fraction": node.integer and node.integer_zero_fraction,
        "multiple_of": node.multiple_of,
    }
    try:
        if not node.non_integer and not node.not_multiple_of and max_digits is None:
            grammar = number_gbnf(rule_prefix, *bounds, **kind)
            return grammar.expression, dict(grammar.rules), grammar.note
        lang, notes = number_language(*bounds, **kind, exponents=not node.not_multiple_of)
        notes = list(notes)
        if node.non_integer:
            lang = lang & _non_integer()
            notes.append("non-integers are accepted in plain decimal form or below 1 with an exponent")
        for step in sorted(node.not_multiple_of):
            multiples, _ = number_language(multiple_of=step, exponents=False)
            lang = lang - multiples
            notes.append("non-multiples are accepted without exponent")
        if max_digits is not None:
            lang = lang & _short(max_digits)
        if lang.is_empty():
            return None, {}, None
        expression, rules = emit_dfa_gbnf(lang, rule_prefix)
    except RegularTooLarge as error:
        multiple = node.multiple_of is not None or node.not_multiple_of
        raise Inexpressible(str(error), "multipleOf" if multiple else "minimum") from None
    return expression, dict(rules), "; ".join(dict.fromkeys(notes)) or None
