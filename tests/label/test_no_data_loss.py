"""What ``label`` refuses so that nothing already written is lost: the input as an output, a mixed resume."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from structgen.cli import main
from structgen.label import LabelError, label
from structgen.label.runner import meta_path

from .conftest import FakeLlama

Fake = Callable[..., FakeLlama]
LABELS = ["positive", "negative", "neutral"]
RECORDS = "".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(["good", "bad", "meh"]))


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "v.jsonl"
    path.write_text(RECORDS, encoding="utf-8")
    return path


def cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(list(argv), stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


@pytest.mark.parametrize("again", ["--overwrite", "--resume"])
def test_the_input_is_never_an_output(data: Path, again: str) -> None:
    (data.parent / "sub").mkdir()
    os.symlink(data, data.parent / "link.jsonl")
    for out in (str(data), str(data.parent / "sub" / ".." / "v.jsonl"), str(data.parent / "link.jsonl")):
        code, err = cli(
            "label", str(data), "--labels", "a,b", "-o", out, again, "--url", "http://127.0.0.1:9"
        )
        assert code == 2 and "is the input file" in err and "Traceback" not in err
        assert data.read_text(encoding="utf-8") == RECORDS
    code, err = cli(
        "label", str(data), "--labels", "a,b", "-o", str(data.parent / "o.jsonl"), "--errors", str(data)
    )
    assert code == 2 and "is the input file" in err
    assert data.read_text(encoding="utf-8") == RECORDS


def test_a_hard_link_to_the_input_is_the_input(data: Path) -> None:
    os.link(data, data.parent / "hard.jsonl")
    with pytest.raises(LabelError, match="is the input file"):
        label(data, labels=["a", "b"], out=data.parent / "hard.jsonl", overwrite=True, progress=False)
    assert data.read_text(encoding="utf-8") == RECORDS


@pytest.mark.parametrize("out", ["/proc/x/out.jsonl", "{data}/out.jsonl", "{dir}"])
def test_an_output_that_cannot_be_written_is_a_clear_error(data: Path, out: str) -> None:
    out = out.format(data=data, dir=data.parent)
    code, err = cli("label", str(data), "--labels", "a,b", "-o", out, "--url", "http://127.0.0.1:9")
    assert code == 2 and out in err and "Traceback" not in err, err
    assert data.read_text(encoding="utf-8") == RECORDS


def test_a_resume_with_another_output_is_refused(data: Path, fake_llama: Fake) -> None:
    fake = fake_llama()
    out = data.parent / "out.jsonl"
    label(data, labels=LABELS, out=out, urls=[fake.url], progress=False)
    made = out.read_text(encoding="utf-8")
    assert json.loads(meta_path(out).read_text(encoding="utf-8"))["output"]["labels"] == LABELS
    for other in (
        {"labels": ["yes", "no"]},
        {"labels": LABELS, "multi": True},
        {"output_type": {"type": "integer"}},
    ):
        with pytest.raises(LabelError, match="was made with labels positive, negative, neutral"):
            label(data, out=out, urls=[fake.url], resume=True, progress=False, **other)  # type: ignore[arg-type]
        assert out.read_text(encoding="utf-8") == made
    summary = label(data, labels=LABELS, out=out, urls=[fake.url], resume=True, progress=False)
    assert summary.skipped == 3 and out.read_text(encoding="utf-8") == made
    code, err = cli("label", str(data), "--labels", "x,y", "-o", str(out), "--resume", "--url", fake.url)
    assert code == 2 and "resuming would mix" in err
    label(data, labels=["yes", "no"], out=out, urls=[fake.url], overwrite=True, progress=False)
    assert json.loads(meta_path(out).read_text(encoding="utf-8"))["output"]["labels"] == ["yes", "no"]
