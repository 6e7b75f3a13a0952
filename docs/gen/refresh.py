"""Regenerate the output committed in the docs pages' ``<!-- gen:... -->`` blocks.

    python docs/gen/refresh.py                 # every block of every page under docs/
    python docs/gen/refresh.py PAGE.md...      # these pages; their bare directives become blocks
    python docs/gen/refresh.py --check         # list the stale blocks, exit 1 if there are any

Run it from anywhere; it uses the structgen of the repository it is in. ``tests/test_docs.py`` fails
when a block is stale.
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]
sys.dont_write_bytecode = True

from structgen_docs import directives
from structgen_docs.context import ROOT, DirectiveError

COMMAND = "python docs/gen/refresh.py"
DOCS = ROOT / "docs"

HELP_PYTHON = (3, 11)
"""The Python whose argparse laid out the committed ``--help`` blocks (CI's). Others may lay options out
differently (3.13: ``-o, --output FILE``), so under them those blocks are neither refreshed nor checked."""


def keep() -> frozenset[str]:
    """The directives this Python cannot regenerate as committed."""
    return frozenset() if sys.version_info[:2] == HELP_PYTHON else frozenset({"cli-help"})


def pages() -> list[Path]:
    """The markdown pages of the site (the generators' own folder left out)."""
    return sorted(path for path in DOCS.rglob("*.md") if DOCS / "gen" not in path.parents)


def stale(context: int = 12) -> list[str]:
    """For every block whose committed output is not what its generator makes now: ``PAGE: DIRECTIVE``
    and the start of a diff from the committed output to the current one."""
    out: list[str] = []
    for path in pages():
        name = path.relative_to(ROOT).as_posix()
        markdown = path.read_text(encoding="utf-8")
        if directives.CLOSE not in markdown:
            continue
        for line, committed, now in directives.stale(markdown, name, keep()):
            diff = difflib.unified_diff(
                committed.splitlines(), now.splitlines(), "committed", "now", lineterm=""
            )
            out += [f"{name}: {line}", *itertools.islice(diff, context)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="*", type=Path, help="pages whose bare directives become blocks too")
    parser.add_argument("--check", action="store_true", help="change nothing; list the stale blocks")
    options = parser.parse_args(argv)
    if keep():
        version = ".".join(map(str, HELP_PYTHON))
        print(
            f"{COMMAND}: the --help blocks are left as they are (made with Python {version}, this is not)",
            file=sys.stderr,
        )
    try:
        if options.check:
            found = stale()
            for line in found:
                print(line)
            return 1 if found else 0
        chosen = [path.resolve() for path in options.pages] or pages()
        for path in chosen:
            name = path.relative_to(ROOT).as_posix() if ROOT in path.parents else str(path)
            markdown = path.read_text(encoding="utf-8")
            new = directives.refresh(markdown, name, fill=bool(options.pages), keep=keep())
            if new != markdown:
                path.write_text(new, encoding="utf-8")
                print(f"refreshed {name}")
    except (DirectiveError, OSError) as error:
        print(f"{COMMAND}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
