"""What a labeling run did: counts, label distribution, failures, throughput and tokens."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from structgen.label.sources import BadRow, RecordId

__all__ = ["Failure", "Summary"]

_SHOWN = 10


@dataclass(frozen=True)
class Failure:
    """A record that got no answer, and why."""

    id: RecordId
    """The record's id."""
    line: int
    """Its line in the input file."""
    error: str
    """The error's type name, e.g. ``ValidationFailedError``."""
    reason: str
    """What went wrong."""


@dataclass
class Summary:
    """Counts of one run. Every record of the input is exactly one of: ``skipped`` (done by an earlier
    run), ``labelled``, ``failed``, or ``not_started`` (the run was interrupted); malformed rows are
    not records."""

    records: int = 0
    """Well-formed records in the input."""
    skipped: int = 0
    """Records already done by an earlier run (their ids are in the output file)."""
    labelled: int = 0
    """Records labelled by this run."""
    failed: int = 0
    """Records that failed (each is a line of the errors file)."""
    malformed: list[BadRow] = field(default_factory=list)
    """Input rows that are not records (bad JSON, wrong columns), with line and reason."""
    failures: list[Failure] = field(default_factory=list)
    """The failed records, with line and reason."""
    labels: Counter[str] = field(default_factory=Counter)
    """How often each answer came (labels; scalar answers of other types)."""
    seconds: float = 0.0
    """Wall time of the run."""
    attempts: int = 0
    """Requests made, re-asks included."""
    tokens_predicted: int = 0
    """Tokens generated, over all requests."""
    tokens_evaluated: int = 0
    """Prompt tokens, over all requests."""
    servers: dict[str, int] = field(default_factory=dict)
    """Records answered by each server."""
    server_downs: dict[str, int] = field(default_factory=dict)
    """Times each server was found down during the run."""
    concurrency: int = 0
    """Requests in flight at once."""
    interrupted: bool = False
    """True when the run stopped before the end (Ctrl-C, or ``cancel`` was set)."""
    out: Path | None = None
    """The output file (``None`` when the results were kept in memory)."""
    errors: Path | None = None
    """The file failed records go to (next to ``out`` unless given; ``None`` without either)."""
    results: list[dict[str, Any]] = field(default_factory=list)
    """The result lines, when the run had no output file."""

    @property
    def not_started(self) -> int:
        """Records this run never reached (it was interrupted)."""
        return max(self.records - self.skipped - self.labelled - self.failed, 0)

    @property
    def rate(self) -> float:
        """Records labelled per second of this run."""
        return self.labelled / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """True when every record is done and no row was malformed."""
        return not self.failed and not self.malformed and not self.not_started

    def format(self) -> str:
        """A short human-readable report."""
        head = "interrupted" if self.interrupted else "done"
        lines = [
            f"{head}: {self.labelled} labelled, {self.failed} failed, {len(self.malformed)} malformed rows, "
            f"{self.skipped} already done"
            + (f", {self.not_started} not started" if self.not_started else ""),
            (
                f"throughput: {self.rate:.2f} records/s ({self.labelled} in {self.seconds:.1f}s, "
                f"{self.concurrency} workers)"
            ),
            f"tokens: {self.tokens_predicted} generated, {self.tokens_evaluated} prompt; {self.attempts} requests",
        ]
        if self.labels:
            total = sum(self.labels.values())
            shown = self.labels.most_common(20)
            lines.append(
                "labels: "
                + ", ".join(f"{k} {v} ({100 * v / total:.0f}%)" for k, v in shown)
                + (f" and {len(self.labels) - len(shown)} more" if len(self.labels) > len(shown) else "")
            )
        if len(self.servers) > 1 or self.server_downs:
            lines.append(
                "servers: "
                + ", ".join(
                    f"{url} {n}"
                    + (f" (down {self.server_downs[url]}x)" if self.server_downs.get(url) else "")
                    for url, n in self.servers.items()
                )
            )
        for bad in self.malformed[:_SHOWN]:
            lines.append(f"  malformed: {bad}")
        if len(self.malformed) > _SHOWN:
            lines.append(f"  ... and {len(self.malformed) - _SHOWN} more malformed rows")
        for failure in self.failures[:_SHOWN]:
            lines.append(
                f"  failed: id {failure.id!r} (line {failure.line}): {failure.error}: {failure.reason}"
            )
        if self.failed > _SHOWN:
            lines.append(f"  ... and {self.failed - _SHOWN} more failures")
        if self.out is not None:
            lines.append(f"results: {self.out}")
        if self.errors is not None and (self.failed or self.malformed):
            lines.append(f"errors: {self.errors}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data (without the result lines)."""
        return {
            "records": self.records,
            "skipped": self.skipped,
            "labelled": self.labelled,
            "failed": self.failed,
            "not_started": self.not_started,
            "malformed": [str(b) for b in self.malformed],
            "labels": dict(self.labels.most_common()),
            "seconds": self.seconds,
            "records_per_second": self.rate,
            "attempts": self.attempts,
            "tokens_predicted": self.tokens_predicted,
            "tokens_evaluated": self.tokens_evaluated,
            "servers": self.servers,
            "server_downs": self.server_downs,
            "concurrency": self.concurrency,
            "interrupted": self.interrupted,
            "out": str(self.out) if self.out else None,
            "errors": str(self.errors) if self.errors else None,
        }
