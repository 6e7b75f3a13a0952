"""Properties relating compiled grammars to python-jsonschema on random schemas and values.

* A value valid for the schema is accepted by the grammar (its ``json.dumps`` text), unless the
  report says the grammar restricts spellings; an invalid value is rejected unless the report says
  a keyword was loosened.
* Strings sampled from a compiled grammar are JSON values valid for the schema.
"""

from __future__ import annotations

import json
import math
import os
from decimal import Decimal
from typing import Any

import jsonschema
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from structgen.gbnf import Matcher, Sampler
from structgen.schema import compile

NAMES = st.sampled_from(["a", "b", "c", "id", "x-y"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.sampled_from([0.5, -2.25, 3.0, 1e-05, 12.5]),
    st.text(alphabet="abcxyz01é", max_size=5),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(NAMES, inner, max_size=3),
    ),
    max_leaves=8,
)


def _leaf_schemas() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(["null", "boolean", "integer", "number", "string"])}),
        st.fixed_dictionaries({"enum": st.lists(SCALARS, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"const": SCALARS}),
        st.fixed_dictionaries(
            {"type": st.just("string")},
            optional={
                "minLength": st.integers(0, 3),
                "maxLength": st.integers(2, 5),
                "pattern": st.sampled_from(["^a", "b", "^[a-c]*$", "x|y"]),
            },
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["integer", "number"])},
            optional={
                "minimum": st.integers(-5, 5),
                "maximum": st.integers(3, 20),
                "exclusiveMinimum": st.integers(-8, 0),
                "multipleOf": st.sampled_from([2, 3, 0.5]),
            },
        ),
    )


def _extend(inner: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("array")},
            optional={
                "items": inner,
                "minItems": st.integers(0, 2),
                "maxItems": st.integers(1, 3),
                "contains": inner,
            },
        ),
        st.fixed_dictionaries(
            {"type": st.just("object")},
            optional={
                "properties": st.dictionaries(NAMES, inner, max_size=3),
                "required": st.lists(NAMES, max_size=2, unique=True),
                "additionalProperties": st.one_of(st.booleans(), inner),
                "minProperties": st.integers(0, 2),
                "maxProperties": st.integers(1, 3),
                "propertyNames": st.one_of(
                    st.fixed_dictionaries({"maxLength": st.integers(1, 2)}),
                    st.fixed_dictionaries({"enum": st.lists(NAMES, min_size=1, max_size=3)}),
                    st.fixed_dictionaries({"not": st.fixed_dictionaries({"const": NAMES})}),
                ),
                "patternProperties": st.dictionaries(st.sampled_from(["^a", "c$", "-"]), inner, max_size=2),
            },
        ),
        st.fixed_dictionaries({"anyOf": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"oneOf": st.lists(inner, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"allOf": st.lists(inner, min_size=1, max_size=2)}),
        st.fixed_dictionaries({"not": inner}),
    )


SCHEMAS = st.recursive(_leaf_schemas(), _extend, max_leaves=5)
EXAMPLES = int(os.environ.get("STRUCTGEN_SCHEMA_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validator(schema: Any) -> Any:
    return jsonschema.Draft202012Validator(
        _ecma_anchors(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _ecma_anchors(schema: Any) -> Any:
    """``schema`` for python-jsonschema with ECMA-262's ``$`` (the end of the input: Python's ``$`` also
    matches before a final newline, so ``c$`` would match the key ``"c\\n"`` a grammar may write)."""
    if isinstance(schema, list):
        return [_ecma_anchors(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            out[key] = value.replace("$", r"\Z")
        elif key == "patternProperties" and isinstance(value, dict):
            out[key] = {pattern.replace("$", r"\Z"): _ecma_anchors(sub) for pattern, sub in value.items()}
        else:
            out[key] = _ecma_anchors(value)
    return out


@SETTINGS
@given(SCHEMAS, st.lists(VALUES, min_size=1, max_size=6))
def test_grammar_agrees_with_jsonschema(schema: dict[str, Any], values: list[Any]) -> None:
    compiled = compile(schema, any_order=True, time_limit=None)
    loosened = any(item.severity == "loosened" for item in compiled.report)
    # spellings json.dumps never writes (escaped ASCII in keys) do not count
    restricted = any(
        item.severity == "restricted" and "unescaped" not in item.reason for item in compiled.report
    )
    matcher = Matcher(compiled.grammar)
    validator = _validator(schema)
    for value in values:
        accepted = matcher.fullmatch(json.dumps(value, ensure_ascii=False))
        valid = validator.is_valid(value)
        if valid and not restricted:
            assert accepted, f"valid value rejected: {value!r}"
        if not valid and not loosened:
            assert not accepted, f"invalid value accepted: {value!r}"


@SETTINGS
@given(SCHEMAS, st.integers(0, 2**16))
def test_sampled_strings_are_valid(schema: dict[str, Any], seed: int) -> None:
    compiled = compile(schema, time_limit=None)
    assume(compiled.satisfiable and compiled.exact)
    validator = _validator(schema)
    for text in Sampler(compiled.grammar, seed=seed, max_length=300).sample(3):
        try:
            value = json.loads(text, parse_float=_float)
        except OverflowError:
            continue  # a number Python's floats cannot hold (jsonschema would see 0 or inf)
        assert validator.is_valid(value), f"sampled {text!r} is not valid"


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value) or (value == 0 and Decimal(text) != 0):
        raise OverflowError(text)
    return value
