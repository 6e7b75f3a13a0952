"""``structgen label``: standard input, library grammars, record ids from an ``id`` field (issue 13)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from structgen.cli import main
from structgen.label import Source, label

from .conftest import FakeLlama, completion

Fake = Callable[..., FakeLlama]


def cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return code, out.getvalue(), err.getvalue()


def results(path: Path) -> dict[Any, Any]:
    return {e["id"]: e["result"] for e in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def test_label_reads_standard_input(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    out = tmp_path / "o.jsonl"
    records = b'{"id": "a", "text": "good"}\n{"id": "b", "text": "bad"}\n'
    code, _, err = cli(
        ["label", "-", "--labels", "positive,negative,neutral", "-o", str(out), "--url", fake.url], records
    )
    assert code == 0, err
    assert results(out) == {"a": "positive", "b": "negative"}
    out.unlink()
    code, _, err = cli(
        ["label", "-", "--labels", "positive,negative,neutral", "-o", str(out), "--url", fake.url],
        b"good film\nbad film\n",
    )
    assert code == 0, err
    assert results(out) == {1: "positive", 2: "negative"}


def test_label_grammar_takes_a_library_name(tmp_path: Path, fake_llama: Fake) -> None:
    fake = fake_llama(lambda body: completion("yes"))
    data = tmp_path / "in.txt"
    data.write_text("is it?\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    code, _, err = cli(["label", str(data), "--grammar", "yes-no", "-o", str(out), "--url", fake.url])
    assert code == 0, err
    assert results(out) == {1: "yes"} and "yes" in fake.bodies[0]["grammar"]


def test_records_with_an_id_field_are_labelled_by_it(tmp_path: Path, fake_llama: Fake) -> None:
    data = tmp_path / "in.jsonl"
    data.write_text('{"id": "x7", "text": "good"}\n{"id": 9, "text": "bad"}\n', encoding="utf-8")
    assert [r.id for r in Source(data)] == ["x7", 9]
    assert [r.id for r in Source(data, id_field=False)] == [1, 2]
    assert [r.id for r in Source([{"text": "no id"}])] == [1]
    fake = fake_llama()
    out = tmp_path / "o.jsonl"
    code, _, err = cli(
        ["label", str(data), "--labels", "positive,negative,neutral", "-o", str(out), "--url", fake.url]
    )
    assert code == 0, err
    assert results(out) == {"x7": "positive", 9: "negative"}
    code, _, err = cli(
        [
            "label",
            str(data),
            "--labels",
            "positive,negative,neutral",
            "-o",
            str(out),
            "--url",
            fake.url,
            "--overwrite",
            "--line-ids",
        ]
    )
    assert code == 0, err
    assert results(out) == {1: "positive", 2: "negative"}
    summary = label(data, labels=["positive", "negative", "neutral"], urls=[fake.url], progress=False)
    assert sorted(str(e["id"]) for e in summary.results) == ["9", "x7"]
