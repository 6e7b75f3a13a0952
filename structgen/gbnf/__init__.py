"""GBNF, llama.cpp's grammar language: parse, check, format, match and sample grammars."""

from .ast import Grammar
from .checker import check, check_file, validate
from .diagnostics import Diagnostic, Severity
from .formatter import format_grammar
from .matcher import Matcher, MatchResult, matches
from .parser import parse_file, parse_grammar
from .sampler import Sampler, sample

__all__ = [
    "Diagnostic",
    "Grammar",
    "MatchResult",
    "Matcher",
    "Sampler",
    "Severity",
    "check",
    "check_file",
    "format_grammar",
    "matches",
    "parse_file",
    "parse_grammar",
    "sample",
    "validate",
]
