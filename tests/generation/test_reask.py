"""The re-ask path, deterministically, against a local fake server (a real model won't fail on demand)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, field_validator
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import structgen
from structgen.client import LlamaClient


class Person(BaseModel):
    name: str
    age: int

    @field_validator("name")
    @classmethod
    def capitalised(cls, value: str) -> str:
        if not value[:1].isupper():
            raise ValueError("name must start with a capital letter")
        return value


def _answer(content: str, stop_type: str = "eos", predicted: int = 12) -> dict[str, Any]:
    return {
        "content": content,
        "stop": True,
        "stop_type": stop_type,
        "id_slot": 0,
        "tokens_predicted": predicted,
        "tokens_evaluated": 20,
        "timings": {"predicted_n": predicted},
    }


class Script:
    """Serves the given /completion answers in order and records each request body."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(json.loads(request.data))
        return Response(json.dumps(self.answers[len(self.requests) - 1]), content_type="application/json")


def _client(httpserver: HTTPServer, script: Script) -> LlamaClient:
    httpserver.expect_request("/completion", method="POST").respond_with_handler(script)
    return LlamaClient(httpserver.url_for("/"))


def test_second_prompt_carries_the_error_and_result_is_valid(httpserver: HTTPServer) -> None:
    script = Script([_answer('{"name": "alice", "age": 30}'), _answer('{"name": "Alice", "age": 30}')])
    result = structgen.generate_result("Who? ", Person, client=_client(httpserver, script))
    assert result.value == Person(name="Alice", age=30)
    assert len(result.attempts) == 2
    second_prompt = script.requests[1]["prompt"]
    assert '{"name": "alice", "age": 30}' in second_prompt
    assert "name must start with a capital letter" in second_prompt
    assert script.requests[0]["grammar"] == script.requests[1]["grammar"]
    assert result.tokens_predicted == 24


def test_retries_run_out_with_every_attempt(httpserver: HTTPServer) -> None:
    script = Script([_answer('{"name": "bob", "age": 1}')] * 3)
    with pytest.raises(structgen.ValidationFailedError) as info:
        structgen.generate("Who? ", Person, client=_client(httpserver, script), max_retries=2)
    assert len(info.value.attempts) == 3 and len(script.requests) == 3
    assert all("capital" in a.errors[0] for a in info.value.attempts)


def test_truncated_output_is_retried_with_more_room(httpserver: HTTPServer) -> None:
    script = Script([_answer('{"name": "Al', "limit"), _answer('{"name": "Al", "age": 2}')])
    result = structgen.generate_result("Who? ", Person, client=_client(httpserver, script), n_predict=8)
    assert result.value.name == "Al"
    assert script.requests[1]["n_predict"] == 16
    assert script.requests[1]["prompt"] == "Who? "


def test_truncated_every_time_is_reported_as_truncated(httpserver: HTTPServer) -> None:
    script = Script([_answer('{"name": "Al', "limit")] * 2)
    with pytest.raises(structgen.OutputTruncatedError):
        structgen.generate("Who? ", Person, client=_client(httpserver, script), max_retries=1)


def test_not_json_is_an_error_naming_the_cause(httpserver: HTTPServer) -> None:
    script = Script([_answer("not json")] * 1)
    with pytest.raises(structgen.ValidationFailedError, match="not valid JSON"):
        structgen.generate("Who? ", Person, client=_client(httpserver, script), max_retries=0)


def test_messages_use_the_server_template(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/apply-template", method="POST").respond_with_json({"prompt": "<T>hi</T>"})
    script = Script([_answer('{"name": "Ann", "age": 5}')])
    value = structgen.generate(
        [{"role": "user", "content": "hi"}], Person, client=_client(httpserver, script)
    )
    assert value.age == 5
    assert script.requests[0]["prompt"] == "<T>hi</T>"


def test_classify_gives_one_of_the_labels(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/apply-template", method="POST").respond_with_json({"prompt": "p"})
    script = Script([_answer('"negative"')])
    label = structgen.classify("bad", ["positive", "negative"], client=_client(httpserver, script))
    assert label == "negative"
    assert "positive" in script.requests[0]["grammar"] and "negative" in script.requests[0]["grammar"]


def test_fn_prompt_without_server() -> None:
    @structgen.fn
    def capital(country: str) -> str:
        """The capital city of {country}."""

    messages = capital.prompt("France")
    assert messages[-1]["content"] == "The capital city of France."
    assert "capital" in messages[0]["content"]


def test_server_down_is_a_typed_client_error() -> None:
    from structgen.client import ClientError, RetryPolicy

    client = LlamaClient("http://127.0.0.1:9", retry=RetryPolicy(retries=1, backoff=0.001, max_backoff=0.01))
    with pytest.raises(ClientError):
        structgen.generate("Who? ", Person, client=client)


def test_server_rejecting_the_grammar_is_typed(httpserver: HTTPServer) -> None:
    from structgen.client import GrammarRejectedError

    httpserver.expect_request("/completion", method="POST").respond_with_json(
        {
            "error": {
                "code": 400,
                "message": "Failed to initialize samplers: failed to parse grammar",
                "type": "invalid_request_error",
            }
        },
        status=400,
    )
    with pytest.raises(GrammarRejectedError):
        structgen.generate("Who? ", Person, client=LlamaClient(httpserver.url_for("/")))


def test_a_type_the_compiler_cannot_take_is_a_schema_error() -> None:
    with pytest.raises(structgen.SchemaError):
        structgen.generate("Who? ", object(), client=LlamaClient("http://127.0.0.1:9"))
