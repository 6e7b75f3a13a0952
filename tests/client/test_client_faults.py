"""Faults a real server will not produce on demand, from a local fake server: each gives its typed error."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator, Mapping

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from structgen.client import (
    AuthenticationError,
    ClientTimeoutError,
    ConnectTimeoutError,
    GrammarRejectedError,
    LlamaClient,
    NotSupportedError,
    ResponseFormatError,
    RetryPolicy,
    SchemaRejectedError,
    ServerError,
    ServerUnavailableError,
    StopType,
    StreamInterruptedError,
)
from structgen.errors import StructgenError

FAST_RETRY = RetryPolicy(retries=2, backoff=0.001, max_backoff=0.01)

FINAL = {"content": "", "stop": True, "id_slot": 0, "stop_type": "eos", "tokens_predicted": 2}
GRAMMAR_ERROR = {
    "error": {
        "code": 400,
        "message": "Failed to initialize samplers: failed to parse grammar",
        "type": "invalid_request_error",
    }
}


def sse(*events: Mapping[str, object]) -> str:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- error statuses ----------------------------------------------------------------------------------


def test_500_with_error_body_gives_server_error_with_status_and_message(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    body = {"error": {"code": 500, "message": "out of memory in ggml", "type": "server_error"}}
    httpserver.expect_request("/completion", method="POST").respond_with_json(body, status=500)
    with pytest.raises(ServerError) as info:
        fake.completion("hi", n_predict=4)
    assert info.value.status == 500
    assert info.value.message == "out of memory in ggml"
    assert info.value.error_type == "server_error"
    assert isinstance(info.value, StructgenError)
    assert len(httpserver.log) == 1  # a 500 is not retried


def test_500_with_plain_text_body_keeps_the_text(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/completion").respond_with_data("internal failure", status=500)
    with pytest.raises(ServerError, match="internal failure") as info:
        fake.completion("hi")
    assert info.value.status == 500


def test_400_failed_to_parse_grammar_is_grammar_rejected(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/completion").respond_with_json(GRAMMAR_ERROR, status=400)
    with pytest.raises(GrammarRejectedError) as info:
        fake.completion("hi", grammar="root ::= ")
    assert info.value.status == 400
    assert "failed to parse grammar" in info.value.message


def test_grammar_rejection_before_a_stream_raises_at_the_call(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    httpserver.expect_request("/completion").respond_with_json(GRAMMAR_ERROR, status=400)
    with pytest.raises(GrammarRejectedError):
        fake.stream("hi", grammar="root ::= ")


def test_json_schema_conversion_failure_is_schema_rejected(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = {
        "error": {
            "code": 400,
            "message": '"json_schema": Unrecognized schema',
            "type": "invalid_request_error",
        }
    }
    httpserver.expect_request("/completion").respond_with_json(body, status=400)
    with pytest.raises(SchemaRejectedError):
        fake.completion("hi", json_schema={"type": "nonsense"})


def test_401_is_authentication_error(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = {"error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}}
    httpserver.expect_request("/completion").respond_with_json(body, status=401)
    with pytest.raises(AuthenticationError, match="Invalid API Key"):
        fake.completion("hi")


def test_501_is_not_supported(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = {
        "error": {
            "code": 501,
            "message": "Infill is not supported by this model",
            "type": "not_supported_error",
        }
    }
    httpserver.expect_request("/infill").respond_with_json(body, status=501)
    with pytest.raises(NotSupportedError):
        fake.infill("def f(", "):\n")


# -- retries -----------------------------------------------------------------------------------------


def test_503_loading_then_200_is_retried(httpserver: HTTPServer, fake: LlamaClient) -> None:
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    httpserver.expect_oneshot_request("/completion").respond_with_json(loading, status=503)
    httpserver.expect_request("/completion").respond_with_json({**FINAL, "content": "ok"})
    assert fake.completion("hi").content == "ok"
    assert [entry[1].status_code for entry in httpserver.log] == [503, 200]


def test_503_that_persists_gives_server_unavailable_after_the_retries(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    httpserver.expect_request("/completion").respond_with_json(loading, status=503)
    with pytest.raises(ServerUnavailableError, match="Loading model") as info:
        fake.completion("hi")
    assert info.value.status == 503
    assert len(httpserver.log) == 1 + FAST_RETRY.retries


def test_retries_can_be_turned_off(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/completion").respond_with_json(
        {"error": {"message": "Loading model"}}, status=503
    )
    with LlamaClient(httpserver.url_for(""), retry=0) as c, pytest.raises(ServerUnavailableError):
        c.completion("hi")
    assert len(httpserver.log) == 1


def test_connection_refused_gives_server_unavailable_after_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    with LlamaClient(f"http://127.0.0.1:{closed_port()}", retry=RetryPolicy(retries=3, backoff=0.5)) as c:
        monkeypatch.setattr(c._transport, "sleep", waits.append)
        with pytest.raises(ServerUnavailableError, match="cannot connect") as info:
            c.completion("hi")
    assert info.value.status is None
    assert waits == [0.5, 1.0, 2.0]  # exponential backoff, one wait per retry


def test_retry_delay_doubles_up_to_the_cap_and_honours_short_retry_after() -> None:
    policy = RetryPolicy(retries=10, backoff=0.25, max_backoff=1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.0, 1.0]
    assert policy.delay(1, retry_after=0.75) == 0.75
    assert policy.delay(1, retry_after=60.0) == 0.25  # an over-long Retry-After falls back to backoff


def test_a_server_error_is_not_retried(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/tokenize").respond_with_json({"error": {"message": "boom"}}, status=500)
    with pytest.raises(ServerError):
        fake.tokenize("x")
    assert len(httpserver.log) == 1


# -- timeouts and broken bodies ----------------------------------------------------------------------


def test_response_slower_than_the_timeout_gives_client_timeout(httpserver: HTTPServer) -> None:
    def slow(_: Request) -> Response:
        time.sleep(0.5)
        return Response(json.dumps(FINAL), content_type="application/json")

    httpserver.expect_request("/completion").respond_with_handler(slow)
    client = LlamaClient(httpserver.url_for(""), timeout=(1.0, 0.1), retry=FAST_RETRY)
    with client, pytest.raises(ClientTimeoutError, match="read") as info:
        client.completion("hi")
    assert not isinstance(info.value, ConnectTimeoutError)  # the request reached the server
    assert len(httpserver.log) <= 1  # a read timeout is never retried


def test_a_connect_timeout_is_its_own_class_and_means_the_server_is_down() -> None:
    from urllib3.exceptions import ConnectTimeoutError as Urllib3ConnectTimeout

    from structgen.client.transport import map_exception
    from structgen.label.pool import is_server_down

    raised = requests.ConnectTimeout(Urllib3ConnectTimeout(None, "connect timeout=0.1"))
    error = map_exception(raised, "http://127.0.0.1:9")
    assert isinstance(error, ConnectTimeoutError) and isinstance(error, ClientTimeoutError)
    assert is_server_down(error)
    read = map_exception(requests.ReadTimeout("read timeout=0.1"), "http://127.0.0.1:9")
    assert type(read) is ClientTimeoutError and not is_server_down(read)


def test_non_json_body_gives_response_format_error(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/completion").respond_with_data(
        "<html>gateway</html>", content_type="text/html"
    )
    with pytest.raises(ResponseFormatError, match="not JSON") as info:
        fake.completion("hi")
    assert info.value.body == "<html>gateway</html>"


def test_json_of_the_wrong_shape_gives_response_format_error(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    httpserver.expect_request("/completion").respond_with_json({"content": 42, "stop": True})
    with pytest.raises(ResponseFormatError, match="content"):
        fake.completion("hi")
    httpserver.expect_request("/detokenize").respond_with_json(["not", "an", "object"])
    with pytest.raises(ResponseFormatError):
        fake.detokenize([1, 2])


def test_several_results_for_a_list_of_prompts_are_reported(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    httpserver.expect_request("/completion").respond_with_json([FINAL, FINAL])
    with pytest.raises(ResponseFormatError, match="several prompts"):
        fake.completion(["a", "b"])


# -- streams -----------------------------------------------------------------------------------------


def test_stream_yields_deltas_and_a_final_summary(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = sse(
        {"content": "Hel", "tokens": [1], "stop": False, "id_slot": 1},
        {"content": "lo", "tokens": [2], "stop": False, "id_slot": 1},
        {**FINAL, "id_slot": 1, "timings": {"prompt_n": 5, "predicted_n": 2}},
    )
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    with fake.stream("hi") as stream:
        assert next(iter(stream)).content == "Hel"
        assert stream.text == "Hel"
        assert [d.content for d in stream] == ["lo"]  # a second loop resumes
    assert stream.final.content == "Hello"
    assert stream.final.tokens == [1, 2]
    assert stream.final.slot_id == 1
    assert stream.final.stop_type is StopType.EOS
    sent = httpserver.log[0][0].get_json()
    assert sent["stream"] is True and sent["prompt"] == "hi"


def test_stream_cut_mid_event_raises(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = sse({"content": "Hel", "stop": False}) + 'data: {"content": "lo", "sto'
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    stream = fake.stream("hi")
    seen: list[str] = []
    with pytest.raises(StreamInterruptedError, match="middle of an event"):
        for delta in stream:
            seen.append(delta.content)
    assert seen == ["Hel"]
    with pytest.raises(RuntimeError):
        stream.final  # noqa: B018


def test_stream_ending_between_events_without_final_raises(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = sse({"content": "Hel", "stop": False})
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    with pytest.raises(StreamInterruptedError, match="before the server's final event"):
        fake.stream("hi").read()


def test_connection_dropped_mid_stream_raises(raw_server: Callable[[bytes], str]) -> None:
    event = b'data: {"content": "Hel", "stop": false}\n\n'
    payload = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 4096\r\n\r\n"
        + event
        + b'data: {"con'
    )
    with LlamaClient(raw_server(payload), retry=0, timeout=(2.0, 2.0)) as c:
        stream = c.stream("hi")
        with pytest.raises(StreamInterruptedError):
            stream.read()
    assert stream.text == "Hel"


def test_error_event_inside_a_stream_raises_server_error(httpserver: HTTPServer, fake: LlamaClient) -> None:
    error = {"error": {"code": 500, "message": "decode failed", "type": "server_error"}}
    body = sse({"content": "a", "stop": False}, error)
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    with pytest.raises(ServerError, match="decode failed") as info:
        fake.stream("hi").read()
    assert info.value.status == 500


def test_old_style_error_line_inside_a_stream_raises(httpserver: HTTPServer, fake: LlamaClient) -> None:
    body = 'data: {"content": "a", "stop": false}\n\nerror: {"content": "slot unavailable"}\n\n'
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    with pytest.raises(ServerError, match="slot unavailable"):
        fake.stream("hi").read()


def test_non_json_event_in_stream_gives_response_format_error(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    httpserver.expect_request("/completion").respond_with_data(
        "data: oops\n\n", content_type="text/event-stream"
    )
    with pytest.raises(ResponseFormatError, match="not JSON"):
        fake.stream("hi").read()


def test_stream_answered_with_plain_json_still_works(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/infill").respond_with_json({**FINAL, "content": "x + 1"})
    stream = fake.infill_stream("return ", "\n")
    assert [d.content for d in stream] == ["x + 1"]
    assert stream.final.content == "x + 1"


def test_stream_read_with_a_stalled_server_times_out(httpserver: HTTPServer) -> None:
    def stall(_: Request) -> Response:
        def body() -> Iterator[str]:
            yield 'data: {"content": "a", "stop": false}\n\n'
            time.sleep(0.5)
            yield sse(FINAL)

        return Response(body(), content_type="text/event-stream")

    httpserver.expect_request("/completion").respond_with_handler(stall)
    with LlamaClient(httpserver.url_for(""), timeout=(1.0, 0.1)) as c, pytest.raises(ClientTimeoutError):
        c.stream("hi").read()


# -- health --------------------------------------------------------------------------------------------


def test_health_reports_loading_without_raising(httpserver: HTTPServer, fake: LlamaClient) -> None:
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    httpserver.expect_request("/health").respond_with_json(loading, status=503)
    health = fake.health()
    assert not health.ok and health.status == "Loading model" and health.http_status == 503
    assert len(httpserver.log) == 1


def test_wait_until_ready_polls_until_the_model_is_loaded(httpserver: HTTPServer, fake: LlamaClient) -> None:
    loading = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}
    httpserver.expect_oneshot_request("/health").respond_with_json(loading, status=503)
    httpserver.expect_oneshot_request("/health").respond_with_json(loading, status=503)
    httpserver.expect_request("/health").respond_with_json({"status": "ok"})
    assert fake.wait_until_ready(timeout=10, interval=0.01).ok
    assert len(httpserver.log) == 3


def test_wait_until_ready_gives_up_after_the_timeout() -> None:
    client = LlamaClient(f"http://127.0.0.1:{closed_port()}")
    with client, pytest.raises(ServerUnavailableError, match="not ready within 0.2s"):
        client.wait_until_ready(timeout=0.2, interval=0.05)


# -- session behaviour: API key, cookies, slot reuse -----------------------------------------------


def test_api_key_is_sent_as_bearer_and_never_logged(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-very-secret-123"
    httpserver.expect_request("/tokenize", headers={"Authorization": f"Bearer {secret}"}).respond_with_json(
        {"tokens": [1, 2]}
    )
    caplog.set_level(logging.DEBUG)
    with LlamaClient(httpserver.url_for(""), api_key=secret) as c:
        assert c.tokenize("ab") == [1, 2]
        assert secret not in repr(c) and "***" in repr(c)
    assert caplog.records, "the client logs its requests at DEBUG"
    assert all(secret not in r.getMessage() for r in caplog.records)


def test_cookies_set_by_the_server_are_sent_back(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_oneshot_request("/completion").respond_with_response(
        Response(
            json.dumps(FINAL), content_type="application/json", headers={"Set-Cookie": "lb=node-7; Path=/"}
        )
    )
    httpserver.expect_request("/completion", headers={"Cookie": "lb=node-7"}).respond_with_json(FINAL)
    fake.completion("one")
    fake.completion("two")
    httpserver.check_assertions()
    assert httpserver.log[1][1].status_code == 200


def test_conversation_passes_the_returned_slot_under_both_names(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    old_style = {"content": "x", "stop": True, "slot_id": 5, "stopped_eos": True}
    httpserver.expect_request("/completion").respond_with_json(old_style)
    chat = fake.conversation()
    chat.completion("User: hi\nAssistant:")
    chat.completion("User: hi\nAssistant: x\nUser: more\nAssistant:")
    first, second = (entry[0].get_json() for entry in httpserver.log)
    assert first["id_slot"] == first["slot_id"] == -1
    assert second["id_slot"] == second["slot_id"] == 5
    assert first["cache_prompt"] is True and second["cache_prompt"] is True
    assert chat.slot_id == 5


def test_conversation_stream_takes_the_slot_from_the_stream(
    httpserver: HTTPServer, fake: LlamaClient
) -> None:
    body = sse({"content": "a", "stop": False, "id_slot": 2}, {**FINAL, "id_slot": 2})
    httpserver.expect_request("/completion").respond_with_data(body, content_type="text/event-stream")
    chat = fake.conversation()
    assert "".join(d.content for d in chat.stream("hi")) == "a"
    assert chat.slot_id == 2


def test_base_url_with_a_path_prefix_is_kept(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/vm/abc/detokenize").respond_with_json({"content": "hi"})
    with LlamaClient(httpserver.url_for("/vm/abc/")) as c:
        assert c.detokenize([1]) == "hi"


def test_unknown_options_pass_through_unchanged(httpserver: HTTPServer, fake: LlamaClient) -> None:
    httpserver.expect_request("/completion").respond_with_json(FINAL)
    fake.completion([1, 2, "x"], temperature=0.0, tfs_z=0.9, extra={"n_cache_reuse": 256, "custom": [1]})
    sent = httpserver.log[0][0].get_json()
    assert sent["prompt"] == [1, 2, "x"] and sent["tfs_z"] == 0.9
    assert sent["custom"] == [1] and sent["n_cache_reuse"] == 256
    assert "id_slot" not in sent and sent["stream"] is False
