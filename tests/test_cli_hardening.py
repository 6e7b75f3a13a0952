"""Issue 13, without a server: every bad input ends in a typed error that names what and where; nothing a
command says is falsely reassuring; the rough edges a new user meets first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import structgen
from structgen import ArgumentError, Matcher
from structgen.errors import InvalidSchemaError, UnsatisfiableSchemaError

from .test_cli import Run

REPO = Path(__file__).resolve().parents[1]
UNSATISFIABLE = [False, {"allOf": [{"type": "string"}, {"type": "integer"}]}]


def write(tmp_path: Path, text: str, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def deep(levels: int) -> str:
    return '{"type": "object", "properties": {"a": ' * levels + "{}" + "}}" * levels


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err + run.out and "Error:" not in run.err.split(":", 1)[0]


# -- tracebacks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [600, 5000])
def test_explain_on_a_deeply_nested_schema_is_a_typed_error(tmp_path: Path, levels: int) -> None:
    run = Run(["explain", write(tmp_path, deep(levels)), "--time-limit", "0"])
    no_traceback(run)
    assert run.status in (0, 1)
    if run.status == 1:
        assert "nested too deeply" in run.err


def test_a_schema_that_is_a_number_is_named_as_such(tmp_path: Path) -> None:
    run = Run(["compile", write(tmp_path, "42")])
    assert run.status == 1 and "a schema must be an object or a boolean, not 42" in run.err
    with pytest.raises(InvalidSchemaError, match="not 42"):
        structgen.compile("42")


def test_matcher_takes_bytes_and_refuses_other_things() -> None:
    assert Matcher(b'root ::= "a"').fullmatch("a")
    with pytest.raises(ArgumentError, match="GBNF text"):
        Matcher(42)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="must be a str"):
        Matcher('root ::= "a"').match(b"a")  # type: ignore[arg-type]


def test_serve_on_a_port_out_of_range_is_a_usage_error() -> None:
    run = Run(["serve", "--port", "99999"])
    assert run.status == 2 and "between 1 and 65535" in run.err


# -- false assurance -----------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", UNSATISFIABLE)
def test_an_unsatisfiable_schema_is_said_so(tmp_path: Path, schema: object) -> None:
    path = write(tmp_path, json.dumps(schema))
    run = Run(["explain", path])
    assert run.status == 1 and "nothing can satisfy this schema" in run.err
    assert "every keyword is enforced" not in run.out
    assert Run(["compile", path]).status == 1
    as_json = Run(["explain", "--json", path])
    assert as_json.status == 1 and json.loads(as_json.out)["error"]["type"] == "UnsatisfiableSchemaError"


@pytest.mark.parametrize("schema", UNSATISFIABLE)
def test_generation_refuses_an_unsatisfiable_schema_before_any_request(schema: object) -> None:
    with pytest.raises(UnsatisfiableSchemaError):
        structgen.generate("x", schema, client=structgen.LlamaClient("http://127.0.0.1:9"))


@pytest.mark.parametrize(
    "grammar, code",
    [
        ('root ::= "a" root\n', "empty-language"),
        ("root ::= [^\\x00-\\U0010FFFF]\n", "empty-language"),
        ('root ::= "x" | a\na ::= "b" a\n', "unproductive-rule"),
    ],
)
def test_check_warns_when_no_text_matches(tmp_path: Path, grammar: str, code: str) -> None:
    run = Run(["check", write(tmp_path, grammar, "g.gbnf")])
    assert run.status == 0 and f"[{code}]" in run.out and "1 warning" in run.out
    assert Run(["check", "--strict", write(tmp_path, grammar, "g.gbnf")]).status == 1


def test_misspelt_keywords_are_reported(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxlength": 3}}, "requird": ["a"]}
    run = Run(["explain", write(tmp_path, json.dumps(schema))])
    assert run.status == 0 and "every keyword is enforced" not in run.out
    assert (
        "/: requird (ignored): unknown keyword, so nothing is enforced: did you mean 'required'?" in run.out
    )
    assert "/properties/a: maxlength (ignored)" in run.out and "'maxLength'" in run.out
    items = structgen.compile(schema).report
    assert {(i.pointer, i.keyword) for i in items} >= {("", "requird"), ("/properties/a", "maxlength")}
    # property names are not keywords, nor are values of enum/const
    fine = {"properties": {"requird": {"enum": [{"maxlength": 1}]}}}
    assert not [i for i in structgen.compile(fine).report if i.severity == "ignored"]


def test_the_report_names_keywords_the_schema_has(tmp_path: Path) -> None:
    schema = {"type": "array", "contains": {"type": "integer"}}
    for item in structgen.compile(schema).report:
        assert item.keyword in schema, item


def test_explain_json_prints_errors_as_json(tmp_path: Path) -> None:
    run = Run(["explain", "--json", write(tmp_path, '{"type": 12}')])
    assert run.status == 1
    error = json.loads(run.out)["error"]
    assert error["type"] == "InvalidSchemaError" and error["pointer"] == "/type" and error["message"]
    missing = Run(["explain", "--json", str(tmp_path / "missing.json")])
    assert missing.status == 2 and json.loads(missing.out)["error"]["type"] == "UsageError"


def test_messages_name_the_flags_not_the_python_arguments(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(3)}}
    run = Run(["explain", write(tmp_path, json.dumps(schema))])
    assert "--any-order" in run.out and "any_order=True" not in run.out
    big = {"type": "string", "pattern": "^(ab|cd)*[a-z]{3,30}(x|y)+$", "minLength": 5}
    run = Run(["compile", write(tmp_path, json.dumps(big)), "--time-limit", "0.000001"])
    assert run.status == 1 and "--time-limit 0" in run.err and "time_limit=None" not in run.err


# -- rough edges ---------------------------------------------------------------------------------------


def test_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "structgen", "--version"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"structgen {structgen.__version__}"


def test_python_dash_m_structgen_runs_the_command_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "structgen", "match", "yes-no", "--text", "yes"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "match"


def test_color_after_the_subcommand(tmp_path: Path) -> None:
    path = write(tmp_path, 'root ::= "a" ws*\nws ::= [ ]\n', "g.gbnf")
    assert "\x1b[" in Run(["check", path, "--color", "always"]).out
    assert "\x1b[" not in Run(["--color", "always", "check", path, "--color", "never"]).out
    assert "\x1b[" in Run(["--color", "always", "check", path]).out


def test_check_of_a_folder_checks_no_file(tmp_path: Path) -> None:
    run = Run(["check", str(tmp_path)])
    assert run.status == 2 and "is a folder" in run.err
    assert "0 files checked" in run.out and "1 file checked" not in run.out


def test_module_type_is_found_in_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "mymodels.py").write_text(
        "from pydantic import BaseModel\nclass Point(BaseModel):\n    x: int\n", encoding="utf-8"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            # as the console script runs it: the current folder is not on sys.path
            "import sys; sys.path.pop(0); from structgen.cli import main; sys.exit(main())",
            "compile",
            "mymodels:Point",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "root ::=" in proc.stdout


def test_a_missing_module_is_a_usage_error() -> None:
    run = Run(["compile", "no_such_module_here:Thing"])
    assert run.status == 2 and "cannot import module 'no_such_module_here'" in run.err


@pytest.mark.parametrize(
    "argv", [["run", "yes-no", "--prompt", "x"], ["label", "-", "--labels", "a,b", "-o"]]
)
def test_a_server_that_is_down_is_exit_status_2_everywhere(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if argv[0] == "label":
        argv = [*argv, str(tmp_path / "o.jsonl")]
    run = Run([*argv, "--url", "http://127.0.0.1:9"], stdin=b"some text\n")
    assert run.status == 2, run.err
    no_traceback(run)


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://x", "http://"])
def test_a_bad_structgen_url_names_the_variable(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTGEN_URL", url)
    run = Run(["run", "yes-no", "--prompt", "x"])
    assert run.status == 2 and "$STRUCTGEN_URL" in run.err and repr(url) in run.err
    with pytest.raises(structgen.StructgenError, match=r"\$STRUCTGEN_URL"):
        structgen.default_client()


@pytest.mark.parametrize("labels, message", [("positive", "at least two labels"), ("a,a", "given twice")])
def test_one_label_or_a_repeated_label_is_refused(tmp_path: Path, labels: str, message: str) -> None:
    data = write(tmp_path, '{"text": "x"}\n', "in.jsonl")
    run = Run(
        ["label", data, "--labels", labels, "-o", str(tmp_path / "o.jsonl"), "--url", "http://127.0.0.1:9"]
    )
    assert run.status == 2 and message in run.err


def test_public_names_are_only_the_api() -> None:
    names = [n for n in dir(structgen) if not n.startswith("_")]
    assert set(names) == set(structgen.__all__)
    assert not {"annotations", "TYPE_CHECKING", "importlib", "Any"} & set(vars(structgen))
