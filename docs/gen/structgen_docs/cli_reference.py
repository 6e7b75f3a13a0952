"""The CLI reference: the ``--help`` text of ``structgen`` and of every subcommand, from the real parser."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from .source import find

WIDTH = "100"


@contextmanager
def _columns(width: str) -> Iterator[None]:
    """argparse wraps help to the terminal width; fix it so the page does not depend on the build machine."""
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
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


def _walk(parser: argparse.ArgumentParser, depth: int = 0) -> Iterator[tuple[int, argparse.ArgumentParser]]:
    yield depth, parser
    for child in _subcommands(parser).values():
        yield from _walk(child, depth + 1)


def _exit_status() -> str:
    doc = find("structgen.cli").docstring or ""
    match = re.search(r"Exit status:.*?(?:\n\n|$)", doc, re.DOTALL)
    return " ".join(match.group(0).split()) if match else ""


def render() -> str:
    """Markdown: a section per command with its help text, parents before children."""
    from structgen.cli import build_parser

    with _columns(WIDTH):
        parser = build_parser()
        sections = [(depth, p.prog, p.format_help()) for depth, p in _walk(parser)]
    out: list[str] = []
    status = _exit_status()
    if status:
        out += [status, ""]
    commands = [prog for depth, prog, _ in sections if depth == 1]
    out += ["Commands: " + ", ".join(f"[`{prog.split()[-1]}`](#{_anchor(prog)})" for prog in commands) + ".", ""]
    for depth, prog, text in sections:
        level = "#" * min(2 + max(depth - 1, 0), 4)
        out += [f"{level} `{prog}` {{ #{_anchor(prog)} }}", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(out)


def _anchor(prog: str) -> str:
    return "cli-" + "-".join(prog.split()[1:]) if " " in prog else "cli-structgen"
