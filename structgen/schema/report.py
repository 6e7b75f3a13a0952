"""The compile report: every keyword the grammar does not fully enforce, with its JSON pointer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from structgen.errors import UnsupportedSchemaError

Severity = Literal["loosened", "ignored", "restricted"]


class Inexpressible(Exception):
    """Internal: a grammar cannot express this constraint; whoever tried it reports the keyword as loosened.

    The one loosening signal: the size limits of the layers below (automata, repetitions, state
    machines) are its subclasses, so a caller that can only loosen catches this class alone.

    ``keyword`` names the culprit when the raiser knows it better than the catcher.
    """

    def __init__(self, reason: str, keyword: str = ""):
        super().__init__(reason)
        self.keyword = keyword


@dataclass(frozen=True)
class ReportItem:
    """One keyword at ``pointer`` that the grammar does not enforce.

    ``loosened``: the grammar accepts some values the schema rejects (post-validation catches them).
    ``ignored``: the keyword asserts nothing checkable (an unknown format, an annotation).
    ``restricted``: the grammar rejects some valid spellings of allowed values (exponent forms, members
    of an object in another order than the schema's), or values beyond a generation bound asked for
    (``max_string_length``, ``max_items``).
    """

    pointer: str
    """The JSON pointer of the schema object holding the keyword (empty: the root)."""
    keyword: str
    """The keyword, e.g. ``uniqueItems`` or ``format``."""
    reason: str
    """What the grammar does instead, in words."""
    severity: Severity = "loosened"
    """``loosened``, ``ignored`` or ``restricted`` (see above)."""

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.keyword}: {self.reason}"


@dataclass
class Report:
    """Collects :class:`ReportItem` entries; with ``strict`` a loosening raises instead."""

    strict: bool = False
    items: list[ReportItem] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    loosenings: int = 0
    """How many times something was loosened (repeats included): a sub-schema compiled while this
    count stayed the same is enforced exactly, so it may be negated."""

    def loosened(self, pointer: str, keyword: str, reason: str) -> None:
        """Record that ``keyword`` at ``pointer`` is not fully enforced (or refuse, when strict)."""
        if self.strict:
            raise UnsupportedSchemaError(
                f"{keyword} cannot be enforced by a grammar: {reason}", pointer, keyword
            )
        self.loosenings += 1
        self._add(ReportItem(pointer, keyword, reason, "loosened"))

    def ignored(self, pointer: str, keyword: str, reason: str) -> None:
        """Record a keyword that asserts nothing the grammar (or a validator) could check."""
        self._add(ReportItem(pointer, keyword, reason, "ignored"))

    def restricted(self, pointer: str, keyword: str, reason: str) -> None:
        """Record that the grammar leaves out some valid spellings (never some values' only spelling)."""
        self._add(ReportItem(pointer, keyword, reason, "restricted"))

    def add(self, severity: Severity, pointer: str, keyword: str, reason: str) -> None:
        """Record ``keyword`` at ``pointer`` with ``severity`` (see :class:`ReportItem`)."""
        if severity == "loosened":
            self.loosened(pointer, keyword, reason)
        else:
            self._add(ReportItem(pointer, keyword, reason, severity))

    def _add(self, item: ReportItem) -> None:
        key = (item.pointer, item.keyword, item.reason)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(item)

    @property
    def exact(self) -> bool:
        """True when the grammar enforces the whole schema."""
        return not any(item.severity == "loosened" for item in self.items)

    def __str__(self) -> str:
        return "\n".join(str(item) for item in self.items) or "fully enforced"
