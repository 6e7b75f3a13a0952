"""Generation always finishes: a model that loops or never stops, played by a local fake server (a real
model will not do it on demand), is stopped, re-asked with loop-breaking sampling, or cut at the time budget;
the request given up is closed, so the server stops working on it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import structgen
from structgen.client import LlamaClient
from structgen.gbnf import Matcher
from structgen.generation import GenerationTimeoutError, Reason, RepetitionLoopError
from structgen.generation.pipeline import LOOP_BREAKING


class Contact(BaseModel):
    name: str
    phone: str | None


def _event(content: str, **extra: Any) -> bytes:
    return f"data: {json.dumps({'content': content, 'stop': False, **extra})}\n\n".encode()


def _final(predicted: int) -> bytes:
    body = {
        "content": "",
        "stop": True,
        "stop_type": "eos",
        "id_slot": 0,
        "tokens_predicted": predicted,
        "tokens_evaluated": 20,
    }
    return f"data: {json.dumps(body)}\n\n".encode()


class FakeModel:
    """Answers each /completion with the next script: a list of pieces, then forever ``endless`` (if set).

    Records every request body, and counts the streams the server saw the client walk away from.
    """

    def __init__(self, scripts: list[tuple[list[str], str | None]], delay: float = 0.0) -> None:
        self.scripts = scripts
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.abandoned = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        self.requests.append(json.loads(request.data))
        pieces, endless = self.scripts[min(len(self.requests), len(self.scripts)) - 1]

        def events() -> Iterator[bytes]:
            finished = False
            try:
                for piece in pieces:
                    yield _event(piece)
                    time.sleep(self.delay)
                while endless is not None:
                    yield _event(endless)
                    time.sleep(self.delay)
                finished = True
                yield _final(len(pieces))
            finally:
                if not finished:
                    with self.lock:
                        self.abandoned += 1

        return Response(events(), content_type="text/event-stream")


def _client(httpserver: HTTPServer, model: FakeModel) -> LlamaClient:
    httpserver.expect_request("/completion", method="POST").respond_with_handler(model)
    return LlamaClient(httpserver.url_for("/").rstrip("/"), timeout=(2.0, 10.0))


def _wait_for(condition: Any, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


LOOPING = (['{"name": "Ann", ', '"phone": "+56 123 456 1234', ", 98765"], ", 12345")


def test_a_model_repeating_forever_is_stopped_and_the_loop_named(httpserver: HTTPServer) -> None:
    model = FakeModel([LOOPING])
    started = time.monotonic()
    with pytest.raises(RepetitionLoopError) as info:
        structgen.generate("Who? ", Contact, client=_client(httpserver, model), timeout=30)
    elapsed = time.monotonic() - started
    error = info.value
    assert elapsed < 30
    assert '/phone: "12345, " repeated' in str(error)
    assert [a.reason for a in error.attempts] == [Reason.LOOP] * 3
    assert all(a.loop is not None and a.loop.pointer == "/phone" for a in error.attempts)
    assert error.partial.startswith('{"name": "Ann", "phone": "+56 123 456 1234, 98765, 12345')
    assert _wait_for(lambda: model.abandoned == 3)  # each looping request was closed, not read to its end


def test_the_retry_after_a_loop_says_what_repeated_and_breaks_it_with_sampling(
    httpserver: HTTPServer,
) -> None:
    valid = (['{"name": "Ann", ', '"phone": "+56 123 456 1234"}'], None)
    model = FakeModel([LOOPING, valid])
    result = structgen.generate_result("Who? ", Contact, client=_client(httpserver, model), timeout=30)
    assert result.value == Contact(name="Ann", phone="+56 123 456 1234")
    assert [a.reason for a in result.attempts] == [Reason.LOOP, Reason.VALID]
    first, second = model.requests
    assert first["temperature"] == 0.0 and "dry_multiplier" not in first and "repeat_penalty" not in first
    for key, value in LOOP_BREAKING.items():
        assert second[key] == value
    assert second["n_predict"] == first["n_predict"]  # a loop is not answered with more room
    assert "/phone" in second["prompt"] and '"12345,"' in second["prompt"]
    assert (
        result.attempts[0].tokens_predicted > 0
        and result.tokens_predicted > result.attempts[1].tokens_predicted
    )


def test_the_callers_own_sampling_wins_on_the_retry(httpserver: HTTPServer) -> None:
    valid = (['{"name": "Ann", "phone": null}'], None)
    model = FakeModel([LOOPING, valid])
    structgen.generate(
        "Who? ", Contact, client=_client(httpserver, model), repeat_penalty=1.0, temperature=0.7
    )
    assert model.requests[1]["repeat_penalty"] == 1.0 and model.requests[1]["temperature"] == 0.7
    assert model.requests[1]["dry_multiplier"] == LOOP_BREAKING["dry_multiplier"]


def test_a_cut_off_output_that_loops_is_a_loop_not_a_reason_for_more_tokens(httpserver: HTTPServer) -> None:
    looping = '{"name": "Ann", "phone": "1' + "0" * 200
    answers = [
        {"content": looping, "stop": True, "stop_type": "limit", "tokens_predicted": 64},
        {
            "content": '{"name": "Ann", "phone": "10"}',
            "stop": True,
            "stop_type": "eos",
            "tokens_predicted": 9,
        },
    ]
    bodies: list[dict[str, Any]] = []

    def answer(request: Request) -> Response:
        bodies.append(json.loads(request.data))
        return Response(json.dumps(answers[len(bodies) - 1]), content_type="application/json")

    httpserver.expect_request("/completion", method="POST").respond_with_handler(answer)
    result = structgen.generate_result(
        "Who? ", Contact, client=LlamaClient(httpserver.url_for("/")), n_predict=64
    )
    assert [a.reason for a in result.attempts] == [Reason.LOOP, Reason.VALID]
    assert result.attempts[0].loop is not None and result.attempts[0].loop.unit == "0"
    assert bodies[1]["n_predict"] == 64


def test_a_model_that_never_stops_is_cut_at_the_time_budget(httpserver: HTTPServer) -> None:
    counting = ([f'{{"name": "{"x" * 3}", "phone": "'], None)
    pieces = [str(i) for i in range(100_000)]
    model = FakeModel([(counting[0] + pieces, None)], delay=0.01)
    started = time.monotonic()
    with pytest.raises(GenerationTimeoutError) as info:
        structgen.generate(
            "Who? ", Contact, client=_client(httpserver, model), timeout=1.5, max_string_length=None
        )
    elapsed = time.monotonic() - started
    assert elapsed < 10
    error = info.value
    assert isinstance(error, TimeoutError)
    assert [a.reason for a in error.attempts] == [Reason.TIMED_OUT]
    assert error.partial.startswith('{"name": "xxx", "phone": "0123')
    assert "time budget of 1.5 s" in str(error)
    assert 0 < model.requests[0]["t_max_predict_ms"] <= 1500
    assert _wait_for(lambda: model.abandoned == 1)


def test_a_silent_server_is_cut_at_the_time_budget(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def silent(request: Request) -> Response:
        def events() -> Iterator[bytes]:
            yield b": waiting\n\n"
            release.wait(20)

        return Response(events(), content_type="text/event-stream")

    httpserver.expect_request("/completion", method="POST").respond_with_handler(silent)
    client = LlamaClient(httpserver.url_for("/").rstrip("/"), timeout=(2.0, 60.0))
    started = time.monotonic()
    try:
        with pytest.raises(GenerationTimeoutError):
            structgen.generate("Who? ", Contact, client=client, timeout=1.0)
        assert time.monotonic() - started < 10
    finally:
        release.set()


def test_stream_stops_a_loop_too(httpserver: HTTPServer) -> None:
    model = FakeModel([LOOPING])
    with pytest.raises(RepetitionLoopError, match="/phone"):
        for _ in structgen.stream("Who? ", Contact, client=_client(httpserver, model)):
            pass
    assert _wait_for(lambda: model.abandoned == 1)


def test_the_budget_covers_every_retry(httpserver: HTTPServer) -> None:
    slow_invalid = (
        ['{"name": ', '"Ann", ', '"phone": 5}'],
        None,
    )  # not a string: the grammar is ignored here
    model = FakeModel([slow_invalid], delay=0.4)
    with pytest.raises(GenerationTimeoutError) as info:
        structgen.generate("Who? ", Contact, client=_client(httpserver, model), timeout=2.0, max_retries=10)
    reasons = [a.reason for a in info.value.attempts]
    assert Reason.INVALID in reasons and len(reasons) < 11


def test_label_timeout_ends_each_record_within_its_budget(
    httpserver: HTTPServer, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from structgen.cli import main

    model = FakeModel([(['{"name": "Ann", "phone": "'] + [str(i) for i in range(100_000)], None)], delay=0.01)
    httpserver.expect_request("/completion", method="POST").respond_with_handler(model)
    httpserver.expect_request("/health").respond_with_json({"status": "ok"})
    httpserver.expect_request("/props").respond_with_json(
        {"total_slots": 1, "default_generation_settings": {}}
    )
    httpserver.expect_request("/apply-template", method="POST").respond_with_json({"prompt": "p"})
    records = tmp_path / "in.jsonl"
    records.write_text('{"text": "Ann, no phone"}\n{"text": "Bob, 555-0100"}\n', encoding="utf-8")
    schema = tmp_path / "contact.json"
    schema.write_text(json.dumps(Contact.model_json_schema()), encoding="utf-8")
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    argv = [
        "label",
        str(records),
        "--schema",
        str(schema),
        "-o",
        str(out),
        "--errors",
        str(errors),
        "--url",
        httpserver.url_for("/").rstrip("/"),
        "--timeout",
        "1",
        "--max-retries",
        "5",
        "-j",
        "1",
    ]
    stderr = io.StringIO()
    assert main(argv, stdout=io.StringIO(), stderr=stderr) == 1
    failures = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert len(failures) == 2 and all("time budget of 1 s" in json.dumps(f) for f in failures)
    assert len(model.requests) == 2 and all(r["t_max_predict_ms"] <= 1000 for r in model.requests)
    assert _wait_for(lambda: model.abandoned == 2)
    usage = io.StringIO()
    assert main([*argv[:-4], "--timeout", "0"], stdout=io.StringIO(), stderr=usage) == 2
    assert "--timeout: must be more than 0" in usage.getvalue()


def test_a_chat_template_that_never_comes_is_cut_at_the_budget(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def never(request: Request) -> Response:
        release.wait(20)
        return Response(json.dumps({"prompt": "p"}), content_type="application/json")

    httpserver.expect_request("/apply-template", method="POST").respond_with_handler(never)
    client = LlamaClient(httpserver.url_for("/").rstrip("/"), timeout=(2.0, 60.0))
    try:
        with pytest.raises(GenerationTimeoutError) as info:
            structgen.generate([{"role": "user", "content": "Who?"}], Contact, client=client, timeout=1.0)
        assert info.value.attempts == ()
    finally:
        release.set()


class Shopping(BaseModel):
    items: list[str]


def test_after_items_written_again_the_last_retry_may_write_each_item_once(httpserver: HTTPServer) -> None:
    looping = (['{"items": ["milk", "eggs", '], '"bread", "milk", ')
    model = FakeModel([looping, looping, (['{"items": ["milk", "eggs", "bread"]}'], None)])
    result = structgen.generate_result("List: ", Shopping, client=_client(httpserver, model), timeout=30)
    assert result.value == Shopping(items=["milk", "eggs", "bread"])
    first, second, third = result.attempts
    assert first.reason is Reason.LOOP and first.loop is not None and first.loop.items == 4
    assert first.restriction is None and second.restriction is None  # the first retry is as free
    assert third.restriction == "maxItems: at most 4 items in each array, after a loop in /items"
    four, five = json.dumps({"items": ["a"] * 4}), json.dumps({"items": ["a"] * 5})
    assert Matcher(model.requests[1]["grammar"]).fullmatch(five)
    assert Matcher(model.requests[2]["grammar"]).fullmatch(four)
    assert not Matcher(model.requests[2]["grammar"]).fullmatch(five)


def test_when_every_attempt_writes_items_again_the_last_keeps_those_before_the_repetition(
    httpserver: HTTPServer,
) -> None:
    model = FakeModel([(['{"items": ["milk", "eggs", '], '"bread", "jam", ')])
    result = structgen.generate_result("List: ", Shopping, client=_client(httpserver, model), timeout=30)
    assert result.value == Shopping(items=["milk", "eggs", "bread", "jam"])
    assert [a.reason for a in result.attempts] == [Reason.LOOP, Reason.LOOP, Reason.TRIMMED]
    last = result.last
    assert last.ok and last.loop is not None and last.loop.pointer == "/items" and last.loop.items == 4
    assert last.raw.startswith('{"items": ["milk", "eggs", "bread", "jam", "bread", "jam"')  # as written
    assert _wait_for(lambda: model.abandoned == 3)


class Numbers(BaseModel):
    items: list[str]
    total: int


def test_items_before_a_repetition_that_do_not_validate_are_not_a_value(httpserver: HTTPServer) -> None:
    model = FakeModel([(['{"items": ["milk", '], '"bread", "jam", ')])
    with pytest.raises(RepetitionLoopError) as info:
        structgen.generate("List: ", Numbers, client=_client(httpserver, model), timeout=30)
    assert [a.reason for a in info.value.attempts] == [Reason.LOOP] * 3  # "total" is missing
