"""GBNF for bounded numbers and multiples, through the regular-language layer."""

from __future__ import annotations

from .model import NumberNode


class NotExpressible(Exception):
    """The numeric constraints of a node cannot be put in a grammar (``keyword`` names the culprit)."""

    def __init__(self, message: str, keyword: str):
        super().__init__(message)
        self.keyword = keyword


def emit(node: NumberNode, rule_prefix: str) -> tuple[str, dict[str, str], str | None]:
    """(expression, rules, note) for the JSON numbers of ``node``; ``note`` names spellings left out."""
    try:
        from .regular import RegularTooLarge, number_gbnf
    except ImportError:  # pragma: no cover - the layer ships with the package
        raise NotExpressible("numeric bounds need the regular-language layer", "minimum") from None
    try:
        grammar = number_gbnf(
            rule_prefix,
            node.minimum,
            node.maximum,
            node.exclusive_minimum,
            node.exclusive_maximum,
            integer=node.integer,
            zero_fraction=node.integer and node.integer_zero_fraction,
            multiple_of=node.multiple_of,
        )
    except RegularTooLarge as error:
        keyword = "multipleOf" if node.multiple_of is not None else "minimum"
        raise NotExpressible(str(error), keyword) from None
    return grammar.expression, dict(grammar.rules), grammar.note
