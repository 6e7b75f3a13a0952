"""Wrong arguments to the generation API fail at once, before any request, with an ArgumentError (issue 13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import structgen
from structgen import ArgumentError
from structgen.client import LlamaClient

NOWHERE = LlamaClient("http://127.0.0.1:9", retry=0)


class Person(BaseModel):
    name: str


def test_classify_refuses_a_string_of_labels() -> None:
    with pytest.raises(ArgumentError, match="split a comma-separated string"):
        structgen.classify("x", "positive,negative", client=NOWHERE)
    for labels in (["only"], ["a", "a"]):
        with pytest.raises(ArgumentError, match="two or more different labels"):
            structgen.classify("x", labels, client=NOWHERE)


@pytest.mark.parametrize("output_type", [lambda x: x, None, "Person", Person(name="x")])
def test_extract_refuses_what_is_not_a_type(output_type: Any) -> None:
    with pytest.raises(ArgumentError, match="output type must be a type"):
        structgen.extract("Bob", output_type, client=NOWHERE)


def test_extract_refuses_a_text_that_is_not_a_string() -> None:
    with pytest.raises(ArgumentError, match="text must be a string"):
        structgen.extract(None, Person, client=NOWHERE)  # type: ignore[arg-type]


def test_unknown_sampling_names_are_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ArgumentError, match="unknown sampling option 'temprature': did you mean 'temperature'"
    ):
        structgen.generate("x", Person, client=NOWHERE, temprature=0.5)


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ArgumentError, match="max_retries"):
        structgen.generate("x", Person, client=NOWHERE, max_retries=-1)


def test_extra_options_pass_through_unchecked(httpserver: HTTPServer) -> None:
    bodies: list[dict[str, Any]] = []

    def answer(request: Request) -> Response:
        bodies.append(json.loads(request.data))
        data = {
            "content": '{"name": "Bob"}',
            "stop": True,
            "stop_type": "eos",
            "tokens_predicted": 5,
            "tokens_evaluated": 5,
        }
        return Response(json.dumps(data), content_type="application/json")

    httpserver.expect_request("/completion", method="POST").respond_with_handler(answer)
    client = LlamaClient(httpserver.url_for("/"))
    value = structgen.generate("x", Person, client=client, top_k=5, extra={"my_sampler": 1})
    assert value == Person(name="Bob")
    assert bodies[0]["top_k"] == 5 and bodies[0]["my_sampler"] == 1
