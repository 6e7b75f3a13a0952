"""label() against fake servers: results, errors, resume, seeds, balancing and failover, cancel, the CLI."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from structgen.cli import main
from structgen.client import LlamaClient
from structgen.label import LabelError, LabelInterrupted, Summary, TemplateError, label, record_seed
from structgen.label.progress import Progress, choose_mode
from structgen.label.runner import default_errors_path
from structgen.label.writer import read_done

from .conftest import FakeLlama, completion, sentiment

Fake = Callable[..., FakeLlama]
TEXTS = ["a good film", "a bad film", "a film", "good good", "bad", "meh"]


def jsonl(tmp_path: Path, records: list[dict[str, Any]], name: str = "in.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "text": TEXTS[i % len(TEXTS)]} for i in range(n)]


def run(path: Path, fake: FakeLlama | list[FakeLlama], out: Path, **kwargs: Any) -> Summary:
    fakes = fake if isinstance(fake, list) else [fake]
    kwargs.setdefault("labels", ["positive", "negative", "neutral"])
    kwargs.setdefault("progress", False)
    return label(path, out=out, urls=[f.url for f in fakes], id_field="id", **kwargs)


def test_every_record_gets_one_line_with_its_label(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama(slots=3)
    out = tmp_path / "out.jsonl"
    summary = run(jsonl(tmp_path, records(12)), fake, out, template="Review: {text}")
    got = {line["id"]: line for line in lines(out)}
    assert set(got) == {f"r{i}" for i in range(12)}
    assert (
        got["r0"]["result"] == "positive"
        and got["r1"]["result"] == "negative"
        and got["r2"]["result"] == "neutral"
    )
    assert got["r0"]["line"] == 1 and got["r0"]["attempts"] == 1 and got["r0"]["tokens"] == 3
    assert summary.labelled == 12 and summary.failed == 0 and summary.ok
    assert summary.labels == {"positive": 4, "negative": 4, "neutral": 4}
    assert summary.tokens_predicted == 36 and summary.tokens_evaluated == 84
    assert summary.concurrency == 3  # the server's slots
    body = fake.bodies[0]
    assert (
        body["prompt"].startswith(
            "<system>Choose the one label that best fits the text. Labels: positive, negative, neutral."
        )
        and "<user>Review: " in body["prompt"]
    )
    assert '"\\"positive\\""' in body["grammar"] or "positive" in body["grammar"]
    assert not default_errors_path(out).exists()


def test_a_field_the_data_lacks_fails_before_any_request(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    with pytest.raises(TemplateError, match=r"uses \{title\} but .*in.jsonl has no field 'title'") as info:
        run(jsonl(tmp_path, records(3)), fake, tmp_path / "out.jsonl", template="{title}: {text}")
    assert info.value.field == "title"
    csv_path = tmp_path / "in.csv"
    csv_path.write_text("id,text\n1,good\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="the header of .*in.csv has no field 'body'"):
        run(csv_path, fake, tmp_path / "out2.jsonl", template="{body}")
    assert fake.server.log == []


def test_malformed_rows_are_reported_with_their_line_and_the_rest_is_labelled(
    tmp_path: Path, fake_llama: Fake
) -> None:
    fake = fake_llama()
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": 1, "text": "good"}\n{"id": 2\n{"id": 3}\n{"text": "bad"}\n{"id": 1, "text": "x"}\n'
        '{"id": 4, "text": "bad"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    summary = run(path, fake, out)
    assert sorted(line["id"] for line in lines(out)) == [1, 4]
    assert [(b.line, b.reason) for b in summary.malformed] == [
        (2, "bad JSON: Expecting ',' delimiter (column 9)"),
        (3, "missing field 'text'"),
        (4, "missing id field 'id'"),
        (5, "id 1 repeats the record on line 1"),
    ]
    errors = lines(default_errors_path(out))
    assert [(e["line"], e["error"]) for e in errors] == [(n, "MalformedRow") for n in (2, 3, 4, 5)]
    assert summary.records == 2 and not summary.ok


def test_record_failures_go_to_the_errors_file_with_the_reason(tmp_path: Path, fake_llama: Fake) -> None:
    def answer(body: dict[str, Any]) -> Any:
        if "boom" in body["prompt"]:
            return 500, {"error": {"code": 500, "message": "kaboom"}}
        if "long" in body["prompt"]:
            return completion('"posi', stop_type="limit", predicted=4)
        return sentiment(body)

    fake = fake_llama(answer)
    data = [{"id": "ok", "text": "good"}, {"id": "x", "text": "boom"}, {"id": "y", "text": "long"}]
    out, errors = tmp_path / "out.jsonl", tmp_path / "failed.jsonl"
    summary = run(jsonl(tmp_path, data), fake, out, errors=errors, max_retries=1, chat=False)
    assert [line["id"] for line in lines(out)] == ["ok"]
    failed = {e["id"]: e for e in lines(errors)}
    assert failed["x"]["error"] == "ServerError" and "kaboom" in failed["x"]["reason"]
    assert failed["y"]["error"] == "OutputTruncatedError" and "cut off" in failed["y"]["reason"]
    assert summary.failed == 2 and summary.labelled == 1 and summary.not_started == 0
    assert {f.id for f in summary.failures} == {"x", "y"}
    assert "failed: id 'x' (line 2): ServerError" in summary.format()


def test_seeds_are_derived_from_the_ids_and_stable(tmp_path: Path, fake_llama: Fake) -> None:
    assert record_seed(7, "a") == 1209720765 and record_seed(7, 1) == 1276909183
    assert record_seed(8, "a") != record_seed(7, "a")
    fake = fake_llama()
    path = jsonl(tmp_path, records(5))
    run(path, fake, tmp_path / "a.jsonl", seed=7, chat=False)
    run(path, fake, tmp_path / "b.jsonl", seed=7, chat=False)
    seeds = [(b["prompt"], b["seed"]) for b in fake.bodies]
    expected = {(f"{r['text']}", record_seed(7, r["id"])) for r in records(5)}
    assert set(seeds) == expected and len(seeds) == 10


def test_resume_labels_only_the_missing_ids_and_repairs_a_cut_line(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    out = tmp_path / "out.jsonl"
    out.write_text(
        '{"id":"r0","result":"positive"}\n{"id":"r3","result":"positive"}\n{"id":"r1","res', encoding="utf-8"
    )
    summary = run(jsonl(tmp_path, records(6)), fake, out, resume=True, chat=False)
    assert sorted(line["id"] for line in lines(out)) == [f"r{i}" for i in range(6)]
    assert sorted(b["prompt"] for b in fake.bodies) == sorted(TEXTS[i] for i in (1, 2, 4, 5))
    assert summary.skipped == 2 and summary.labelled == 4


def test_an_existing_output_needs_resume_or_overwrite(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    out = tmp_path / "out.jsonl"
    out.write_text('{"id":"r0","result":"x"}\n', encoding="utf-8")
    with pytest.raises(LabelError, match="already holds results"):
        run(jsonl(tmp_path, records(2)), fake, out)
    run(jsonl(tmp_path, records(2)), fake, out, overwrite=True)
    assert len(lines(out)) == 2


def test_requests_are_spread_over_the_servers(tmp_path: Path, fake_llama: Fake) -> None:
    one, two = fake_llama(slots=1, delay=0.02), fake_llama(slots=3, delay=0.02)
    summary = run(jsonl(tmp_path, records(40)), [one, two], tmp_path / "out.jsonl", chat=False)
    assert summary.concurrency == 4 and summary.labelled == 40
    assert one.completions > 0 and two.completions > one.completions
    assert summary.servers == {one.url: one.completions, two.url: two.completions}


def stop_after(fake: FakeLlama, n: int) -> threading.Thread:
    """Stop ``fake`` from another thread once it answered ``n`` completions."""

    def watch() -> None:
        while fake.completions < n:
            threading.Event().wait(0.005)
        fake.server.stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_server_that_stops_mid_run_fails_over_to_the_other(tmp_path: Path, fake_llama: Fake) -> None:
    dying, staying = fake_llama(delay=0.01), fake_llama(delay=0.01)
    watcher = stop_after(dying, 8)
    out = tmp_path / "out.jsonl"
    summary = run(jsonl(tmp_path, records(60)), [dying, staying], out, chat=False)
    watcher.join(5)
    assert sorted(line["id"] for line in lines(out)) == sorted(f"r{i}" for i in range(60))
    assert summary.failed == 0 and summary.server_downs == {dying.url: 1}
    assert summary.servers[staying.url] == 60 - summary.servers.get(dying.url, 0)


def test_when_every_server_is_down_each_record_fails_with_that_reason(
    tmp_path: Path, fake_llama: Fake
) -> None:
    fake = fake_llama(delay=0.01)
    stop_after(fake, 5)
    out = tmp_path / "out.jsonl"
    summary = run(jsonl(tmp_path, records(30)), fake, out, chat=False, down_grace=0.3)
    done = {line["id"] for line in lines(out)}
    failed = {e["id"]: e for e in lines(default_errors_path(out))}
    assert done | set(failed) == {f"r{i}" for i in range(30)} and not done & set(failed)
    assert summary.labelled == len(done) >= 5 and summary.failed == len(failed) > 0
    reason = next(iter(failed.values()))["reason"]
    # Refused or reset depends on when the fake server went away; either way the reason names the server.
    assert reason.startswith(f"every server is down: {fake.url} (")


def test_no_server_at_the_start_is_a_label_error(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    fake.server.stop()
    with pytest.raises(LabelError, match=f"no server answers: {fake.url}"):
        run(jsonl(tmp_path, records(2)), fake, tmp_path / "out.jsonl")


def test_cancel_stops_cleanly_and_resume_finishes(tmp_path: Path, fake_llama: Fake) -> None:
    cancel = threading.Event()

    def answer(body: dict[str, Any]) -> Any:
        if fake.completions >= 10:
            cancel.set()
        return sentiment(body)

    fake = fake_llama(answer, delay=0.005)
    path, out = jsonl(tmp_path, records(50)), tmp_path / "out.jsonl"
    with pytest.raises(LabelInterrupted) as info:
        run(path, fake, out, chat=False, cancel=cancel)
    first = info.value.summary
    assert first.interrupted and first.labelled == len(lines(out)) < 50
    assert first.labelled + first.failed + first.not_started == 50
    second = run(path, fake, out, chat=False, resume=True)
    ids = [line["id"] for line in lines(out)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(50))
    assert second.skipped == first.labelled and second.labelled == 50 - first.labelled


class Review(BaseModel):
    stars: int
    summary: str


def test_a_typed_output_is_written_as_json(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama(lambda body: completion('{"stars":4,"summary":"fine"}'))
    out = tmp_path / "out.jsonl"
    summary = run(jsonl(tmp_path, records(2)), fake, out, labels=None, output_type=Review)
    assert [line["result"] for line in lines(out)] == [{"stars": 4, "summary": "fine"}] * 2
    assert summary.labels == {}
    assert "Reply with JSON that follows this JSON Schema" in fake.bodies[0]["prompt"]


def test_a_grammar_output_is_the_raw_text(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama(lambda body: completion("yes"))
    out = tmp_path / "out.jsonl"
    summary = run(
        jsonl(tmp_path, records(3)), fake, out, labels=None, grammar='root ::= "yes" | "no"', chat=False
    )
    assert [line["result"] for line in lines(out)] == ["yes"] * 3
    assert fake.bodies[0]["grammar"] == 'root ::= "yes" | "no"' and summary.labels == {"yes": 3}


def test_without_an_output_file_results_stay_in_the_summary(fake_llama: Fake) -> None:
    fake = fake_llama()
    with LlamaClient(fake.url) as client:
        summary = label(
            ["good", "bad"], labels="positive,negative,neutral", client=client, chat=False, progress=False
        )
    assert sorted((r["id"], r["result"]) for r in summary.results) == [(1, "positive"), (2, "negative")]


def test_progress_lines_and_the_choice_of_mode() -> None:
    stream = io.StringIO()
    assert choose_mode("auto", stream) == "lines" and choose_mode(False, stream) == "off"
    progress = Progress(4, "lines", stream, interval=0.0)
    progress.advance()
    progress.advance(failed=True)
    progress.close()
    text = stream.getvalue()
    assert "label: 1/4 (25%) done, 0 failed" in text and "label: 2/4 (50%) done, 1 failed" in text
    assert "rec/s" in text and "ETA" in text

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    bar = Progress(3, "auto", terminal)
    assert bar.mode == "bar"
    bar.advance()
    bar.note("a message")
    bar.close()
    assert "1/3" in terminal.getvalue() and "a message" in terminal.getvalue()


def test_the_command_line(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    path = jsonl(tmp_path, records(4))
    out = tmp_path / "out.jsonl"
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = [
        "label",
        str(path),
        "--labels",
        "positive,negative,neutral",
        "-t",
        "Review: {text}",
        "-o",
        str(out),
        "--id-field",
        "id",
        "--url",
        fake.url,
        "--seed",
        "3",
        "--n-predict",
        "8",
        "--json",
    ]
    assert main(argv, stdout=stdout, stderr=stderr) == 0
    report = json.loads(stdout.getvalue())
    assert report["labelled"] == 4 and report["labels"] == {"positive": 2, "negative": 1, "neutral": 1}
    assert all(b["n_predict"] == 8 and "seed" in b for b in fake.bodies)
    assert main(argv, stdout=io.StringIO(), stderr=stderr) == 2
    assert "already holds results" in stderr.getvalue()
    assert main([*argv[:-1], "--resume"], stdout=stdout, stderr=stderr) == 0
    bad = [
        "label",
        str(path),
        "--labels",
        "a,b",
        "-t",
        "{nope}",
        "-o",
        str(tmp_path / "x.jsonl"),
        "--url",
        fake.url,
    ]
    err = io.StringIO()
    assert main(bad, stdout=io.StringIO(), stderr=err) == 2
    assert "structgen label: the template uses {nope}" in err.getvalue()
    err = io.StringIO()
    assert (
        main(
            ["label", str(path), "--type", "no_such_module:T", "-o", str(tmp_path / "y.jsonl")],
            stdout=io.StringIO(),
            stderr=err,
        )
        == 2
    )
    assert "cannot import module 'no_such_module'" in err.getvalue()
    assert read_done(out).ids == {f"r{i}" for i in range(4)}
