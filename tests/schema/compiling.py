"""Helpers for the schema compiler tests: compile once, match JSON texts against the grammar."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from structgen.gbnf import Matcher
from structgen.schema import CompiledSchema, compile


@lru_cache(maxsize=512)
def _compiled(schema_text: str, options: tuple[tuple[str, Any], ...]) -> tuple[CompiledSchema, Matcher]:
    # no time limit: these tests are about what the grammar accepts, on however busy a machine
    compiled = compile(json.loads(schema_text), **{"time_limit": None, **dict(options)})
    return compiled, Matcher(compiled.grammar)


def compiled(schema: Any, **options: Any) -> CompiledSchema:
    """The compiled schema (cached by value)."""
    return _compiled(json.dumps(schema), tuple(sorted(options.items())))[0]


def accepts(schema: Any, instance: Any, **options: Any) -> bool:
    """True when the grammar of ``schema`` accepts ``json.dumps(instance, ensure_ascii=False)``."""
    matcher = _compiled(json.dumps(schema), tuple(sorted(options.items())))[1]
    return matcher.fullmatch(json.dumps(instance, ensure_ascii=False))


def accepts_text(schema: Any, text: str, **options: Any) -> bool:
    matcher = _compiled(json.dumps(schema), tuple(sorted(options.items())))[1]
    return matcher.fullmatch(text)
