"""The JSON-Schema-Test-Suite groups the compiler claims to enforce (read from the shared corpus).

Instances are serialised as ``json.dumps(data, ensure_ascii=False)``.  A claimed group must accept
every valid instance and reject every invalid one.  When the corpus is absent these tests are skipped
(the bundled cases in ``test_keywords.py`` still run).  ``GAPS`` lists, per file, the groups that are
not claimed and why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .compiling import accepts

CORPUS_CANDIDATES = [
    Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "json-schema-test-suite",
    Path("/work/shared/corpus/json-schema-test-suite"),
]
SUITE = next((path for path in CORPUS_CANDIDATES if path.is_dir()), None)

CLAIMED = {
    "draft2020-12": [
        "additionalProperties",
        "allOf",
        "anchor",
        "anyOf",
        "boolean_schema",
        "const",
        "contains",
        "default",
        "defs",
        "dependentRequired",
        "dependentSchemas",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "if-then-else",
        "infinite-loop-detection",
        "items",
        "maxContains",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minContains",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "multipleOf",
        "not",
        "oneOf",
        "pattern",
        "patternProperties",
        "prefixItems",
        "properties",
        "propertyNames",
        "ref",
        "required",
        "type",
        "unevaluatedItems",
        "unevaluatedProperties",
        "uniqueItems",
    ],
    "draft7": [
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "boolean_schema",
        "const",
        "contains",
        "default",
        "definitions",
        "dependencies",
        "enum",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "format",
        "if-then-else",
        "infinite-loop-detection",
        "items",
        "maxItems",
        "maxLength",
        "maxProperties",
        "maximum",
        "minItems",
        "minLength",
        "minProperties",
        "minimum",
        "multipleOf",
        "not",
        "oneOf",
        "pattern",
        "patternProperties",
        "properties",
        "propertyNames",
        "ref",
        "required",
        "type",
        "uniqueItems",
    ],
}

# Groups (by description) whose invalid instances the grammar may accept; the compile report says
# which keyword is loosened.  Valid instances must be accepted in every group.
GAPS: dict[str, str] = {
    "uniqueItems validation": "uniqueItems over an unbounded item domain is reported",
    "uniqueItems with an array of items": "uniqueItems with prefix items is reported",
    "uniqueItems with an array of items and additionalItems=false": "uniqueItems with prefix items is reported",
    "unevaluatedProperties with anyOf": "annotations of overlapping alternatives are merged (reported)",
    "unevaluatedProperties can see annotations from if without then and else": "negating patternProperties",
    "unevaluatedItems with nested items": "annotations of overlapping alternatives are merged (reported)",
    "unevaluatedItems and contains interact to control item dependency relationship": "several contains",
    "collect annotations inside a 'not', even if collection is disabled": "annotations across not (reported)",
}


def _cases() -> list[Any]:
    params = []
    for draft, stems in CLAIMED.items():
        for stem in stems:
            params.append(pytest.param(draft, stem, id=f"{draft}/{stem}"))
    return params


@pytest.mark.parametrize("draft,stem", _cases())
def test_suite_file(draft: str, stem: str) -> None:
    if SUITE is None:
        pytest.skip("the shared JSON-Schema-Test-Suite corpus is not present")
    groups = json.loads((SUITE / draft / f"{stem}.json").read_text(encoding="utf-8"))
    default = 2020 if draft == "draft2020-12" else 7
    # format is an annotation by default in 2019-09 and later (the compiler asserts it unless told)
    formats = not (draft == "draft2020-12" and stem == "format")
    failures = []
    for group in groups:
        for test in group["tests"]:
            accepted = accepts(group["schema"], test["data"], draft=default, any_order=True, formats=formats)
            if test["valid"] and not accepted:
                failures.append(f"{group['description']} / {test['description']}: valid value rejected")
            if not test["valid"] and accepted and group["description"] not in GAPS:
                failures.append(f"{group['description']} / {test['description']}: invalid value accepted")
    assert failures == []
