"""Generation bounds: free strings and arrays get a largest size in generation, reported as restrictions;
the schema's own bounds win, and compiling without the options is unchanged."""

from __future__ import annotations

import json
import re
from typing import Annotated

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from structgen.client import LlamaClient
from structgen.gbnf import Matcher
from structgen.generation import Output, Reason, generate_result
from structgen.schema import compile


class Order(BaseModel):
    customer: str
    code: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{3}$")]
    note: Annotated[str, Field(max_length=500)]
    items: list[str]
    tags: Annotated[list[str], Field(max_length=100)]


def _accepts(grammar: str, value: object) -> bool:
    return Matcher(grammar).fullmatch(json.dumps(value))


def test_without_the_options_nothing_is_bounded() -> None:
    plain = compile(Order, additional_properties=False)
    assert not any("generation bound" in item.reason for item in plain.report)
    assert _accepts(
        plain.grammar, {"customer": "x" * 400, "code": "AB123", "note": "", "items": ["a"] * 40, "tags": []}
    )


def test_free_strings_and_arrays_are_bounded_and_reported() -> None:
    bounded = compile(Order, additional_properties=False, max_string_length=10, max_items=3)
    restrictions = {(i.pointer, i.keyword): i for i in bounded.report if "generation bound" in i.reason}
    assert set(restrictions) == {
        ("/properties/customer", "maxLength"),
        ("/properties/items", "maxItems"),
        ("/properties/items/items", "maxLength"),
        ("/properties/tags/items", "maxLength"),
    }
    assert all(i.severity == "restricted" for i in restrictions.values())
    assert bounded.exact  # a restriction, not a loosening
    base = {
        "customer": "x" * 10,
        "code": "AB123",
        "note": "n" * 500,
        "items": ["abc"] * 3,
        "tags": ["t"] * 100,
    }
    assert _accepts(bounded.grammar, base)
    assert not _accepts(bounded.grammar, {**base, "customer": "x" * 11})
    assert not _accepts(bounded.grammar, {**base, "items": ["abc"] * 4})
    assert not _accepts(bounded.grammar, {**base, "items": ["x" * 11]})
    assert bounded.options["max_string_length"] == 10 and bounded.options["max_items"] == 3


def test_a_minimum_above_the_bound_raises_the_bound() -> None:
    schema = {
        "type": "object",
        "properties": {"s": {"type": "string", "minLength": 20}, "a": {"type": "array", "minItems": 5}},
    }
    bounded = compile(schema, max_string_length=8, max_items=2)
    assert _accepts(bounded.grammar, {"s": "y" * 20, "a": [1, 2, 3, 4, 5]})
    assert not _accepts(bounded.grammar, {"s": "y" * 21})
    assert not _accepts(bounded.grammar, {"a": [1, 2, 3, 4, 5, 6]})


def test_generation_bounds_strings_by_default_and_can_be_lifted() -> None:
    assert any(
        i.keyword == "maxLength" and "generation bound" in i.reason for i in Output(Order).compiled.report
    )
    free = Output(Order, max_string_length=None, max_items=None)
    assert not any("generation bound" in i.reason for i in free.compiled.report)


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=45))
def test_a_string_is_accepted_exactly_up_to_the_bound(bound: int, length: int) -> None:
    grammar = compile({"type": "string"}, max_string_length=bound).grammar
    assert _accepts(grammar, "z" * length) == (length <= bound)


EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


def test_a_patterned_string_is_bounded_as_far_as_a_grammar_can_hold_it() -> None:
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string", "pattern": EMAIL},
            "code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{3}$"},
            "own": {"type": "string", "pattern": EMAIL, "maxLength": 20},
        },
    }
    bounded = compile(schema, max_string_length=300)
    restrictions = {i.pointer: i for i in bounded.report if "generation bound" in i.reason}
    assert set(restrictions) == {"/properties/email"}  # the code's language is short already
    limit = int(restrictions["/properties/email"].reason.split("at most ")[1].split()[0])
    assert 32 <= limit < 300  # the pattern times 300 lengths is too large for a grammar
    assert not any(i.severity == "loosened" for i in bounded.report)
    local = "a" * (limit - len("@b.cd"))
    assert _accepts(bounded.grammar, {"email": f"{local}@b.cd"})
    assert not _accepts(bounded.grammar, {"email": f"{local}x@b.cd"})
    assert not _accepts(bounded.grammar, {"email": "no-at-sign"})  # still the pattern's language
    assert not _accepts(bounded.grammar, {"own": "a" * 20 + "@b.cd"})  # the schema's own maxLength wins
    unbounded = compile(schema)
    assert _accepts(unbounded.grammar, {"email": "a" * 400 + "@b.cd"})


def test_a_patterned_string_no_bound_fits_keeps_its_language() -> None:
    bounded = compile({"type": "string", "format": "email"}, max_string_length=300)
    assert not any("generation bound" in i.reason for i in bounded.report)
    assert _accepts(bounded.grammar, "a" * 400 + "@example.com")


class Mail(BaseModel):
    email: Annotated[str, Field(pattern=EMAIL)]


def test_the_real_model_writes_a_long_patterned_string_within_its_bound(client: LlamaClient) -> None:
    address = "the.quick.brown.fox.jumps.over.the.lazy.dog.and.keeps.running@far-away-example.com"
    output = Output(Mail, max_string_length=40)
    bound = next(i for i in output.compiled.report if i.pointer == "/properties/email")
    assert bound.reason == "generation bound: at most 40 characters"
    prompt = f"Reply with JSON only. The e-mail address is {address}.\n"
    result = generate_result(prompt, output, client=client, n_predict=128)
    assert result.last.reason is Reason.VALID
    assert re.fullmatch(EMAIL, result.value.email) and len(result.value.email) <= 40
