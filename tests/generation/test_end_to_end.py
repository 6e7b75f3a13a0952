"""End to end against the real llama-server with SmolLM2: typed values of many kinds come back valid."""

from __future__ import annotations

import datetime
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, Literal, Optional

import pytest
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

import structgen
from structgen.client import LlamaClient


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Person(BaseModel):
    name: str
    age: int


class Address(BaseModel):
    street: str
    city: str
    zip_code: Annotated[str, Field(pattern=r"^[0-9]{5}$")]


class Customer(BaseModel):
    person: Person
    address: Address
    tags: list[str] = Field(max_length=3)


class Product(BaseModel):
    name: str
    price: Annotated[float, Field(ge=0, le=10000)]
    in_stock: bool
    color: Color | None = None


@dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Event(BaseModel):
    name: str
    day: datetime.date


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: Annotated[int, Field(ge=0, le=9)]


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


CASES: list[tuple[str, object]] = [
    ("Give a number between 1 and 10.", int),
    ("Give a price.", float),
    ("Is water wet? Answer true or false.", bool),
    ("Say hello.", str),
    ("Pick a colour.", Color),
    ("Pick a size.", Literal["small", "medium", "large"]),
    ("List three fruits.", Annotated[list[str], Field(min_length=3, max_length=3)]),
    ("Give the scores of Ann and Bob.", dict[str, int]),
    ("A point on a grid.", Point),
    ("A famous movie.", Movie),
    ("Alice is 30 years old.", Person),
    ("An address in Springfield.", Address),
    ("A customer with an address.", Customer),
    ("A product for sale.", Product),
    ("An event on a date.", Event),
    ("A pet.", Annotated[Cat | Dog, Field(discriminator="kind")]),
    ("A pair of a word and a number.", tuple[str, int]),
    ("Maybe a number.", Optional[int]),  # noqa: UP045 - the typing spelling is what is tested
    ("A percentage.", Annotated[int, Field(ge=0, le=100)]),
    ("A temperature in Celsius.", Annotated[float, Field(gt=-50, lt=60)]),
    ("A product code.", Annotated[str, Field(pattern=r"^[A-Z]{3}-[0-9]{4}$")]),
    ("An identifier.", uuid.UUID),
    ("Some people.", Annotated[list[Person], Field(max_length=2)]),
]


@pytest.mark.parametrize(("prompt", "output_type"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_valid_typed_values(client: LlamaClient, prompt: str, output_type: object) -> None:
    # timeout=None: this checks validity, not speed (a loaded CI machine must not fail it)
    result = structgen.generate_result(
        [{"role": "user", "content": prompt}], output_type, client=client, n_predict=160, timeout=None
    )
    from pydantic import TypeAdapter

    TypeAdapter(output_type).validate_python(result.value)
    assert result.attempts[-1].ok


def test_extract_gets_the_facts(client: LlamaClient) -> None:
    person = structgen.extract("Maria Lopez is 34 years old.", Person, client=client)
    assert person.name == "Maria Lopez" and person.age == 34


def test_classify_only_gives_labels(client: LlamaClient) -> None:
    for text in ["I love it, best purchase ever!", "Terrible, it broke in a day."]:
        assert structgen.classify(text, ["positive", "negative"], client=client) in ("positive", "negative")
    assert structgen.classify("Red sky", Color, client=client) in set(Color)
    several = structgen.classify(
        "Apples and bananas", ["fruit", "vehicle", "food"], multi=True, client=client
    )
    assert several and set(several) <= {"fruit", "vehicle", "food"} and len(set(several)) == len(several)


def test_decorated_functions(client: LlamaClient) -> None:
    @structgen.fn(client=client)
    def capital(country: str) -> str:
        """The capital city of {country}."""

    @structgen.fn(client=client)
    def parse_person(text: str) -> Person:
        """Extract the person described in the text."""

    @structgen.fn(client=client, temperature=0.0)
    def sentiment(review: str) -> Literal["positive", "negative"]:
        """The sentiment of the review."""

    assert isinstance(capital("France"), str)
    assert parse_person("Bob is 50 years old.").age == 50
    assert sentiment("Awful. Never again.") in ("positive", "negative")
    assert sentiment.with_options(max_retries=0)("Great!") in ("positive", "negative")


def test_stream_partial_objects(client: LlamaClient) -> None:
    steps = list(
        structgen.stream(
            [{"role": "user", "content": "Alice is 30 years old."}], Person, client=client, n_predict=64
        )
    )
    assert len(steps) >= 3
    assert steps[-1].complete and isinstance(steps[-1].value, Person)
    assert all(not s.complete for s in steps[:-1])
    assert len(steps[0].text) < len(steps[-1].text)


def test_server_rejecting_grammar_is_typed(client: LlamaClient) -> None:
    from structgen.client import GrammarRejectedError

    with pytest.raises(GrammarRejectedError):
        client.completion("x", grammar="root ::= nope", n_predict=1)
