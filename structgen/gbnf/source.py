"""Source texts: decoding grammar files and turning offsets into line:column locations."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GrammarError, Location

_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass(frozen=True)
class Source:
    """A grammar text with its file name and an index of line starts (``\\n``, ``\\r\\n`` and ``\\r`` end lines)."""

    text: str
    filename: str | None = None
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def of(cls, text: str, filename: str | None = None) -> Source:
        starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        return cls(text, filename, tuple(starts))

    def location(self, offset: int) -> Location:
        """The 1-based line and column (in code points) of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._starts, offset) - 1
        return Location(index + 1, offset - self._starts[index] + 1, offset, self.filename)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if not 1 <= line <= len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def error(self, message: str, offset: int) -> GrammarError:
        """A GrammarError located at ``offset``, carrying the source line for a caret display."""
        loc = self.location(offset)
        return GrammarError(message, loc, self.line_text(loc.line))


def decode(data: bytes | str, filename: str | None = None) -> Source:
    """Decode grammar bytes as strict UTF-8; bad bytes and NUL characters give a located GrammarError."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            good = data[: exc.start].decode("utf-8")
            src = Source.of(good, filename)
            raise src.error(
                f"invalid UTF-8 byte 0x{data[exc.start]:02x} (byte offset {exc.start})", len(good)
            ) from None
    else:
        text = data
        bad = next((i for i, ch in enumerate(text) if 0xD800 <= ord(ch) <= 0xDFFF), None)
        if bad is not None:
            raise Source.of(text, filename).error("lone surrogate: the text cannot be encoded as UTF-8", bad)
    src = Source.of(text, filename)
    nul = text.find("\x00")
    if nul >= 0:
        raise src.error("NUL character (llama.cpp stops reading the grammar here)", nul)
    return src


def read_grammar_file(path: str | Path) -> tuple[bytes, str]:
    """The bytes of a grammar file and its name; an unreadable file raises GrammarError (without a location)."""
    p = Path(path)
    try:
        return p.read_bytes(), str(p)
    except OSError as exc:
        raise GrammarError(f"cannot read {p}: {exc.strerror or exc}") from None
