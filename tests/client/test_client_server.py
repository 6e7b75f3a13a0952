"""The client against a real llama-server (SmolLM2-135M): every endpoint, constraints, streams, caching."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from structgen.client import (
    GrammarRejectedError,
    LlamaClient,
    SchemaRejectedError,
    StopType,
    TokenPiece,
)
from structgen.server import LocalServer

pytestmark = pytest.mark.server

GRAMMARS = sorted((Path(__file__).parents[2] / "grammars").glob("*.gbnf"))
STORY = (
    "Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: "
    "once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations "
    "in it, and what is the use of a book, thought Alice, without pictures or conversations? So she was "
    "considering in her own mind whether the pleasure of making a daisy-chain would be worth the trouble of "
    "getting up and picking the daisies, when suddenly a White Rabbit with pink eyes ran close by her.\n"
)


def chat(client: LlamaClient, question: str) -> str:
    return client.apply_template([{"role": "user", "content": question}])


def test_health_and_props(client: LlamaClient, llama_server: LocalServer) -> None:
    health = client.health()
    assert health.ok and health.http_status == 200
    assert client.wait_until_ready(timeout=5).ok
    props = client.props()
    assert props.total_slots == 2
    assert props.n_ctx is not None and 0 < props.n_ctx <= 2048
    assert props.model_path is not None and Path(props.model_path).name == llama_server.model_path.name  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["Hello world", "  leading spaces", "naïve café ☕ 日本語", "line\nbreak\ttab", ""]
)
def test_tokenize_round_trip(client: LlamaClient, text: str) -> None:
    tokens = client.tokenize(text)
    assert all(isinstance(t, int) for t in tokens)
    assert client.detokenize(tokens) == text


def test_tokenize_with_pieces_matches_ids(client: LlamaClient) -> None:
    text = "Grammar-constrained output"
    pieces = client.tokenize(text, with_pieces=True)
    assert all(isinstance(p, TokenPiece) for p in pieces)
    assert [p.id for p in pieces] == client.tokenize(text)
    assert "".join(p.piece for p in pieces if isinstance(p.piece, str)) == text


def test_special_tokens_are_parsed_only_when_asked(client: LlamaClient) -> None:
    assert len(client.tokenize("<|im_start|>")) == 1
    assert len(client.tokenize("<|im_start|>", parse_special=False)) > 1


def test_apply_template_uses_the_models_chat_format(client: LlamaClient) -> None:
    prompt = chat(client, "Say hi")
    assert "<|im_start|>user\nSay hi<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_completion_is_deterministic_at_temperature_zero(client: LlamaClient) -> None:
    prompt = chat(client, "What is the capital of France?")
    first = client.completion(prompt, n_predict=8, temperature=0, seed=1)
    second = client.completion(prompt, n_predict=8, temperature=0, seed=1)
    assert first.content and first.content == second.content
    assert 0 < first.tokens_predicted <= 8
    assert first.stop_type in (StopType.LIMIT, StopType.EOS)
    assert first.stopped_limit == (first.tokens_predicted == 8 and first.stop_type is StopType.LIMIT)
    assert first.slot_id in (0, 1)


def test_completion_accepts_token_ids_and_mixed_prompts(client: LlamaClient) -> None:
    text = chat(client, "Count to three.")
    as_text = client.completion(text, n_predict=6, temperature=0)
    as_ids = client.completion(client.tokenize(text), n_predict=6, temperature=0)
    assert as_ids.content == as_text.content
    head, tail = text[:20], text[20:]
    mixed = client.completion([*client.tokenize(head), tail], n_predict=4, temperature=0)
    assert mixed.tokens_predicted > 0


def test_stop_word_ends_generation(client: LlamaClient) -> None:
    result = client.completion("1, 2, 3, 4, 5,", n_predict=16, temperature=0, stop=[" 7"])
    assert result.stop_type is StopType.WORD and result.stopped_word
    assert result.stopping_word == " 7"
    assert " 7" not in result.content


def test_return_tokens_and_probabilities(client: LlamaClient) -> None:
    result = client.completion("The sky is", n_predict=4, temperature=0, n_probs=3, return_tokens=True)
    assert len(result.tokens) == result.tokens_predicted
    assert client.detokenize(result.tokens) == result.content
    assert len(result.completion_probabilities) == result.tokens_predicted
    step = result.completion_probabilities[0]
    assert step.id == result.tokens[0] and 0 < len(step.top) <= 3
    assert step.logprob is not None and step.logprob <= 0


def test_grammar_constrains_the_output(client: LlamaClient) -> None:
    grammar = 'root ::= ("yes" | "no") " because " [a-z ]+'
    result = client.completion(chat(client, "Is water wet?"), grammar=grammar, n_predict=12, temperature=0)
    assert re.fullmatch(r"(yes|no) because [a-z ]*", result.content)


def test_json_schema_constrains_the_output(client: LlamaClient) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    prompt = chat(client, "Give a person as JSON.")
    result = client.completion(prompt, json_schema=schema, n_predict=32, temperature=0)
    assert result.stop_type is StopType.EOS, result.content  # the grammar ended the object
    person = json.loads(result.content)
    assert set(person) == {"name", "age"}
    assert isinstance(person["name"], str) and len(person["name"]) <= 8
    assert isinstance(person["age"], int)


def test_unparsable_grammar_is_rejected(client: LlamaClient) -> None:
    with pytest.raises(GrammarRejectedError, match="failed to parse grammar") as info:
        client.completion("x", grammar="root ::= undefined-rule", n_predict=2)
    assert info.value.status == 400
    with pytest.raises(GrammarRejectedError):
        client.stream("x", grammar='root ::= "unterminated', n_predict=2)


def test_unconvertible_json_schema_is_rejected(client: LlamaClient) -> None:
    with pytest.raises(SchemaRejectedError):
        client.completion("x", json_schema={"$ref": "#/definitions/missing"}, n_predict=2)


@pytest.mark.parametrize("path", GRAMMARS, ids=[p.stem for p in GRAMMARS])
def test_every_shipped_grammar_is_accepted(client: LlamaClient, path: Path) -> None:
    result = client.completion("Output:", grammar=path.read_text(), n_predict=2, temperature=0)
    assert result.tokens_predicted <= 2


def test_stream_matches_the_plain_completion(client: LlamaClient) -> None:
    prompt = chat(client, "Name a colour.")
    plain = client.completion(prompt, n_predict=10, temperature=0)
    with client.stream(prompt, n_predict=10, temperature=0) as stream:
        deltas = list(stream)
    assert "".join(d.content for d in deltas) == plain.content == stream.final.content
    assert len(deltas) == stream.final.tokens_predicted == plain.tokens_predicted
    assert stream.final.stop_type is plain.stop_type
    assert stream.final.timings is not None


def test_streamed_grammar_completion(client: LlamaClient) -> None:
    text = client.stream(chat(client, "Pick a number"), grammar="root ::= [0-9] [0-9]", n_predict=4).read()
    assert re.fullmatch(r"[0-9]{2}", text.content)


def test_infill_plain_and_streamed(client: LlamaClient) -> None:
    prefix, suffix = "def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n"
    plain = client.infill(prefix, suffix, n_predict=6, temperature=0)
    assert 0 < plain.tokens_predicted <= 6
    streamed = client.infill_stream(prefix, suffix, n_predict=6, temperature=0)
    assert "".join(d.content for d in streamed) == plain.content == streamed.final.content


def test_slot_and_prompt_cache_reuse(
    client: LlamaClient, record_property: Callable[[str, object], None]
) -> None:
    conversation = client.conversation()
    first = conversation.completion(STORY + "Question: who ran by?\nAnswer:", n_predict=4, temperature=0)
    second = conversation.completion(STORY + "Question: what colour were its eyes?\nAnswer:", n_predict=4)
    assert second.slot_id == first.slot_id == conversation.slot_id >= 0
    # The shared story is evaluated once; the second request evaluates only its new suffix.
    assert first.prompt_tokens_processed > 100
    assert second.prompt_tokens_processed < first.prompt_tokens_processed // 4
    assert second.prompt_tokens_reused is not None and second.prompt_tokens_reused > 100
    record_property("cache", (first.prompt_tokens_processed, second.prompt_tokens_processed))


def test_without_cache_prompt_the_whole_prompt_is_evaluated(client: LlamaClient) -> None:
    prompt = STORY + "Question: where did Alice sit?\nAnswer:"
    first = client.completion(prompt, n_predict=2, temperature=0, slot=0)
    again = client.completion(prompt, n_predict=2, temperature=0, slot=0, cache_prompt=False)
    assert again.slot_id == first.slot_id == 0
    assert again.prompt_tokens_processed == again.tokens_evaluated == first.tokens_evaluated


def test_old_and_new_sampling_options_are_accepted(client: LlamaClient) -> None:
    prompt = "1, 2, 3,"
    banned = client.tokenize(" 4")
    result = client.completion(
        prompt,
        n_predict=5,
        temperature=0.7,
        seed=42,
        top_k=20,
        top_p=0.9,
        min_p=0.05,
        typical_p=1.0,
        tfs_z=1.0,  # older servers only: ignored by current ones
        penalize_nl=False,  # older servers only
        system_prompt="",  # older servers only
        repeat_penalty=1.1,
        repeat_last_n=32,
        presence_penalty=0.1,
        frequency_penalty=0.1,
        mirostat=0,
        mirostat_tau=5.0,
        mirostat_eta=0.1,
        ignore_eos=True,
        logit_bias=[[banned[0], False]],
        samplers=["top_k", "top_p", "min_p", "temperature"],
        n_keep=0,
        return_tokens=True,
    )
    assert result.tokens_predicted == 5 and result.stopped_limit  # ignore_eos: runs to n_predict
    assert banned[0] not in result.tokens
    assert result.generation_settings["seed"] == 42
    assert result.generation_settings["samplers"] == ["top_k", "top_p", "min_p", "temperature"]
