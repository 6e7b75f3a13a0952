"""The command line's schema and server commands: compile, explain, run (serve is LocalServer's loop)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from structgen.gbnf import Matcher
from structgen.server import LocalServer

from .test_cli import Run

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 9}},
    "required": ["n"],
}
LOOKAROUND = {"type": "string", "pattern": "^(?=a)[a-z]+$"}


@dataclass
class PointType:
    x: int
    y: int


def _write(tmp_path: Path, schema: object) -> str:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(schema))
    return str(path)


def test_compile_prints_a_grammar_that_matches(tmp_path: Path) -> None:
    run = Run(["compile", _write(tmp_path, SCHEMA), "--whitespace", "compact"])
    assert run.status == 0
    matcher = Matcher(run.out)
    assert matcher.fullmatch('{"n":5}') and not matcher.fullmatch('{"n":10}')


def test_compile_to_file_and_from_a_python_type(tmp_path: Path) -> None:
    out = tmp_path / "g.gbnf"
    assert Run(["compile", "tests.test_cli_compile_run:PointType", "-o", str(out)]).status == 0
    assert Matcher(out.read_text()).fullmatch('{"x": 1, "y": 2}')


def test_compile_notes_and_strict(tmp_path: Path) -> None:
    path = _write(tmp_path, LOOKAROUND)
    run = Run(["compile", path])
    assert run.status == 0 and "/pattern" in run.err and "note" in run.err
    strict = Run(["compile", "--strict", path])
    assert strict.status == 1 and "/pattern" in strict.err


def test_compile_time_limit(tmp_path: Path) -> None:
    costly = {"type": "string", "allOf": [{"pattern": "^[a-z]{3}[0-9]*$"}, {"not": {"pattern": "a.*b"}}]}
    path = _write(tmp_path, costly)
    refused = Run(["compile", path, "--time-limit", "0.0000001"])
    assert refused.status == 1 and "time limit" in refused.err
    assert Run(["compile", path, "--time-limit", "0"]).status == 0  # 0: no limit
    bad = Run(["compile", path, "--time-limit", "soon"])
    assert bad.status == 2


def test_explain_lists_reported_keywords(tmp_path: Path) -> None:
    run = Run(["explain", "--json", _write(tmp_path, LOOKAROUND)])
    assert run.status == 0
    items = json.loads(run.out)
    assert items and items[0]["pointer"] == "/pattern" and items[0]["keyword"] == "pattern"
    assert "every keyword is enforced" in Run(["explain", _write(tmp_path, SCHEMA)]).out


def test_bad_schemas_are_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": ')
    run = Run(["compile", str(bad)])
    assert run.status == 1 and "bad.json" in run.err and "line 1" in run.err
    assert Run(["compile", str(tmp_path / "missing.json")]).status == 2
    assert Run(["compile", "no_such_module:Type"]).status == 2
    assert Run(["compile", _write(tmp_path, {"type": "nonsense"})]).status == 1


def test_run_streams_a_constrained_completion(llama_server: LocalServer) -> None:
    run = Run(
        [
            "run",
            "yes-no",
            "--prompt",
            "Is the sky blue? Answer: ",
            "--url",
            llama_server.url,
            "--n-predict",
            "8",
        ]
    )
    assert run.status == 0
    assert Matcher(Path("grammars/yes-no.gbnf").read_text()).fullmatch(run.out.rstrip("\n"))
    assert "tokens" in run.err


def test_run_with_a_schema(llama_server: LocalServer, tmp_path: Path) -> None:
    run = Run(
        [
            "run",
            "--schema",
            _write(tmp_path, SCHEMA),
            "--prompt",
            "A JSON object with n: ",
            "--url",
            llama_server.url,
            "--n-predict",
            "16",
        ]
    )
    assert run.status == 0
    assert 1 <= json.loads(run.out)["n"] <= 9


def test_run_needs_exactly_one_of_grammar_and_schema() -> None:
    assert Run(["run", "--prompt", "x"]).status == 2


def test_the_readme_run_example_gives_a_json_object(llama_server: LocalServer) -> None:
    # `run` sends the prompt through the model's chat template by default, as `label` does
    run = Run(["run", "json", "--prompt", "A JSON object about cats:", "--url", llama_server.url])
    assert run.status == 0, run.err
    text = run.out.removesuffix("\n")
    # an object (SmolLM2-135M may run on to the 256-token limit inside it; without the template: a number)
    assert text.startswith("{") and Matcher(Path("grammars/json.gbnf").read_text()).is_prefix(text), text
    if "stopped: eos" in run.err:
        assert isinstance(json.loads(text), dict)
