"""Smoke tests of the benchmark scripts: they run, count outcomes right and write their JSON (no timings checked)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.gbnf import Matcher

BENCH = Path(__file__).resolve().parents[1] / "bench"

SCHEMAS = {
    "a.json": {
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    },
    "b.json": {"schema": {"type": 12}},  # not a valid schema: structgen refuses it
    "c.json": {"schema": {"type": "integer"}},  # past --limit 2
}


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    split = tmp_path / "corpus" / "tiny"
    split.mkdir(parents=True)
    for name, data in SCHEMAS.items():
        (split / name).write_text(json.dumps(data), encoding="utf-8")
    return tmp_path / "corpus"


def test_compile_speed_counts_compiled_and_refused_schemas(corpus: Path, tmp_path: Path) -> None:
    out, raw = tmp_path / "out.json", tmp_path / "raw.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "compile_speed.py"),
            "--corpus",
            str(corpus),
            "--splits",
            "tiny",
            "--limit",
            "2",
            "--converters",
            "structgen",
            "--json",
            str(out),
            "--raw",
            str(raw),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "structgen" in done.stdout
    result = json.loads(out.read_text())
    summary = result["converters"]["structgen"]
    assert (summary["schemas"], summary["ok"], summary["refused"], summary["crashed"]) == (2, 1, 1, 0)
    assert summary["bytes_p50"] > 0 and summary["rules_p50"] >= 1
    assert result["per_split"][0]["split"] == "tiny"
    details = json.loads(raw.read_text())
    assert details["files"] == ["tiny/a.json", "tiny/b.json"]
    assert details["ms"]["structgen"][0] > 0 and details["ms"]["structgen"][1] is None


FAKE_LLAMA_CPP = {
    "__init__.py": (
        "import json\n"
        "class LlamaGrammar:\n"
        "    @classmethod\n"
        "    def from_json_schema(cls, text, verbose=True):\n"
        "        if not isinstance(json.loads(text).get('type'), str):\n"
        "            raise ValueError('bad type')\n"
        "        return cls()\n"
    ),
    "llama_grammar.py": "def json_schema_to_gbnf(text):\n    return 'root ::= \"x\"\\n'\n",
}


def test_compile_speed_measures_llama_cpp_python_when_it_is_importable(corpus: Path, tmp_path: Path) -> None:
    package = tmp_path / "site" / "llama_cpp"
    package.mkdir(parents=True)
    for name, text in FAKE_LLAMA_CPP.items():
        (package / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "compile_speed.py"),
            "--corpus",
            str(corpus),
            "--splits",
            "tiny",
            "--limit",
            "2",
            "--converters",
            "structgen,llama-cpp-python",
            "--json",
            str(out),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    theirs = result["converters"]["llama-cpp-python"]
    assert (theirs["ok"], theirs["refused"], theirs["bytes_p50"]) == (1, 1, len('root ::= "x"\n'))
    assert result["paired"]["structgen/llama-cpp-python"]["schemas"] == 1


def test_compile_speed_rejects_an_unknown_converter(corpus: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "compile_speed.py"),
            "--corpus",
            str(corpus),
            "--splits",
            "tiny",
            "--converters",
            "nope",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "unknown converter 'nope'" in done.stderr


def _bench_module(name: str) -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH))


decode_speed = _bench_module("decode_speed")
words = st.lists(st.text(alphabet="abcd", min_size=1, max_size=5), min_size=1, max_size=12, unique=True)


@settings(max_examples=60, deadline=None)
@given(words, st.text(alphabet="abcd", max_size=6))
def test_the_word_trie_accepts_exactly_the_words(listed: list[str], probe: str) -> None:
    trie = decode_speed.trie
    matcher = Matcher(f"root ::= {trie(sorted(listed))}")
    assert matcher.fullmatch(probe) == (probe in listed)


@pytest.mark.parametrize("k", [1, 3, 9, 27])
def test_letter_class_alternations_cover_the_same_letters(k: int) -> None:
    classes = decode_speed._classes
    matcher = Matcher(f"root ::= ({classes(k)})*")
    assert matcher.fullmatch("the quick brown fox jumps over the lazy dog")
    assert not matcher.fullmatch("The")
    assert not matcher.fullmatch("a-b")
