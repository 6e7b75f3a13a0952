"""Python types compile through pydantic: what pydantic serialises matches, what it rejects does not."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from structgen.errors import UnsupportedSchemaError
from structgen.gbnf import Matcher
from structgen.schema import compile


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    street: str
    zip_code: Annotated[str, Field(pattern=r"^[0-9]{5}$")]


class Person(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=30)]
    age: int = Field(ge=0, le=150)
    score: float = Field(gt=0, lt=1)
    color: Color
    level: Level
    tags: list[str] = []
    address: Address | None = None
    kind: Literal["a", "b"] = "a"


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Stamped(BaseModel):
    at: datetime.datetime
    day: datetime.date
    id: uuid.UUID
    price: decimal.Decimal


def _matches(tp: Any, value: Any) -> bool:
    compiled = compile(tp)
    text = TypeAdapter(tp).dump_json(value).decode()
    return Matcher(compiled.grammar).fullmatch(text)


def _accepts_text(tp: Any, text: str) -> bool:
    return Matcher(compile(tp).grammar).fullmatch(text)


PERSON = Person(
    name="Ann",
    age=30,
    score=0.5,
    color=Color.RED,
    level=Level.HIGH,
    tags=["x"],
    address=Address(street="Main", zip_code="12345"),
)

VALUES: list[tuple[Any, Any]] = [
    (Person, PERSON),
    (Tree, Tree(value=1, children=[Tree(value=2), Tree(value=3, children=[Tree(value=4)])])),
    (Point, Point(1, 2)),
    (Movie, Movie(title="Up", year=2009)),
    (Color, Color.GREEN),
    (Level, Level.LOW),
    (Literal["x", 3], 3),
    (Union[int, str], "a"),  # noqa: UP007 - typing.Union itself is what is tested
    (Optional[int], None),  # noqa: UP045
    (list[int], [1, 2, 3]),
    (dict[str, float], {"a": 1.5}),
    (tuple[int, str], (1, "a")),
    (set[Color], {Color.RED}),
    (Annotated[int, Field(multiple_of=5)], 15),
    (
        Stamped,
        Stamped(
            at=datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
            day=datetime.date(2024, 2, 29),
            id=uuid.UUID(int=7),
            price=decimal.Decimal("1.25"),
        ),
    ),
]


@pytest.mark.parametrize("tp,value", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_pydantic_output_matches(tp: Any, value: Any) -> None:
    assert _matches(tp, value)


@pytest.mark.parametrize(
    "tp,text",
    [
        (Person, json.dumps({**json.loads(PERSON.model_dump_json()), "age": -1})),
        (Person, json.dumps({**json.loads(PERSON.model_dump_json()), "name": ""})),
        (Person, json.dumps({**json.loads(PERSON.model_dump_json()), "score": 1})),
        (Person, json.dumps({**json.loads(PERSON.model_dump_json()), "color": "blue"})),
        (Person, json.dumps({**json.loads(PERSON.model_dump_json()), "level": 3})),
        (Person, json.dumps({k: v for k, v in json.loads(PERSON.model_dump_json()).items() if k != "name"})),
        (Tree, '{"value": 1, "children": [{"value": "x"}]}'),
        (Point, '{"x": 1}'),
        (Literal["x", 3], '"y"'),
        (tuple[int, str], '[1, "a", 2]'),
        (Annotated[int, Field(multiple_of=5)], "7"),
        (
            Stamped,
            (
                '{"at": "soon", "day": "2024-02-29", "id": "00000000-0000-0000-0000-000000000007", '
                '"price": "1.25"}'
            ),
        ),
    ],
)
def test_values_pydantic_rejects_do_not_match(tp: Any, text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(tp).validate_json(text)
    assert not _accepts_text(tp, text)


def test_recursive_model_compiles_to_recursive_rule() -> None:
    grammar = compile(Tree).grammar
    assert "Tree" in grammar or "root" in grammar
    assert _accepts_text(Tree, '{"value": 1, "children": [{"value": 2, "children": []}]}')


def test_a_type_pydantic_cannot_describe_is_refused() -> None:
    with pytest.raises(UnsupportedSchemaError):
        compile(Any.__class__)  # not a type pydantic knows
