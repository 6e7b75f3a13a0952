"""GBNF, llama.cpp's grammar language: parse, check, format, match and sample grammars."""

from .ast import Grammar
from .diagnostics import Diagnostic, Severity
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
    "matches",
    "parse_file",
    "parse_grammar",
    "sample",
]
