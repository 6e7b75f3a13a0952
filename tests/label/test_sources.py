"""Reading records: every format, ids, line numbers, and malformed rows reported and skipped."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from structgen.label.errors import InputError
from structgen.label.sources import BadRow, Record, Source, detect_format


def rows(source: Source) -> tuple[list[Record], list[BadRow]]:
    items = list(source)
    return [r for r in items if isinstance(r, Record)], [r for r in items if isinstance(r, BadRow)]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def test_format_follows_the_suffix() -> None:
    assert [detect_format(n) for n in ("a.jsonl", "a.NDJSON", "a.csv", "a.tsv", "a.txt", "a")] == [
        "jsonl",
        "jsonl",
        "csv",
        "tsv",
        "text",
        "text",
    ]


def test_jsonl_ids_from_a_field_and_malformed_rows_with_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "in.jsonl",
        """{"id": "a", "text": "one"}

{"id": "b", "text": "two"
[1, 2]
{"text": "no id"}
{"id": 3.5, "text": "float id"}
{"id": "a", "text": "again"}
{"id": 7, "text": "int id"}
""",
    )
    good, bad = rows(Source(path, id_field="id"))
    assert [(r.id, r.line, r.data["text"]) for r in good] == [("a", 1, "one"), (7, 8, "int id")]
    assert [(b.line, b.reason) for b in bad] == [
        (3, "bad JSON: Expecting ',' delimiter (column 26)"),
        (4, "not a JSON object but a list"),
        (5, "missing id field 'id'"),
        (6, "id field 'id' is a float, not a string or integer"),
        (7, "id 'a' repeats the record on line 1"),
    ]
    assert str(bad[0]).startswith(f"{path}:3: bad JSON")


def test_without_an_id_field_the_line_number_is_the_id(tmp_path: Path) -> None:
    path = write(tmp_path, "in.jsonl", '{"text": "x"}\n\n{"text": "y"}\n')
    good, bad = rows(Source(path))
    assert [(r.id, r.line) for r in good] == [(1, 1), (3, 3)] and not bad


def test_lines_that_are_not_utf8_are_reported_and_a_bom_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "in.txt", b"\xef\xbb\xbffirst\nbad \xff byte\r\nthird\r\n")
    good, bad = rows(Source(path))
    assert [(r.id, r.data) for r in good] == [(1, {"text": "first"}), (3, {"text": "third"})]
    assert [(b.line, b.reason) for b in bad] == [(2, "not UTF-8 text (byte 5 of the line)")]


def test_csv_rows_with_the_wrong_column_count_are_reported_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "in.csv", 'id,text\n1,"two\nlines"\n2\n\n3,"fine, with a comma"\n4,x,extra\n')
    good, bad = rows(Source(path, id_field="id"))
    assert [(r.id, r.line, r.data["text"]) for r in good] == [
        ("1", 2, "two\nlines"),
        ("3", 6, "fine, with a comma"),
    ]
    assert [(b.line, b.reason) for b in bad] == [
        (4, "1 columns where the header has 2"),
        (7, "3 columns where the header has 2"),
    ]


def test_tsv_and_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "in.tsv", "name\tscore\nann\t3\n")
    source = Source(path)
    assert source.header() == ["name", "score"]
    assert [r.data for r in rows(source)[0]] == [{"name": "ann", "score": "3"}]


@pytest.mark.parametrize(
    ("header", "message"),
    [("a,,b", "column 2 of the header has no name"), ("a,b,a", "column 'a' appears twice")],
)
def test_an_unusable_csv_header_is_an_input_error(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, "in.csv", header + "\n1,2,3\n")
    with pytest.raises(InputError, match=message):
        list(Source(path))


def test_a_missing_file_or_format_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        Source(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        Source([], format="xml")  # type: ignore[arg-type]


def test_an_iterable_of_mappings_and_strings(tmp_path: Path) -> None:
    good, bad = rows(Source([{"text": "a", "k": 1}, "plain", 42, {1: "x"}]))
    assert [(r.id, r.data) for r in good] == [(1, {"text": "a", "k": 1}), (2, {"text": "plain"})]
    assert [(b.line, b.reason) for b in bad] == [
        (3, "item is a int, expected a mapping or a string"),
        (4, "the mapping has keys that are not strings"),
    ]


def test_a_source_can_be_read_twice(tmp_path: Path) -> None:
    source = Source(iter(["a", "b"]))
    assert list(source) == list(source)


texts = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({"text": texts, "n": st.integers()}), max_size=15))
def test_jsonl_reads_back_what_was_written(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict[str, Any]]
) -> None:
    path = tmp_path_factory.mktemp("j") / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    good, bad = rows(Source(path))
    assert not bad
    assert [(r.line, dict(r.data)) for r in good] == list(enumerate(records, start=1))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(texts, texts), max_size=15), st.sets(st.integers(0, 15)))
def test_csv_reads_back_what_was_written_and_reports_each_bad_row_at_its_line(
    tmp_path_factory: pytest.TempPathFactory, records: list[tuple[str, str]], extra: set[int]
) -> None:
    chunks = ["a,b\r\n"]
    expected_good: list[tuple[int, dict[str, str]]] = []
    expected_bad: list[tuple[int, dict[str, str]]] = []
    line = 2
    for index, (a, b) in enumerate(records):
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerow([a, b, "x"] if index in extra else [a, b])
        (expected_bad if index in extra else expected_good).append((line, {"a": a, "b": b}))
        chunks.append(buffer.getvalue())
        line += len(re.findall(r"\r\n|\r|\n", buffer.getvalue()))  # how the reader counts lines
    path = tmp_path_factory.mktemp("c") / "in.csv"
    path.write_text("".join(chunks), encoding="utf-8", newline="")
    good, bad = rows(Source(path))
    assert [(r.line, dict(r.data)) for r in good] == expected_good
    assert [b.line for b in bad] == [n for n, _ in expected_bad]
