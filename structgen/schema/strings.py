"""Turning symbolic :class:`StringNode` constraints into regular languages, and testing strings.

The regular-language layer (:mod:`structgen.schema.regular`) does the automata; this module
decides which constraints to combine and reports those that cannot be (lookaround patterns,
unknown formats, languages too large to build).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from structgen.errors import InvalidSchemaError, UnsupportedSchemaError

from . import regular
from .regular import Regular, RegularTooLarge
from .regular.deadline import check_time, untimed
from .report import Inexpressible

if TYPE_CHECKING:
    from .model import StringNode

LARGE_LENGTH = 256


def emit_content(lang: Regular, rule_prefix: str) -> tuple[str, dict[str, str]]:
    """GBNF for the text between the quotes of JSON strings whose value is in ``lang``."""
    check_time()
    return regular.emit_json_string_content(lang, rule_prefix)


def pattern_language(source: str) -> Regular:
    """The language of strings containing a match of ``source`` (ECMA-262, unanchored).

    Raises what :meth:`Regular.pattern` raises (``InvalidSchemaError``, ``UnsupportedSchemaError``,
    ``RegularTooLarge``), from a cache.
    """
    result = _pattern_cached(source)
    if isinstance(result, Exception):
        raise result
    return result


@lru_cache(maxsize=4096)
def _pattern_cached(source: str) -> Regular | Exception:
    try:
        return Regular.pattern(source, "")
    except (InvalidSchemaError, UnsupportedSchemaError, RegularTooLarge) as error:  # re-raised later
        return error


def check_pattern(source: str, pointer: str) -> str | None:
    """None when ``source`` can be compiled; else why not.  Raises InvalidSchemaError on bad syntax."""
    try:
        pattern_language(source)
    except InvalidSchemaError as error:
        raise InvalidSchemaError(error.message, pointer, "pattern") from None
    except UnsupportedSchemaError as error:
        return error.message
    except RegularTooLarge as error:
        return f"the pattern's automaton is too large ({error})"
    return None


@lru_cache(maxsize=256)
def format_language(name: str) -> Regular | None:
    """The language of ``format`` name, or None when the format is not regular or unknown."""
    try:
        with untimed():  # built once per process
            return regular.format_language(name)
    except (UnsupportedSchemaError, KeyError, ValueError):
        return None


def format_notes(name: str) -> list[str]:
    """How the language of format ``name`` differs from the format (each note on its own)."""
    note = regular.FORMAT_NOTES.get(name)
    return [part.strip() for part in note.split(";")] if note else []


def format_known(name: str) -> bool:
    return format_language(name) is not None


def realize(node: StringNode) -> Regular:
    """The regular language of ``node`` (cached).

    Raises :class:`~structgen.schema.report.Inexpressible` when the language is too large to build.
    """
    result = _realize_cached(node)
    if isinstance(result, Exception):
        raise Inexpressible(str(result))
    return result


@lru_cache(maxsize=4096)
def _realize_cached(node: StringNode) -> Regular | Exception:
    try:
        return _realize(node)
    except (Inexpressible, UnsupportedSchemaError, InvalidSchemaError) as error:
        return error


def _realize(node: StringNode) -> Regular:
    if node.literals is not None:
        lang = Regular.literals(sorted(node.literals))
    else:
        # length bounds come last: a length counter multiplies the states of every later product
        parts: list[Regular] = []
        for pattern in node.patterns:
            check_time()
            parts.append(pattern_language(pattern.source))
        for name in node.formats:
            fmt = format_language(name)
            if fmt is not None:
                parts.append(fmt)
        parts.sort(key=lambda part: part.state_count)
        lang = parts[0] if parts else Regular.any_string()
        for part in parts[1:]:
            check_time()
            lang = lang & part
    if node.excluded:
        lang = lang - Regular.literals(sorted(node.excluded))
    for negated in node.negated:
        check_time()
        lang = lang - realize(negated)
    if node.literals is None and (node.min_length or node.max_length is not None):
        check_time()
        lang = lang.with_length(node.min_length, node.max_length)
    return lang


def string_matches(node: StringNode, text: str) -> bool:
    """True when ``text`` satisfies every constraint of ``node``."""
    if node.literals is not None and text not in node.literals:
        return False
    if text in node.excluded:
        return False
    length = len(text)
    if length < node.min_length or (node.max_length is not None and length > node.max_length):
        return False
    for pattern in node.patterns:
        if not _pattern_search(pattern.source, text):
            return False
    for name in node.formats:
        fmt = format_language(name)
        if fmt is not None and not fmt.matches(text):
            return False
    return not any(string_matches(negated, text) for negated in node.negated)


def _pattern_search(source: str, text: str) -> bool:
    try:
        return bool(pattern_language(source).matches(text))
    except (InvalidSchemaError, UnsupportedSchemaError, RegularTooLarge):
        pass  # Python's re decides below
    compiled = _python_pattern(source)
    return compiled is None or compiled.search(text) is not None


@lru_cache(maxsize=1024)
def _python_pattern(source: str) -> re.Pattern[str] | None:
    translated = source.replace(r"\d", "[0-9]").replace(r"\w", "[A-Za-z0-9_]")
    try:
        return re.compile(translated)
    except re.error:
        return None


def is_empty(node: StringNode) -> bool:
    """True when no string satisfies ``node`` (False when unknown)."""
    if node.literals is not None:
        return not any(string_matches(node, text) for text in node.literals)
    if node.max_length is not None and node.min_length > node.max_length:
        return True
    constraints = len(node.patterns) + len(node.formats) + 2 * len(node.negated) + bool(node.excluded)
    constraints += bool(node.min_length or node.max_length is not None)
    if constraints < 2:
        return False
    if node.max_length is not None and node.max_length > LARGE_LENGTH:
        # building long length counters is slow: compare the length range instead (unsure: not empty)
        try:
            bounds = realize(replace(node, min_length=0, max_length=None)).length_bounds()
        except Inexpressible:
            return False
        if bounds is None:
            return True
        shortest, longest = bounds
        return shortest > node.max_length or (longest is not None and longest < node.min_length)
    try:
        return bool(realize(node).is_empty())
    except Inexpressible:
        return False
