"""Fuzzing the command line and the public API (issue 13): random argv and random or malformed files end
with exit status 0, 1 or 2 and a message, never a traceback, never a hang, never a changed input file.

CI draws the same examples every run (the default profile is derandomized); ``HYPOTHESIS_PROFILE=fuzz``
draws fresh ones, many more (see tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import structgen
from structgen.cli import main

DEAD_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
FUZZ = settings(
    max_examples=settings.default.max_examples if LONG else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
HANG_SECONDS = 60


@contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail the example (instead of blocking the suite) when it takes longer than ``seconds``."""

    def hang(signum: int, frame: Any) -> None:
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def _no_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands that need a server get one that is down, never a local llama-server started on demand."""
    monkeypatch.setenv("STRUCTGEN_URL", DEAD_URL)


# -- what files look like -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KEYWORDS = [
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "const",
    "minimum",
    "maximum",
    "pattern",
    "format",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "$ref",
    "$defs",
    "additionalProperties",
    "minLength",
    "maxLength",
    "contains",
    "prefixItems",
    "if",
    "then",
    "else",
    "multipleOf",
    "requird",
    "maxlength",
]
SCHEMAS = st.recursive(
    st.booleans()
    | st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["string", "integer", "number", "boolean", "null", "object", "array", "strin", 3]
            )
        }
    ),
    lambda inner: st.dictionaries(
        st.sampled_from(KEYWORDS), inner | JSON_VALUES | st.lists(inner, max_size=3), max_size=4
    ),
    max_leaves=10,
)
GBNF_PIECES = [
    "root",
    " ::= ",
    '"a"',
    "[a-z]",
    "[^\\n]",
    "*",
    "+",
    "?",
    "{2,3}",
    "(",
    ")",
    "|",
    "\n",
    " ",
    "x",
    "::=",
    '"',
    "\\",
    "[",
    "]",
    "#",
    "{",
    "}",
    "ws",
    "-",
    "\x00",
    "é",
]
GBNF = st.lists(st.sampled_from(GBNF_PIECES), max_size=25).map("".join)


def _mangle(data: bytes, cut: int, junk: bytes) -> bytes:
    cut = cut % (len(data) + 1)
    return data[:cut] + junk + data[cut:]


FILE_BYTES = st.one_of(
    st.binary(max_size=200),
    SCHEMAS.map(lambda s: json.dumps(s).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    GBNF.map(str.encode),
    st.lists(JSON_VALUES.map(json.dumps), max_size=5).map(lambda lines: "\n".join(lines).encode()),
    st.tuples(
        SCHEMAS.map(lambda s: json.dumps(s).encode()),
        st.integers(0, 400),
        st.sampled_from([b"", b"\xff", b"{", b"]", b'"', b"\n", b"\x00"]),
    ).map(lambda t: _mangle(*t)),
)
SUFFIXES = st.sampled_from([".json", ".gbnf", ".jsonl", ".csv", ".tsv", ".txt", ""])


# -- argv -----------------------------------------------------------------------------------------------

FLAGS = [
    "--strict",
    "-q",
    "--check",
    "--write",
    "--diff",
    "--text",
    "-t",
    "--file",
    "-f",
    "-",
    "--prefix",
    "--strip-newline",
    "-n",
    "--seed",
    "--json",
    "--max-length",
    "--max-depth",
    "--whitespace",
    "--additional-properties",
    "--any-order",
    "--draft",
    "--time-limit",
    "-o",
    "--output",
    "--labels",
    "--type",
    "--schema",
    "--grammar",
    "--multi",
    "--errors",
    "--format",
    "--id-field",
    "--line-ids",
    "--url",
    "-j",
    "--resume",
    "--overwrite",
    "--n-predict",
    "--temperature",
    "--max-retries",
    "--system",
    "--raw-prompt",
    "--progress",
    "--color",
    "--template",
    "--template-file",
    "--prompt",
    "--port",
    "--help",
    "--version",
]
VALUES = [
    "0",
    "1",
    "-1",
    "99999",
    "nan",
    "1e9",
    "",
    " ",
    "yes-no",
    "json",
    "a,b",
    "a,a",
    "x",
    "compact",
    "never",
    "jsonl",
    "{text}",
    "{",
    "mod:Type",
    ":",
    "os:path",
    "http://",
    "localhost:1",
    DEAD_URL,
    "/proc/x/y",
    "/dev/null",
    ".",
    "..",
    "\x00",
    "é",
]
COMMANDS = [
    "check",
    "fmt",
    "match",
    "sample",
    "grammars",
    "compile",
    "explain",
    "label",
    "run",
    "list",
    "show",
    "path",
]


@st.composite
def argvs(draw: st.DrawFn, files: list[str]) -> list[str]:
    words = st.sampled_from(FLAGS) | st.sampled_from(VALUES) | st.sampled_from(files) | st.text(max_size=6)
    argv = draw(st.lists(words, max_size=8))
    command = draw(st.sampled_from(COMMANDS))
    return [command, *argv]


def _digest(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _run(argv: list[str], stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with no_hang():
        code = main(argv, stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return code, out.getvalue(), err.getvalue()


def _check(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out + err, err


@FUZZ
@given(data=st.data(), contents=st.lists(st.tuples(FILE_BYTES, SUFFIXES), min_size=1, max_size=3))
def test_random_argv_and_files_end_with_a_status_and_leave_inputs_alone(
    data: st.DataObject, contents: list[tuple[bytes, str]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index, (blob, suffix) in enumerate(contents):
            path = Path(folder) / f"f{index}{suffix}"
            path.write_bytes(blob)
            paths.append(path)
        argv = data.draw(argvs([str(p) for p in paths]))
        if "serve" in argv or "--write" in argv or "--overwrite" in argv:
            return  # serve would start a server; --write/--overwrite change files on purpose
        before = _digest(paths)
        code, out, err = _run(argv, data.draw(st.binary(max_size=60)))
        _check(code, out, err)
        assert _digest(paths) == before


COMMAND_LINES = [
    ["check", "{f}"],
    ["fmt", "{f}"],
    ["fmt", "--check", "{f}"],
    ["match", "{f}", "--text", "a"],
    ["match", "json", "--file", "{f}"],
    ["sample", "{f}", "-n", "2", "--seed", "1"],
    ["compile", "{f}"],
    ["explain", "{f}"],
    ["explain", "--json", "{f}"],
    ["compile", "--any-order", "--whitespace", "pretty", "{f}"],
    ["label", "{f}", "--labels", "a,b", "-o", "{d}/out.jsonl"],
    ["label", "{f}", "--schema", "{f}", "-o", "{d}/o.jsonl"],
    ["label", "{f}", "--grammar", "{f}", "-o", "{d}/o.jsonl"],
    ["label", "{f}", "--labels", "a,b", "-o", "{f}"],
    ["label", "{f}", "--labels", "a,b", "-o", "{d}/o.jsonl", "--template", "{{text}} {{id}}"],
    ["run", "--schema", "{f}", "--prompt", "x", "--url", "localhost:1"],
]


@FUZZ
@given(blob=FILE_BYTES, suffix=SUFFIXES, line=st.sampled_from(COMMAND_LINES))
def test_malformed_files_get_a_typed_error_and_stay_unchanged(
    blob: bytes, suffix: str, line: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(blob)
        argv = [word.format(f=path, d=folder) for word in line]
        code, out, err = _run(argv, blob)
        _check(code, out, err)
        assert path.read_bytes() == blob


@FUZZ
@given(schema=SCHEMAS | JSON_VALUES)
def test_compile_raises_only_schema_errors(schema: Any) -> None:
    with no_hang():
        try:
            compiled = structgen.compile(schema)
        except structgen.SchemaError:
            return
    assert isinstance(compiled.grammar, str)
    for item in compiled.report:
        assert item.pointer == "" or item.pointer.startswith("/")


@FUZZ
@given(grammar=GBNF | st.binary(max_size=80), text=st.text(max_size=20))
def test_matcher_raises_only_grammar_errors(grammar: str | bytes, text: str) -> None:
    with no_hang():
        try:
            matcher = structgen.Matcher(grammar)
        except structgen.GrammarError:
            return
        matcher.match(text)


CSV_PIECES = ["a", "b", "text", "id", ",", "\t", '"', "\n", "\r\n", "\x00", "\xff", "é", " ", "1", "{", "}"]


@FUZZ
@given(
    blob=FILE_BYTES | st.lists(st.sampled_from(CSV_PIECES), max_size=40).map(lambda p: "".join(p).encode()),
    fmt=st.sampled_from(["jsonl", "csv", "tsv", "text", None]),
    id_field=st.sampled_from([None, False, "id", "text", ""]),
)
def test_sources_give_records_or_bad_rows_or_an_input_error(blob: bytes, fmt: Any, id_field: Any) -> None:
    from structgen.label import BadRow, InputError, Record, Source

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "in.csv"
        path.write_bytes(blob)
        with no_hang():
            try:
                rows = list(Source(path, format=fmt, id_field=id_field))
            except InputError:
                return
        assert all(isinstance(row, (Record, BadRow)) for row in rows)
        assert path.read_bytes() == blob
