"""``label()``: label every record with N workers over one or more servers, writing results as they come.

A reader thread fills a bounded queue of prompts; each worker takes one, picks a server from the pool,
and on a server failure tries the next live one. The calling thread writes every finished record as one
whole line, counts it and draws the progress. Ctrl-C (or ``cancel``) stops taking new records, lets the
ones in flight finish (a second Ctrl-C abandons them) and raises :class:`LabelInterrupted` with the summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from structgen.client import ClientError, LlamaClient
from structgen.generation.prompting import PromptInput
from structgen.generation.prompting import chat as chat_messages
from structgen.label.errors import LabelError, TemplateError
from structgen.label.outputs import Outcome, OutputSpec, make_output
from structgen.label.pool import ServerPool, Stopped, is_server_down
from structgen.label.progress import Progress, ProgressMode
from structgen.label.prompts import Template, TemplateFunction, make_template
from structgen.label.sources import BadRow, Format, Record, RecordId, Source
from structgen.label.summary import Failure, Summary
from structgen.label.writer import JsonlWriter, MemorySink, Sink, read_done

__all__ = ["LabelInterrupted", "default_errors_path", "label", "meta_path", "record_seed"]

_KEEP_FAILURES = 1000
_END = object()


class LabelInterrupted(KeyboardInterrupt):
    """The run was stopped (Ctrl-C or ``cancel``); every finished record was written. ``summary`` tells
    what was done; run again with ``resume=True`` to continue."""

    def __init__(self, summary: Summary):
        self.summary = summary
        super().__init__("labeling interrupted")


def record_seed(seed: int, record_id: RecordId) -> int:
    """A seed for one record: a stable hash of ``seed`` and the id (the same on every run and machine)."""
    digest = hashlib.blake2b(f"{seed}\x1f{record_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % (2**31 - 1)


def _sibling(out: str | os.PathLike[str], suffix: str) -> Path:
    path = Path(out)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f"{stem}{suffix}")


def default_errors_path(out: str | os.PathLike[str]) -> Path:
    """``results.jsonl`` -> ``results.errors.jsonl``."""
    return _sibling(out, ".errors.jsonl")


def meta_path(out: str | os.PathLike[str] | None) -> Path | None:
    """``results.jsonl`` -> ``results.meta.json``: what the results were made with (checked on resume)."""
    return None if out is None else _sibling(out, ".meta.json")


def _check_meta(out_path: Path, record: dict[str, Any], *, resume: bool) -> None:
    """Refuse to resume ``out_path`` with another output than the one it was made with."""
    path = meta_path(out_path)
    assert path is not None
    if not resume or not path.exists() or not out_path.exists() or out_path.stat().st_size == 0:
        return
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LabelError(f"{path}: cannot read what {out_path} was made with: {exc}") from None
    if not isinstance(before, dict) or before.get("output") != record["output"]:
        made = before.get("output", {}).get("description", "?") if isinstance(before, dict) else "?"
        raise LabelError(
            f"{out_path} was made with {made}, this run asks for {record['output']['description']}: "
            "resuming would mix the two; write to another file or overwrite"
        )


def _write_meta(out_path: Path, record: dict[str, Any]) -> None:
    path = meta_path(out_path)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


@dataclass(frozen=True)
class _Job:
    record: Record
    prompt: PromptInput


@dataclass(frozen=True)
class _Finished:
    job: _Job
    outcome: Outcome | None
    error: BaseException | None
    seconds: float
    server: str | None


def _prompt(user: PromptInput, spec: OutputSpec, *, chat: bool) -> PromptInput:
    if not isinstance(user, str) or not chat:
        return user
    return chat_messages(spec.system(), user)


@dataclass
class _Run:
    source: Source
    template: Template
    spec: OutputSpec
    pool: ServerPool | None
    done: frozenset[RecordId]
    out: Sink
    errors: Sink
    summary: Summary
    progress: Progress
    seed: int | None
    sampling: dict[str, Any]
    max_retries: int
    chat: bool
    stop: threading.Event
    jobs: queue.Queue[_Job | None] = field(init=False)
    results: queue.Queue[Any] = field(default_factory=queue.Queue, init=False)
    running: int = field(default=0, init=False)
    """Workers still running."""

    def __post_init__(self) -> None:
        self.jobs = queue.Queue(maxsize=max(self.summary.concurrency * 4, 8))

    # -- threads -------------------------------------------------------------------------------------

    def read(self) -> None:
        try:
            for row in self.source:
                if self.stop.is_set():
                    break
                if isinstance(row, BadRow):
                    self.results.put(row)
                    continue
                if row.id in self.done:
                    continue
                try:
                    job = _Job(row, _prompt(self.template.render(row.data), self.spec, chat=self.chat))
                except TemplateError as exc:
                    if self.template.fields is not None:  # the scan saw this row as malformed already
                        self.results.put(BadRow(row.line, str(exc), self.source.name))
                    else:
                        self.results.put(_Finished(_Job(row, ""), None, exc, 0.0, None))
                    continue
                while not self.stop.is_set():
                    try:
                        self.jobs.put(job, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # noqa: BLE001 - handed to the writing thread, which raises it
            self.results.put(exc)
        finally:
            for _ in range(self.summary.concurrency):
                while True:
                    try:
                        self.jobs.put(None, timeout=0.1)
                        break
                    except queue.Full:
                        if self.stop.is_set():
                            break

    def work(self) -> None:
        try:
            while not self.stop.is_set():
                try:
                    job = self.jobs.get(timeout=0.1)
                except queue.Empty:
                    continue
                if job is None:
                    break
                finished = self.answer(job)
                if finished is not None:
                    self.results.put(finished)
        finally:
            self.results.put(_END)

    def answer(self, job: _Job) -> _Finished | None:
        """One record's answer or failure (``None`` when the run stopped before it was sent)."""
        assert self.pool is not None
        started = time.monotonic()
        sampling = dict(self.sampling)
        if self.seed is not None:
            sampling["seed"] = record_seed(self.seed, job.record.id)
        last: ClientError | None = None
        for _ in range(2 * len(self.pool.endpoints) + 2):
            try:
                endpoint = self.pool.acquire(self.stop)
            except Stopped:
                return None
            except LabelError as exc:
                return _Finished(job, None, exc, time.monotonic() - started, None)
            answered = False
            try:
                outcome = self.spec.run(
                    self.pool.client(endpoint), job.prompt, max_retries=self.max_retries, sampling=sampling
                )
                answered = True
                return _Finished(job, outcome, None, time.monotonic() - started, endpoint.url)
            except ClientError as exc:
                if not is_server_down(exc):
                    return _Finished(job, None, exc, time.monotonic() - started, endpoint.url)
                self.pool.mark_down(endpoint, exc)
                last = exc
            except Exception as exc:  # noqa: BLE001 - one record's failure must not end the run
                return _Finished(job, None, exc, time.monotonic() - started, endpoint.url)
            finally:
                self.pool.release(endpoint, answered=answered)
        reason = LabelError(
            f"gave up after the servers failed {2 * len(self.pool.endpoints) + 2} times; last: {last}"
        )
        return _Finished(job, None, reason, time.monotonic() - started, None)

    def execute(self) -> None:
        """Read, answer and write every record; on Ctrl-C finish the records in flight (a second one
        leaves them). Sets ``summary.interrupted`` and closes the sinks, the progress and the pool."""
        threads = [threading.Thread(target=self.read, name="label-reader", daemon=True)]
        workers = self.summary.concurrency if self.pool else 0
        threads += [
            threading.Thread(target=self.work, name=f"label-worker-{i}", daemon=True) for i in range(workers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            self.running = workers
            self.drain_interruptible()
            if self.running == 0:
                threads[0].join(timeout=5.0)
                self.drain_left()
            self.summary.interrupted = self.stop.is_set()
        finally:
            self.close(time.monotonic() - started)

    def drain_interruptible(self) -> None:
        try:
            self.drain()
        except KeyboardInterrupt:
            self.stop.set()
            self.progress.note("stopping: finishing the records in flight (Ctrl-C again to leave them)")
            try:
                self.drain()
            except KeyboardInterrupt:
                pass

    def drain_left(self) -> None:
        """Malformed rows the reader found after the last worker ended."""
        while not self.results.empty():
            item = self.results.get()
            if isinstance(item, BadRow):
                self.malformed(item)
            elif isinstance(item, BaseException):
                raise item

    def close(self, seconds: float) -> None:
        summary = self.summary
        summary.seconds = seconds
        self.stop.set()
        self.out.close()
        self.errors.close()
        self.progress.close()
        if self.pool is not None:
            summary.server_downs = {e.url: e.downs for e in self.pool.endpoints if e.downs}
            self.pool.close()
        if isinstance(self.out, MemorySink):
            summary.results = self.out.entries

    # -- the writing thread --------------------------------------------------------------------------

    def drain(self) -> None:
        """Handle results until every worker ended (``running`` counts those still running)."""
        while self.running:
            try:
                item = self.results.get(timeout=0.5)
            except queue.Empty:
                self.progress.tick()
                continue
            if item is _END:
                self.running -= 1
            elif isinstance(item, BadRow):
                self.malformed(item)
            elif isinstance(item, _Finished):
                self.finished(item)
            elif isinstance(item, BaseException):
                self.stop.set()
                raise item

    def malformed(self, row: BadRow) -> None:
        self.summary.malformed.append(row)
        self.errors.write({"id": None, "line": row.line, "error": "MalformedRow", "reason": row.reason})
        self.progress.note(f"skipped malformed row {row}")

    def finished(self, item: _Finished) -> None:
        record = item.job.record
        summary = self.summary
        if item.outcome is not None:
            outcome = item.outcome
            self.out.write(
                {
                    "id": record.id,
                    "line": record.line,
                    "result": outcome.value,
                    "attempts": outcome.attempts,
                    "seconds": round(item.seconds, 4),
                    "tokens": outcome.tokens_predicted,
                }
            )
            summary.labelled += 1
            summary.attempts += outcome.attempts
            summary.tokens_predicted += outcome.tokens_predicted
            summary.tokens_evaluated += outcome.tokens_evaluated
            summary.labels.update(self.spec.tally(outcome.value))
            if item.server is not None:
                summary.servers[item.server] = summary.servers.get(item.server, 0) + 1
        else:
            error = item.error
            assert error is not None
            name = type(error).__name__
            reason = str(error)
            self.errors.write(
                {
                    "id": record.id,
                    "line": record.line,
                    "error": name,
                    "reason": reason,
                    "server": item.server,
                    "seconds": round(item.seconds, 4),
                }
            )
            summary.failed += 1
            attempts = getattr(error, "attempts", None)
            if isinstance(attempts, tuple):
                summary.attempts += len(attempts)
            if len(summary.failures) < _KEEP_FAILURES:
                summary.failures.append(Failure(record.id, record.line, name, reason))
        self.progress.advance(failed=item.outcome is None)


def _scan(source: Source, template: Template, done: frozenset[RecordId]) -> tuple[int, int]:
    """(records, records already done), after checking that the data has every field the template names."""
    header = source.header()
    if header is not None:
        template.check(header, f"the header of {source.name}")
    fields: set[str] = set()
    records = already = 0
    for row in source:
        if isinstance(row, BadRow):
            continue
        fields.update(row.data)
        if template.fields is not None and not template.fields <= row.data.keys():
            continue  # reported as a malformed row when it is read for real
        records += 1
        already += row.id in done
    if records or fields:
        template.check(fields, source.name if source.path is not None else "the records")
    return records, already


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links, ``..`` and hard links)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _sinks(
    out: str | os.PathLike[str] | None,
    errors: str | os.PathLike[str] | None,
    *,
    source: Path | None,
    resume: bool,
    overwrite: bool,
) -> tuple[Path | None, Path | None]:
    out_path = Path(out) if out is not None else None
    errors_path = Path(errors) if errors is not None else None
    if out_path is not None and errors_path is None:
        errors_path = default_errors_path(out_path)
    for path, what in ((out_path, "results"), (errors_path, "errors"), (meta_path(out_path), "run record")):
        if path is None:
            continue
        if source is not None and _same_file(path, source):
            raise LabelError(f"{path} is the input file: write the {what} to another file")
        if path.exists() and path.is_dir():
            raise LabelError(f"{path} is a folder: name a file for the {what}")
    if out_path is None:
        return None, errors_path
    assert errors_path is not None
    if _same_file(out_path, errors_path):
        raise LabelError(f"the results and the errors cannot both go to {out_path}")
    if resume and overwrite:
        raise LabelError("resume and overwrite exclude each other")
    if not resume and not overwrite and out_path.exists() and out_path.stat().st_size > 0:
        raise LabelError(
            f"{out_path} already holds results: resume to continue it, or overwrite to start over"
        )
    return out_path, errors_path


def label(
    records: str | os.PathLike[str] | Iterable[Any],
    output_type: Any = None,
    *,
    labels: Sequence[str] | str | None = None,
    multi: bool = False,
    grammar: str | None = None,
    template: str | TemplateFunction | Template | None = None,
    template_file: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    errors: str | os.PathLike[str] | None = None,
    id_field: str | Literal[False] | None = None,
    format: Format | None = None,
    urls: str | Sequence[str] | None = None,
    client: LlamaClient | None = None,
    concurrency: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    seed: int | None = None,
    n_predict: int | None = None,
    temperature: float | None = None,
    max_retries: int = 2,
    instructions: str | None = None,
    chat: bool = True,
    progress: ProgressMode | bool = "auto",
    progress_stream: IO[str] | None = None,
    cancel: threading.Event | None = None,
    down_grace: float = 5.0,
    timeout: float | tuple[float, float] = (5.0, 300.0),
    sampling: Mapping[str, Any] | None = None,
) -> Summary:
    """Label every record of ``records`` (a JSONL/CSV/TSV/text file or an iterable) and return a :class:`Summary`.

    Say what to label with exactly one of ``output_type`` (a type, a JSON Schema dict or an
    :class:`OutputSpec`), ``labels`` (a list or ``"a,b,c"``; ``multi`` for several) or ``grammar``
    (GBNF text; the answer is the raw text). The prompt is ``template`` (``{field}`` placeholders, or
    a function of the record's fields) or ``template_file``, sent as the user message after the
    instructions for the output unless ``chat`` is false.

    Results are appended to ``out`` as JSON lines ``{"id", "line", "result", "attempts", "seconds",
    "tokens"}`` in the order they finish, failures to ``errors`` (default ``OUT.errors.jsonl``,
    emptied at the start of each run); without ``out`` they are kept in ``summary.results``.
    ``resume`` skips the ids already in ``out``. ``urls`` are the servers (default ``$STRUCTGEN_URL``
    or a local llama-server); ``concurrency`` defaults to their slots together. With ``seed`` each
    record gets the seed :func:`record_seed` derives from its id. Setup problems raise
    :class:`LabelError` (or another ``StructgenError``) before the first request.
    """
    spec = (
        output_type
        if isinstance(output_type, OutputSpec)
        else make_output(
            output_type=output_type, labels=labels, multi=multi, grammar=grammar, instructions=instructions
        )
    )
    prompt_template = (
        template if isinstance(template, Template) else make_template(template, template_file=template_file)
    )
    source = Source(records, format=format, id_field=id_field)
    if concurrency is not None and concurrency < 1:
        raise LabelError(f"concurrency must be at least 1, got {concurrency}")
    out_path, errors_path = _sinks(out, errors, source=source.path, resume=resume, overwrite=overwrite)
    run_record = json.loads(
        json.dumps({"made_by": "structgen label", "output": spec.signature()}, default=str)
    )
    if out_path is not None:
        _check_meta(out_path, run_record, resume=resume)
    _make_folders(out_path, errors_path)
    done, notes = _resumed(out_path) if resume else (frozenset[RecordId](), [])
    total, already = _scan(source, prompt_template, done)
    summary = Summary(records=total, skipped=already, out=out_path, errors=errors_path)
    params: dict[str, Any] = {
        **(sampling or {}),
        **{k: v for k, v in (("n_predict", n_predict), ("temperature", temperature)) if v is not None},
    }
    progress_view = Progress(total - already, progress if total - already else False, progress_stream)
    for note in notes:
        progress_view.note(note)
    pool = None
    if total - already:
        pool = _pool(client, urls, timeout=timeout, down_grace=down_grace, on_message=progress_view.note)
    summary.concurrency = concurrency or (pool.total_slots if pool else 1)
    try:
        out_sink, errors_sink = _open_sinks(out_path, errors_path, run_record, overwrite=overwrite)
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    run = _Run(
        source,
        prompt_template,
        spec,
        pool,
        done,
        out_sink,
        errors_sink,
        summary,
        progress_view,
        seed,
        params,
        max_retries,
        chat,
        cancel if cancel is not None else threading.Event(),
    )
    run.execute()
    if summary.interrupted:
        raise LabelInterrupted(summary)
    return summary


def _make_folders(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LabelError(f"{path}: cannot write there: {exc.strerror or exc}") from None


def _resumed(out_path: Path | None) -> tuple[frozenset[RecordId], list[str]]:
    """The ids already in ``out_path`` and what was repaired or ignored there."""
    if out_path is None:
        return frozenset(), []
    previous = read_done(out_path)
    notes = (
        [f"{out_path}: removed an unfinished last line ({previous.truncated_bytes} bytes)"]
        if previous.truncated_bytes
        else []
    )
    return previous.ids, [*notes, *(f"{out_path}: {n}; ignored" for n in previous.ignored)]


def _pool(
    client: LlamaClient | None,
    urls: str | Sequence[str] | None,
    *,
    timeout: float | tuple[float, float],
    down_grace: float,
    on_message: Callable[[str], None],
) -> ServerPool:
    """The connected pool of ``client`` or of ``urls`` (default: ``$STRUCTGEN_URL`` or a local server)."""
    if client is not None:
        pool = ServerPool([], client=client, down_grace=down_grace, on_message=on_message)
    else:
        from structgen.server import check_url, resolve_endpoint

        url_list = [check_url(u, "--url") for u in ([urls] if isinstance(urls, str) else list(urls or []))]
        api_key = os.environ.get("STRUCTGEN_API_KEY") or None
        if not url_list:
            url, api_key = resolve_endpoint(None)
            url_list = [url]
        pool = ServerPool(
            url_list, api_key=api_key, timeout=timeout, down_grace=down_grace, on_message=on_message
        )
    pool.connect()
    return pool


def _open_sinks(
    out_path: Path | None, errors_path: Path | None, run_record: dict[str, Any], *, overwrite: bool
) -> tuple[Sink, Sink]:
    """The results and errors sinks (memory when there is no file), the errors file emptied and the run
    record written."""
    try:
        if errors_path is not None:
            errors_path.unlink(missing_ok=True)
        if out_path is not None:
            _write_meta(out_path, run_record)
        out_sink: Sink = JsonlWriter(out_path, truncate=overwrite) if out_path is not None else MemorySink()
    except OSError as exc:
        raise LabelError(f"{exc.filename or out_path}: cannot write: {exc.strerror or exc}") from None
    errors_sink: Sink = JsonlWriter(errors_path, lazy=True) if errors_path is not None else MemorySink()
    return out_sink, errors_sink
