"""Parsing recorded responses of both server generations, the SSE parser, and request bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from structgen.client import (
    Completion,
    LlamaClient,
    ServerProps,
    ServerSentEvent,
    StopType,
    StreamInterruptedError,
    TokenPiece,
    iter_events,
)
from structgen.client.params import completion_body

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


# -- recorded responses --------------------------------------------------------------------------------


def test_old_server_completion_is_normalised() -> None:
    result = Completion.model_validate(load("completion_old.json"))
    assert result.content == " The capital of France is Paris."
    assert result.slot_id == 3
    assert result.stop_type is StopType.WORD and result.stopped_word
    assert not result.stopped_eos and not result.stopped_limit
    assert result.stopping_word == "\n"
    assert (result.tokens_evaluated, result.tokens_cached, result.tokens_predicted) == (16, 24, 8)
    assert result.timings is not None and result.timings.prompt_n == 4 and result.timings.cache_n is None
    assert result.prompt_tokens_processed == 4
    assert result.prompt_tokens_reused == 12
    first = result.completion_probabilities[0]
    assert first.token == " The" and first.prob == 0.91
    assert [c.token for c in first.top] == [" The", " Paris"]
    assert result.raw["slot_id"] == 3


def test_new_server_completion_is_normalised() -> None:
    raw = load("completion_new.json")
    result = Completion.model_validate(raw)
    assert result.content == raw["content"] and result.content
    assert result.slot_id == raw["id_slot"]
    assert result.stop_type.value == raw["stop_type"]
    assert result.stopped_word == (raw["stop_type"] == "word")
    assert result.tokens_evaluated == raw["tokens_evaluated"]
    assert result.timings is not None and result.timings.cache_n == raw["timings"]["cache_n"]
    assert result.prompt_tokens_processed == raw["timings"]["prompt_n"]
    assert len(result.completion_probabilities) == len(raw["completion_probabilities"]) > 0
    first, raw_first = result.completion_probabilities[0], raw["completion_probabilities"][0]
    assert first.token == raw_first["token"] and first.logprob == raw_first["logprob"]
    assert len(first.top) == len(raw_first["top_logprobs"])


@pytest.mark.parametrize("generation", ["old", "new"])
def test_recorded_stream_gives_deltas_and_summary(
    generation: str, httpserver: HTTPServer, fake: LlamaClient
) -> None:
    raw = (FIXTURES / f"stream_{generation}.sse").read_bytes()
    events = [json.loads(e.data) for e in iter_events([raw])]
    httpserver.expect_request("/completion").respond_with_data(raw, content_type="text/event-stream")
    with fake.stream("prompt") as stream:
        deltas = [d.content for d in stream]
    assert deltas == [e["content"] for e in events if not e["stop"]]
    final = stream.final
    assert final.content == "".join(deltas)
    assert final.slot_id == events[-1].get("id_slot", events[-1].get("slot_id"))
    assert final.stop_type is not StopType.NONE
    assert final.tokens_predicted == len(deltas)


def test_new_server_props_are_read() -> None:
    props = ServerProps.model_validate(load("props_new.json"))
    assert props.total_slots == 2
    assert props.n_ctx is not None and props.n_ctx > 0
    assert props.chat_template and "im_start" in props.chat_template


def test_old_server_props_are_read() -> None:
    props = ServerProps.model_validate({"assistant_name": "Assistant:", "user_name": "User:"})
    assert props.assistant_name == "Assistant:" and props.total_slots is None and props.n_ctx is None


def test_token_piece_of_invalid_utf8_is_bytes() -> None:
    assert TokenPiece.model_validate({"id": 198, "piece": [195]}).piece == b"\xc3"


# -- server-sent events --------------------------------------------------------------------------------

EVENT_DATA = st.lists(
    st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=20),
    min_size=1,
    max_size=3,
)


def encode(events: list[tuple[str, list[str]]], newline: str) -> bytes:
    out = ""
    for kind, lines in events:
        if kind != "message":
            out += f"event: {kind}{newline}"
        out += "".join(f"data: {line}{newline}" for line in lines)
        out += ": a comment" + newline + newline
    return out.encode()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)])]


@given(
    events=st.lists(st.tuples(st.sampled_from(["message", "error", "ping"]), EVENT_DATA), max_size=5),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_events_survive_any_chunking_and_line_ending(
    events: list[tuple[str, list[str]]], newline: str, cuts: list[int]
) -> None:
    data = encode(events, newline)
    expected = [ServerSentEvent(data="\n".join(lines), event=kind) for kind, lines in events]
    assert list(iter_events(split(data, cuts))) == expected


@given(events=st.lists(st.tuples(st.just("message"), EVENT_DATA), min_size=1, max_size=4), data=st.data())
def test_a_stream_cut_inside_an_event_raises(
    events: list[tuple[str, list[str]]], data: st.DataObject
) -> None:
    full = encode(events, "\n")
    boundaries = {i + 2 for i in range(len(full) - 1) if full[i : i + 2] == b"\n\n"}
    cut = data.draw(st.integers(min_value=1, max_value=len(full) - 1).filter(lambda n: n not in boundaries))
    with pytest.raises(StreamInterruptedError):
        list(iter_events([full[:cut]]))


def test_bom_comments_ids_and_multiline_data() -> None:
    raw = "\ufeffid: 7\nretry: 10\nunknown: x\ndata:a\ndata: b\n\n:keepalive\n\n".encode()
    assert list(iter_events([raw])) == [ServerSentEvent(data="a\nb", id="7")]


def test_multibyte_character_split_across_chunks() -> None:
    raw = 'data: {"content": "é"}\n\n'.encode()
    cut = raw.index("é".encode()) + 1
    assert [e.data for e in iter_events([raw[:cut], raw[cut:]])] == ['{"content": "é"}']


# -- request bodies -------------------------------------------------------------------------------------

PARAM_VALUES = st.one_of(st.none(), st.integers(-5, 5), st.floats(0, 2), st.booleans(), st.text(max_size=5))


@given(
    params=st.dictionaries(
        st.sampled_from(["temperature", "top_k", "stop", "grammar", "seed"]), PARAM_VALUES
    ),
    slot=st.one_of(st.none(), st.integers(-1, 7)),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in ("stream", "prompt")), st.integers()
    ),
    stream=st.booleans(),
)
def test_completion_body(
    params: dict[str, Any], slot: int | None, extra: dict[str, int], stream: bool
) -> None:
    body = completion_body("p", {**params, "slot": slot}, stream=stream, extra=extra)
    assert body["stream"] is stream
    assert body["prompt"] == "p"
    assert None not in body.values()
    if slot is None:
        assert "id_slot" not in body and "slot_id" not in body
    else:
        assert body["id_slot"] == body["slot_id"] == slot
    for key, value in extra.items():
        if key not in ("id_slot", "slot_id"):
            assert body[key] == value
    assert body["cache_prompt"] is extra.get("cache_prompt", True)


def test_cache_prompt_can_be_turned_off() -> None:
    assert completion_body([1, 2], {"cache_prompt": False}, stream=False)["cache_prompt"] is False
