"""Records to label: JSONL, CSV or TSV with a header row, plain text (one item a line), or a Python iterable.

Every record has an id, taken from a named field (by default ``id`` when the first record has one)
or else the line number, and keeps the line it came from. A malformed row (bad JSON, not UTF-8, a missing id, a wrong column count, a repeated id)
becomes a :class:`BadRow` with its line number, and reading goes on.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from structgen.label.errors import InputError

__all__ = ["BadRow", "Format", "Record", "RecordId", "Row", "Source", "detect_format"]

RecordId = str | int
Format = Literal["jsonl", "csv", "tsv", "text"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "tsv", "text")
_SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}


@dataclass(frozen=True)
class Record:
    """One item to label: its id, its fields and the line (or 1-based position) it came from."""

    id: RecordId
    """The value of the ``id_field`` column, else the line number."""
    data: Mapping[str, Any]
    """Its fields, as the template sees them."""
    line: int
    """Its line in the input (1-based)."""


@dataclass(frozen=True)
class BadRow:
    """A row that was skipped, and why."""

    line: int
    """The row's line in the input (1-based)."""
    reason: str
    """Why it is not a record."""
    source: str
    """The input's name (a path, or ``<records>``)."""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


Row = Record | BadRow


def detect_format(path: str | os.PathLike[str]) -> Format:
    """The format a file name implies: ``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, anything else plain text."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "text")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


class Source:
    """Where records come from; iterate it for :data:`Row` items (it can be read more than once).

    ``source`` is a file path or an iterable of mappings or strings (strings become ``{text_field: item}``).
    ``format`` defaults to what the file name says (:func:`detect_format`). ``id_field`` names the
    field holding each record's id; ``None``: ``"id"`` when the first record has it, else the line
    number; ``False``: always the line number.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Iterable[Any],
        *,
        format: Format | None = None,
        id_field: str | Literal[False] | None = None,
        text_field: str = "text",
    ):
        if format is not None and format not in FORMATS:
            raise InputError(f"unknown input format {format!r}; use one of {', '.join(FORMATS)}")
        self.id_field = id_field
        self._auto_id: bool | None = None
        self.text_field = text_field
        self._items: list[Any] | None = None
        self.path: Path | None = None
        if isinstance(source, (str, os.PathLike)):
            self.path = Path(source)
            if not self.path.is_file():
                raise InputError(f"{self.path}: no such file")
            self.format: Format | None = format or detect_format(self.path)
            self.name = str(self.path)
        elif isinstance(source, (bytes, Mapping)):
            raise InputError(f"records must be a file path or an iterable of records, not {_kind(source)}")
        else:
            self._items = list(source)
            self.format = format
            self.name = "<records>"

    def header(self) -> list[str] | None:
        """The column names of a CSV/TSV file (``None`` for other formats)."""
        if self.format not in ("csv", "tsv") or self.path is None:
            return None
        with self._open_text() as f:
            row = next(csv.reader(f, delimiter=self._delimiter()), None)
        return self._check_header(row or [])

    def __iter__(self) -> Iterator[Row]:
        seen: dict[RecordId, int] = {}
        for row in self._rows():
            if isinstance(row, Record):
                first = seen.setdefault(row.id, row.line)
                if first != row.line:
                    row = BadRow(row.line, f"id {row.id!r} repeats the record on line {first}", self.name)
            yield row

    # -- per format ---------------------------------------------------------------------------------

    def _rows(self) -> Iterator[Row]:
        if self._items is not None:
            yield from self._iterable_rows(self._items)
        elif self.format == "jsonl":
            yield from self._jsonl_rows()
        elif self.format in ("csv", "tsv"):
            yield from self._csv_rows()
        else:
            yield from self._text_rows()

    def _record(self, data: Mapping[str, Any], line: int) -> Row:
        field = self.id_field
        if field is None:
            if self._auto_id is None:  # the first record decides, so every pass numbers the same way
                self._auto_id = "id" in data
            field = "id" if self._auto_id else False
        if field is False:
            return Record(line, data, line)
        hint = " (or number the records by line)" if self.id_field is None else ""
        if field not in data:
            return BadRow(line, f"missing id field {field!r}{hint}", self.name)
        value = data[field]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return BadRow(
                line, f"id field {field!r} is {_kind(value)}, not a string or integer{hint}", self.name
            )
        if value == "":
            return BadRow(line, f"id field {field!r} is empty{hint}", self.name)
        return Record(value, data, line)

    def _iterable_rows(self, items: list[Any]) -> Iterator[Row]:
        for line, item in enumerate(items, start=1):
            if isinstance(item, str):
                yield self._record({self.text_field: item}, line)
            elif isinstance(item, Mapping):
                if all(isinstance(k, str) for k in item):
                    yield self._record(item, line)
                else:
                    yield BadRow(line, "the mapping has keys that are not strings", self.name)
            else:
                yield BadRow(line, f"item is {_kind(item)}, expected a mapping or a string", self.name)

    def _lines(self) -> Iterator[tuple[int, str | BadRow]]:
        """Each non-blank line as text, or a BadRow when it is not UTF-8."""
        assert self.path is not None
        try:
            with open(self.path, "rb") as f:
                for number, raw in enumerate(f, start=1):
                    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        yield (
                            number,
                            BadRow(number, f"not UTF-8 text (byte {exc.start + 1} of the line)", self.name),
                        )
                        continue
                    text = text.rstrip("\r\n")
                    if text.strip():
                        yield number, text
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from None

    def _jsonl_rows(self) -> Iterator[Row]:
        for line, text in self._lines():
            if isinstance(text, BadRow):
                yield text
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield BadRow(line, f"bad JSON: {exc.msg} (column {exc.colno})", self.name)
                continue
            if not isinstance(data, dict):
                yield BadRow(line, f"not a JSON object but {_kind(data)}", self.name)
                continue
            yield self._record(data, line)

    def _text_rows(self) -> Iterator[Row]:
        for line, text in self._lines():
            yield text if isinstance(text, BadRow) else self._record({self.text_field: text}, line)

    def _delimiter(self) -> str:
        return "\t" if self.format == "tsv" else ","

    def _open_text(self) -> Any:
        assert self.path is not None
        try:
            # surrogateescape keeps reading past bytes that are not UTF-8; such rows are reported below
            return open(self.path, encoding="utf-8-sig", errors="surrogateescape", newline="")
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror or exc}") from None

    def _check_header(self, header: list[str]) -> list[str]:
        names = [h.strip() for h in header]
        for index, name in enumerate(names):
            if not name:
                raise InputError(f"{self.name}:1: column {index + 1} of the header has no name")
            if names.index(name) != index:
                raise InputError(f"{self.name}:1: column {name!r} appears twice in the header")
        return names

    def _csv_rows(self) -> Iterator[Row]:
        with self._open_text() as f:
            reader = csv.reader(f, delimiter=self._delimiter())
            try:
                header = next(reader, None)
            except csv.Error as exc:
                raise InputError(f"{self.name}:1: the header is not valid CSV: {exc}") from None
            if header is None:
                return
            names = self._check_header(header)
            previous = reader.line_num
            while True:
                start = previous + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    if reader.line_num == previous:
                        return
                    previous = reader.line_num
                    yield BadRow(start, f"bad CSV: {exc}", self.name)
                    continue
                previous = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip() and len(names) > 1):
                    continue
                if len(row) != len(names):
                    yield BadRow(start, f"{len(row)} columns where the header has {len(names)}", self.name)
                    continue
                if any(_has_surrogates(cell) for cell in row):
                    yield BadRow(start, "not UTF-8 text", self.name)
                    continue
                yield self._record(dict(zip(names, row)), start)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
