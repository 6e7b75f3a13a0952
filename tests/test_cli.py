"""The command line: check, fmt, match, sample, grammars; exit statuses 0 / 1 / 2; colour only when asked."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from structgen import cli, grammars
from structgen.gbnf.matcher import Matcher

REPO = Path(__file__).resolve().parents[1]

CLEAN = 'root ::= "a" digit*\ndigit ::= [0-9]\n'
WARNS = 'root ::= "a" ws*\nws ::= [ ]\n'
BROKEN = 'root ::= "a" missing\n'
UNPARSABLE = 'root ::= "a\n'


class Run:
    """The outcome of one ``main(argv)`` call."""

    def __init__(self, argv: list[str], stdin: bytes = b"", tty: bool = False) -> None:
        out, err = _Stream(tty), _Stream(False)
        self.status = cli.main(argv, stdout=out, stderr=err, stdin=io.BytesIO(stdin))
        self.out, self.err = out.getvalue(), err.getvalue()


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"clean": CLEAN, "warns": WARNS, "broken": BROKEN, "unparsable": UNPARSABLE}.items():
        out[name] = tmp_path / f"{name}.gbnf"
        out[name].write_text(text)
    return out


# -- check ----------------------------------------------------------------------------------------------


def test_check_clean_file(files: dict[str, Path]) -> None:
    run = Run(["check", str(files["clean"])])
    assert run.status == 0
    assert run.out == "1 file checked: 0 errors, 0 warnings\n"


def test_check_reports_errors_with_location_and_caret(files: dict[str, Path]) -> None:
    run = Run(["check", str(files["broken"]), str(files["clean"])])
    assert run.status == 1
    assert run.out.splitlines() == [
        f"{files['broken']}:1:14: error: undefined rule 'missing' [undefined-rule]",
        'root ::= "a" missing',
        " " * 13 + "^",
        "2 files checked: 1 error, 0 warnings",
    ]


def test_check_syntax_error_is_a_finding_not_a_usage_error(files: dict[str, Path]) -> None:
    run = Run(["check", str(files["unparsable"])])
    assert run.status == 1
    assert f"{files['unparsable']}:1:10: error:" in run.out


def test_warnings_pass_unless_strict_and_quiet_hides_them(files: dict[str, Path]) -> None:
    assert Run(["check", str(files["warns"])]).status == 0
    assert "[unbounded-whitespace]" in Run(["check", str(files["warns"])]).out
    assert Run(["check", "--strict", str(files["warns"])]).status == 1
    quiet = Run(["check", "-q", str(files["warns"])])
    assert quiet.out == "1 file checked: 0 errors, 1 warning\n"


def test_check_unreadable_file_is_a_usage_error(files: dict[str, Path], tmp_path: Path) -> None:
    run = Run(["check", str(tmp_path / "nope.gbnf"), str(files["clean"])])
    assert run.status == 2
    assert "nope.gbnf: cannot read" in run.err
    assert "1 file checked" in run.out and "1 could not be read" in run.out


def test_check_stdin_and_library_names() -> None:
    run = Run(["check", "-"], stdin=BROKEN.encode())
    assert run.status == 1 and run.out.startswith("<stdin>:1:14: error:")
    assert Run(["check", "json", "yes-no"]).status == 0
    unknown = Run(["check", "no-such-grammar"])
    assert unknown.status == 2 and "no such file or library grammar" in unknown.err


# -- fmt ------------------------------------------------------------------------------------------------


def test_fmt_prints_the_canonical_text(tmp_path: Path) -> None:
    path = tmp_path / "g.gbnf"
    path.write_text('root::= "a"|b\nb ::= ( "c" )\n')
    run = Run(["fmt", str(path)])
    assert (run.status, run.out) == (0, 'root ::= "a" | b\nb    ::= ("c")\n')
    assert path.read_text() == 'root::= "a"|b\nb ::= ( "c" )\n'


def test_fmt_check_write_and_diff(tmp_path: Path) -> None:
    messy, tidy = tmp_path / "messy.gbnf", tmp_path / "tidy.gbnf"
    messy.write_text('root ::= "a"|"b"\n')
    tidy.write_text('root ::= "a" | "b"\n')
    check = Run(["fmt", "--check", str(messy), str(tidy)])
    assert (check.status, check.out) == (1, f"would reformat {messy}\n")
    assert Run(["fmt", "--check", str(tidy)]).status == 0
    diff = Run(["fmt", "--diff", str(messy)])
    assert diff.status == 1 and '-root ::= "a"|"b"\n+root ::= "a" | "b"\n' in diff.out
    write = Run(["fmt", "--write", str(messy), str(tidy)])
    assert (write.status, write.out) == (0, f"reformatted {messy}\n")
    assert messy.read_text() == tidy.read_text()


def test_fmt_bad_input_is_a_usage_error(files: dict[str, Path], tmp_path: Path) -> None:
    run = Run(["fmt", str(files["unparsable"])])
    assert run.status == 2 and f"{files['unparsable']}:1:10: error:" in run.err and run.out == ""
    assert Run(["fmt", str(tmp_path / "missing.gbnf")]).status == 2
    assert Run(["fmt", "--check", "--write", str(files["clean"])]).status == 2


def test_fmt_reads_stdin() -> None:
    run = Run(["fmt", "-"], stdin=b'root::="x"')
    assert (run.status, run.out) == (0, 'root ::= "x"\n')


# -- match ----------------------------------------------------------------------------------------------


def test_match_success_and_failure_with_position_and_expectations(files: dict[str, Path]) -> None:
    ok = Run(["match", str(files["clean"]), "--text", "a123"])
    assert (ok.status, ok.out) == (0, "match\n")
    bad = Run(["match", str(files["clean"]), "--text", "a12x4"])
    assert bad.status == 1
    assert bad.out.splitlines() == [
        "<text>:1:4: no match: unexpected 'x' (offset 3); expected end of input, [0-9] (in digit)",
        "a12x4",
        "   ^",
    ]


def test_match_prefix(files: dict[str, Path]) -> None:
    short = Run(["match", "json", "--text", '{"a": [1, '])
    assert short.status == 1 and "the text ends before the grammar does" in short.out
    assert Run(["match", "json", "--prefix", "--text", '{"a": [1, ']).status == 0


def test_match_reads_files_and_stdin(tmp_path: Path) -> None:
    doc = tmp_path / "doc.json"
    doc.write_text('{"k": [true, null]}')
    assert Run(["match", "json", "--file", str(doc)]).status == 0
    assert Run(["match", "yes-no", "-"], stdin=b"yes").status == 0
    piped = Run(["match", "yes-no", "-"], stdin=b"yes\n")  # `echo yes | structgen match yes-no -`
    assert piped.status == 0 and "without its trailing newline" in piped.err
    assert Run(["match", "yes-no", "--text", "yes\n"]).status == 1  # typed text is taken as it is
    assert Run(["match", "yes-no", "--strip-newline", "-"], stdin=b"yes\n").status == 0
    assert Run(["match", "yes-no", "--file=-"], stdin=b"no").status == 0
    assert Run(["match", "yes-no", "--file", str(tmp_path / "missing")]).status == 2
    assert Run(["match", "yes-no", "-"], stdin=b"\xff").status == 2


def test_match_failure_on_a_later_line_shows_that_line(files: dict[str, Path]) -> None:
    run = Run(["match", "json", "--text", "[\n  1,\n  2 3\n]"])
    assert run.status == 1
    lines = run.out.splitlines()
    assert lines[0].startswith("<text>:3:5: no match: unexpected '3'")
    assert lines[1:] == ["  2 3", "    ^"]


def test_match_needs_a_usable_grammar_and_one_text_source(files: dict[str, Path]) -> None:
    broken = Run(["match", str(files["broken"]), "--text", "a"])
    assert broken.status == 2
    assert f"{files['broken']}:1:14: error: undefined rule 'missing'" in broken.err
    assert Run(["match", str(files["clean"])]).status == 2
    assert Run(["match", str(files["clean"]), "--text", "a", "-"]).status == 2


# -- sample ---------------------------------------------------------------------------------------------


def test_sample_is_seeded_and_matches(files: dict[str, Path]) -> None:
    first = Run(["sample", "json", "-n", "5", "--seed", "7", "--json", "--max-length", "80"])
    again = Run(["sample", "json", "-n", "5", "--seed", "7", "--json", "--max-length", "80"])
    assert first.status == 0 and first.out == again.out
    texts = [json.loads(line) for line in first.out.splitlines()]
    matcher = Matcher(grammars.load("json"))
    assert len(texts) == 5 and all(matcher.fullmatch(t) for t in texts)


def test_sample_plain_output_and_errors(files: dict[str, Path]) -> None:
    run = Run(["sample", "yes-no", "-n", "4", "--seed", "1"])
    assert run.status == 0 and set(run.out.split()) <= {"yes", "no"} and len(run.out.split()) == 4
    assert Run(["sample", str(files["broken"])]).status == 2
    assert Run(["sample", "yes-no", "-n", "0"]).status == 2


# -- grammars -------------------------------------------------------------------------------------------


def test_grammars_list_show_path() -> None:
    listing = Run(["grammars", "list"])
    assert listing.status == 0
    names = [line.split()[0] for line in listing.out.splitlines()]
    assert names == grammars.names() and "json" in names and len(names) >= 12
    assert Run(["grammars", "show", "yes-no"]).out == grammars.load("yes-no")
    assert Run(["grammars", "path", "json"]).out.strip() == str(grammars.path("json"))
    missing = Run(["grammars", "show", "nope"])
    assert missing.status == 2 and "no library grammar named 'nope'" in missing.err


def test_library_lookup_rejects_paths() -> None:
    with pytest.raises(grammars.GrammarNotFoundError):
        grammars.path("../pyproject")
    assert grammars.path("json.gbnf") == grammars.path("json")


# -- general ----------------------------------------------------------------------------------------------


def test_usage_errors_and_help() -> None:
    assert Run([]).status == 2
    assert Run(["frobnicate"]).status == 2
    assert Run(["--help"]).status == 0


def test_colour_only_on_a_terminal_without_no_color(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    argv = ["check", str(files["broken"])]
    assert "\x1b[" not in Run(argv).out
    assert "\x1b[1;31merror\x1b[0m" in Run(argv, tty=True).out
    assert "\x1b[" in Run(["--color", "always", *argv]).out
    assert "\x1b[" not in Run(["--color", "never", *argv], tty=True).out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in Run(argv, tty=True).out


def test_subcommands_are_registered_once() -> None:
    assert list(cli.COMMANDS)[:5] == ["check", "fmt", "match", "sample", "grammars"]
    with pytest.raises(ValueError):
        cli.command("check", "again", lambda parser: None)(lambda args, console: 0)


def test_console_script_runs_in_a_subprocess(files: dict[str, Path]) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "structgen.cli", "check", str(files["broken"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "error: undefined rule 'missing'" in done.stdout and "\x1b[" not in done.stdout
    sampled = subprocess.run(
        [sys.executable, "-m", "structgen.cli", "sample", "yes-no", "-n", "2", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert sampled.returncode == 0 and all(json.loads(x) in ("yes", "no") for x in sampled.stdout.split())
