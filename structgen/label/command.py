"""``structgen label``: its arguments and how it runs (registered in ``structgen/cli.py``).

Exit status: 0 every record labelled, 1 some records failed or rows were malformed, 2 the run could
not start (bad arguments, input, template, output type or servers), 130 interrupted (finished records
are kept; run again with ``--resume``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

from structgen.errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from structgen.label.outputs import OutputSpec

__all__ = [
    "configure",
    "generation_options",
    "number_type",
    "output_from_args",
    "positive",
    "run",
    "run_options",
]


class _Console(Protocol):
    out: IO[str]
    err: IO[str]

    def print(self, text: str = "") -> None: ...

    def warn(self, text: str) -> None: ...


N = TypeVar("N", int, float)


def number_type(
    parse: Callable[[str], N], what: str, ok: Callable[[N], bool], rule: str
) -> Callable[[str], N]:
    """An argparse ``type``: ``parse`` of the text, which must be ``ok``; else a message saying it is not
    ``what`` or (``rule``) not allowed."""

    def check(value: str) -> N:
        try:
            number = parse(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {value!r}") from None
        if not ok(number):
            raise argparse.ArgumentTypeError(f"{rule}, not {value}")
        return number

    return check


positive = number_type(int, "a whole number", lambda n: n >= 1, "must be at least 1")
"""A whole number, 1 or more."""
_seconds = number_type(float, "a number of seconds", lambda n: n > 0, "must be more than 0")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``structgen label``."""
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="records: JSONL (.jsonl), CSV/TSV with a header row (.csv/.tsv) or text, one a line "
        "('-' = standard input: JSONL when its first line is an object, else text, unless --format)",
    )
    prompt = parser.add_mutually_exclusive_group()
    prompt.add_argument(
        "--template", "-t", metavar="T", help="the prompt, with {field} placeholders (default {text})"
    )
    prompt.add_argument("--template-file", metavar="F", help="read the prompt template from a file")
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--labels", metavar="A,B,C", help="classify: the answer is one of these labels")
    kind.add_argument(
        "--type", dest="type_name", metavar="MODULE:TYPE", help="the answer is a value of this type"
    )
    kind.add_argument("--schema", metavar="S.json", help="the answer is JSON valid for this JSON Schema")
    kind.add_argument(
        "--grammar",
        metavar="G",
        help="the answer is the raw text this GBNF grammar (a file or library name) allows",
    )
    parser.add_argument(
        "--multi", action="store_true", help="with --labels: every label that applies (a list)"
    )
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT.jsonl", help="results, one JSON line each"
    )
    parser.add_argument(
        "--errors", metavar="E.jsonl", help="failures and malformed rows (default OUT.errors.jsonl)"
    )
    parser.add_argument(
        "--format", choices=["jsonl", "csv", "tsv", "text"], help="input format (default: by suffix)"
    )
    ids = parser.add_mutually_exclusive_group()
    ids.add_argument(
        "--id-field",
        metavar="F",
        help="the field holding each record's id (default: 'id' when the records have one, else the line)",
    )
    ids.add_argument(
        "--line-ids", action="store_true", help="number the records by line even when they have an 'id'"
    )
    parser.add_argument(
        "--url",
        action="append",
        metavar="U",
        help="a server; repeat for several (default $STRUCTGEN_URL, else a local llama-server)",
    )
    parser.add_argument(
        "--concurrency",
        "-j",
        type=positive,
        metavar="N",
        help="requests at a time (default: the servers' slots together)",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="keep OUT and label only the ids not in it yet")
    again.add_argument("--overwrite", action="store_true", help="empty OUT first")
    parser.add_argument(
        "--seed", type=int, metavar="S", help="derive each record's sampling seed from S and its id"
    )
    parser.add_argument("--n-predict", type=positive, metavar="N", help="most tokens per answer")
    parser.add_argument("--temperature", type=float, metavar="X", help="sampling temperature (default 0)")
    parser.add_argument(
        "--max-retries", type=int, default=2, metavar="N", help="re-asks after an invalid answer (default 2)"
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="S",
        help="seconds per record, re-asks included; a request still running then is cancelled (default 60)",
    )
    parser.add_argument(
        "--fast-forward",
        action="store_true",
        help="write the text the output type forces (keys, brackets) without the model: fewer decoded tokens",
    )
    parser.add_argument("--system", metavar="TEXT", help="the instruction sent before the prompt")
    parser.add_argument(
        "--raw-prompt",
        action="store_true",
        help="send the filled template as it is: no chat template, no instruction",
    )
    parser.add_argument(
        "--progress",
        choices=["auto", "bar", "lines", "off"],
        default="auto",
        help="a bar on a terminal, else a line every 10 s (default auto)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    on_ray = parser.add_argument_group("on Ray Data (the ray extra; see docs/guide/ray.md)")
    on_ray.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="label on Ray: a local one, or the cluster at ADDRESS; OUT becomes a folder, failures rows of it",
    )
    on_ray.add_argument(
        "--actors", type=positive, default=2, metavar="N", help="with --ray: actors (default 2)"
    )
    on_ray.add_argument(
        "--slots",
        type=positive,
        default=4,
        metavar="N",
        help="with --ray, no --url: slots per actor's server",
    )


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so a terminated run stops as cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def output_from_args(args: argparse.Namespace) -> OutputSpec:
    """The output the flags ask for (``--labels``/``--type``/``--schema``/``--grammar``, ``--system``)."""
    from structgen.label.outputs import make_output

    return make_output(
        type_name=args.type_name,
        labels=args.labels,
        multi=args.multi,
        schema_file=args.schema,
        grammar_file=_grammar_file(args.grammar),
        instructions=args.system,
    )


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments of a labeling run given as flags, the same on Ray and off it: servers, concurrency,
    sampling, re-asks, generation options, chat."""
    return {
        "urls": args.url,
        "concurrency": args.concurrency,
        "seed": args.seed,
        "n_predict": args.n_predict,
        "temperature": args.temperature,
        "max_retries": args.max_retries,
        "sampling": generation_options(args),
        "chat": not args.raw_prompt,
    }


def generation_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """Options of typed generation given as flags (``--timeout``, ``--fast-forward``), or None."""
    options: dict[str, Any] = {}
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.fast_forward:
        options["fast_forward"] = True
    return options or None


def run(args: argparse.Namespace, console: _Console) -> int:
    """Run ``structgen label``; returns the exit status."""
    from structgen.errors import StructgenError
    from structgen.label.runner import LabelInterrupted, label

    try:
        with _sigterm_interrupts(), _input(args, console) as records:
            spec = output_from_args(args)
            summary = label(
                records,
                spec,
                template=args.template,
                template_file=args.template_file,
                out=args.output,
                errors=args.errors,
                id_field=False if args.line_ids else args.id_field,
                format=args.format or ("jsonl" if args.input == "-" and _looks_like_jsonl(records) else None),
                resume=args.resume,
                overwrite=args.overwrite,
                progress=args.progress,
                progress_stream=console.err,
                **run_options(args),
            )
    except LabelInterrupted as stopped:
        _report(stopped.summary, args, console)
        console.warn("interrupted: finished records are kept; run again with --resume to continue")
        return EXIT_INTERRUPTED
    except StructgenError as exc:
        console.warn(f"structgen label: {exc}")
        return EXIT_USAGE
    _report(summary, args, console)
    return EXIT_OK if summary.ok else EXIT_FAIL


def _grammar_file(spec: str | None) -> str | None:
    """A grammar file, or the file of a library grammar when ``spec`` names one and no such file exists."""
    if spec is None or os.path.exists(spec) or "/" in spec or os.sep in spec:
        return spec
    from structgen import grammars

    try:
        return str(grammars.path(spec))
    except grammars.GrammarNotFoundError:
        return spec  # reported as a file that cannot be read


@contextmanager
def _input(args: argparse.Namespace, console: _Console) -> Iterator[str]:
    """The input file; standard input (``-``) is copied to a temporary file first (it is read twice)."""
    if args.input != "-":
        yield args.input
        return
    stream = getattr(console, "stdin", None) or sys.stdin.buffer
    fd, name = tempfile.mkstemp(prefix="structgen-label-", suffix=".stdin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(stream.read())
        yield name
    finally:
        os.unlink(name)


def _looks_like_jsonl(path: str) -> bool:
    with open(path, "rb") as f:
        for raw in f:
            if raw.strip():
                return raw.lstrip(b"\xef\xbb\xbf \t").startswith(b"{")
    return True


def _report(summary: Any, args: argparse.Namespace, console: _Console) -> None:
    console.print(json.dumps(summary.to_dict(), indent=2) if args.json else summary.format())
