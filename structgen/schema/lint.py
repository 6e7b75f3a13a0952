"""Checks on the schema text itself for the compile report: keywords that look misspelt, and report items
that name a keyword the schema object at their pointer does not have."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .keywords import DRAFT_KEYWORDS, SIBLING_KEYWORDS
from .report import Report, ReportItem

__all__ = ["name_present_keywords", "report_misspellings", "subschemas"]

_ONE = (
    "additionalProperties",
    "additionalItems",
    "items",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "discriminator",
    }
)
KNOWN = frozenset().union(*DRAFT_KEYWORDS.values(), SIBLING_KEYWORDS, _ONE, _MANY, _MAP, ANNOTATIONS)
# ``requird``/``maxlength`` are unknown keywords the compiler ignores, though they were surely meant
_LOWER = {k.lower(): k for k in KNOWN}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def subschemas(schema: Any, pointer: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every schema object inside ``schema`` with its JSON pointer (iteratively: any depth is fine)."""
    stack = [(pointer, schema)]
    while stack:
        at, node = stack.pop()
        if not isinstance(node, Mapping):
            continue
        yield at, node
        for key in _ONE:
            if isinstance(node.get(key), Mapping):
                stack.append((f"{at}/{_escape(key)}", node[key]))
        for key in _MANY:
            if isinstance(node.get(key), list):
                stack.extend((f"{at}/{key}/{i}", sub) for i, sub in enumerate(node[key]))
        for key in _MAP:
            if isinstance(node.get(key), Mapping):
                stack.extend((f"{at}/{key}/{_escape(str(name))}", sub) for name, sub in node[key].items())


def _meant(key: str) -> str | None:
    if key in KNOWN or key.startswith(("$", "x-")):
        return None
    if key.lower() in _LOWER:
        return _LOWER[key.lower()]
    close = difflib.get_close_matches(key, sorted(KNOWN), n=1, cutoff=0.8)
    return close[0] if close else None


def report_misspellings(schema: Any, report: Report) -> None:
    """Report each unknown keyword that looks like a known one (``requird``, ``maxlength``) as ignored."""
    for pointer, node in subschemas(schema):
        for key in node:
            meant = _meant(str(key))
            if meant is not None:
                report.ignored(
                    pointer, str(key), f"unknown keyword, so nothing is enforced: did you mean {meant!r}?"
                )


_CAUSES = ("contains", "not", "allOf", "anyOf", "oneOf", "if", "prefixItems", "items", "type")


def _resolve(schema: Any, pointer: str) -> Any:
    node = schema
    for part in pointer.split("/")[1:] if pointer else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def name_present_keywords(items: Iterable[ReportItem], schema: Any) -> tuple[ReportItem, ...]:
    """``items`` with each keyword the schema object at its pointer lacks replaced by the keyword there
    that gave rise to it (``contains`` for the numbers its complement allows, say)."""
    fixed = []
    for item in items:
        node = _resolve(schema, item.pointer)
        if isinstance(node, Mapping) and item.keyword not in node and item.keyword in KNOWN:
            cause = next((k for k in _CAUSES if k in node), None)
            if cause is not None:
                item = ReportItem(item.pointer, cause, item.reason, item.severity)
        fixed.append(item)
    return tuple(fixed)
