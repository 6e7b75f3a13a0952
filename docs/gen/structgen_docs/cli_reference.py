"""The CLI reference: the ``--help`` of each command at 80 columns, and examples run when the site is built."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from .context import ROOT, DirectiveError
from .source import find

WIDTH = 80


@contextmanager
def _columns(width: int) -> Iterator[None]:
    """argparse wraps help to the terminal width; fix it so the page does not depend on the build machine."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def exit_status() -> str:
    """The paragraph on exit statuses from the docstring of ``structgen.cli``."""
    doc = find("structgen.cli").docstring or ""
    match = re.search(r"Exit status:.*?(?:\n\n|$)", doc, re.DOTALL)
    return " ".join(match.group(0).split()) if match else ""


def _fit(text: str) -> str:
    """Help text with usage lines argparse cannot break (a long group of alternatives) broken at `` | ``."""
    out: list[str] = []
    for line in text.splitlines():
        while len(line) > WIDTH and " | " in line[:WIDTH]:
            cut = line.rindex(" | ", 0, WIDTH)
            indent = len(line) - len(line.lstrip()) + 1
            out.append(line[:cut])
            line = " " * indent + line[cut + 1 :]
        out.append(line)
    too_long = [line for line in out if len(line) > WIDTH]
    if too_long:
        raise DirectiveError(f"a line over {WIDTH} columns: {too_long[0]!r}")
    return "\n".join(out)


def _parser(path: list[str]) -> argparse.ArgumentParser:
    from structgen.cli import build_parser

    parser = build_parser()
    for name in path:
        children = _subcommands(parser)
        if name not in children:
            raise DirectiveError(f"no command 'structgen {' '.join(path)}' (known: {', '.join(children)})")
        parser = children[name]
    return parser


def help_text(path: list[str]) -> str:
    """``structgen PATH... --help`` at 80 columns, as a code block."""
    with _columns(WIDTH):
        text = _parser(path).format_help()
    return f"```text\n{_fit(text.rstrip())}\n```"


def commands() -> list[str]:
    """The top-level command names."""
    return list(_subcommands(_parser([])))


def run(args: list[str], stdin: str | None = None) -> str:
    """``structgen ARGS`` run in the repository at 80 columns: the command and its output, as a console block."""
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "structgen.cli", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )
    output = (result.stdout + result.stderr).rstrip()
    if "Traceback" in output:
        raise DirectiveError(f"structgen {shlex.join(args)} failed:\n{output}")
    output = "\n".join(_wrap(line) for line in output.splitlines())
    shown = "$ structgen " + shlex.join(args)
    if stdin is not None:
        shown = f"$ echo {shlex.quote(stdin.rstrip())} | structgen {shlex.join(args)}"
    status = f"\n$ echo $?\n{result.returncode}" if result.returncode else ""
    return f"```console\n{_fit(shown + chr(10) + output + status)}\n```"


def _wrap(line: str) -> str:
    """An output line as an 80-column terminal shows it, but broken between words, continued with 4 spaces."""
    if len(line) <= WIDTH:
        return line
    return "\n".join(
        textwrap.wrap(line, WIDTH, subsequent_indent="    ", break_on_hyphens=False, drop_whitespace=True)
    )
