"""The grammar library: ready-made GBNF grammars, loaded by name (the file name without ``.gbnf``).

In an installed wheel the files live in ``structgen/_grammars``; in a source checkout, in ``grammars/``
at the top of the repository.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from .errors import StructgenError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
SUFFIX = ".gbnf"


class GrammarNotFoundError(StructgenError, LookupError):
    """No library grammar has this name."""

    def __init__(self, name: str, known: list[str]):
        self.name = name
        self.known = known
        super().__init__(f"no library grammar named {name!r} (known: {', '.join(known) or 'none'})")


def folder() -> Path:
    """The directory holding the library's ``.gbnf`` files."""
    installed = resources.files("structgen") / "_grammars"
    if installed.is_dir():
        return Path(str(installed))
    return Path(__file__).resolve().parents[1] / "grammars"


def names() -> list[str]:
    """The names of all library grammars, sorted."""
    base = folder()
    if not base.is_dir():
        return []
    return sorted(p.name[: -len(SUFFIX)] for p in base.glob("*" + SUFFIX) if p.is_file())


def path(name: str) -> Path:
    """The file of the library grammar ``name``; raises GrammarNotFoundError for an unknown name."""
    name = name.removesuffix(SUFFIX)
    if _NAME.match(name):
        candidate = folder() / (name + SUFFIX)
        if candidate.is_file():
            return candidate
    raise GrammarNotFoundError(name, names())


def load(name: str) -> str:
    """The GBNF text of the library grammar ``name``."""
    return path(name).read_text(encoding="utf-8")


def describe(name: str) -> str:
    """The one-line description from the grammar's ``# name: description`` header ('' when absent)."""
    for line in load(name).splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        text = stripped.lstrip("#").strip()
        head, sep, rest = text.partition(":")
        if sep and head.strip() == name:
            return rest.strip()
        return text
    return ""
