"""Fast-forward: the skeleton of a type, and generation against the real llama-server (SmolLM2)."""

from __future__ import annotations

import io
import json
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import structgen
from structgen.cli import main
from structgen.client import LlamaClient, Timings
from structgen.gbnf import validate
from structgen.generation import Output, fastforward
from structgen.schema.skeleton import Choice, Hole, Step, any_layout, skeleton
from structgen.schema.skeleton import Literal as Forced
from structgen.server import LocalServer
from tests.conftest import MISSING


class Pet(BaseModel):
    name: str = Field(max_length=12)
    age: int
    vaccinated: bool


class Owner(BaseModel):
    first_name: str = Field(max_length=12)
    last_name: str = Field(max_length=12)
    age: int
    kind: Literal["a", "b"]
    pets: list[Pet] = Field(max_length=3)


class Article(BaseModel):
    title: str = Field(max_length=80)
    body: str = Field(max_length=600)


class Person(BaseModel):
    name: str = Field(max_length=20)
    age: int
    city: str = Field(max_length=20)
    children: int
    married: bool
    employed: bool


class Loose(BaseModel):
    name: str
    nickname: str | None = None


def follow(walk: Generator[Step, int | None, None], target: str) -> int:
    """Walk along ``target``: forced text must match it, holes take the JSON value found there, choices the
    option it shows. Returns how far the walk got."""
    decoder = json.JSONDecoder()
    pos = 0
    answer: int | None = None
    while True:
        try:
            step: Step = walk.send(answer)
        except StopIteration:
            return pos
        answer = None
        if isinstance(step, Forced):
            assert target.startswith(step.text, pos), (target[pos:], step.text)
            pos += len(step.text)
        elif isinstance(step, Choice):
            answer = step.options.index(target[pos])
            pos += 1
        else:
            _, pos = decoder.raw_decode(target, pos)


def test_required_keys_are_forced_in_schema_order() -> None:
    skel = skeleton(Output(Pet).schema, indent=None)
    assert skel is not None
    steps = list(skel.walk())
    assert [type(s) for s in steps] == [Forced, Hole, Forced, Hole, Forced, Hole, Forced]
    assert [s.text for s in steps if isinstance(s, Forced)] == [
        '{"name": ',
        ', "age": ',
        ', "vaccinated": ',
        "}",
    ]


def test_types_with_nothing_to_force_have_no_skeleton() -> None:
    assert skeleton(Output(str).schema) is None
    assert skeleton(Output(Loose).schema) is None  # an optional key: the object is one free value
    open_object = {"type": "object", "properties": {"a": {}}, "required": ["a"], "additionalProperties": True}
    assert skeleton(open_object) is None


def test_an_array_of_objects_asks_only_whether_one_more_item_comes() -> None:
    skel = skeleton(Output(Owner).schema, indent=None)
    assert skel is not None
    walk = skel.walk()
    steps = [next(walk)]
    while not isinstance(steps[-1], Choice):
        steps.append(next(walk))
    assert steps[-1].options == ("]", "{")
    after = walk.send(1)
    assert after == Forced('"name": ')


def test_a_hole_grammar_keeps_its_rules_apart_and_is_valid_gbnf() -> None:
    skel = skeleton(Output(Owner).schema)
    assert skel is not None
    holes = [s for s in skel.walk() if isinstance(s, Hole)]
    root_a, rules_a = skel.rules(holes[0], "h1-")
    root_b, rules_b = skel.rules(holes[2], "h2-")
    grammar = "\n".join([f'root ::= "x" {root_a} "," {root_b}', *rules_a, *rules_b])
    validate(grammar)


@settings(deadline=None)  # a loaded machine must not fail a test that has no timing to check
@given(
    st.builds(
        Owner,
        first_name=st.text(max_size=12),
        last_name=st.text(max_size=12),
        age=st.integers(-(10**6), 10**6),
        pets=st.lists(st.builds(Pet, name=st.text(max_size=12), age=st.integers(0, 99)), max_size=3),
    )
)
def test_the_skeleton_walks_along_the_value_as_json_dumps_writes_it(owner: Owner) -> None:
    layouts: list[tuple[int | None, tuple[str, str] | None]] = [(None, None), (2, None), (4, None)]
    for indent, separators in [*layouts, (None, (",", ":"))]:
        skel = skeleton(Output(Owner).schema, indent=indent, separators=separators)
        assert skel is not None
        value = owner.model_dump(mode="json")
        text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
        assert follow(skel.walk(), text) == len(text)


def test_forced_text_follows_the_output_whitespace() -> None:
    compact = fastforward.skeleton_of(Output(Pet, whitespace="compact"))
    assert len(compact) == 1
    assert [s.text for s in compact[0].walk() if isinstance(s, Forced)][:2] == ['{"name":', ',"age":']
    assert len(fastforward.skeleton_of(Output(Pet))) == 2  # flexible: the model picks one of two layouts


def test_the_forced_share_counts_string_lengths() -> None:
    skel = skeleton(Output(Article).schema, indent=None)
    assert skel is not None
    assert skel.free_chars >= 80 + 600
    assert skel.forced_share < fastforward.MIN_FORCED_SHARE
    pet = skeleton(Output(Pet).schema, indent=None)
    assert pet is not None and pet.forced_share > 0.5


def test_the_leading_delimiters_of_forced_text_are_left_to_the_model() -> None:
    assert fastforward._front('","age":') == '","'
    assert fastforward._front(', "age": ') == ', "'
    assert fastforward._front(',\n  "age": ') == ',\n  "'
    assert fastforward._front("}") == "}"
    assert fastforward._front("age") == "a"


@settings(deadline=None)
@given(st.builds(Pet, name=st.text(max_size=12), age=st.integers(0, 99)), st.sampled_from([None, 2]))
def test_the_model_picks_the_layout_with_its_first_characters(pet: Pet, indent: int | None) -> None:
    layouts = [skeleton(Output(Pet).schema, indent=i) for i in (None, 2)]
    assert all(layouts)
    text = json.dumps(pet.model_dump(mode="json"), ensure_ascii=False, indent=indent)
    assert follow(any_layout(layouts), text) == len(text)  # type: ignore[arg-type]


def test_plain_values_are_marked_so_a_segment_can_stop_on_its_delimiter() -> None:
    skel = skeleton(Output(Owner).schema, indent=None)
    assert skel is not None
    holes = {json.loads(h.key).get("title"): h.plain for h in skel.walk() if isinstance(h, Hole)}
    assert holes["Age"] and holes["Kind"]
    assert not holes["First Name"]


# -- against the real server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(needs_local_server_module: None) -> Iterator[LlamaClient]:
    """A server of this module's own, one slot, ``--threads 1``: fast-forward sends many short requests,
    which a multi-threaded server on a busy machine answers slowly (its threads wait for each other)."""
    with (
        LocalServer(ctx_size=2048, parallel=1, threads=1, startup_timeout=180) as server,
        server.client(timeout=(5.0, 120.0)) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def needs_local_server_module() -> None:
    if MISSING is not None:
        pytest.skip(f"no local llama-server: {MISSING}")


def test_fast_forward_returns_a_valid_value_with_fewer_decoded_tokens(client: LlamaClient) -> None:
    prompt = [{"role": "user", "content": "Make up a pet owner with one dog, as JSON."}]
    result = structgen.generate_result(prompt, Owner, client=client, fast_forward=True, max_retries=0)
    assert isinstance(result.value, Owner)
    assert result.fast_forward_skipped is None
    attempt = result.last
    assert attempt.segments > 1
    assert attempt.forced_tokens > 0
    assert result.tokens_predicted < len(client.tokenize(result.raw))
    assert json.loads(result.raw) == result.value.model_dump(mode="json")


def test_every_resume_reuses_the_slot_cache(client: LlamaClient) -> None:
    output: Output[Any] = Output(Owner)
    params = {"temperature": 0.0, "n_predict": 256}
    done = fastforward.complete(
        fastforward.segments(client, output, "Answer with JSON for a pet owner named Ann.\n", params)
    )
    assert done.segments >= 3
    assert len(done.reused) == done.segments - 1
    # each resume evaluates only the tokens appended since the previous request, never the prompt again
    assert all(n < 40 for n in done.evaluated[1:])


def test_fast_forward_value_matches_one_grammar_request_on_a_simple_type(client: LlamaClient) -> None:
    prompt = [{"role": "user", "content": "A pet named Rex, 3 years old, vaccinated. Reply with JSON."}]
    plain = structgen.generate(prompt, Pet, client=client, max_retries=0)
    fast = structgen.generate(prompt, Pet, client=client, max_retries=0, fast_forward=True)
    assert fast == plain


def test_fast_forward_writes_what_one_grammar_request_writes_on_compact_json(client: LlamaClient) -> None:
    """Greedy, compact whitespace: the model writes the delimiters that open forced text and the token
    that ends it, so it takes the same token path as with the whole grammar (an extraction: on a made-up
    value a close call can still go the other way, batched logits differing slightly from one token's)."""
    prompt = [
        {"role": "user", "content": "Tom Baker, 41, lives in Leeds and has 2 children. Reply with JSON."}
    ]
    output = Output(Person, whitespace="compact")
    plain = structgen.generate_result(prompt, output, client=client, max_retries=0)
    fast = structgen.generate_result(prompt, output, client=client, max_retries=0, fast_forward=True)
    assert fast.fast_forward_skipped is None
    assert fast.last.segments > 1
    assert fast.raw == plain.raw


def test_server_costs_price_a_resume_and_a_batched_token(client: LlamaClient) -> None:
    costs = fastforward.server_costs(client)
    assert costs.decode_ms > 0 and costs.resume_ms > 0
    assert costs.fold_tokens(1) >= 1


def test_a_type_of_long_strings_falls_back_to_one_request(client: LlamaClient) -> None:
    steps = fastforward.segments(client, Output(Article), "Write an article.", {"n_predict": 64})
    with pytest.raises(fastforward.FastForwardUnavailable, match="forced share"):
        next(steps)


def test_a_type_with_nothing_to_force_falls_back_with_the_reason(client: LlamaClient) -> None:
    result = structgen.generate_result("2 + 2 = ", int, client=client, fast_forward=True, n_predict=16)
    assert result.fast_forward_skipped == "the type forces too little text to skip"
    assert isinstance(result.value, int)
    assert result.last.segments == 1


def test_stream_with_fast_forward_ends_with_the_validated_value(client: LlamaClient) -> None:
    prompt = [{"role": "user", "content": "Make up a pet owner, as JSON."}]
    parts = list(structgen.stream(prompt, Owner, client=client, fast_forward=True))
    assert len(parts) > 2
    assert parts[-1].complete and isinstance(parts[-1].value, Owner)
    assert all(not p.complete for p in parts[:-1])


def test_extract_and_fn_accept_fast_forward(client: LlamaClient) -> None:
    pet = structgen.extract("Bella is a 4 year old vaccinated cat.", Pet, client=client, fast_forward=True)
    assert isinstance(pet, Pet)

    @structgen.fn(client=client, fast_forward=True)
    def describe(animal: str) -> Pet:
        """Describe the animal {animal} as a pet."""
        raise NotImplementedError

    assert isinstance(describe("hamster"), Pet)


@pytest.fixture()
def forgetful(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast-forward's memory of servers starts empty (the fake server's URL is the same in every test)."""
    for name in ("_costs", "_unsupported", "_pieces"):
        monkeypatch.setattr(fastforward, name, {})


@pytest.mark.usefixtures("forgetful")
def test_a_server_without_token_endpoints_falls_back_with_the_reason(httpserver: HTTPServer) -> None:
    answer = {
        "content": '{"name": "Rex", "age": 3, "vaccinated": true}',
        "stop_type": "eos",
        "tokens_predicted": 14,
    }
    httpserver.expect_request("/tokenize").respond_with_data("Not Found", status=404)
    httpserver.expect_request("/completion").respond_with_json(answer)
    with LlamaClient(httpserver.url_for("/").rstrip("/"), retry=0) as old:
        result = structgen.generate_result("A pet: ", Pet, client=old, fast_forward=True)
    assert result.value == Pet(name="Rex", age=3, vaccinated=True)
    assert result.fast_forward_skipped is not None
    assert "token" in result.fast_forward_skipped


@pytest.mark.usefixtures("forgetful")
def test_a_server_that_does_not_reuse_its_cache_falls_back_with_the_reason(httpserver: HTTPServer) -> None:
    """A fake server: token-id prompts accepted, but every resume says nothing came from the cache."""
    valid = '{"name": "Rex", "age": 3, "vaccinated": true}'

    def tokenize(request: Request) -> Response:
        body = json.loads(request.data)
        text = "".join(body["content"])  # a list of texts is tokenized text by text
        tokens: list[Any] = [{"id": ord(c), "piece": c} if body.get("with_pieces") else ord(c) for c in text]
        return Response(json.dumps({"tokens": tokens}), content_type="application/json")

    def completion(request: Request) -> Response:
        body = json.loads(request.data)
        if isinstance(body["prompt"], str):  # plain generation
            answer: dict[str, Any] = {"content": valid, "stop_type": "eos", "tokens_predicted": 14}
        else:
            answer = {
                "content": '{"',
                "tokens": [123, 34, 2],
                "stop_type": "eos",
                "tokens_predicted": 3,
                "timings": {
                    "cache_n": 0,
                    "prompt_n": len(body["prompt"]),
                    "prompt_ms": 1.0,
                    "predicted_ms": 1.0,
                    "predicted_per_token_ms": 1.0,
                },
            }
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/tokenize").respond_with_handler(tokenize)
    httpserver.expect_request("/completion").respond_with_handler(completion)
    with LlamaClient(httpserver.url_for("/").rstrip("/"), retry=0) as fake:
        result = structgen.generate_result("A pet: ", Pet, client=fake, fast_forward=True)
    assert result.value == Pet(name="Rex", age=3, vaccinated=True)
    assert result.fast_forward_skipped is not None
    assert "did not reuse" in result.fast_forward_skipped


def test_label_with_fast_forward_writes_valid_records(client: LlamaClient, tmp_path: Path) -> None:
    records = tmp_path / "pets.jsonl"
    records.write_text(
        '{"text": "Rex is a 3 year old vaccinated dog."}\n{"text": "Tom, a cat, 5, not vaccinated."}\n'
    )
    schema = tmp_path / "pet.json"
    schema.write_text(json.dumps(Output(Pet).schema))
    out = tmp_path / "out.jsonl"
    err = io.StringIO()
    status = main(
        [
            "label",
            str(records),
            "--schema",
            str(schema),
            "-o",
            str(out),
            "--url",
            client.base_url,
            "--fast-forward",
            "--progress",
            "off",
            "-j",
            "1",
        ],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert status == 0, err.getvalue()
    results = [json.loads(line)["result"] for line in out.read_text().splitlines()]
    assert len(results) == 2
    assert all(Pet.model_validate(r) for r in results)


def test_tokenize_each_matches_tokenizing_each_text_alone(client: LlamaClient) -> None:
    texts = [', "first_name": ', "}\n]", '\n  "age": ', "é ü"]
    each = client.tokenize_each(texts)
    assert [[p.id for p in pieces] for pieces in each] == [client.tokenize(t) for t in texts]


def test_a_string_value_stops_on_its_closing_quote_only_when_unescaped() -> None:
    backslash = "\\"
    for n in range(6):
        assert fastforward._escaped('": "a' + backslash * n) is (n % 2 == 1)


def test_forced_text_before_a_number_is_sent_whole_when_no_token_joins_them(client: LlamaClient) -> None:
    """Before a number, boolean or null the last forced token is not held back when the tokenizer never
    joins it with the value; before a string it is (``":"`` is one token)."""
    skels = fastforward.skeleton_of(Output(Pet, whitespace="compact"))
    run = fastforward._Run(client, skels, [], {"n_predict": 8}, 1, 1)
    assert all(run.apart(',"age":', value) for value in fastforward._starts({"type": "integer"}))
    assert not run.apart('{"name":', '"Rex"')
    assert fastforward._starts({"type": "string"}) == ()


def test_the_holes_keep_the_output_bounds() -> None:
    class Note(BaseModel):
        title: str
        tags: list[str]

    def hole_grammars(output: Output[Any]) -> list[str]:
        skel = fastforward.skeleton_of(output)[0]
        return [skel.grammar(h) for h in skel.walk() if isinstance(h, Hole)]

    bounded = hole_grammars(Output(Note, max_string_length=5, max_items=2))
    assert all(a != b for a, b in zip(bounded, hole_grammars(Output(Note)), strict=True))


def test_starved_batch_threads_end_the_segmenting() -> None:
    """A batch that took more than twice as long as decoding its tokens one by one (batch threads
    starved on a busy machine) makes the rest of the answer one segment; an ordinary batch, or one held
    up once, does not."""
    decode_ms = 20.0
    ordinary = Timings(prompt_n=5, prompt_ms=45.0)
    held_up = Timings(prompt_n=5, prompt_ms=150.0)
    starved = Timings(prompt_n=5, prompt_ms=1500.0)
    assert not fastforward._batches_too_slow(ordinary, decode_ms)
    assert not fastforward._batches_too_slow(held_up, decode_ms)
    assert fastforward._batches_too_slow(starved, decode_ms)
    assert not fastforward._batches_too_slow(Timings(prompt_n=1, prompt_ms=90.0), decode_ms)  # one token
    assert not fastforward._batches_too_slow(None, decode_ms)
    assert not fastforward._batches_too_slow(starved, 0.0)  # decode cost unknown
