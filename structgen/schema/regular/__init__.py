"""Regular languages for the schema compiler: patterns, formats, key exclusion, numeric ranges.

Neither interegular nor greenery is used: both keep per-character or slow alphabets (interegular took
0.5 s to bound an e-mail pattern to 254 characters, greenery minutes for ``.{0,1000}``) and neither
can cap automaton growth. A small DFA core over code-point intervals with state budgets does.
"""

from .dfa import MAX_STATES, Dfa, RegularTooLarge
from .formats import FORMAT_NOTES, FORMAT_SUPERSETS, KNOWN_FORMATS, format_language
from .language import Regular
from .numbers import (
    NumberGrammar,
    integer_range_gbnf,
    number_gbnf,
    number_language,
)
from .to_gbnf import emit_dfa_gbnf, emit_json_string_content

__all__ = [
    "FORMAT_NOTES",
    "FORMAT_SUPERSETS",
    "KNOWN_FORMATS",
    "MAX_STATES",
    "Dfa",
    "NumberGrammar",
    "Regular",
    "RegularTooLarge",
    "emit_dfa_gbnf",
    "emit_json_string_content",
    "format_language",
    "integer_range_gbnf",
    "number_gbnf",
    "number_language",
]
